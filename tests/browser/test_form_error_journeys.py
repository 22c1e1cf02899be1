"""The error pattern as a person meets it: an empty form sent, the summary read
out first (it has focus), and each of its links taking them to the field."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

BROKEN_LAPTOP = "/services/computers/replace-a-broken-laptop/"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def test_empty_request_form_leads_to_each_field(page, login):
    login(page, "employee")
    page.goto(BROKEN_LAPTOP)
    page.get_by_role("button", name="Add to basket").click()
    page.wait_for_load_state()

    expect(page).to_have_title(re.compile(r"^Error: Replace a broken laptop"))
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Enter what happened",
            "Choose Yes or No for “Can you still get to your files?”",
        ]
    )
    what_happened = page.get_by_label("What happened?")
    expect(what_happened).to_have_attribute("aria-invalid", "true")

    summary.get_by_role("link", name="Enter what happened").click()
    expect(what_happened).to_be_focused()
    # Its error is what a screen reader reads with it.
    described = what_happened.get_attribute("aria-describedby")
    expect(page.locator(f"#{described}")).to_have_text("Error: Enter what happened")

    page.locator(".error-summary a").nth(1).click()
    expect(page.get_by_role("radio", name="Yes")).to_be_focused()
    group = page.get_by_role("group", name="Can you still get to your files?")
    expect(group).to_have_attribute("aria-describedby", re.compile(r"_error$"))

    # The red bar, and a red border on what is typed in, for every field with an
    # error; red rings on the radio buttons.
    red = "rgb(180, 35, 24)"
    for field in page.locator(".field--error").all():
        assert field.evaluate("e => getComputedStyle(e).borderLeftColor") == red
    assert what_happened.evaluate("e => getComputedStyle(e).borderTopColor") == red
    radio = page.get_by_role("radio", name="No")
    assert radio.evaluate("e => getComputedStyle(e).outlineColor") == red


def test_without_javascript_the_summary_is_a_list_of_links(browser, demo, base_url):
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_title("Error: Log in · IT Services")
        summary = page.locator(".error-summary")
        expect(summary.get_by_role("link")).to_have_text(
            ["Enter your username", "Enter your password"]
        )
        summary.get_by_role("link", name="Enter your password").click()
        expect(page).to_have_url(re.compile(r"/accounts/login/#id_password$"))
    finally:
        context.close()


def test_checkout_with_errors_and_the_confirmation(page, login, screenshot):
    login(page, "employee")
    page.goto("/services/accounts/reset-a-forgotten-password/")
    page.get_by_label("Which account?").select_option("Windows / email")
    page.get_by_role("button", name="Add to basket").click()
    page.goto("/services/computers/new-laptop/")
    page.get_by_label("Which model?").select_option("Standard 14-inch laptop")
    page.get_by_role("radio", name="No").check()
    page.get_by_role("button", name="Add to basket").click()
    page.get_by_role("link", name="Check out").click()

    # Who pays and what happens next, before anything is sent.
    expect(page.locator("#id_cost_centre option").first).to_have_text(
        "Your department's cost centre: CC-2100 Sales"
    )
    expect(page.locator(".outlook")).to_have_text(
        [
            "No approval needed. Usually ready the same working day.",
            "Needs approval from Marcus Meyer (manager). Usually ready in 5 working "
            "days after approval.",
        ]
    )

    page.get_by_role("button", name="Submit request").click()
    expect(page).to_have_title("Error: Check out · IT Services")
    expect(page.locator(".error-summary")).to_be_focused()
    page.get_by_role("link", name="Enter why this is needed").click()
    expect(page.get_by_label("Why is this needed?")).to_be_focused()
    for size, name in ((PHONE, "390"), (DESKTOP, "1366")):
        page.set_viewport_size(size)
        screenshot(page, f"f1-checkout-errors-{name}")

    page.get_by_label("Why is this needed?").fill("Mine is five years old.")
    page.get_by_role("button", name="Submit request").click()
    expect(
        page.get_by_role("heading", name="Thank you, your request is in")
    ).to_be_visible()
    expect(page.locator(".confirmation")).to_contain_text("Charged to CC-2100 Sales")
    expect(page.locator(".outlook")).to_have_text(
        [
            "No approval needed. Usually ready the same working day.",
            "Needs approval from Marcus Meyer (manager). Usually ready in 5 working "
            "days after approval.",
        ]
    )
    for size, name in ((PHONE, "390"), (DESKTOP, "1366")):
        page.set_viewport_size(size)
        screenshot(page, f"f2-confirmation-{name}")
