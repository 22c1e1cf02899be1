"""Accessibility journeys: every page a person reaches, checked with axe-core
against WCAG 2.0, 2.1 and 2.2 A and AA, and measured at phone widths.

One walk per person (employee, manager, executive, fulfiller, and the
administrator for the admin pages the project added) visits each page in the
states people meet it in: an empty basket and a filled one, a form sent with
errors, a search that finds nothing. The walk runs once, in one browser context
per person, and records what axe and the width check found on each page; each
page is then its own test, so a failure names the page.
"""

import contextlib
import re
from dataclasses import dataclass, field

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from catalog.demo.loader import load_demo
from catalog.models import ServicePage, ServiceRequest
from catalog.services.fulfilment import item_resolve, item_start
from tests.browser.conftest import (
    LOCALE,
    TIMEOUT_MS,
    TIMEZONE,
    VIEWPORT,
    log_in,
)
from tests.browser.test_approval_journeys import check_out

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE_WIDTHS = (320, 390)
# Long enough for the executive charts to re-lay themselves out after a resize.
SETTLE_MS = 2000

# Findings on admin pages that come from Wagtail's own admin markup, not from
# the project's templates: rule id -> why it is not fixed here. Applied to admin
# pages only; the portal's pages get no exceptions. Empty as of 26 November 2026:
# axe found nothing from Wagtail's markup on the admin pages walked below.
WAGTAIL_ADMIN_EXCEPTIONS: dict[str, str] = {}

# Findings left for later: (page, rule id) -> the finding. Empty: keep it so.
KNOWN_ELSEWHERE: dict[tuple[str, str], str] = {}


