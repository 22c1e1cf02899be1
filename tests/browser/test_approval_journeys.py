"""Approval and follow-up journeys: the manager approves one item and declines
another; the employee sees why an item is paused, answers, and rates it once it
is delivered. The fulfilment side is driven through the services here (the
fulfiller's own journey is in test_fulfilment_journeys.py)."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from catalog.models import ApprovalStep, HoldReason, ServicePage, ServiceRequest
from catalog.services.approvals import approval_decide
from catalog.services.fulfilment import item_hold, item_resolve, item_resume, item_start
from catalog.services.request_log import request_log_verify
from tests.browser.viewports import fits_320

pytestmark = pytest.mark.browser


def person(username):
    return get_user_model().objects.get(username=username)


def check_out(page, reason: str) -> ServiceRequest:
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Why is this needed?").fill(reason)
    page.get_by_role("button", name="Submit request").click()
    expect(
        page.get_by_role("heading", name="Thank you, your request is in")
    ).to_be_visible()
    number = page.locator(".request-number").inner_text()
    return ServiceRequest.objects.get(pk=int(number.removeprefix("REQ-")))


def order_a_laptop(page) -> ServiceRequest:
    page.goto(ServicePage.objects.get(title="New laptop").url)
    page.get_by_label("Which model?").select_option("Standard 14-inch laptop")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Add to basket").click()
    return check_out(page, "My laptop is five years old.")


def order_a_phone(page) -> ServiceRequest:
    page.goto(ServicePage.objects.get(title="Mobile phone").url)
    page.get_by_label("Which phone?").select_option("iPhone")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Add to basket").click()
    return check_out(page, "I'm on call from next month.")


def test_manager_approves_one_item_and_declines_another(
    page, new_page, login, screenshot
):
    login(page, "employee")
    laptop = order_a_laptop(page)
    phone = order_a_phone(page)
    expect(page.locator(".approvals-link")).to_have_count(0)

    boss = new_page()
    login(boss, "manager")
    count = boss.locator(".approvals-link .basket-count")
    expect(count).to_have_text("2")
    expect(count).to_have_attribute("aria-label", "2 waiting")
    boss.get_by_role("link", name=re.compile("^Approvals")).click()
    expect(
        boss.get_by_role("heading", name="Approvals waiting for you")
    ).to_be_visible()
    laptop_card = boss.locator("article.approval", has_text=laptop.number)
    expect(laptop_card).to_contain_text("Emma Evans")
    expect(laptop_card).to_contain_text("My laptop is five years old.")
    expect(laptop_card).to_contain_text("CC-2100")
    expect(laptop_card).to_contain_text("€1,250")
    expect(laptop_card).to_contain_text("€180")  # €15 a month, for a year
    expect(laptop_card).to_contain_text("The service needs the manager's approval")
    screenshot(boss, "ap1-approvals-list")
    assert fits_320(boss, screenshot, "ap1-approvals-list-320px")

    laptop_card.get_by_role("button", name="Approve").click()
    expect(boss.locator(".message--success")).to_have_text(
        "Approved New laptop for Emma Evans."
    )
    expect(boss.locator(".approvals-link .basket-count")).to_have_text("1")

    # Declining needs a reason: said at the top and next to the field.
    phone_card = boss.locator("article.approval", has_text=phone.number)
    phone_card.get_by_role("button", name="Decline").click()
    summary = boss.locator(".error-summary")
    expect(summary).to_contain_text(
        "Say why you are not approving it, so they know what to do."
    )
    phone_card = boss.locator("article.approval", has_text=phone.number)
    expect(phone_card.locator(".field__error")).to_be_visible()
    screenshot(boss, "ap2-decline-needs-a-reason")
    summary.get_by_role("link").click()
    expect(phone_card.get_by_label("Reason (needed to decline)")).to_be_focused()
    boss.keyboard.type("Use your current phone until March, please.")
    phone_card.get_by_role("button", name="Decline").click()
    expect(boss.locator(".message--success")).to_have_text(
        "Declined Mobile phone for Emma Evans."
    )
    expect(boss.get_by_text("Nothing is waiting for your approval.")).to_be_visible()
    expect(boss.locator(".recent-decisions")).to_contain_text("Mobile phone")
    expect(boss.locator(".approvals-link .basket-count")).to_have_count(0)
    screenshot(boss, "ap3-approvals-done")

    # Emma reads the outcome on her requests.
    page.goto(f"/requests/{phone.pk}/")
    item = page.locator(".request-item")
    expect(item).to_contain_text(
        "Not approved by Marcus Meyer: Use your current phone until March, please."
    )
    expect(page.locator(".timeline")).to_contain_text(
        "Marcus Meyer did not approve Mobile phone."
    )
    page.goto(f"/requests/{laptop.pk}/")
    expect(page.locator(".timeline")).to_contain_text(
        "Marcus Meyer approved New laptop."
    )
    expect(page.locator(".request-item")).to_contain_text(
        "With our Workplace hardware team"
    )
    screenshot(page, "ap4-request-approved")
    assert fits_320(page, screenshot, "ap4-request-approved-320px")
    assert list(request_log_verify()) == []

    # Going on holiday: Elena Ortiz decides while Marcus is away.
    boss.get_by_role("link", name="Going away? Name a substitute").click()
    boss.get_by_label("Find a person by name").fill("ortiz")
    boss.get_by_role("button", name="Find", exact=True).click()
    boss.get_by_label("Elena Ortiz").check()
    today = datetime.date.today()
    boss.get_by_label("From").fill(f"{today + datetime.timedelta(days=7):%Y-%m-%d}")
    boss.get_by_label("To").fill(f"{today + datetime.timedelta(days=1):%Y-%m-%d}")
    boss.get_by_role("button", name="Add substitute").click()
    expect(boss.locator(".error-summary")).to_contain_text(
        "The last day must be on or after the first day."
    )
    # The person chosen is still chosen.
    expect(boss.get_by_label("Elena Ortiz")).to_be_checked()
    screenshot(boss, "ap9-substitute-error")
    boss.get_by_label("To").fill(f"{today + datetime.timedelta(days=14):%Y-%m-%d}")
    boss.get_by_role("button", name="Add substitute").click()
    expect(boss.locator(".message--success")).to_contain_text(
        "Elena Ortiz will decide your approvals from"
    )
    expect(boss.locator(".substitute-list")).to_contain_text("Elena Ortiz")
    screenshot(boss, "ap10-substitutes")
    assert fits_320(boss, screenshot, "ap10-substitutes-320px")


def test_manager_finds_a_report_by_name_at_checkout(page, login, screenshot):
    login(page, "manager")
    page.goto(ServicePage.objects.get(title="Mobile phone").url)
    page.get_by_label("Which phone?").select_option("iPhone")
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Add to basket").click()
    page.get_by_role("link", name="Check out").click()
    expect(page.get_by_label("Myself (Marcus Meyer)")).to_be_checked()
    page.get_by_label("Find a person").fill("emma")
    page.get_by_role("button", name="Find", exact=True).click()
    page.get_by_label("Emma Evans").check()
    page.get_by_role("button", name="Submit request").click()
    # The reason was missing: Emma stays chosen, and the charge follows her.
    expect(page.locator(".error-summary")).to_contain_text("Enter why this is needed")
    expect(page.get_by_label("Emma Evans")).to_be_checked()
    expect(page.locator(".charge-note")).to_contain_text(
        "Charged to CC-2100 Sales, Emma Evans's department"
    )
    screenshot(page, "ap11-checkout-for-a-report")
    assert fits_320(page, screenshot, "ap11-checkout-for-a-report-320px")
    page.get_by_label("Why is this needed?").fill("Emma is on call from May.")
    page.get_by_role("button", name="Submit request").click()
    expect(
        page.get_by_role("heading", name="Thank you, your request is in")
    ).to_be_visible()
    request = ServiceRequest.objects.get()
    assert (request.requested_by.username, request.requested_for.username) == (
        "manager",
        "employee",
    )


def test_employee_answers_a_paused_item_then_rates_it(page, login, screenshot):
    login(page, "employee")
    laptop = order_a_laptop(page)
    item = laptop.items.get()
    fulfiller = person("fulfiller")
    approval_decide(
        step_id=ApprovalStep.objects.get(item=item).pk,
        actor=person("manager"),
        approve=True,
    )
    item_start(item_id=item.pk, actor=fulfiller)
    item_hold(
        item_id=item.pk,
        actor=fulfiller,
        reason_id=HoldReason.objects.get(name="Waiting for the requester").pk,
        note="Which keyboard layout do you need: UK or US?",
    )

    page.goto("/requests/")
    expect(page.locator("table.requests")).to_contain_text("Paused: waiting for you")
    page.get_by_role("link", name=laptop.number).click()
    card = page.locator(".request-item")
    expect(card).to_contain_text("Paused while we wait for you since")
    need = card.locator(".need-box")
    expect(need).to_contain_text(
        "What we need from you: Which keyboard layout do you need: UK or US?"
    )
    expect(page.locator(".timeline")).to_contain_text(
        "We paused New laptop while we wait for you."
    )
    screenshot(page, "ap5-request-paused")
    assert fits_320(page, screenshot, "ap5-request-paused-320px")
    need.get_by_role("link", name="Answer us in the comment box").click()
    expect(page.get_by_label("Add a comment")).to_be_focused()
    page.keyboard.type("UK, please.")
    page.get_by_role("button", name="Send comment").click()
    expect(page.locator(".timeline")).to_contain_text("UK, please.")

    item_resume(item_id=item.pk, actor=fulfiller)
    item_resolve(
        item_id=item.pk,
        actor=fulfiller,
        note="Your laptop (UK keyboard) is at the front desk.",
    )
    page.reload()
    card = page.locator(".request-item")
    expect(card).to_contain_text("Delivered on")
    expect(card).to_contain_text("Your laptop (UK keyboard) is at the front desk.")
    rating = card.get_by_role("group", name="How did we do?")
    expect(rating).to_be_visible()
    screenshot(page, "ap6-delivered-rating-form")
    # Nothing chosen: the rating page says what to do.
    card.get_by_role("button", name="Send rating").click()
    expect(page.locator(".error-summary")).to_contain_text(
        "Choose from 1 (poor) to 5 (excellent)."
    )
    screenshot(page, "ap7-rating-error")
    page.get_by_label("4 – Very good").check()
    page.get_by_label("Anything you'd like to tell us?").fill("Quick, thank you!")
    page.get_by_role("button", name="Send rating").click()
    expect(page.locator(".message--success")).to_have_text("Thank you for your rating.")
    expect(page.locator(".request-item")).to_contain_text("You rated this 4 out of 5")
    expect(page.locator(".timeline")).to_contain_text(
        "Emma Evans rated New laptop 4 out of 5."
    )
    screenshot(page, "ap8-rated")
    item.refresh_from_db()
    assert (item.rating, item.status) == (4, "closed")
    assert list(request_log_verify()) == []


def test_a_long_folder_path_wraps_on_a_phone(page, new_page, login, screenshot):
    """An answer with no place to break (a folder path) wraps inside its row on
    the pages that show answers, instead of pushing the page sideways."""
    from tests.browser.test_fulfilment_journeys import no_sideways_scroll

    path = r"\\fileserver01\departments\finance\quarterly-reports\2026-archive"
    login(page, "employee")
    page.goto(ServicePage.objects.get(title="Access to a shared folder").url)
    page.get_by_label("Which folder?").fill(path)
    page.get_by_label("What do you need to do?").select_option("Read and change files")
    page.get_by_role("button", name="Add to basket").click()
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto("/basket/")
    expect(page.get_by_text(path)).to_be_visible()
    assert no_sideways_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    service_request = check_out(page, "I'm taking over the quarterly reports.")
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"/requests/{service_request.pk}/")
    expect(page.get_by_text(path)).to_be_visible()
    assert no_sideways_scroll(page)
    screenshot(page, "long-answer-request-320px")

    manager = new_page()
    login(manager, "manager")
    manager.set_viewport_size({"width": 320, "height": 800})
    manager.goto("/approvals/")
    expect(manager.get_by_text(path)).to_be_visible()
    assert no_sideways_scroll(manager)
    screenshot(manager, "long-answer-approvals-320px")
