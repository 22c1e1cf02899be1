"""The strict Content-Security-Policy against the real pages: an employee orders
and follows the request, an executive opens the dashboard (charts drawn) and the
bill, an editor sees the userbar, and the browser reports no violation anywhere;
the admin, under its own policy, neither. Then the lock-out: a login refused
after too many wrong passwords, and an administrator releasing it in the admin.
Screenshots of both to review."""

import re

import pytest
from playwright.sync_api import expect

from catalog.demo.history import history_generate
from catalog.models import ServicePage

pytestmark = pytest.mark.browser

# Every refusal is a `securitypolicyviolation` event on the document; the init
# script (run by the browser tooling, outside the page's policy) keeps them.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
    window.__cspViolations.push(
        event.violatedDirective + " blocked " + (event.blockedURI || "inline")
        + " at " + event.sourceFile + ":" + event.lineNumber
    );
});
"""


@pytest.fixture
def watched(new_page):
    """``watched()``: a tab whose CSP violations (events and console reports) are
    gathered in ``tab.violations``; ``check(tab)`` asserts there are none so far."""

    def open_tab():
        tab = new_page()
        tab.violations = []
        tab.add_init_script(LISTEN)
        tab.on(
            "console",
            lambda message: (
                tab.violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        return tab

    return open_tab


def visit(tab, url: str | None = None) -> None:
    """Open ``url`` (or stay), let it settle, and collect what it reported."""
    if url:
        response = tab.goto(url)
        assert response.status < 400, f"{url}: {response.status}"
    tab.wait_for_load_state("networkidle")
    tab.violations += tab.evaluate("window.__cspViolations || []")
    assert tab.violations == [], f"{tab.url}: {tab.violations}"


def test_the_portal_pages_run_under_the_strict_policy(watched, login):
    tab = watched()
    login(tab, "employee")
    visit(tab)
    header = tab.goto("/").headers["content-security-policy"]
    # Directive order is not fixed, so compare one directive, not the header.
    policy = dict(part.strip().split(" ", 1) for part in header.split(";"))
    assert policy["script-src"] == "'self'" and "unsafe-inline" not in header
    visit(tab)
    visit(tab, "/services/")
    visit(tab, "/services/computers/second-monitor/")
    tab.get_by_label("How many?").fill("1")
    tab.get_by_label("Desk number").fill("D-114")
    tab.get_by_role("button", name="Add to basket").click()
    expect(tab).to_have_url(re.compile(r"/basket/$"))
    visit(tab)
    tab.get_by_role("link", name="Check out").click()
    visit(tab)
    tab.get_by_label("Why is this needed?").fill("A second screen for reports.")
    tab.get_by_role("button", name="Submit request").click()
    expect(
        tab.get_by_role("heading", name="Thank you, your request is in")
    ).to_be_visible()
    visit(tab)
    number = tab.locator(".request-number").inner_text()
    visit(tab, "/requests/")
    tab.get_by_role("link", name=number).click()
    expect(tab.locator(".timeline")).to_contain_text("submitted the request")
    visit(tab)


def test_the_executive_pages_and_charts_run_under_the_strict_policy(
    watched, login, demo
):
    history_generate(requests=60, seed=7)
    tab = watched()
    login(tab, "executive")
    visit(tab, "/executive/")
    # Chart.js draws from the static script: a canvas with something on it.
    canvas = tab.locator('[data-chart="spend"] canvas')
    expect(canvas).to_be_visible()
    assert canvas.evaluate("c => c.width > 0 && c.height > 0")
    visit(tab)
    visit(tab, "/executive/bill/")
    tab.get_by_role("button", name="Show the bill").click()
    expect(tab.locator("article.bill")).to_be_visible()
    # The Print button appears only when the bill's script file has run.
    expect(tab.get_by_role("button", name="Print")).to_be_visible()
    visit(tab)


def test_a_locked_login_is_explained_and_an_administrator_releases_it(
    watched, login, admin_login, screenshot
):
    tab = watched()
    for _ in range(5):
        login(tab, "employee", "not-my-password")
    login(tab, "employee")
    alert = tab.locator("#login-locked")
    expect(alert).to_contain_text("Logging in as “employee” is paused")
    expect(alert).to_contain_text("You can try again after")
    expect(alert).to_contain_text("service desk on 1234")
    visit(tab)
    screenshot(tab, "security1-login-locked")

    admin = watched()
    admin_login(admin, "admin")
    visit(admin, "/admin/security/locked-logins/")
    row = admin.locator("tr", has_text="employee")
    expect(row).to_contain_text("127.0.0.1")
    expect(row).to_contain_text("6")
    screenshot(admin, "security2-locked-logins")
    row.get_by_role("button", name="Unlock employee").click()
    expect(admin.get_by_text("No login is locked right now.")).to_be_visible()
    visit(admin)
    screenshot(admin, "security3-locked-logins-released")

    login(tab, "employee")
    expect(tab.get_by_role("link", name="My requests")).to_be_visible()


def test_an_editor_sees_the_userbar_under_the_strict_policy(
    watched, login, settings, live_server
):
    # The userbar loads the admin's files from the admin's base URL: in
    # production that is the portal's own origin.
    settings.WAGTAILADMIN_BASE_URL = live_server.url
    tab = watched()
    login(tab, "editor")
    visit(tab, "/services/computers/second-monitor/")
    expect(tab.locator("wagtail-userbar")).to_be_attached()
    visit(tab)


def test_the_admin_works_under_its_own_policy(watched, admin_login):
    tab = watched()
    admin_login(tab, "admin")
    visit(tab, "/admin/")
    service = ServicePage.objects.get(slug="second-monitor")
    # The page editor (Draftail, the preview panel) and the fulfilment queue.
    visit(tab, f"/admin/pages/{service.pk}/edit/")
    expect(tab.get_by_role("button", name="Save draft")).to_be_visible()
    visit(tab, "/queue/")
    visit(tab, "/admin/snippets/catalog/servicelevel/")
