"""Headless Chromium for the browser tests: one fixture and the helpers every flow uses.

Debian's chromium at /usr/bin/chromium, driven by Playwright's sync API (never a
downloaded browser). Playwright's sync API runs an event loop in the test thread; the
tests still use the ORM, hence DJANGO_ALLOW_ASYNC_UNSAFE.
"""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.db import connections  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pass-for-tests-1"
VIEWPORT = {"width": 1280, "height": 900}


@contextmanager
def chromium():
    """Headless Chromium, closed afterwards; skipped (failed in CI) without it."""
    if not CHROMIUM.exists():
        message = f"needs Chromium at {CHROMIUM}"
        if os.environ.get("ERP_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
            # The ORM opened its own connection inside Playwright's event-loop context;
            # close it, or PostgreSQL refuses to drop the test database after the run.
            connections.close_all()


def open_browser_page():
    """A fresh Chromium page (the `browser_page` fixture in tests/conftest.py yields it)."""
    with chromium() as browser:
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.set_default_timeout(15_000)
        yield page


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}{reverse('login')}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def open_nav(page, label: str) -> None:
    """Open the main navigation's section that holds `label` and follow that link, as a
    person does (the sections are disclosures: their links are hidden until opened)."""
    nav = page.get_by_role("navigation", name="Main")
    exact = page.locator("a", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))
    nav.locator("details[data-navgroup]").filter(has=exact).locator("summary").click()
    nav.get_by_role("link", name=label, exact=True).click()


def mark_document(page):
    """Tag the loaded document; the tag survives HTMX swaps but not a full page load."""
    page.evaluate("window.__sameDocument = true")


def assert_same_document(page):
    assert page.evaluate("window.__sameDocument === true")
