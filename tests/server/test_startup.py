"""A fast start: the server process imports what serving needs and nothing else.

The notebook helpers need pandas, the ``openai`` SDK, tqdm and matplotlib; the server needs
none of them, and starting it must not pay for them. The tokenizer's tables load on the first
request that counts tokens, not at start. (``import helpers`` itself: tests/helpers/test_package.py.)
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from support import ROOT, free_port, server_command, server_env, stop, wait_for_models

NOTEBOOK_ONLY = ("pandas", "matplotlib", "tqdm", "openai")

# Runs in the server process: once the server answers GET /v1/models, print the top-level
# names of every module it has imported, as one JSON line.
REPORT_MODULES = """
import json, sys, threading, time, urllib.request

def _report(port):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": "Bearer x"}
    )
    while True:
        try:
            with opener.open(request, timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.05)
    print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})), flush=True)

threading.Thread(target=_report, args=(sys.argv[sys.argv.index("--port") + 1],), daemon=True).start()
"""


def test_the_server_process_imports_no_notebook_library(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        server_command(REPORT_MODULES, port, tmp_path / "state"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(),
        cwd=ROOT,
    )
    try:
        wait_for_models(process, port)
        modules = set(json.loads(process.stdout.readline()))
    finally:
        stop(process)

    assert {"batch_api_local", "fastapi", "uvicorn"} <= modules  # it did run the real server
    assert modules.isdisjoint({*NOTEBOOK_ONLY, "helpers"}), sorted(
        modules & {*NOTEBOOK_ONLY, "helpers"}
    )
    assert "bpe_openai" not in modules  # no request has counted tokens yet
