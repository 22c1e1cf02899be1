"""Fulfilment journeys: a fulfiller takes an item from the queue to delivery."""

import re

import pytest
from playwright.sync_api import expect

from catalog.models import RequestEvent, ServicePage, ServiceRequest
from catalog.services.request_log import request_log_verify

pytestmark = pytest.mark.browser


def no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def whole_page(page, screenshot, name: str) -> None:
    """The admin scrolls inside its own layout, so a full-page shot stops at the
    window: make the window as tall as the page for the picture."""
    height = page.evaluate("document.querySelector('main').scrollHeight")
    page.set_viewport_size({"width": 1280, "height": max(900, height + 200)})
    screenshot(page, name)
    page.set_viewport_size({"width": 1280, "height": 900})


def employee_orders_a_password_reset(page, login):
    login(page, "employee")
    page.goto(ServicePage.objects.get(title="Reset a forgotten password").url)
    page.get_by_label("Which account?").select_option("Windows / email")
    page.get_by_role("button", name="Add to basket").click()
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Why is this needed?").fill("Locked out after my holiday.")
    page.get_by_role("button", name="Submit request").click()
    expect(
        page.get_by_role("heading", name="Thank you, your request is in")
    ).to_be_visible()
    return ServiceRequest.objects.get().items.get()


def test_fulfiller_assigns_holds_resumes_and_resolves(
    page, new_page, login, admin_login, screenshot
):
    item = employee_orders_a_password_reset(page, login)

    desk = new_page()
    admin_login(desk, "fulfiller")
    desk.get_by_role("link", name="Fulfilment queue").first.click()
    expect(desk.get_by_role("heading", name="Fulfilment queue")).to_be_visible()
    row = desk.locator("tr.queue-row", has_text=item.number)
    expect(row).to_contain_text("Reset a forgotten password")
    expect(row).to_contain_text("Emma Evans")
    expect(row).to_contain_text("Nobody yet")
    expect(row).to_contain_text(re.compile(r"\d+ h( \d+ min)? left"))

    # Tick it and take it.
    desk.get_by_label(f"Select {item.number}").check()
    desk.get_by_label("Assign the ticked items to").select_option(label="Me")
    desk.get_by_role("button", name="Assign", exact=True).click()
    expect(desk.get_by_text("1 item assigned.")).to_be_visible()
    expect(desk.locator("tr.queue-row", has_text=item.number)).to_contain_text(
        "Femi Adeyemi"
    )
    screenshot(desk, "f1-fulfilment-queue")
    desk.set_viewport_size({"width": 320, "height": 800})
    assert no_sideways_scroll(desk)
    screenshot(desk, "f1-fulfilment-queue-320px")
    desk.set_viewport_size({"width": 1280, "height": 900})

    # Open it and start work.
    desk.get_by_role("link", name=item.number).click()
    expect(desk.locator("#facts-heading")).to_contain_text("Submitted")
    desk.get_by_role("button", name="Start work").click()
    expect(desk.locator("#facts-heading")).to_contain_text("Being worked on")

    # On hold, waiting for the requester: the note is required, then given.
    desk.get_by_label("Why is it on hold?").select_option(
        label="Waiting for the requester"
    )
    desk.get_by_role("button", name="Put on hold").click()
    expect(desk.locator(".error-summary")).to_contain_text(
        "Tell the requester what you need from them."
    )
    desk.get_by_label("Why is it on hold?").select_option(
        label="Waiting for the requester"
    )
    desk.get_by_label("Note for the requester").fill(
        "Please call the service desk to confirm who you are."
    )
    desk.get_by_role("button", name="Put on hold").click()
    expect(desk.locator("#facts-heading")).to_contain_text("On hold")
    expect(desk.locator("#customer-left")).to_have_text("paused")
    whole_page(desk, screenshot, "f2-item-on-hold")

    # A work note for the team, then resume and resolve.
    desk.get_by_label("Work note (internal)").fill("Identity checked by phone.")
    desk.get_by_role("button", name="Add work note").click()
    expect(desk.locator(".queue-timeline")).to_contain_text("Identity checked")
    desk.get_by_role("button", name="Resume").click()
    expect(desk.locator("#facts-heading")).to_contain_text("Being worked on")
    desk.get_by_label("What was done").fill("Password reset; a new one was texted.")
    desk.get_by_role("button", name="Resolve").click()
    expect(desk.locator("#facts-heading")).to_contain_text("Delivered")
    expect(desk.locator(".queue-timeline")).to_contain_text(
        "Password reset; a new one was texted."
    )
    whole_page(desk, screenshot, "f3-item-delivered")

    item.refresh_from_db()
    assert (item.status, item.assigned_to.username) == ("fulfilled", "fulfiller")
    moves = list(
        RequestEvent.objects.filter(item=item, name="item.status_changed")
        .order_by("sequence")
        .values_list("to_state", flat=True)
    )
    assert moves == ["in_progress", "on_hold", "in_progress", "fulfilled"]
    assert list(request_log_verify()) == []

    # The requester never sees the team's work note.
    page.goto(f"/requests/{item.request_id}/")
    expect(page.locator("body")).not_to_contain_text("Identity checked by phone.")

    # Narrow screens: no sideways scrolling on the item page either.
    desk.set_viewport_size({"width": 320, "height": 800})
    screenshot(desk, "f4-item-320px")
    assert no_sideways_scroll(desk)


def test_editor_previews_a_due_time_across_easter(page, admin_login, screenshot):
    admin_login(page, "editor")
    page.goto("/admin/snippets/catalog/businesscalendar/")
    page.get_by_role("link", name="Preview due times").click()
    page.get_by_label("Calendar").select_option(label="Office hours")
    page.get_by_label("Start date").fill("2025-04-17")
    page.get_by_label("Start time").fill("16:00")
    page.get_by_label("Working hours").fill("4")
    page.get_by_role("button", name="Show the due time").click()
    result = page.locator("#preview-result")
    expect(result).to_contain_text("Due Tuesday 22 April 2025, 10:00")
    expect(result).to_contain_text("Friday 18 April 2025: Good Friday")
    expect(result).to_contain_text("Monday 21 April 2025: Easter Monday")
    screenshot(page, "f6-calendar-preview")

    page.get_by_label("Working hours").fill("0")
    page.get_by_role("button", name="Show the due time").click()
    summary = page.locator(".queue-error-summary")
    expect(summary).to_contain_text("Enter more than 0 hours.")
    summary.get_by_role("link").click()
    expect(page.get_by_label("Working hours")).to_be_focused()
    screenshot(page, "f7-calendar-preview-error")