@dataclass
class Finding:
    """What the walk recorded on one page."""

    url: str = ""
    violations: list[str] = field(default_factory=list)
    # viewport width -> (document width, window width without its scrollbar)
    widths: dict[int, tuple[int, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def user(username: str):
    return get_user_model().objects.get(username=username)


def service_url(title: str) -> str:
    return ServicePage.objects.get(title=title).url


def add_to_basket(page) -> None:
    page.get_by_role("button", name="Add to basket").click()
    page.wait_for_load_state()


def submit_request(page, reason: str) -> ServiceRequest:
    page.goto("/basket/")
    return check_out(page, reason)


# --- The walks: (page name, how to get there). A step either opens a URL or
# does what a person does and leaves the browser on the page to check. The
# employee's walk comes first: it fills the basket and the requests the other
# people then see. ---------------------------------------------------------------


def menu_open(page, state):
    """The header menu opened on a phone (the walk then checks it wide, still
    open, and at phone width)."""
    page.set_viewport_size({"width": PHONE_WIDTHS[-1], "height": 800})
    page.goto("/")
    page.locator("summary", has_text="Menu").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.set_viewport_size(VIEWPORT)


def order_a_laptop(page, state):
    page.goto(service_url("New laptop"))
    page.get_by_label("Which model?").select_option("Standard 14-inch laptop")
    page.get_by_label("Yes").check()
    add_to_basket(page)


def checkout_with_errors(page, state):
    page.goto("/checkout/")
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_load_state()


def confirmation(page, state):
    state["laptop"] = submit_request(page, "My laptop is five years old.")


def acrobat_delivered(page, state):
    """Acrobat needs no approval: order it, and IT delivers it at once."""
    page.goto(service_url("Adobe Acrobat Pro"))
    add_to_basket(page)
    acrobat = submit_request(page, "Signing contracts.")
    item = acrobat.items.get()
    desk = user("admin")
    item_start(item_id=item.pk, actor=desk)
    item_resolve(item_id=item.pk, actor=desk, note="Installed and licensed.")
    state["acrobat_item"] = item
    page.goto(f"/requests/{acrobat.pk}/")


def service_form_errors(page, state):
    page.goto(service_url("Access to a shared folder"))
    add_to_basket(page)


def laptop_line_edit(page, state):
    page.goto("/basket/")
    page.get_by_role("link", name="Change answers").first.click()
    page.wait_for_load_state()


def rate_item(page, state):
    page.goto(f"/requests/items/{state['acrobat_item'].pk}/rate/")


def removal_page(page, state):
    page.goto(f"/my-services/{state['acrobat_item'].pk}/remove/")


def removal_with_errors(page, state):
    removal_page(page, state)
    reason = page.get_by_label("Why don't you need it any more?")
    # Past the browser's own limit, as a script or an old browser would send.
    reason.evaluate("element => element.removeAttribute('maxlength')")
    reason.fill("x" * 4001)
    page.get_by_role("button", name="Ask to remove it").click()
    page.wait_for_load_state()


def laptop_request(page, state):
    page.goto(f"/requests/{state['laptop'].pk}/")


def login_page(page, state):
    page.goto("/accounts/login/")


def login_with_errors(page, state):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("employee")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def decline_without_reason(page, state):
    page.goto("/approvals/")
    card = page.locator("article.approval", has_text=state["laptop"].number)
    card.get_by_role("button", name="Decline").click()
    page.wait_for_load_state()


def approve_laptop(page, state):
    page.goto("/approvals/")
    card = page.locator("article.approval", has_text=state["laptop"].number)
    card.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()


def view_as_employee(page, state):
    page.goto(f"/admin/catalog/view-as/?user={user('employee').pk}")


def queue_item(page, state):
    page.goto(f"/queue/items/{state['acrobat_item'].pk}/")


def calendar_preview_result(page, state):
    page.goto("/admin/catalog/calendars/preview/")
    page.locator("form").get_by_role("button").last.click()
    page.wait_for_load_state()


WALKS: dict[str | None, list[tuple[str, object]]] = {
    None: [
        ("login", login_page),
        ("login-with-errors", login_with_errors),
    ],
    "employee": [
        ("home", "/"),
        ("header-menu-open", menu_open),
        ("catalog", "/services/"),
        ("search-results", "/services/?q=laptop"),
        ("search-no-results", "/services/?q=xyzzy-nothing"),
        ("category", "/services/computers/"),
        ("category-with-suspended-service", "/services/software/"),
        ("service", lambda page, state: page.goto(service_url("New laptop"))),
        (
            "service-suspended",
            lambda page, state: page.goto(
                service_url("Statistics and data analysis tools")
            ),
        ),
        ("service-form-errors", service_form_errors),
        ("basket-empty", "/basket/"),
        ("my-requests-empty", "/requests/"),
        ("my-services-empty", "/my-services/"),
        ("basket-filled", order_a_laptop),
        ("basket-change-answers", laptop_line_edit),
        ("checkout", "/checkout/"),
        ("checkout-with-errors", checkout_with_errors),
        ("confirmation", confirmation),
        ("request-delivered", acrobat_delivered),
        ("request-waiting-for-approval", laptop_request),
        ("rate-item", rate_item),
        ("my-requests", "/requests/"),
        ("my-services", "/my-services/"),
        ("my-service-remove", removal_page),
        ("my-service-remove-with-errors", removal_with_errors),
        ("not-found", "/no-such-page/"),
    ],
    "manager": [
        ("home", "/"),
        ("approvals", "/approvals/"),
        ("approvals-decline-with-errors", decline_without_reason),
        ("approvals-decided", approve_laptop),
        ("substitutes", "/approvals/substitutes/"),
        ("bill", "/executive/bill/"),
    ],
    "executive": [
        ("home", "/"),
        ("executive-dashboard", "/executive/"),
        ("executive-items", "/executive/items/"),
        ("bill", "/executive/bill/"),
        ("service-review", "/executive/review/"),
        ("approvals-empty", "/approvals/"),
    ],
    "fulfiller": [
        ("home", "/"),
        ("queue", "/queue/"),
        ("queue-item", queue_item),
    ],
    "admin": [
        ("admin-view-as", "/admin/catalog/view-as/"),
        ("admin-view-as-employee", view_as_employee),
        ("admin-calendar-preview", "/admin/catalog/calendars/preview/"),
        ("admin-calendar-preview-result", calendar_preview_result),
        ("admin-locked-logins", "/admin/security/locked-logins/"),
        ("admin-close-bills", "/admin/bills/close/"),
    ],
}
PAGES = [
    f"{username or 'anonymous'}/{name}"
    for username, steps in WALKS.items()
    for name, _ in steps
]
PORTAL_PAGES = [name for name in PAGES if "/admin-" not in name]


def is_admin(page_id: str) -> bool:
    return "/admin-" in page_id


def describe(violation: dict) -> list[str]:
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} "
        f"at {' '.join(map(str, node['target']))}"
        for node in violation["nodes"]
    ]


def page_width(page, width: int) -> tuple[int, int]:
    """The document's width and the window's at ``width`` px, once the layout
    has settled."""
    page.set_viewport_size({"width": width, "height": 800})
    # A page that never fits is measured as it is when the wait gives up.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "() => document.documentElement.scrollWidth"
            " <= document.documentElement.clientWidth",
            timeout=SETTLE_MS,
        )
    return tuple(
        page.evaluate(
            "() => [document.documentElement.scrollWidth,"
            " document.documentElement.clientWidth]"
        )
    )


def audit(axe, page, page_id: str) -> list[str]:
    """The page's WCAG violations, less those listed above with a reason."""
    results = axe.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations"],
        },
    )
    found = []
    for violation in results.response["violations"]:
        if (page_id, violation["id"]) in KNOWN_ELSEWHERE:
            continue
        if is_admin(page_id) and violation["id"] in WAGTAIL_ADMIN_EXCEPTIONS:
            continue
        found.extend(describe(violation))
    return found


