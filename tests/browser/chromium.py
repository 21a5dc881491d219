"""The browser the browser tests drive: the system's Chromium, through Playwright.

Nothing is downloaded at run time. :func:`find_chromium` finds a Chromium (or Chrome) binary:
``$BATCH_BROWSER`` if set, else the first on PATH or in a usual place. Without one the tests
skip and say how to install it (:func:`require_chromium`). :func:`launch` starts it headless,
with a temporary profile of its own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Playwright

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


def require_chromium() -> str:
    """The Chromium to use; skips the test, saying how to install one, when there is none."""
    found = find_chromium()
    if found is None:
        wanted = os.environ.get(BROWSER_ENV, "").strip()
        if wanted:
            pytest.skip(f"${BROWSER_ENV}={wanted} is not an executable; {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    return found


def require_playwright() -> object:
    """Playwright's sync API; skips the test, saying how to install it, when it is missing."""
    return pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed: `.venv/bin/pip install -r requirements.txt`",
    )


def launch(
    playwright: Playwright, chromium: str, profile: Path, *, timeout: float
) -> BrowserContext:
    """A fresh headless browser with its own profile (so empty storage); waits up to
    ``timeout`` seconds for each step."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=chromium,
        headless=True,
        args=ARGS,
        timeout=timeout * 1000,
    )
    context.set_default_timeout(timeout * 1000)
    return context
