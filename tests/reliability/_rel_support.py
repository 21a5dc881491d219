"""Shared pieces of the reliability tests: request lines, raw HTTP, envelopes, health."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx2
from openai import OpenAI
from openai.types import Batch

from helpers.waiting import wait_for_batch

CHAT = "/v1/chat/completions"
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
ENVELOPE_KEYS = {"message", "type", "param", "code"}
ANY = object()  # "do not compare this field"


def chat(custom_id: str, content: str = "Say hello.", **body: Any) -> dict[str, Any]:
    """One /v1/chat/completions request line for gpt-4o-mini (``body`` fields override)."""
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": CHAT,
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]} | body,
    }


def jsonl(lines: Iterable[dict[str, Any] | str], newline: str = "\n") -> bytes:
    """Request lines as file bytes: dicts JSON-encoded, strings written as they are."""
    return "".join((json.dumps(x) if isinstance(x, dict) else x) + newline for x in lines).encode(
        "utf-8"
    )


def root_url(client_or_url: OpenAI | str) -> str:
    """The server's root (no ``/v1``) from an SDK client or a base URL."""
    url = str(client_or_url.base_url if isinstance(client_or_url, OpenAI) else client_or_url)
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def http(key: str | None = None, timeout: float = 60) -> httpx2.Client:
    """A raw HTTP client that never goes through a proxy, authenticated with ``key``."""
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx2.Client(trust_env=False, timeout=timeout, headers=headers)


class RawApi:
    """Raw requests under a base URL (``/v1`` or the root), for what the SDK will not send."""

    def __init__(self, base_url: str, key: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http(key)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        return self.http.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        self.http.close()


def assert_error(
    response: httpx2.Response,
    status: int,
    message: Any = ANY,
    *,
    param: Any = ANY,
    code: Any = ANY,
    error_type: str = "invalid_request_error",
) -> dict[str, Any]:
    """``response`` has ``status`` and exactly OpenAI's error envelope; returns the error."""
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == ENVELOPE_KEYS, error
    assert isinstance(error["message"], str) and error["message"], error
    assert error["type"] == error_type, error
    assert error["param"] is None or isinstance(error["param"], str), error
    assert error["code"] is None or isinstance(error["code"], str), error
    for name, want in (("message", message), ("param", param), ("code", code)):
        if want is not ANY:
            assert error[name] == want, (name, error)
    return error


def assert_healthy(root: str) -> None:
    """``GET /_local/health`` answers 200 with status ok."""
    with http() as h:
        response = h.get(root + "/_local/health")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


def upload_bytes(client: OpenAI, data: bytes, name: str = "input.jsonl", purpose: str = "batch"):
    return client.files.create(file=(name, data), purpose=purpose)  # type: ignore[arg-type]


def run_batch(
    client: OpenAI,
    data: bytes,
    *,
    endpoint: str = CHAT,
    timeout: float = 60,
) -> Batch:
    """Upload ``data``, create a batch on it, and wait until the batch ends."""
    file = upload_bytes(client, data)
    batch = client.batches.create(input_file_id=file.id, endpoint=endpoint, completion_window="24h")
    return wait(client, batch.id, timeout=timeout)


def wait(client: OpenAI, batch_id: str, timeout: float = 60) -> Batch:
    return wait_for_batch(client, batch_id, poll_interval=0.05, timeout=timeout, progress=False)


def file_lines(client: OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    """The JSON lines of a result file (none when the id is null)."""
    if file_id is None:
        return []
    return [json.loads(x) for x in client.files.content(file_id).text.splitlines() if x.strip()]


def small_batch_completes(client: OpenAI) -> None:
    """A normal two-request batch still runs to ``completed`` with both answers."""
    batch = run_batch(client, jsonl([chat("ok-1"), chat("ok-2", "Name a colour.")]), timeout=30)
    assert batch.status == "completed", batch
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed) == (2, 2)
    assert sorted(x["custom_id"] for x in file_lines(client, batch.output_file_id)) == [
        "ok-1",
        "ok-2",
    ]


def log_offset(state_dir: str | Path) -> int:
    path = Path(state_dir) / "server.log"
    return path.stat().st_size if path.exists() else 0


def log_since(state_dir: str | Path, offset: int) -> str:
    """What the server logged after ``offset`` bytes."""
    path = Path(state_dir) / "server.log"
    if not path.exists():
        return ""
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read().decode("utf-8", errors="replace")


def assert_clean_log(text: str) -> None:
    """No tracebacks, unhandled errors or SQLite lock errors in a server log excerpt."""
    for marker in ("Traceback", "unhandled error", "database is locked", " ERROR ", "ERROR:"):
        assert marker not in text, f"{marker!r} in the server log:\n{text[-3000:]}"


def poll(predicate, timeout: float, interval: float = 0.02, what: str = "condition"):
    """Call ``predicate`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
