"""Pages opened in Debian's Chromium for the browser tests (tests/pages/test_digest.py, tests/pages/test_page.py).

The tests drive the system Chromium (Debian's ``chromium`` package) with Playwright's Python
package; they never download a browser. Without Chromium they skip (saying how to install
it) unless ``EXTRACTOR_REQUIRE_BROWSER=1``, as in ``.ci/run``, where they fail instead.
Screenshots land in ``tests/artifacts/`` for a human to look at (never committed).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
REQUIRE_BROWSER = os.environ.get("EXTRACTOR_REQUIRE_BROWSER") == "1"  # read before conftest clears EXTRACTOR_*
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def artifacts() -> Path:
    """tests/artifacts/, made with a .gitignore that keeps it out of git."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")
    return ARTIFACTS


def launch() -> Iterator[Any]:
    """Headless system Chromium through Playwright (never a downloaded browser); skips, or
    fails under ``EXTRACTOR_REQUIRE_BROWSER=1``, when there is none. For a fixture to yield from."""
    why = None if CHROMIUM else "Chromium is not installed (apt-get install -y chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why = why or "Playwright is not installed (pip install -e '.[test]')"
    if why:
        if REQUIRE_BROWSER:
            pytest.fail(f"{why}; EXTRACTOR_REQUIRE_BROWSER=1 requires the browser tests to run")
        pytest.skip(f"{why}: browser tests skipped")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Page:
    """A digest open in a fresh browser page, recording dialogs, console errors and every
    request that is not the page's own file (those are aborted)."""

    def __init__(self, browser: Any, path: Path, fragment: str = "", **context: Any) -> None:
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)
        self.context.route(re.compile(r"^(?!file:).*"), lambda route: route.abort())
        self.path = path
        self.url = path.resolve().as_uri()
        self.page.goto(self.url + fragment)
        self.page.wait_for_selector("html[data-ready]")

    def _request(self, request: Any) -> None:
        """Any request but the page's own file, or following a link to another page of the
        same folder (a site's day), is recorded: a page fetches nothing."""
        sibling = request.is_navigation_request() and request.url.startswith(self.url.rsplit("/", 1)[0] + "/")
        if request.url.split("#")[0] != self.url and not sibling:
            self.requests.append(request.url)

    def wait_cards(self, count: int) -> None:
        """Wait until ``count`` cards are shown (Playwright's own polling: the page's CSP forbids eval)."""
        from playwright.sync_api import expect

        expect(self.page.locator("#cards article")).to_have_count(count)

    def titles(self) -> list[str]:
        return self.page.locator("#cards article h3").all_inner_texts()

    def fragment(self) -> str:
        return str(self.page.evaluate("location.hash"))

    def close(self) -> None:
        self.context.close()


class Opener:
    """Opens pages (``opener(fragment, path=..., viewport=...)``) and closes them all at the end."""

    def __init__(self, browser: Any, default: Path | None = None) -> None:
        self.browser, self.default, self.pages = browser, default, []

    def __call__(self, fragment: str = "", path: Path | None = None, **context: Any) -> Page:
        target = path or self.default
        assert target is not None, "no page to open"
        self.pages.append(Page(self.browser, target, fragment, **context))
        return self.pages[-1]

    def close(self) -> None:
        for page in self.pages:
            page.close()
