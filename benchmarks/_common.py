"""Shared pieces of the benchmark scripts: a private local server, files, timing."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from helpers.local_server import ServerInfo, ensure_server, stop_server  # noqa: E402


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


def chat_line(i: int, model: str = "gpt-4o-mini") -> dict:
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
            "max_tokens": 200,
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


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
