"""Server start: from process start to the first HTTP 200 of ``GET /v1/models``.

Starts the local server as users do, ``batch-api-local serve --port P
--state-dir TMP`` (a new state directory each time), and, as the baseline, a bare FastAPI app
with one route on uvicorn, started the same way (a Python process that serves one route). Each
is started several times, alternately, after one unmeasured start of each (disk caches); prints
every run, the median of each and their ratio. Goal: at most 2 times the bare app.

    python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from _common import ROOT, free_port, machine, workdir

BARE_APP = """
import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/v1/models")
def models() -> dict:
    return {"object": "list", "data": []}


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers(port: int) -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": "Bearer x"}
    )
    try:
        with _NO_PROXY.open(request, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def time_to_first_200(command: list[str], port: int, timeout: float = 60.0) -> float:
    """Seconds from starting ``command`` to the first 200 from GET /v1/models on ``port``."""
    env = dict(os.environ)
    # what the launcher gives the server: this checkout first on the import path
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while not _answers(port):
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited: {process.stderr.read().decode()}")
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"{command} did not answer within {timeout} s")
            time.sleep(0.005)
        return time.perf_counter() - start
    finally:
        process.terminate()
        process.wait()


def local_server(work: Path, run: int) -> float:
    port = free_port()
    command = [sys.executable, "-m", "batch_api_local", "serve", "--port", str(port)]
    return time_to_first_200(command + ["--state-dir", str(work / f"state-{run}")], port)


def bare_app(script: Path) -> float:
    port = free_port()
    return time_to_first_200([sys.executable, str(script), str(port)], port)


def interpreter() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7, help="starts of each (default 7)")
    args = parser.parse_args()
    with workdir("bench-start-") as work:
        script = work / "bare_app.py"
        script.write_text(BARE_APP)
        local_server(work, -1)  # unmeasured: warms the disk caches
        bare_app(script)
        local, bare = [], []
        for run in range(args.runs):
            local.append(local_server(work, run))
            bare.append(bare_app(script))
        python = statistics.median(interpreter() for _ in range(args.runs))

    local_median, bare_median = statistics.median(local), statistics.median(bare)
    print(f"machine: {machine()}")
    print(f"process start to the first 200 of GET /v1/models, {args.runs} runs each (s):")
    print("  local server: " + " ".join(f"{t:5.2f}" for t in local))
    print("  bare FastAPI: " + " ".join(f"{t:5.2f}" for t in bare))
    print(f"median, local server (batch-api-local serve): {local_median:5.2f} s")
    print(f"median, bare FastAPI app, one route on uvicorn:              {bare_median:5.2f} s")
    print(f"for scale, the interpreter alone (python -c pass):           {python:5.2f} s")
    print(f"ratio: {local_median / bare_median:.2f}x (goal: at most 2x)")


if __name__ == "__main__":
    main()
