"""Notebooks 04, 06 and 13 in JupyterLab, in a real browser: opened, run with Run All, and read.

What nbval cannot see, because it never renders anything: the progress bar is an ipywidgets
widget that only JupyterLab draws, and JupyterLab rewrites a notebook whose metadata it does not
like as soon as it opens it. So this test starts JupyterLab (on a free port, with a token of
its own, its settings, workspaces and data in a temporary folder) over copies of notebooks 04,
06 and 13 and the files they read, and drives it with the system's Chromium (see ``chromium.py``).
The kernels find a local Batch API server of their own through the environment, as in
``make test-notebooks``, and import ``helpers`` from this checkout.

For each notebook:

- opening it leaves it unmodified: no "modified" mark on its tab once the kernel is up
  (a kernelspec display name other than the one JupyterLab writes gets one within a second),
  and no pop-up asks about Jupyter's news (the repository's ``jupyter-config/``, as with
  ``make lab``);
- an exercise's solution (a code cell whose metadata says ``source_hidden``) shows collapsed;
- Run All (the "Run" menu) runs every cell, and no cell shows an error or anything on stderr;
- each cell that waits with a progress bar (``wait_for_batch``/``wait_for_status`` without
  ``progress=False``) shows exactly one progress widget, with its text beside it and no text bar
  in it; no other cell shows one;
- each cell whose saved outputs hold a picture (notebook 13's grid) shows one, drawn: an image
  whose width is not zero.

Every wait is bounded and none asserts speed. Run with ``make test-browser``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest

from batch_api_local import stop_server

from chromium import launch
from support import WAIT, free_port

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page, Playwright

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ["04_check_status.ipynb", "06_cancel_batch.ipynb", "13_images_in_a_batch.ipynb"]
INPUTS = ["goodbatchinput.jsonl", "badbatchinput.jsonl", "reviews.csv"]
#: the longest Run All may take (each notebook takes 15 to 40 s at the default pace)
RUN_ALL_WAIT = 180.0
#: how long a freshly opened notebook must stay unmodified (JupyterLab marks a notebook whose
#: kernelspec it rewrites within a second of the kernel starting)
UNMODIFIED_FOR = 3.0
WAITS_WITH_A_BAR = re.compile(r"\bwait_for_(batch|status)\(")


def waiting_cells(path: Path) -> list[bool]:
    """For each code cell of the notebook: does it wait for a batch with a progress bar?"""
    nb = nbformat.read(path, as_version=4)
    return [
        bool(WAITS_WITH_A_BAR.search(cell.source)) and "progress=False" not in cell.source
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


def picture_cells(path: Path) -> list[bool]:
    """For each code cell of the notebook: do its saved outputs hold a PNG picture?"""
    nb = nbformat.read(path, as_version=4)
    return [
        any("image/png" in output.get("data", {}) for output in cell.outputs)
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


# -- JupyterLab ---------------------------------------------------------------------------------


@dataclass
class Lab:
    url: str
    token: str
    folder: Path
    log: Path

    def notebook_url(self, name: str) -> str:
        # a workspace of its own per notebook, so that no tab of another test is restored
        return (
            f"{self.url}/lab/workspaces/{Path(name).stem}/tree/notebooks/{name}?token={self.token}"
        )

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


def _status(url: str, token: str) -> int | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/api/status?token={token}", timeout=2) as answer:
            return answer.status
    except OSError:
        return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab over copies of the notebooks, with a local server of their own."""
    folder = tmp_path_factory.mktemp("lab")
    (folder / "notebooks").mkdir()
    (folder / "artifacts").mkdir()
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, folder / "notebooks" / name)
    for name in INPUTS:
        shutil.copy(ROOT / "artifacts" / name, folder / "artifacts" / name)
    jupyter = folder / "jupyter"
    settings = jupyter / "settings"
    # every cell in the page, rendered or not, so that each one can be read
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    state_dir = folder / "state"

    env = dict(os.environ)
    env.pop("BATCH_TUTORIAL_MODE", None)  # always local here
    env.update(
        BATCH_LOCAL_STATE_DIR=str(state_dir),
        BATCH_LOCAL_PORT=str(free_port()),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        JUPYTER_CONFIG_DIR=str(jupyter / "config"),
        JUPYTER_DATA_DIR=str(jupyter / "data"),
        JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(jupyter / "workspaces"),
        # this repository's JupyterLab settings, as `make lab` adds them (no news pop-up)
        JUPYTER_CONFIG_PATH=str(ROOT / "jupyter-config"),
    )
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folder}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")  # containers, CI machines
    log = folder / "jupyterlab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    found = Lab(url, token, folder, log)
    try:
        deadline = time.monotonic() + WAIT
        while _status(url, token) != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{found.log_tail()}")
            time.sleep(0.2)
        yield found
    finally:
        process.terminate()  # JupyterLab shuts its kernels down
        try:
            process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stop_server(state_dir)


