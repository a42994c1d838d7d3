"""Browser tests: Debian's Chromium, driven by Playwright, on a live server.

No browser is ever downloaded: Playwright launches the Chromium found as
`chromium` on the PATH (`apt-get install chromium`), or the one the CHROMIUM
environment variable names. One browser and one live server serve the whole
run; each test opens contexts (one per person) and pages in them.

A page opened through `open_page` is watched: console errors, uncaught
script errors, Content-Security-Policy violations and every request it
makes. When a browser test fails, each of its pages is saved to
tests/browser-failures/ (git-ignored) as a screenshot, its HTML and a text
file with what was watched (pytest_runtest_makereport below); with
BROWSER_SAVE=all, every browser test's pages are, to look at them.

Browser tests are marked `browser` and run last (tests/conftest.py), after
the tests that hold data in an open transaction.
"""

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

FAILURES = Path(__file__).resolve().parent / "browser-failures"
WIDTH, HEIGHT = 1280, 800
LOCAL_HOST = "127.0.0.1"
# Playwright's default for every wait; a loaded machine needs it.
TIMEOUT_MS = 30_000

# Reported to Python from every page (and from each page it navigates to).
WATCH_CSP = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.her2dbCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"}` +
    ` at ${event.sourceFile || location.href}:${event.lineNumber}`
  );
});
"""


def chromium_path() -> str:
    """Debian's Chromium, or the executable CHROMIUM names."""
    path = os.getenv("CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "No Chromium for the browser tests: apt-get install chromium (or set "
            "CHROMIUM to its executable), or leave them out with -m 'not browser'",
            pytrace=False,
        )
    return path


@dataclass
class Watch:
    """What one page did while a test drove it."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def clear(self) -> None:
        for seen in vars(self).values():
            seen.clear()

    def foreign_requests(self) -> list[str]:
        """Requests to anywhere but the live server's own address."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob", "about")
            and urlsplit(url).hostname != LOCAL_HOST
        ]

    def problems(self) -> list[str]:
        return [
            *(f"console error: {m}" for m in self.console_errors),
            *(f"script error: {m}" for m in self.page_errors),
            *(f"CSP violation: {m}" for m in self.csp_violations),
            *(f"request leaving {LOCAL_HOST}: {u}" for u in self.foreign_requests()),
        ]

    def report(self) -> str:
        return "\n".join(self.problems() + ["", "requests:", *self.requests])


def watch(page) -> Watch:
    seen = Watch()
    page.on(
        "console",
        lambda m: m.type == "error" and seen.console_errors.append(_console_text(m)),
    )
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    page.on("request", lambda request: seen.requests.append(request.url))
    page.expose_function(
        "her2dbCspViolation", lambda text: seen.csp_violations.append(text)
    )
    page.add_init_script(WATCH_CSP)
    return seen


def _console_text(message) -> str:
    where = message.location.get("url", "")
    return f"{message.text} ({where})" if where else message.text


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    # Playwright's sync API runs an event loop in this thread, where Django
    # would otherwise refuse the tests' own database work as "async unsafe".
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def browser_server(django_db_setup, django_db_blocker):
    """One live server for the run, on 127.0.0.1 and a free port.

    pytest-django's own `live_server` fixture would turn every test using it
    into a transactional one; the page sweep instead reads data written once
    for all its pages (tests/her2db/test_browser_pages.py). Tests that write
    ask for `transactional_db` themselves.
    """
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        server = LiveServer(LOCAL_HOST)
    yield server
    server.stop()


def login_cookie(user: User, base_url: str) -> dict:
    """The session cookie of a fresh login of `user`, for a browser context."""
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": base_url,
    }


def new_context(browser, base_url: str, user: User | None = None):
    """A browser context at the window size every test uses, logged in as
    `user` when one is given."""
    context = browser.new_context(
        base_url=base_url, viewport={"width": WIDTH, "height": HEIGHT}
    )
    context.set_default_timeout(TIMEOUT_MS)
    if user is not None:
        context.add_cookies([login_cookie(user, base_url)])
    return context


class Browsing:
    """A test's browser contexts (one per person), closed after the test."""

    def __init__(self, browser, server):
        self.browser = browser
        self.url = server.url
        self.contexts = []
        self.pages: list[tuple[object, Watch]] = []

    def context(self, user: User | None = None):
        context = new_context(self.browser, self.url, user)
        self.contexts.append(context)
        return context

    def open_page(self, context=None):
        """A watched page, in `context` or an anonymous one of its own."""
        page = (context or self.context()).new_page()
        seen = watch(page)
        self.pages.append((page, seen))
        return page, seen

    def reuse_page(self, page, seen: Watch):
        """A page opened before this test, watched afresh for it."""
        seen.clear()
        self.pages.append((page, seen))
        return page, seen

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(chromium, browser_server, request) -> Iterator[Browsing]:
    session = Browsing(chromium, browser_server)
    request.node.stash[BROWSING] = session
    yield session
    session.close()


BROWSING = pytest.StashKey[Browsing]()


def overflow(page) -> int:
    """How many CSS pixels the page is wider than the window (0 if it fits)."""
    return max(0, page.evaluate("document.documentElement.scrollWidth") - WIDTH)


def save_failure(item, browsing: Browsing) -> list[Path]:
    from playwright.sync_api import Error as PlaywrightError

    FAILURES.mkdir(exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", item.nodeid.split("::", 1)[-1])[:150]
    saved = []
    for number, (page, seen) in enumerate(browsing.pages, start=1):
        if page.is_closed():
            continue
        base = FAILURES / f"{stem}-{number}"
        try:
            # The whole page shows what overflows; a very long one (Redoc)
            # takes too long, and then the window's view has to do.
            try:
                page.screenshot(path=f"{base}.png", full_page=True, timeout=5_000)
            except PlaywrightError:
                page.screenshot(path=f"{base}.png", timeout=5_000)
            saved.append(Path(f"{base}.png"))
        except PlaywrightError as error:  # a crashed page still gets its log
            seen.page_errors.append(f"(no screenshot: {error})")
        Path(f"{base}.txt").write_text(f"{page.url}\n\n{seen.report()}\n")
        Path(f"{base}.html").write_text(page.content())
        saved += [Path(f"{base}.txt"), Path(f"{base}.html")]
    return saved


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call) -> Iterator:
    report = yield
    browsing = item.stash.get(BROWSING, None)
    wanted = report.failed or os.getenv("BROWSER_SAVE") == "all"
    if browsing is not None and wanted and call.when == "call":
        saved = save_failure(item, browsing)
        if saved:
            report.sections.append(
                ("browser pages saved", "\n".join(str(path) for path in saved))
            )
    return report
