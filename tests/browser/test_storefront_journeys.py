"""Journeys through the storefront and the admin, in a real browser.

Each test is one thing a person does, start to finish, on the demo catalog: an
employee finding and reading a service, an editor changing a service until the
change is live, and someone who isn't logged in being sent to log in (and only
ever back to this site).
"""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from catalog.models import ServicePage

pytestmark = pytest.mark.browser

NEW_LAPTOP = "/services/computers/new-laptop/"
VPN_ACCESS = "/services/access/vpn-access/"
MOBILE_PHONE = "/services/phones/mobile-phone/"
FINANCE_SYSTEM = "/services/access/access-to-the-finance-system/"


def card_titles(page) -> list[str]:
    return page.locator(".listing__results .service-card__title").all_inner_texts()


def test_employee_finds_a_laptop_and_reads_what_it_costs(
    page, base_url, login, screenshot
):
    login(page, "employee")
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "What do you need from IT today?"
    )
    categories = page.locator(".categories .category-card")
    expect(categories.filter(has_text="Laptops and computers")).to_be_visible()
    expect(categories.filter(has_text="Access and permissions")).to_be_visible()
    screenshot(page, "a1-home")

    categories.filter(has_text="Laptops and computers").click()
    expect(page).to_have_url(f"{base_url}/services/computers/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Laptops and computers")
    everything = card_titles(page)
    assert "New laptop" in everything
    # Engineering only; the employee is in Sales.
    assert "Developer workstation" not in everything
    expect(page.locator(".listing__count")).to_have_text(f"{len(everything)} services")
    screenshot(page, "a2-category")

    filters = page.get_by_role("form", name="Filter services")
    filters.get_by_label("No approval needed").check()
    filters.get_by_role("button", name="Show services").click()
    expect(page).to_have_url(re.compile(r"/services/computers/\?.*no_approval=on"))
    expect(filters.get_by_label("No approval needed")).to_be_checked()
    no_approval = card_titles(page)
    assert no_approval, "the filter left nothing to show"
    assert set(no_approval) < set(everything)
    assert "New laptop" not in no_approval  # the manager approves a laptop
    cards = page.locator(".listing__results .service-card")
    for index in range(cards.count()):
        expect(cards.nth(index).locator(".badge")).to_have_text("No approval needed")
    expect(page.locator(".listing__count")).to_have_text(
        f"{len(no_approval)} service{'s' if len(no_approval) != 1 else ''}"
    )
    expect(page.get_by_role("link", name="Clear all")).to_be_visible()
    screenshot(page, "a3-category-no-approval")

    search = page.get_by_role("search").get_by_label("Search services")
    search.fill("laptop")
    search.press("Enter")
    expect(page).to_have_url(f"{base_url}/services/?q=laptop")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search results")
    expect(page.locator(".listing__count")).to_contain_text("for “laptop”")
    assert "New laptop" in card_titles(page)
    screenshot(page, "a4-search-laptop")

    page.locator(".listing__results").get_by_role("link", name="New laptop").click()
    expect(page).to_have_url(f"{base_url}{NEW_LAPTOP}")
    expect(page.get_by_role("heading", level=1)).to_have_text("New laptop")
    order_box = page.locator(".order-box")
    expect(order_box.locator(".price")).to_have_text(
        re.compile(r"€1,250\s+one-off\s+\+\s+€15\s+per month")
    )
    expect(order_box).to_contain_text("Usually ready in 5 working days")
    expect(order_box).to_contain_text("Your manager approves it first")
    promise = page.locator(".service-level")
    expect(promise.get_by_role("heading")).to_have_text("Our promise")
    # The "Hardware delivery" level from the demo data: 50 working hours on a
    # 10-hour office day is 5 working days, the same unit as the card. A laptop
    # is not an online system: no availability.
    expect(promise.locator("dd")).to_have_text(
        [
            "8 hours",
            "5 working days",
            "Monday to Friday, 8:00 to 18:00 (London time), except public holidays",
        ]
    )
    expect(promise).to_contain_text("Hardware delivery")
    screenshot(page, "a5-service-new-laptop")

    # Sales, London HQ: the finance system is for Finance and the Executive Office.
    response = page.goto(FINANCE_SYSTEM)
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We can't find that page")
    expect(page.locator("main")).not_to_contain_text("finance system")
    screenshot(page, "a6-not-found-finance-system")


