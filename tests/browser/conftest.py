"""Fixtures for browser journeys: Chromium driven by Playwright against a live server.

The journeys run on the real demo catalog (``load_demo``) served by pytest-django's
``live_server``, so the browser sees what a person would see on ``./portal run``.
Only a system Chromium is used; Playwright's own browser downloads are never needed.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import sync_playwright

from catalog.demo.loader import load_demo

DEMO_PASSWORD = "portal-demo"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
VIEWPORT = {"width": 1280, "height": 900}
# The portal's people are in Europe: British English and a London clock.
LOCALE = "en-GB"
TIMEZONE = "Europe/London"
# Long enough for a cold first request on a slow CI machine, short enough that a
# missing element fails the journey quickly.
TIMEOUT_MS = 10_000


def _find_chromium() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).is_file() else None
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    fallback = Path("/usr/bin/chromium")
    return str(fallback) if fallback.is_file() else None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium, or a skip (a failure when REQUIRE_BROWSER=1)."""
    path = _find_chromium()
    if path is None:
        configured = os.environ.get("CHROMIUM_PATH")
        reason = (
            f"CHROMIUM_PATH={configured} is not a file"
            if configured
            else "no chromium or chromium-browser on PATH, nor /usr/bin/chromium"
        ) + "; install Chromium or set CHROMIUM_PATH to run the browser journeys."
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1, but {reason}", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path, django_db_setup):
    # Django keeps database connections in an asgiref ``Local`` that switches to
    # context-variable storage while an event loop is running in the thread, and
    # Playwright's sync API leaves its loop running from here on. Test code then
    # gets new connection objects, without the snapshot of the migrated database
    # that serialized rollback restores from, so the test after the first would
    # start without Wagtail's root page. Hand the snapshot over to them.
    snapshots = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    # The same running loop makes Django refuse ORM calls from test code (fixtures,
    # assertions on the database), which are safe here: one thread, no awaits.
    already_allowed = "DJANGO_ALLOW_ASYNC_UNSAFE" in os.environ
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        for alias, snapshot in snapshots.items():
            connections[alias]._test_serialized_contents = snapshot
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    if not already_allowed:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def demo(live_server, django_db_serialized_rollback):
    """The demo catalog and people, in the database the live server reads.

    ``live_server`` makes the test transactional, so each test ends by emptying
    every table. Serialized rollback puts back what the migrations created (the
    Wagtail root page and default site, the "Editors" group's page permissions)
    before ``load_demo`` builds on it.
    """
    return load_demo()


@pytest.fixture
def base_url(live_server) -> str:
    return live_server.url


@pytest.fixture
def new_page(browser, demo, base_url):
    """Open a tab in a fresh browser context (its own cookies: one person each).

    Every response the server fails with (5xx) and every uncaught script error is
    collected; the test errors at teardown if there were any, even when the page
    happened to contain the text the test looked for.
    """
    contexts, problems = [], []

    def open_page():
        context = browser.new_context(
            base_url=base_url,
            viewport=VIEWPORT,
            locale=LOCALE,
            timezone_id=TIMEZONE,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        tab = context.new_page()
        tab.on("response", record_server_error)
        tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        return tab

    def record_server_error(response):
        if response.status >= 500:
            problems.append(
                f"{response.status} {response.request.method} {response.url}"
            )

    yield open_page
    for context in contexts:
        context.close()
    assert not problems, f"The browser met server or script errors: {problems}"


@pytest.fixture
def page(new_page):
    """A tab of its own for the test, 1280x900, not logged in."""
    return new_page()


def log_in(
    page, username: str, password: str = DEMO_PASSWORD, *, open_form: bool = True
) -> None:
    """Log in through the portal's own login form, as a person would.

    ``open_form=False`` fills in the form already on screen, e.g. after a redirect
    to the login page, so its ``next`` is kept.
    """
    if open_form:
        page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def log_in_to_admin(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the Wagtail admin's own sign-in form."""
    page.goto("/admin/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture
def login():
    """``login(page, username)``: the portal's login form, filled in and sent."""
    return log_in


@pytest.fixture
def admin_login():
    """``admin_login(page, username)``: the Wagtail admin's sign-in form."""
    return log_in_to_admin


@pytest.fixture
def screenshot():
    """``screenshot(page, name)``: a full-page PNG in ``screenshots/`` to review."""

    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        # Finish CSS transitions (the admin's fading menus) before the picture.
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return take
