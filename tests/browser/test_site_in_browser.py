"""The course site (``make site``) in a real browser: every page opened, every link followed.

The site is built from this checkout into a temporary folder (``mkdocs build``, as ``make
site`` does: the notebooks' saved outputs, never run) and served on a free loopback port. The
system's Chromium (see ``chromium.py``) then opens every page the build wrote, and checks:

- no console error, no script error, no request that fails or answers an error;
- every link to the site (``href`` of an ``a``) leads to a file of the site, and an anchor
  (``page.html#part``) to an element with that id on that page;
- every image loads, and each notebook page shows as many images as its saved outputs hold
  (the plots);
- each notebook page highlights its code, links its notebook file (the same bytes as in
  ``notebooks/``), and links the previous and the next notebook in course order;
- search finds a page.

Every wait is bounded and none asserts speed. Run with ``make test-browser``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from chromium import launch
from support import WAIT

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
GUIDES = sorted((ROOT / "docs").glob("*.md"))
#: how long the build may take (a few seconds; much longer on a busy machine)
BUILD_WAIT = 300.0


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    folder: Path
    url: str  # ends with "/"

    def pages(self) -> list[str]:
        """Every HTML page of the site, as a path below its root."""
        return sorted(p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*.html"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("site") / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet", "--site-dir", str(folder)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=BUILD_WAIT,
    )
    assert build.returncode == 0, f"mkdocs build failed:\n{build.stdout}\n{build.stderr}"
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(folder, f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def context(
    driver: Playwright, chromium: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    ctx = launch(driver, chromium, tmp_path_factory.mktemp("chromium-profile"), timeout=WAIT)
    try:
        yield ctx
    finally:
        ctx.close()


@dataclass
class Visit:
    """What one page showed and did."""

    problems: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # absolute URLs, as the page resolved them
    ids: set[str] = field(default_factory=set)
    images: int = 0  # images in notebook outputs


def visit(page: Page, url: str) -> Visit:
    seen = Visit()

    def on_console(message: Any) -> None:
        if message.type == "error":
            seen.problems.append(f"console error: {message.text}")

    def on_response(response: Any) -> None:
        if response.status >= 400:
            seen.problems.append(f"HTTP {response.status} for {response.url}")

    handlers = {
        "console": on_console,
        "pageerror": lambda exc: seen.problems.append(f"script error: {exc}"),
        "requestfailed": lambda request: seen.problems.append(f"request failed: {request.url}"),
        "response": on_response,
    }
    for event, handler in handlers.items():
        page.on(event, handler)
    try:
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        seen.links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        seen.ids = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        broken = page.eval_on_selector_all(
            "img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length"
        )
        if broken:
            seen.problems.append(f"{broken} image(s) did not load")
        seen.images = page.locator(".jp-OutputArea-output img").count()
    finally:
        for event, handler in handlers.items():
            page.remove_listener(event, handler)
    return seen


@pytest.fixture(scope="module")
def visits(site: Site, context: BrowserContext) -> dict[str, Visit]:
    """Every page of the site, opened once: path → what it showed."""
    page = context.new_page()
    try:
        return {path: visit(page, site.url + path) for path in site.pages()}
    finally:
        page.close()


def saved_images(notebook: Path) -> int:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(
        1
        for cell in cells
        for output in cell.get("outputs", [])
        if any(kind.startswith("image/") for kind in output.get("data", {}))
    )


def test_the_site_has_a_page_per_notebook_and_guide(site: Site) -> None:
    pages = set(site.pages())
    assert "index.html" in pages
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.stem}.html" in pages
        assert (site.folder / "notebooks" / notebook.name).read_bytes() == notebook.read_bytes()
    for guide in GUIDES:
        assert f"docs/{guide.stem}.html" in pages


def test_every_page_opens_cleanly_and_shows_its_images(visits: dict[str, Visit]) -> None:
    problems = {path: v.problems for path, v in visits.items() if v.problems}
    assert problems == {}
    for notebook in NOTEBOOKS:
        shown = visits[f"notebooks/{notebook.stem}.html"].images
        assert shown == saved_images(notebook), f"{notebook.name}: {shown} images shown"
    assert sum(v.images for v in visits.values()) > 0, "no notebook shows a plot"


def test_every_internal_link_leads_somewhere(
    site: Site, visits: dict[str, Visit], context: BrowserContext
) -> None:
    broken: list[str] = []
    checked: dict[str, int] = {}
    for path, seen in visits.items():
        for link in seen.links:
            if not link.startswith(site.url):
                continue  # the wider web: not checked, the build is offline
            target, _, fragment = link.partition("#")
            relative = urllib.parse.unquote(target[len(site.url) :]) or "index.html"
            if relative.endswith("/"):
                relative += "index.html"
            if relative in visits:
                if fragment and urllib.parse.unquote(fragment) not in visits[relative].ids:
                    broken.append(f"{path}: {link} (no such anchor)")
                continue
            if target not in checked:
                checked[target] = context.request.get(target).status
            if checked[target] != 200:
                broken.append(f"{path}: {link} (HTTP {checked[target]})")
    assert broken == []


def test_notebook_pages_highlight_code_and_link_their_file_and_neighbours(
    site: Site, context: BrowserContext
) -> None:
    page = context.new_page()
    try:
        for index, notebook in enumerate(NOTEBOOKS):
            page.goto(f"{site.url}notebooks/{notebook.stem}.html")
            code = page.locator(".jp-InputArea .highlight-ipynb pre").first
            keyword = page.locator(".jp-InputArea .highlight-ipynb pre span.kn").first
            assert keyword.count() == 1, f"{notebook.name}: no highlighted import"
            plain = code.evaluate("e => getComputedStyle(e).color")
            assert keyword.evaluate("e => getComputedStyle(e).color") != plain

            download = page.locator(f'a[download][href="{notebook.name}"]')
            assert download.count() >= 1, f"{notebook.name}: no download link"
            got = context.request.get(f"{site.url}notebooks/{notebook.name}")
            assert got.body() == notebook.read_bytes()

            nxt = page.locator("a.md-footer__link--next")
            if index + 1 < len(NOTEBOOKS):
                want = f"{NOTEBOOKS[index + 1].stem}.html"
                assert nxt.get_attribute("href") == want, notebook.name
            prev = page.locator("a.md-footer__link--prev")
            want = f"{NOTEBOOKS[index - 1].stem}.html" if index else "../index.html"
            assert prev.get_attribute("href") == want, notebook.name
    finally:
        page.close()


def test_search_finds_a_page(site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    try:
        page.goto(site.url + "index.html")
        page.locator("label.md-search__icon, .md-search__input").first.click()
        page.locator("input.md-search__input").fill("batch_expired")
        results = page.locator(".md-search-result__item")
        results.first.wait_for(timeout=WAIT * 1000)
        assert results.count() > 0
    finally:
        page.close()
