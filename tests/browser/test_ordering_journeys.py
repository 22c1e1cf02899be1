"""Ordering journeys: basket, answers, checkout, and following the request."""

import re

import pytest
from playwright.sync_api import expect

from catalog.models import ServiceRequest
from catalog.services.request_log import request_log_verify
from tests.browser.conftest import VIEWPORT

pytestmark = pytest.mark.browser


def add_to_basket(page):
    page.get_by_role("button", name="Add to basket").click()
    page.wait_for_load_state()


def test_employee_orders_two_services_and_follows_the_request(page, login, screenshot):
    login(page, "employee")

    # A service with a request form: shared folder access.
    page.goto("/services/access/access-to-a-shared-folder/")
    add_to_basket(page)  # nothing answered yet
    expect(page.locator(".field__error").first).to_have_text(
        "Error: Enter which folder"
    )
    screenshot(page, "d1-service-form-errors")
    page.get_by_label("Which folder?").fill(r"\\files\sales\forecasts")
    page.get_by_label("What do you need to do?").select_option("Read files")
    add_to_basket(page)
    expect(page).to_have_url(re.compile(r"/basket/$"))
    expect(page.locator(".basket-count")).to_have_text("1")

    # A service with a quantity.
    page.goto("/services/computers/second-monitor/")
    page.get_by_label("How many?").fill("2")
    page.get_by_label("Desk number").fill("D-114")
    add_to_basket(page)
    expect(page.locator(".basket-count")).to_have_text("2")
    expect(page.locator(".basket__summary")).to_contain_text("€440")
    screenshot(page, "d2-basket")

    # Change an answer.
    folder_line = page.locator(".basket-line", has_text="Access to a shared folder")
    folder_line.get_by_role("link", name="Change answers").click()
    page.get_by_label("What do you need to do?").select_option("Read and change files")
    page.get_by_role("button", name="Save answers").click()
    expect(
        page.locator(".basket-line", has_text="Access to a shared folder")
    ).to_contain_text("Read and change files")

    # Check out.
    page.get_by_role("link", name="Check out").click()
    screenshot(page, "d3-checkout")
    page.get_by_role("button", name="Submit request").click()
    expect(page.locator(".field--error")).to_contain_text("Enter why this is needed")
    page.get_by_label("Why is this needed?").fill("Working on the Q3 forecast.")
    page.get_by_role("button", name="Submit request").click()
    expect(
        page.get_by_role("heading", name="Thank you, your request is in")
    ).to_be_visible()
    number = page.locator(".request-number").inner_text()
    request = ServiceRequest.objects.get()
    assert number == request.number
    assert request.items.count() == 2
    screenshot(page, "d4-confirmation")
    expect(page.locator(".basket-count")).to_have_count(0)

    # My requests, then the timeline.
    page.get_by_role("link", name="My requests").click()
    expect(page.locator("table.requests")).to_contain_text(number)
    screenshot(page, "d5-my-requests")
    page.get_by_role("link", name=number).click()
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("submitted the request")
    expect(timeline).to_contain_text(
        "Access to a shared folder needs approval before we can start."
    )
    expect(page.locator("#summary-heading")).to_have_text(
        "Waiting for approval from Marcus Meyer"
    )
    page.get_by_label("Add a comment").fill("I need it by Friday, please.")
    page.get_by_role("button", name="Send comment").click()
    expect(page.locator(".timeline")).to_contain_text("I need it by Friday, please.")
    screenshot(page, "d6-request-timeline")
    assert list(request_log_verify()) == []


def test_manager_orders_a_new_starter_bundle_for_an_employee(page, login, screenshot):
    login(page, "manager")
    page.goto("/services/people/new-starter-bundle/")
    page.get_by_label("New starter's full name").fill("Sam Starter")
    page.get_by_label("Start date").fill("2030-05-01")
    page.get_by_label("Job title").fill("Account executive")
    page.get_by_label("Laptop").select_option("Standard 14-inch laptop")
    page.get_by_label("Yes").check()
    add_to_basket(page)
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Find a person").fill("Emma")
    page.get_by_role("button", name="Find", exact=True).click()
    page.get_by_label("Emma Evans").check()
    page.get_by_label("Why is this needed?").fill("Emma's new team mate starts in May.")
    screenshot(page, "e1-checkout-on-behalf")
    page.get_by_role("button", name="Submit request").click()
    expect(
        page.get_by_role("heading", name="Thank you, your request is in")
    ).to_be_visible()
    request = ServiceRequest.objects.get()
    assert request.requested_by.username == "manager"
    assert request.requested_for.username == "employee"
    assert request.cost_centre.code == "CC-2100"

    # Emma sees it among her requests.
    login(page, "employee")
    page.goto("/requests/")
    expect(page.locator("table.requests")).to_contain_text(request.number)
    expect(page.locator("table.requests")).to_contain_text("New starter bundle")


def test_employee_asks_for_a_service_to_be_removed(page, login, screenshot):
    from django.contrib.auth import get_user_model

    from catalog.models import RequestItem, ServicePage
    from catalog.services.fulfilment import item_resolve, item_start

    login(page, "employee")
    page.goto(ServicePage.objects.get(title="Adobe Acrobat Pro").url)
    add_to_basket(page)
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Why is this needed?").fill("Signing contracts.")
    page.get_by_role("button", name="Submit request").click()
    held = RequestItem.objects.get(request__requested_for__username="employee")
    desk = get_user_model().objects.get(username="admin")
    item_start(item_id=held.pk, actor=desk)
    item_resolve(item_id=held.pk, actor=desk, note="Installed and licensed.")

    page.get_by_role("link", name="My services").click()
    row = page.locator("tr", has_text="Adobe Acrobat Pro")
    expect(row).to_contain_text("€18")
    row.get_by_role("link", name=re.compile("I don't need this any more")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Remove Adobe Acrobat Pro"
    )
    screenshot(page, "r1-removal-page")
    # Too long a reason (past the browser's own limit, as a script could send):
    # the summary links to the field, and what was typed comes back.
    reason = page.get_by_label("Why don't you need it any more?")
    reason.evaluate("element => element.removeAttribute('maxlength')")
    reason.fill("x" * 4001)
    page.get_by_role("button", name="Ask to remove it").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Keep the reason under 4000 characters")
    summary.get_by_role("link").click()
    expect(reason).to_be_focused()
    assert not RequestItem.objects.filter(removes_item=held).exists()
    page.set_viewport_size({"width": 320, "height": 800})
    screenshot(page, "r1b-removal-errors-320")
    page.set_viewport_size(VIEWPORT)
    reason.fill("Contracts are signed.")
    page.get_by_role("button", name="Ask to remove it").click()
    expect(page.locator(".messages")).to_contain_text("to remove it")
    removal = RequestItem.objects.get(removes_item=held)
    assert removal.service_name == "Remove: Adobe Acrobat Pro"
    expect(page).to_have_url(re.compile(rf"/requests/{removal.request_id}/$"))
    screenshot(page, "r2-removal-requested")

    page.get_by_role("link", name="My services").click()
    expect(page.locator("tr", has_text="Adobe Acrobat Pro")).to_contain_text(
        "Removal requested"
    )
    assert list(request_log_verify()) == []
