"""Browser tests: real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright's sync
API against pytest-django's `live_server`. One browser for the whole run of browser tests, a
fresh context per test.

We launch with plain `chromium.launch`, which gives every browser a new temporary profile
(user-data-dir) that Playwright deletes on close; each test gets its own incognito-like context.
Never run `playwright install`: the system Chromium is the browser under test."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = (
    "Chromium is missing: run `sudo scripts/system-deps.sh` (apt-get install chromium)"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
TIMEOUT_MS = 10_000
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
# A language the app does not offer, so the app's own default decides the UI language rather than
# the browser's preference (a browser asking for en-US gets English from LocaleMiddleware).
BROWSER_LOCALE = "fr-FR"


class Chromium:
    """Playwright and one Chromium, started by the first browser test and shared by the ones that
    follow it, then stopped as soon as the next test is not a browser test.

    Playwright's sync API keeps an asyncio loop running in the main thread from start() to stop().
    Django then believes every ORM call from the test thread (fixtures, the transactional flush)
    comes from async code and raises SynchronousOnlyOperation. Those calls are in fact synchronous
    and single-threaded, so DJANGO_ALLOW_ASYNC_UNSAFE switches the check off, but only while
    Playwright runs: left on for the whole session it would leak into other tests (`check
    --deploy` rightly fails with async.E001 when it sees the variable)."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._previous_env: str | None = None

    def browser(self) -> Browser:
        if self._browser is None:
            if not CHROMIUM.exists():
                pytest.fail(CHROMIUM_MISSING, pytrace=False)
            self._previous_env = os.environ.get(ASYNC_UNSAFE)
            os.environ[ASYNC_UNSAFE] = "true"
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        return self._browser

    def stop(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None
            if self._previous_env is None:
                os.environ.pop(ASYNC_UNSAFE, None)
            else:
                os.environ[ASYNC_UNSAFE] = self._previous_env


CHROMIUM_SESSION = Chromium()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    yield CHROMIUM_SESSION
    CHROMIUM_SESSION.stop()  # after an interrupted run (-x); normally stopped already


@pytest.fixture(scope="module")
def no_browser_loop(chromium: Chromium) -> None:
    """For a module whose module-scoped fixtures run an asyncio loop of their own (signing a
    package): stop the Chromium a browser test of an earlier module left running, since its
    loop runs in the same thread; the `page` fixture starts it again. Use it first:
    ``pytestmark = pytest.mark.usefixtures("no_browser_loop")``."""
    chromium.stop()


@pytest.fixture
def browser(chromium: Chromium) -> Browser:
    return chromium.browser()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Once the last of a run of browser tests is torn down, stop Chromium and Playwright's loop."""
    result = yield
    if nextitem is None or "browser" not in getattr(nextitem, "fixturenames", ()):
        CHROMIUM_SESSION.stop()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Remember each phase's report on the item so `page` can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def context(browser: Browser, live_server) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, locale=BROWSER_LOCALE)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page of the context; the test fails on anything the Content-Security-Policy
    (config/csp.py) refused on any page it opened, which Chromium reports on the console."""
    page = context.new_page()
    refused: list[str] = []
    context.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{int(time.time())}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failure: {path}")
    assert refused == [], "the Content-Security-Policy refused something"


# --- The maths book of class_a, shared by the grid's tests ------------------------------------


@pytest.fixture
def grid_path(class_a) -> str:
    maths = class_a.year.school.subjects.get(code="TOAN")
    return reverse("gradebook:grid", args=[class_a.year.school.code, class_a.pk, maths.pk, 1])


@pytest.fixture
def pupils(class_a) -> list:
    return [e.student for e in class_a.enrollments.order_by("roll_number")]
