"""Real Chromium (Debian's, driven by Playwright) against the e2e host, which also serves web/site.

Every page a test opens fails the test on a console error, an uncaught exception, or a request to
any host but ours. ``axe_violations`` runs axe-core (from web/node_modules) on the page as it is.
Screenshots go to ``EREG_SCREENSHOTS_DIR`` when it is set (``docs/screenshots`` for the README).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, sync_playwright

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = Path(os.environ.get("EREG_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags, Chromium keeps trying Google's hosts on a closed network.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
REFUSAL_LOG = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d\b")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
    yield browser
    browser.close()


class PageProblems:
    """What went wrong on a page that a person would not see but a test must."""

    def __init__(self, base_url: str) -> None:
        self.origin = urlsplit(base_url).netloc
        self.errors: list[str] = []
        self.expected: list[str] = []

    def expect_console_error(self, text: str) -> None:
        """A test that makes the API fail on purpose names the console line Chromium writes for it."""
        self.expected.append(text)

    def console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = urlsplit(message.location.get("url") or "")
        # Chromium logs every 4xx answer; from our API that is a refusal, which the page shows (tests check it).
        if REFUSAL_LOG.match(message.text) and where.netloc == self.origin and where.path.startswith("/api/"):
            return
        if any(text in message.text for text in self.expected):
            return
        self.errors.append(f"console: {message.text} at {message.location.get('url')}")

    def exception(self, error: Any) -> None:
        self.errors.append(f"uncaught: {error}")

    def request(self, request: Request) -> None:
        host = urlsplit(request.url).netloc
        if request.url.startswith(("http:", "https:")) and host != self.origin:
            self.errors.append(f"request to another host: {request.url}")


def open_page(browser: Browser, base_url: str, problems: PageProblems, **context: Any) -> Page:
    page = browser.new_context(base_url=base_url, locale="pl-PL", timezone_id="Europe/Warsaw", **context).new_page()
    page.on("console", problems.console)
    page.on("pageerror", problems.exception)
    page.on("request", problems.request)
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def page_problems(host_url: str) -> Iterator[PageProblems]:
    problems = PageProblems(host_url)
    yield problems
    assert problems.errors == [], "\n".join(problems.errors)


@pytest.fixture
def page(browser: Browser, host_url: str, page_problems: PageProblems) -> Iterator[Page]:
    opened = open_page(browser, host_url, page_problems)
    yield opened
    opened.context.close()


@pytest.fixture
def phone_page(browser: Browser, host_url: str, page_problems: PageProblems) -> Iterator[Page]:
    """A 360 px wide phone screen with touch."""
    opened = open_page(browser, host_url, page_problems, viewport=PHONE, is_mobile=True, has_touch=True)
    yield opened
    opened.context.close()


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's WCAG 2.1 A/AA findings of these impacts on the page as it is now, one line each."""
    page.evaluate(AXE.read_text())  # evaluated by the driver, so the page's CSP does not apply to it
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[node['target'] for node in v['nodes']][:5]}"
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def screenshot(page: Page, name: str) -> None:
    """Save the page for the README when EREG_SCREENSHOTS_DIR is set (docs/screenshots)."""
    folder = os.environ.get("EREG_SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
