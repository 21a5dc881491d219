"""A real browser for the page tests: the system's Chromium, driven by Playwright.

Nothing is downloaded at run time: Playwright (a pip package, pinned in requirements.txt) talks
to a Chromium already installed on the machine, found by :func:`find_chromium`. Without one the
tests skip and say how to install it. These tests run with ``make test-browser``, not with
``make test`` (they carry the ``browser`` marker).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from support import WAIT

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright

#: an explicit browser binary (a path, or a command name on PATH)
BROWSER_ENV = "BATCH_BROWSER"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PATHS = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)
INSTALL_HINT = (
    "no Chromium found for the browser tests: install one (Debian: `sudo apt-get install "
    "chromium`; Ubuntu: `sudo apt-get install chromium-browser`, or `sudo snap install "
    f"chromium`), or point ${BROWSER_ENV} at a Chromium or Chrome binary"
)
#: headless, and quiet: no sandbox (root in containers), no GPU, no calls home, no first-run UI
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--no-proxy-server",
]


def find_chromium() -> str | None:
    """$BATCH_BROWSER if set, else the first Chromium (or Chrome) on PATH or in a usual place."""
    wanted = os.environ.get(BROWSER_ENV, "").strip()
    if wanted:
        return shutil.which(wanted) or (wanted if Path(wanted).is_file() else None)
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in PATHS if Path(p).is_file() and os.access(p, os.X_OK)), None)


@pytest.fixture(scope="session")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        wanted = os.environ.get(BROWSER_ENV, "").strip()
        if wanted:
            pytest.skip(f"${BROWSER_ENV}={wanted} is not an executable; {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    return found


@pytest.fixture(scope="session")
def driver(chromium: str) -> Iterator[Playwright]:
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed: `.venv/bin/pip install -r requirements.txt`",
    )
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def context(
    driver: Playwright, chromium: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    """A fresh headless browser with its own temporary profile (so an empty session storage)."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    ctx = driver.chromium.launch_persistent_context(
        str(profile),
        executable_path=chromium,
        headless=True,
        args=ARGS,
        timeout=WAIT * 1000,
    )
    ctx.set_default_timeout(WAIT * 1000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.pages[0] if context.pages else context.new_page()


@pytest.fixture(scope="session")
def expect() -> Any:
    """Playwright's retrying assertions, bounded by the tests' usual wait."""
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=WAIT * 1000)
    return sync_api.expect
