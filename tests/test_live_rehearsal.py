"""A rehearsal of live mode: every notebook, run top to bottom as against OpenAI.

Each notebook in ``notebooks/`` (a glob: a new notebook is rehearsed too) runs in a fresh kernel
with ``BATCH_TUTORIAL_MODE=live``, a key of the real service's shape and ``OPENAI_BASE_URL``
pointing at a private local server this module starts, so that every cell takes its live path:
the setup cell changes nothing, local-only cells print what the real service would show
instead, and every other cell is the plain SDK code a reader would copy. No cell may raise, and
no cell may run longer than :data:`CELL_BOUND` seconds (nbclient stops it and the test fails).

The server plays the real service at a pace of its own, :data:`LIVE_LIKE_PACE`: no batch ends
within its first seconds (a real one is still validating then), so a cell that assumes a batch
ended before it waited for it fails here as it would live; after that, everything is fast.
The server runs with ``--like-live``: it leaves out the optional fields the real service may
leave out (a file's ``expires_at``, a batch's ``usage``) and refuses one structured answer in
four, so a cell that relies on what live mode does not promise fails here.

The notebooks run on copies, in a temporary folder with a copy of ``artifacts/``, so the files
they write never touch the repository.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

from batch_api_local import ServerInfo, ensure_server, set_pace, state, stop_server

from support import free_port, notebook_env

pytestmark = pytest.mark.live_rehearsal

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: seconds a cell may run. Against the rehearsal server every batch ends within about ten
#: seconds, so only a cell that waits for something live mode never sends (a webhook, a batch
#: that will not end) comes near it.
CELL_BOUND = 90
#: a key shaped like a real one; the rehearsal server accepts any key
LIVE_LIKE_KEY = "sk-proj-live-rehearsal-0000000000000000"
#: validating for 7 s (a real batch is still validating seconds after it was created: notebook
#: 6 cancels one 5 s in), then every request at once and a short finalizing step
LIVE_LIKE_PACE = {"validating": 7.0, "per_request": 0.0, "finalizing": 0.5, "cancelling": 0.5}


@pytest.fixture(scope="module")
def rehearsal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    state_dir = tmp_path_factory.mktemp("live-rehearsal-state")
    info = ensure_server(state_dir, port=free_port(), like_live=True)
    conn = {"base_url": info.base_url, "api_key": LIVE_LIKE_KEY}
    set_pace(**LIVE_LIKE_PACE, **conn)
    try:
        yield info
    finally:
        stop_server(state_dir)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of copies: ``notebooks/`` (the notebooks run there) beside ``artifacts/``."""
    root = tmp_path_factory.mktemp("live-rehearsal")
    (root / "notebooks").mkdir()
    shutil.copytree(ROOT / "artifacts", root / "artifacts")
    return root / "notebooks"


def live_env(base_url: str) -> dict[str, str]:
    """A learner's environment in live mode, with OPENAI_BASE_URL set (a proxy, a gateway)."""
    return notebook_env("live", base_url, LIVE_LIKE_KEY)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_runs_in_live_mode(
    path: Path, rehearsal_server: ServerInfo, workspace: Path
) -> None:
    copy = workspace / path.name
    shutil.copyfile(path, copy)
    nb = nbformat.read(copy, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    client = NotebookClient(
        nb,
        timeout=CELL_BOUND,
        kernel_name="python3",
        resources={"metadata": {"path": str(workspace)}},
        record_timing=False,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    pace_before = state(base_url=rehearsal_server.base_url, api_key=LIVE_LIKE_KEY)["pace"]
    try:
        client.execute(env=live_env(rehearsal_server.base_url))
    except CellTimeoutError as error:
        pytest.fail(f"{path.name}: a cell ran longer than {CELL_BOUND} s in live mode:\n{error}")
    except CellExecutionError as error:
        pytest.fail(f"{path.name}: a cell failed in live mode:\n{error}")

    setup_output = "".join(
        output.get("text", "")
        for output in next(c for c in nb.cells if c.cell_type == "code").outputs
    )
    # the setup cell says where requests go: the address in OPENAI_BASE_URL, not OpenAI
    host = rehearsal_server.base_url.split("//")[1].split("/")[0]
    assert f"Live mode: requests go to {host} (OPENAI_BASE_URL)" in setup_output
    # live mode leaves the service's pace alone: setup(pace=...) changes nothing there
    after = state(base_url=rehearsal_server.base_url, api_key=LIVE_LIKE_KEY)["pace"]
    assert after == pace_before == {**after, **LIVE_LIKE_PACE}
