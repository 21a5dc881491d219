"""Start the local server as a real subprocess, the way users do, with a prologue of our own.

``python -c PROLOGUE + RUN serve ...`` behaves like ``python -m helpers.local_server serve ...``
(``runpy`` with ``alter_sys``), after ``PROLOGUE`` has run: the startup and portability tests use
it to look inside the server process or to take something away from it before any import.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN = (
    "import runpy, sys\n"
    "sys.argv[0] = 'helpers.local_server'\n"
    "runpy.run_module('helpers.local_server', run_name='__main__', alter_sys=True)\n"
)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def server_command(prologue: str, port: int, state_dir: Path) -> list[str]:
    code = prologue + "\n" + RUN
    return [sys.executable, "-c", code, "serve", "--port", str(port), "--state-dir", str(state_dir)]


def server_env() -> dict[str, str]:
    """The environment the launcher gives the server: this checkout first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def models_status(port: int, timeout: float = 1.0) -> int | None:
    """The status of ``GET /v1/models`` on ``port``, or None when nothing answers."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": "Bearer x"}
    )
    try:
        with _NO_PROXY.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_for_models(process: subprocess.Popen, port: int, timeout: float = 30.0) -> None:
    """Wait until the server answers ``GET /v1/models`` with 200; fail if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if models_status(port, timeout=0.5) == 200:
            return
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the server exited with {process.returncode}:\n{out}\n{err}")
        time.sleep(0.05)
    raise AssertionError(f"the server did not answer GET /v1/models within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
