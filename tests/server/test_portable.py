"""Nothing POSIX-only at import time: without ``fcntl`` (as on Windows) the package imports,
the server starts and answers, and a second server on the same state directory is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from batch_api_local.launcher import _alive

from support import ROOT, free_port, server_command, server_env, stop, wait_for_models

# Before any other import: ``import fcntl`` raises ImportError from here on, as on Windows.
NO_FCNTL = (
    "import sys\n"
    "sys.modules['fcntl'] = None\n"
    "import helpers, batch_api_local\n"
    "from helpers import setup, wait_for_batch\n"
    "from batch_api_local import ensure_server, stop_server\n"
)
REFUSED = "Another local server is already running for "


def test_without_fcntl_the_server_runs_and_keeps_its_state_directory_to_itself(
    tmp_path: Path,
) -> None:
    state_dir = tmp_path / "state"
    port = free_port()
    first = subprocess.Popen(
        server_command(NO_FCNTL, port, state_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(),
        cwd=ROOT,
    )
    try:
        wait_for_models(first, port)

        second = subprocess.run(
            server_command(NO_FCNTL, free_port(), state_dir),
            capture_output=True,
            text=True,
            env=server_env(),
            cwd=ROOT,
            timeout=60,
        )
        assert second.returncode == 1, second.stderr
        refusals = [line for line in second.stderr.splitlines() if line.startswith(REFUSED)]
        assert refusals == [
            f"{REFUSED}{state_dir}; use it, or stop it first (batch-api-local stop)."
        ]
        wait_for_models(first, port)  # the first one is still serving
    finally:
        stop(first)


def test_alive_tells_a_running_process_from_a_finished_one() -> None:
    assert _alive(os.getpid())
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # reaped: its pid names no process now

    assert not _alive(finished.pid)


def test_without_fcntl_the_launcher_starts_and_stops_a_server(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    code = NO_FCNTL + (
        f"info = ensure_server({str(state_dir)!r}, port={free_port()})\n"
        f"assert ensure_server({str(state_dir)!r}) == info  # reused, not started twice\n"
        "print(info.base_url, flush=True)\n"
        f"assert stop_server({str(state_dir)!r})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=server_env(),
        cwd=ROOT,
        timeout=90,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("http://127.0.0.1:")