def walk(browser, base_url) -> dict[str, Finding]:
    axe = Axe()
    findings: dict[str, Finding] = {}
    state: dict = {}
    for username, steps in WALKS.items():
        context = browser.new_context(
            base_url=base_url, viewport=VIEWPORT, locale=LOCALE, timezone_id=TIMEZONE
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        problems: list[str] = []
        page.on(
            "response",
            lambda r, problems=problems: (
                r.status >= 500 and problems.append(f"{r.status} {r.url}")
            ),
        )
        page.on("pageerror", lambda e, problems=problems: problems.append(str(e)))
        if username:
            log_in(page, username)
        for name, step in steps:
            page_id = f"{username or 'anonymous'}/{name}"
            finding = findings[page_id] = Finding()
            problems.clear()
            if isinstance(step, str):
                page.goto(step)
            else:
                step(page, state)
            page.wait_for_load_state()
            finding.url = page.url
            finding.violations = audit(axe, page, page_id)
            if not is_admin(page_id):
                for width in PHONE_WIDTHS:
                    finding.widths[width] = page_width(page, width)
                # The phone layout (the collapsed menu, stacked tables) too.
                finding.violations += [
                    f"at {PHONE_WIDTHS[-1]} px: {violation}"
                    for violation in audit(axe, page, page_id)
                ]
                page.set_viewport_size(VIEWPORT)
            finding.problems = list(problems)
        context.close()
    return findings


@pytest.fixture(scope="module")
def walked():
    """Filled by the first test that runs; the walk's findings outlive the
    database, which is emptied after every test."""
    return {}


@pytest.fixture
def findings(walked, browser, live_server, django_db_serialized_rollback):
    if not walked:
        load_demo()
        walked.update(walk(browser, live_server.url))
    return walked


@pytest.mark.parametrize("page_id", PAGES)
def test_page_has_no_wcag_violations(findings, page_id):
    finding = findings[page_id]
    assert not finding.problems, f"{page_id} ({finding.url}): {finding.problems}"
    assert not finding.violations, (
        f"{page_id} ({finding.url}) fails WCAG 2.2 AA:\n"
        + "\n".join(finding.violations)
    )


# Admin pages are exempt: Wagtail's admin lays itself out for wide screens,
# and people work the queue and close bills at a desk.
@pytest.mark.parametrize("page_id", PORTAL_PAGES)
def test_page_does_not_scroll_sideways_on_a_phone(findings, page_id):
    finding = findings[page_id]
    assert sorted(finding.widths) == [320, 390]
    too_wide = {
        width: f"{document} px of {window} px"
        for width, (document, window) in finding.widths.items()
        if document > window
    }
    assert too_wide == {}, f"{page_id} ({finding.url}) scrolls sideways: {too_wide}"


def test_known_elsewhere_names_pages_that_are_walked():
    assert {page_id for page_id, _ in KNOWN_ELSEWHERE} <= set(PAGES)


def test_every_walk_reaches_the_page_it_names(findings):
    """The walk really reached the pages: a step that silently landed on the
    login form would check the wrong page."""
    assert re.search(r"/basket/$", findings["employee/basket-filled"].url)
    assert re.search(r"/submitted/$", findings["employee/confirmation"].url)
    assert re.search(r"/queue/$", findings["fulfiller/queue"].url)
    assert re.search(r"/my-services/$", findings["employee/my-services"].url)
    assert re.search(r"/admin/bills/close/$", findings["admin/admin-close-bills"].url)
    assert re.search(r"\?user=\d+$", findings["admin/admin-view-as-employee"].url)
    for page_id, finding in findings.items():
        if not page_id.startswith("anonymous/"):
            assert "/login/" not in finding.url, page_id


@pytest.mark.parametrize(
    ("width", "log_out_shown_at_once"), [(390, False), (320, False), (1280, True)]
)
def test_header_menu_works_without_javascript(
    browser, demo, base_url, width, log_out_shown_at_once
):
    """On a phone the menu is a disclosure that opens without script; on a wide
    screen it is a plain bar."""
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": width, "height": 800},
        java_script_enabled=False,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        log_in(page, "employee")
        page.goto(service_url("Adobe Acrobat Pro"))
        add_to_basket(page)
        log_out = page.get_by_role("button", name="Log out")
        menu = page.locator("summary", has_text="Menu")
        if log_out_shown_at_once:
            expect(log_out).to_be_visible()
            expect(menu).to_be_hidden()
        else:
            expect(log_out).to_be_hidden()
            # The closed menu still says what is in the basket.
            expect(menu).to_have_text("Menu 1 in basket")
            menu.click()
            expect(log_out).to_be_visible()
            box = log_out.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
        page.get_by_role("link", name="My requests").click()
        expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    finally:
        context.close()
