"""Journeys through the delivery figures inside the catalog, in a real browser:
an employee reading how long a service usually takes, an executive seeing what
it costs and opening the service review, and asking for a rarely requested
service to be suspended.

The demo gets 300 requests of history and the daily figures are worked out
(as the scheduled check does each morning). The history is generated up to
today, so the exact figures depend on the day: these journeys check what is
shown and where; the figures themselves are checked by hand in
tests/catalog/services/test_service_stats.py and tests/catalog/views/.
"""

import re

import pytest
from playwright.sync_api import expect

from catalog.demo.history import history_generate
from catalog.services.service_stats import service_stats_refresh
from tests.browser.viewports import fits_320

pytestmark = pytest.mark.browser

INSTALL_SOFTWARE = "/services/software/install-software/"
RECENT_LINE = re.compile(
    r"^Recently: half delivered within \d+ working days?"
    r"(, \d+% on time last quarter)?$"
)


@pytest.fixture
def history(demo):
    history_generate(requests=300, seed=7)
    service_stats_refresh()


def test_employee_reads_how_long_a_service_takes(page, history, login, screenshot):
    login(page, "employee")
    page.goto(INSTALL_SOFTWARE)
    order_box = page.locator(".order-box")
    # The catalog's promise stays as it is; the measured figure is beside it.
    expect(order_box.locator(".delivery--large")).to_contain_text("Usually ")
    expect(order_box.locator(".delivery--recent")).to_have_text(RECENT_LINE)
    expect(page.locator(".executive-panel")).to_have_count(0)
    expect(page.get_by_text("Only executives see this")).to_have_count(0)
    screenshot(page, "cf1-service-page-employee")
    assert fits_320(page, screenshot, "cf1-service-page-employee-320px")

    page.goto("/services/software/")
    card = page.locator(".service-card").filter(has_text="Install software")
    expect(card.locator(".delivery--recent")).to_have_text(RECENT_LINE)
    # Services with too few recent requests say so instead of a figure.
    expect(
        page.locator(".delivery--recent")
        .filter(has_text="Not enough recent requests to show delivery times")
        .first
    ).to_be_visible()
    screenshot(page, "cf2-category-cards-employee")


def test_executive_sees_the_panel_and_opens_the_review(
    page, history, login, screenshot
):
    login(page, "executive")
    page.goto(INSTALL_SOFTWARE)
    expect(page.locator(".order-box .delivery--recent")).to_have_text(RECENT_LINE)
    panel = page.locator(".executive-panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text("Whole company")
    expect(panel).to_contain_text("figures for the whole company")
    expect(panel).to_contain_text("Spent, ")
    expect(panel).to_contain_text("last 90 days")
    spend = panel.locator("dd").first.get_by_role("link")
    expect(spend).to_have_attribute(
        "href",
        re.compile(r"^/executive/items/\?service=Install\+software&period=custom&"),
    )
    screenshot(page, "cf3-service-page-executive")
    assert fits_320(page, screenshot, "cf3-service-page-executive-320px")

    panel.get_by_role("link", name="Service review").click()
    expect(page).to_have_url(re.compile(r"/executive/review/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Service review")
    rarely = page.locator("section", has=page.locator("#rarely"))
    busiest = page.locator("section", has=page.locator("#busiest"))
    expect(rarely.locator(".service-card").first).to_be_visible()
    expect(busiest.locator("tbody tr")).to_have_count(10)
    screenshot(page, "cf4-service-review")
    assert fits_320(page, screenshot, "cf4-service-review-320px")


def test_head_of_sales_sees_sales_only(page, history, login):
    login(page, "manager")
    page.goto(INSTALL_SOFTWARE)
    panel = page.locator(".executive-panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text("Sales")
    expect(panel).to_contain_text("figures for your department")


def test_executive_asks_to_suspend_a_rarely_requested_service(
    page, history, login, screenshot
):
    login(page, "executive")
    page.goto("/executive/review/")
    card = (
        page.locator("#rarely ~ .cards .service-card")
        .filter(has=page.get_by_role("button", name="Suspend ordering"))
        .first
    )
    title = card.locator(".service-card__title").inner_text()

    # Without a reason: the error summary links to the field, which says why.
    card.get_by_role("button", name="Suspend ordering").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Say why it can't be ordered")
    summary.get_by_role("link").click()
    field = card.locator('input[aria-invalid="true"]')
    expect(field).to_have_count(1)
    # "Error:" is read out before the message; it is hidden from sight.
    expect(card.locator(".field__error")).to_have_text(
        "Error: Say why it can't be ordered: customers will read this."
    )
    screenshot(page, "cf5-suspend-needs-a-reason")

    field.fill("Hardly anyone asks for it; the service desk helps instead.")
    field.press("Enter")
    expect(page.locator(".messages")).to_contain_text(
        f"Suspending {title} is waiting for approval"
    )
    waiting = page.locator(".service-card").filter(has_text=title)
    expect(waiting).to_contain_text("A change to this service is waiting for approval.")
    screenshot(page, "cf6-suspend-requested")
