"""Browser tests: Debian's Chromium driven by Playwright's sync API against pytest-django's live server.

Every test in this directory is marked `browser` (tests/conftest.py skips it without Chromium, or fails it
in CI). Playwright never downloads a browser here: we launch /usr/bin/chromium, with the flags that keep
it from reaching out to the network (the machine has none, and a blocked connection can hang a launch).
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import CHROMIUM

BROWSER_TESTS_DIR = Path(__file__).resolve().parent
DEFAULT_TIMEOUT_MS = 10_000
# Assertions wait as long as actions do (their own default, 5 s, was once too short for an htmx swap on a
# loaded machine).
expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
PASSWORD = "correct-horse-battery"  # UserFactory's
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Schemes that never leave the browser (Bootstrap's CSS inlines its icons as data: URLs).
LOCAL_SCHEMES = {"data", "blob", "about"}


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(item.path).is_relative_to(BROWSER_TESTS_DIR):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (item.rep_call ...) so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# Test modules elsewhere import these fixtures (tests/security/test_stored_xss.py); each import is a fixture of its
# own, but Playwright's sync API runs one instance per thread, so they share this one Chromium.
_shared: dict = {"users": 0}


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    if not _shared["users"]:
        # Playwright's sync API keeps an asyncio loop running in this thread; without this, Django refuses
        # ORM calls from the test (SynchronousOnlyOperation). Restored when the browser goes away.
        _shared["previous"] = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        _shared["playwright"] = sync_playwright().start()
        _shared["chromium"] = _shared["playwright"].chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    _shared["users"] += 1
    try:
        yield _shared["chromium"]
    finally:
        _shared["users"] -= 1
        if not _shared["users"]:
            try:
                _shared["chromium"].close()
                _shared["playwright"].stop()
            finally:
                if _shared["previous"] is None:
                    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
                else:
                    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = _shared["previous"]


class PageWatcher:
    """What the page did that a test may want to forbid: console errors, uncaught errors, foreign requests."""

    def __init__(self, live_server_url: str):
        self.origin = urlsplit(live_server_url).netloc
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.foreign_requests: list[str] = []
        self.failed_requests: list[str] = []

    def on_console(self, message):
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error):
        self.page_errors.append(str(error))

    def on_request(self, request):
        url = urlsplit(request.url)
        if url.scheme not in LOCAL_SCHEMES and url.netloc != self.origin:
            self.foreign_requests.append(request.url)

    def on_request_failed(self, request):
        # A request the browser itself cancelled (the user moved on to the next page) is not a failure.
        if request.failure != "net::ERR_ABORTED":
            self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def assert_clean(self):
        assert self.foreign_requests == [], "requests left the live server"
        assert self.console_errors == [], "the console logged errors"
        assert self.page_errors == [], "uncaught errors in the page"
        assert self.failed_requests == [], "requests failed"


@pytest.fixture
def page_watcher(live_server):
    return PageWatcher(live_server.url)


@pytest.fixture
def page(request, browser, live_server, django_db_serialized_rollback, page_watcher, artifacts_dir):
    """A fresh context and page for each test, pointed at the live server.

    The live server needs a transactional database, which is flushed after the test; serialized rollback
    restores what migrations wrote (the role groups) so later tests still find them.
    On failure, a full-page screenshot goes to test-artifacts/<test name>.png.
    """
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    context.on("request", page_watcher.on_request)
    context.on("requestfailed", page_watcher.on_request_failed)
    browser_page = context.new_page()
    browser_page.on("console", page_watcher.on_console)
    browser_page.on("pageerror", page_watcher.on_page_error)
    yield browser_page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        try:
            browser_page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
        except Exception as error:  # the screenshot helps; it must not hide the real failure
            print(f"Could not save a screenshot: {error}")
    context.close()


@pytest.fixture
def log_in(page):
    """log_in(user) signs in through the real login page and waits for the dashboard."""
    from playwright.sync_api import expect

    def log_in(user, password: str = PASSWORD):
        page.goto(reverse("login"))
        form = page.locator("form", has=page.get_by_label("Password"))
        form.get_by_label("Username").fill(user.get_username())
        form.get_by_label("Password").fill(password)
        with page.expect_navigation():
            form.get_by_role("button", name="Log in").click()
        expect(page).not_to_have_url(re.compile(re.escape(reverse("login"))))
        expect(page.get_by_role("button", name=user.get_full_name() or user.get_username())).to_be_visible()

    return log_in


def wait_until(page, expression: str, timeout_ms: int = 10_000) -> None:
    """Poll a JavaScript expression until it is true (wait_for_function would eval a string in the page, which
    the policy rightly refuses; evaluate() runs outside it)."""
    for _ in range(timeout_ms // 100):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {timeout_ms} ms: {expression}")
