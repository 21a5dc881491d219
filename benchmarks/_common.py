"""Shared pieces of the benchmark scripts: a private local server, files, timing."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from batch_api_local import ServerInfo, ensure_server, stop_server  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def private_server(
    state_dir: Path, pace: str = "instant", extra_args: list[str] | None = None
) -> Iterator[ServerInfo]:
    info = ensure_server(state_dir, port=free_port(), pace=pace, extra_args=extra_args)
    try:
        yield info
    finally:
        stop_server(state_dir)


def client_for(info: ServerInfo, **kwargs):
    from openai import OpenAI

    return OpenAI(base_url=info.base_url, api_key="sk-bench", max_retries=0, **kwargs)


#: the model the benchmarks' requests name: the notebooks' (current, with no announced shutdown)
MODEL = "gpt-6-luna"


def chat_line(i: int, model: str = MODEL) -> dict:
    return {
        "custom_id": f"request-{i}",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": model,
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": f"Give me three paragraphs on penguin fact {i}."},
            ],
            "max_completion_tokens": 200,
        },
    }


def write_chat_file(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(1, n + 1):
            fh.write(json.dumps(chat_line(i)) + "\n")
    return path


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A temporary folder, removed afterwards (benchmark files are large)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def timed(results: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    results[name] = time.perf_counter() - start


def run_phases(client, path: Path, n: int, phases: dict[str, float]):
    """Upload ``path``, run it as a chat batch and time each phase into ``phases``: upload,
    validate, run, finalize (boundaries seen by polling every 50 ms, so a phase shorter than
    that can read 0). Returns the completed batch; the caller times the download."""
    with timed(phases, "upload"):
        file = client.files.create(file=open(path, "rb"), purpose="batch")
    batch = client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    seen: dict[str, float] = {}
    start = time.perf_counter()
    while batch.status not in ("completed", "failed", "expired", "cancelled"):
        seen.setdefault(batch.status, time.perf_counter())
        time.sleep(0.05)
        batch = client.batches.retrieve(batch.id)
    done = time.perf_counter()
    assert batch.status == "completed", batch
    assert batch.request_counts.completed == n, batch.request_counts
    t_run = seen.get("in_progress", start)
    t_fin = seen.get("finalizing", done)
    phases["validate"] = t_run - start
    phases["run"] = t_fin - t_run
    phases["finalize"] = done - t_fin
    return batch


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def class_keys(work: Path, students: int) -> tuple[str, list[tuple[str, str]]]:
    """Run ``batch-api-local keys`` in ``work``: the admin key it prints, and each student's
    (label, key) from the keys file it writes there."""
    keys_file = work / "class-keys.txt"
    printed = subprocess.run(
        [sys.executable, "-m", "batch_api_local", "keys"]
        + ["--students", str(students), "--out", str(keys_file), "--address", "127.0.0.1"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    admin = printed[printed.index("Your instructor (admin) key; keep it to yourself:") + 1]
    pairs = []
    for line in keys_file.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, label = line.split()
            pairs.append((label, key))
    return admin.strip(), pairs
