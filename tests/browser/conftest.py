"""Fixtures of the browser tests (``make test-browser``): the system's Chromium, and one
Playwright per module (a second one may not start while another runs in the same thread)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chromium import require_chromium, require_playwright


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


@pytest.fixture(scope="module")
def driver(chromium: str) -> Iterator[Any]:
    sync_api: Any = require_playwright()
    with sync_api.sync_playwright() as playwright:
        yield playwright
