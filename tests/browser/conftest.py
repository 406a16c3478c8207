"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Fixtures: ``browser`` (session), ``desktop`` (1280×800) and ``phone`` (390×844, touch) pages already
pointed at the live server, with console errors and CSP violations collected on ``page.problems``;
``screenshot(page, name)`` saves a PNG under test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import require_service

# Playwright's sync API runs an event loop in this thread; the ORM calls in the tests are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VENDOR_MARKER = ROOT / "linli" / "static" / "vendor" / ".installed"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def _vendor_assets():
    """Leaflet and the other front-end libraries come from `make assets`; build them once if missing."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is absent
    if not VENDOR_MARKER.exists():
        make = ["make", "-s", "assets"]
        result = subprocess.run(make, cwd=ROOT, capture_output=True, text=True)  # noqa: S603, S607 — make
        require_service(
            result.returncode == 0 and VENDOR_MARKER.exists(),
            f"front-end assets missing and `make assets` failed: {result.stderr[-400:]}",
        )


@pytest.fixture(scope="module")
def browser(_vendor_assets):
    """One Chromium per test module.

    While Playwright's sync API is active its event loop counts as running in this thread, and Django
    (through asgiref) then keeps the thread's database connections in context-local storage instead
    of the thread's own. A connection opened there becomes unreachable once the loop stops, and stays
    open: PostgreSQL then refuses to drop the test database at the end ("being accessed by other
    users"). So the browser lives only as long as its module, and that storage's connections are
    closed before the loop stops."""
    require_service(
        os.access(CHROMIUM, os.X_OK), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    )
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
        connections.close_all()  # the loop still runs: these are the context-local connections


class PageProblems(list):
    """Console errors, page errors and CSP violations seen by a page."""

    def assert_none(self):
        assert not self, "browser reported problems:\n" + "\n".join(self)


def _open_page(browser, live_server, **context_options):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", **context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = PageProblems()

    def on_console(message):
        text = message.text
        if message.type == "error" or "Content Security Policy" in text or "Content-Security-Policy" in text:
            problems.append(f"console {message.type}: {text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.problems = problems
    return context, page


@pytest.fixture
def desktop(browser, live_server):
    context, page = _open_page(browser, live_server, viewport={"width": 1280, "height": 800})
    yield page
    context.close()


@pytest.fixture
def phone(browser, live_server):
    context, page = _open_page(
        browser,
        live_server,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 Mobile Safari/537.36",
    )
    yield page
    context.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open further pages (another user at the same time): ``new_page(viewport=...)``."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context, page = _open_page(browser, live_server, **options)
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


STAFF_PASSWORD = "x-test-password-1"  # what linli.core.orgs.tests.factories.make_user sets


def sign_in_staff(page, username: str, password: str = STAFF_PASSWORD) -> None:
    """Sign in through the staff password form, the way a person does."""
    page.goto("/accounts/login/")
    page.locator("main input[name=username]").fill(username)
    page.locator("main input[name=password]").fill(password)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)