def test_editor_changes_a_summary_that_goes_live_once_the_owner_approves(
    page, new_page, admin_login, screenshot
):
    """Catalog changes go through the "Service owner approval" workflow: the
    editor submits, the service's owner (its IT only tab) approves and Wagtail
    publishes; until then customers see the published text."""
    new_summary = "A company smartphone, set up and ready when you collect it."
    phone = ServicePage.objects.get(title="Mobile phone")
    assert phone.service_owner.username == "owner"
    old_summary = phone.summary
    edit_url = f"/admin/pages/{phone.pk}/edit/"

    admin_login(page, "editor")
    page.goto(edit_url)
    summary = page.get_by_role("textbox", name="Summary")
    expect(summary).to_have_value(old_summary)
    summary.fill(new_summary)
    page.get_by_role("button", name="More actions").click()
    # Editors can't publish; they submit to the workflow.
    expect(page.get_by_role("button", name="Publish", exact=True)).to_have_count(0)
    submit = page.get_by_role("button", name="Submit to Service owner approval")
    expect(submit).to_be_visible()
    screenshot(page, "b1-admin-edit-mobile-phone")
    submit.click()
    expect(page.locator(".messages")).to_contain_text(
        "'Mobile phone' has been submitted for moderation"
    )

    # A draft awaiting approval is not what customers see.
    page.goto(MOBILE_PHONE)
    expect(page.locator(".service__header .lead")).to_have_text(old_summary)

    owner = new_page()
    admin_login(owner, "owner")
    owner.goto("/admin/")
    expect(owner.locator("main")).to_contain_text("Mobile phone")
    screenshot(owner, "b2-owner-dashboard-awaiting-review")
    owner.goto(edit_url)
    expect(owner.get_by_role("textbox", name="Summary")).to_have_value(new_summary)
    owner.get_by_role("button", name="More actions").click()
    owner.get_by_role("button", name="Approve and Publish", exact=True).click()
    expect(owner.locator(".messages")).to_contain_text(
        "'Mobile phone' has been updated"
    )

    page.goto(MOBILE_PHONE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mobile phone")
    expect(page.locator(".service__header .lead")).to_have_text(new_summary)
    screenshot(page, "b3-mobile-phone-published")


def test_only_the_services_owner_may_approve_its_change(page, new_page, admin_login):
    """Another editor (not the owner) sees the change waiting but has no approve
    action; the page stays as published."""
    phone = ServicePage.objects.get(title="Mobile phone")
    edit_url = f"/admin/pages/{phone.pk}/edit/"
    admin_login(page, "editor")
    page.goto(edit_url)
    page.get_by_role("textbox", name="Summary").fill("Changed by the editor.")
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Submit to Service owner approval").click()
    expect(page.locator(".messages")).to_contain_text("submitted for moderation")
    page.goto(edit_url)
    page.get_by_role("button", name="More actions").click()
    expect(
        page.get_by_role("button", name="Approve and Publish", exact=True)
    ).to_have_count(0)
    phone.refresh_from_db()
    assert phone.summary != "Changed by the editor."


def test_login_sends_people_back_only_within_the_portal(
    page, base_url, login, screenshot
):
    off_site = []
    page.route(
        re.compile(r"^https?://evil\.example\.com"),
        lambda route: (off_site.append(route.request.url), route.abort()),
    )

    page.goto("/services/")
    expect(page).to_have_url(f"{base_url}/accounts/login/?next=/services/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to IT Services")
    expect(page.get_by_role("search")).to_have_count(0)
    screenshot(page, "c1-login")
    login(page, "employee", open_form=False)
    expect(page).to_have_url(f"{base_url}/services/")
    expect(page.get_by_role("heading", level=1)).to_have_text("All services")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{base_url}/accounts/login/")
    page.goto("/accounts/login/?next=https://evil.example.com/")
    login(page, "employee", open_form=False)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert off_site == []
    assert urlsplit(page.url).netloc == urlsplit(base_url).netloc
    expect(page).to_have_url(f"{base_url}/")
