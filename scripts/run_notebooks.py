"""Execute the notebooks in reading order against a fresh local server.

    python scripts/run_notebooks.py             # headless run: execute all, print a summary
    python scripts/run_notebooks.py --record    # same, and save the outputs into the notebooks
    python scripts/run_notebooks.py --nbval -- <pytest args>   # check saved outputs with nbval
    python scripts/run_notebooks.py --record --only 13          # one notebook (a name's start)

Every mode starts from an empty state directory of its own (and a port of its own), so the
outputs do not depend on what a learner did before, and a learner's running server is left
alone. The notebooks find that server through BATCH_LOCAL_STATE_DIR and BATCH_LOCAL_PORT, which
``helpers.setup()`` reads.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))

from check_notebooks import KERNELSPEC  # noqa: E402  (this script's own folder)


def _port() -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", 8765))
            return 8765
        except OSError:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]


def notebooks(only: str | None = None) -> list[Path]:
    """The numbered notebooks in reading order; ``only``: those whose name starts with it."""
    return sorted(NOTEBOOKS.glob(f"{only}*.ipynb" if only else "[0-9]*.ipynb"))


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _drop_widget_views(nb) -> None:
    """Keep a progress bar's text and drop its widget view, whose state is not saved.

    Opened later, a widget view without its state shows "Error displaying widget"; the text
    (what the bar showed when it appeared) reads fine everywhere, and nbval compares it.
    """
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "text/plain" in data:
                del data[WIDGET_VIEW]


def execute(paths: list[Path], *, save: bool) -> int:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    failures = 0
    rows = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOKS)}},
            record_timing=False,
            store_widget_state=False,
            # the kernel's start-up notice about its loopback transport is noise here
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        started = time.monotonic()
        try:
            client.execute()
            status = "ok"
        except CellExecutionError as exc:
            status = "FAILED: " + str(exc).strip().splitlines()[-1][:120]
            failures += 1
        seconds = time.monotonic() - started
        code_cells = sum(c.cell_type == "code" for c in nb.cells)
        rows.append((path.name, code_cells, seconds, status))
        print(f"{path.name:45} {code_cells:3} cells {seconds:6.1f} s  {status}", flush=True)
        if save and status == "ok":
            _drop_widget_views(nb)
            nb.metadata["kernelspec"] = dict(KERNELSPEC)  # as JupyterLab would save it
            nbformat.write(nb, path)
    total = sum(r[2] for r in rows)
    print(f"\n{len(rows) - failures} of {len(rows)} notebooks ran top to bottom in {total:.1f} s")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="save outputs into the notebooks")
    parser.add_argument("--nbval", action="store_true", help="compare saved outputs with nbval")
    parser.add_argument("--only", metavar="PREFIX", help="only the notebooks named PREFIX...")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args()

    state_dir = Path(tempfile.mkdtemp(prefix="batch-notebooks-"))
    env = {
        "BATCH_LOCAL_STATE_DIR": str(state_dir),
        "BATCH_LOCAL_PORT": str(_port()),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    os.environ.update(env)
    os.environ.pop("BATCH_TUTORIAL_MODE", None)  # always local here
    try:
        if args.nbval:
            command = [
                sys.executable,
                "-m",
                "pytest",
                *[str(p) for p in notebooks(args.only)],
                *args.pytest_args,
            ]
            return subprocess.call(command, cwd=ROOT)
        chosen = notebooks(args.only)
        if not chosen:
            parser.error(f"no notebook's name starts with {args.only!r}")
        return execute(chosen, save=args.record)
    finally:
        from batch_api_local import stop_server

        stop_server(state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