# -- the browser --------------------------------------------------------------------------------


@pytest.fixture
def page(
    driver: Playwright, chromium: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Page]:
    context: BrowserContext = launch(
        driver, chromium, tmp_path_factory.mktemp("chromium-profile"), timeout=WAIT
    )
    try:
        yield context.pages[0] if context.pages else context.new_page()
    finally:
        context.close()


def until(check: Any, seconds: float, what: str, detail: Any = lambda: "") -> Any:
    """Call ``check`` until it returns something truthy, for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {seconds:g} s waiting for {what}. {detail()}")
        time.sleep(0.25)


def hidden_cells(path: Path) -> int:
    """How many code cells of the notebook have their source collapsed (exercise solutions)."""
    nb = nbformat.read(path, as_version=4)
    return sum(
        bool(cell.metadata.get("jupyter", {}).get("source_hidden"))
        for cell in nb.cells
        if cell.cell_type == "code"
    )


def code_cells(panel: Locator) -> Locator:
    return panel.locator(".jp-Notebook .jp-CodeCell")


def collapsed(panel: Locator) -> Locator:
    """The code cells shown collapsed: a placeholder instead of their source and prompt."""
    return panel.locator(".jp-Notebook .jp-CodeCell .jp-InputPlaceholder")


def prompts(panel: Locator) -> list[str]:
    """The input prompts of the code cells whose source shows (a collapsed cell has none)."""
    cells = panel.locator(".jp-CodeCell .jp-InputArea .jp-InputPrompt")
    return [text.strip() for text in cells.all_text_contents()]


def all_ran(panel: Locator, count: int) -> bool:
    """Every code cell whose source shows has an execution count ("[n]:"), and the kernel is
    idle: nothing Run All queued, collapsed cells included, is left to run."""
    seen = prompts(panel)
    shown = count - collapsed(panel).count()
    numbered = len(seen) == shown and all(re.fullmatch(r"\[\d+\]:", p) for p in seen)
    idle = panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() == 1
    return numbered and idle


# -- the test -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_run_all_in_jupyterlab_shows_no_error_and_one_progress_bar_per_waiting_cell(
    lab: Lab, page: Page, name: str
) -> None:
    bars = waiting_cells(lab.folder / "notebooks" / name)
    page.goto(lab.notebook_url(name))
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
    until(
        lambda: code_cells(panel).count() == len(bars),
        WAIT,
        f"the notebook's {len(bars)} code cells to show",
        lambda: f"found {code_cells(panel).count()}",
    )

    # opening it leaves it as it was on disk
    modified = page.locator(".lm-TabBar-tab.jp-mod-dirty")
    deadline = time.monotonic() + UNMODIFIED_FOR
    while time.monotonic() < deadline:
        assert modified.count() == 0, "JupyterLab changed the notebook just by opening it"
        time.sleep(0.25)
    # and no pop-up asks about Jupyter's news over the notebook (jupyter-config/)
    assert page.get_by_text("official Jupyter news").count() == 0
    # an exercise's solution shows collapsed, until the reader opens it
    assert collapsed(panel).count() == hidden_cells(lab.folder / "notebooks" / name)

    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # Run All stops at a cell that raises, so an error ends the wait too
    errors = panel.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    until(
        lambda: all_ran(panel, len(bars)) or errors.count() > 0,
        RUN_ALL_WAIT,
        "Run All to finish",
        lambda: f"prompts: {prompts(panel)}\n{lab.log_tail()}",
    )
    assert errors.count() == 0, "\n---\n".join(errors.all_inner_texts())
    assert all_ran(panel, len(bars)), prompts(panel)

    cells = code_cells(panel)
    for number, has_bar in enumerate(bars, start=1):
        cell = cells.nth(number - 1)
        progress = cell.locator(".widget-hprogress")
        expected = 1 if has_bar else 0
        until(
            lambda: progress.count() == expected,  # noqa: B023  (checked before the next cell)
            WAIT,
            f"{expected} progress widget(s) in code cell {number}",
            lambda: f"found {progress.count()}",  # noqa: B023
        )
        assert cell.get_by_text("Error displaying widget").count() == 0
        if has_bar:
            texts = cell.locator(".widget-html-content").all_inner_texts()
            label = " ".join(t.replace("\u2007", " ").strip() for t in texts).strip()
            assert "|" not in label and not re.search("[\u2588-\u258f#]", label), (
                f"a text bar beside the widget's own: {label!r}"
            )
            assert re.match(r"^(completed|failed|expired|cancelled): \d+ completed", label), label

    for number, has_picture in enumerate(picture_cells(lab.folder / "notebooks" / name), start=1):
        images = cells.nth(number - 1).locator(".jp-RenderedImage img")
        assert images.count() == (1 if has_picture else 0), f"code cell {number}"
        if has_picture:
            width = images.first.evaluate("image => image.naturalWidth")
            assert width > 0, f"code cell {number}: the picture was not drawn"
