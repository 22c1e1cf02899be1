"""The executive's journey through the dashboard: open it from the header,
change the period, click a figure, land on the items behind it (as many as the
figure said), download the figures as XLSX; and the head of Sales sees Sales
only. Screenshots at 1280 and 320 px wide."""

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from catalog.demo.history import history_generate
from tests.browser.viewports import fits_320

pytestmark = pytest.mark.browser


@pytest.fixture
def history(demo):
    history_generate(requests=120, seed=7)


def number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def test_executive_opens_the_dashboard_and_follows_a_figure(
    page, login, screenshot, history
):
    login(page, "executive")
    page.get_by_role("link", name="IT costs").click()
    expect(page.get_by_role("heading", name="IT costs and service")).to_be_visible()
    expect(page.locator(".lead")).to_contain_text("Whole company")
    # The charts are drawn from the page's own figures, above their tables.
    expect(page.locator('[data-chart="spend"] canvas')).to_be_visible()

    # Six months to today, with dates of their choice.
    today = date.today()
    start = (today.replace(day=1) - timedelta(days=150)).replace(day=1)
    page.get_by_text("Choose the period").click()
    page.get_by_label("Period", exact=True).select_option("custom")
    page.get_by_label("From", exact=True).fill(start.isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    screenshot(page, "ex0-dashboard-choosing-a-period")
    assert fits_320(page, screenshot, "ex0-dashboard-choosing-a-period-320px")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator(".lead")).to_contain_text(
        f"{start.day} {start:%B %Y} to {today.day} {today:%B %Y}"
    )
    expect(page.locator("#months-caption")).to_be_visible()
    screenshot(page, "ex1-dashboard")
    assert fits_320(page, screenshot, "ex1-dashboard-320px")

    # The delivered count of the first service in "Spend by service".
    rows = page.locator("table:has(#services-spend-caption) tbody tr")
    row = next(
        rows.nth(i)
        for i in range(rows.count())
        if number(rows.nth(i).locator("td").nth(3).inner_text()) > 0
    )
    service = row.locator("th").inner_text()
    figure = row.locator("td").nth(3).get_by_role("link")
    delivered = number(figure.inner_text())
    figure.click()
    expect(page.get_by_role("heading", name="Delivered")).to_be_visible()
    summary = page.locator(".items-summary")
    expect(
        summary.locator("div", has_text="Items delivered").locator("dd")
    ).to_have_text(str(delivered))
    caption = page.locator("#items-caption")
    expect(caption).to_contain_text(f"{delivered} item")
    rows = page.locator(".exec-items tbody tr")
    expect(rows).to_have_count(min(delivered, 50))
    for index in range(min(delivered, 50)):
        expect(rows.nth(index).locator("td").first).to_have_text(service)
    screenshot(page, "ex2-items-behind-a-figure")
    assert fits_320(page, screenshot, "ex2-items-behind-a-figure-320px")

    # Back to the dashboard, with the same period, and download it.
    page.locator(".breadcrumbs").get_by_role("link", name="Dashboard").click()
    expect(page.locator(".lead")).to_contain_text(f"{start.day} {start:%B %Y}")
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Excel (XLSX)").click()
    download = waiting.value
    assert download.suggested_filename == (
        f"it-costs-whole-company-{start:%Y-%m-%d}-to-{today:%Y-%m-%d}.xlsx"
    )
    with open(download.path(), "rb") as file:
        book = load_workbook(io.BytesIO(file.read()), read_only=True)
    assert "Spend by service" in book.sheetnames
    spend = {
        row[0]: row for row in book["Spend by service"].iter_rows(values_only=True)
    }
    assert spend[service][4] == delivered


def test_the_head_of_sales_sees_sales_only(page, login, screenshot, history):
    login(page, "manager")
    page.get_by_role("link", name="IT costs").click()
    expect(page.locator(".lead")).to_contain_text("Sales")
    page.get_by_text("Choose the period").click()
    expect(page.get_by_label("Department")).to_have_count(0)
    expect(page.locator(".exec-filters__fixed")).to_have_text("Sales")
    # Without JavaScript-only parts: every figure is in a table.
    expect(page.locator("#levels-caption")).to_be_visible()


def test_an_employee_has_no_it_costs_link_and_is_refused(page, login):
    login(page, "employee")
    expect(page.get_by_role("link", name="IT costs")).to_have_count(0)
    response = page.goto("/executive/")
    assert response.status == 403
