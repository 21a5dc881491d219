"""Small helpers shared by the server tests: input files, polling, raw HTTP, pace."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx2
import openai
from openai import OpenAI
from openai.types import Batch, FileObject

from helpers.local_server import set_pace

TEST_KEY = "sk-local-test"
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
CHAT = "/v1/chat/completions"
SNAPSHOT = "gpt-4o-mini-2024-07-18"
DAY = 86_400
ZERO_USAGE = {
    "input_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 0,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 0,
}
STAMPS = (
    "in_progress_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
)


def chat_line(custom_id: str, content: str = "Say hello.", **body: Any) -> dict[str, Any]:
    """One /v1/chat/completions request line for gpt-4o-mini."""
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": CHAT,
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]} | body,
    }


def write_jsonl(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    """Write request lines (dicts are JSON-encoded, strings written as they are)."""
    text = "".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines)
    path.write_text(text, encoding="utf-8")
    return path


def upload(
    client: OpenAI, tmp_path: Path, lines: Iterable[dict[str, Any] | str], name: str = "in.jsonl"
) -> FileObject:
    path = write_jsonl(tmp_path / name, lines)
    with open(path, "rb") as fh:
        return client.files.create(file=fh, purpose="batch")


def start_batch(
    client: OpenAI,
    tmp_path: Path,
    lines: Iterable[dict[str, Any] | str],
    endpoint: str = CHAT,
    **kwargs: Any,
) -> Batch:
    file = upload(client, tmp_path, lines)
    return client.batches.create(
        input_file_id=file.id, endpoint=endpoint, completion_window="24h", **kwargs
    )


def wait_until(
    client: OpenAI,
    batch_id: str,
    done: Callable[[Batch], bool] = lambda b: b.status in TERMINAL,
    timeout: float = 15.0,
    interval: float = 0.02,
) -> Batch:
    """Poll ``batches.retrieve`` until ``done(batch)`` (default: a terminal status)."""
    deadline = time.monotonic() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if done(batch):
            return batch
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting on {batch_id}; last seen: {batch}")
        time.sleep(interval)


def watch(client: OpenAI, batch_id: str, timeout: float = 15.0) -> list[Batch]:
    """Every distinct snapshot of a batch until it is terminal, polling quickly."""
    seen: list[Batch] = []
    deadline = time.monotonic() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if not seen or batch.model_dump() != seen[-1].model_dump():
            seen.append(batch)
        if batch.status in TERMINAL:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out watching {batch_id}; last seen: {batch}")
        time.sleep(0.02)


def statuses(snapshots: list[Batch]) -> list[str]:
    """The statuses in the order they were seen, without repeats."""
    out: list[str] = []
    for snap in snapshots:
        if not out or out[-1] != snap.status:
            out.append(snap.status)
    return out


def slow_pace(client: OpenAI, **fields: float) -> None:
    """Slow the server down for this test (the ``client`` fixture's reset restores it)."""
    pace = {"validating": 0.3, "per_request": 0.2, "finalizing": 0.3, "cancelling": 0.3}
    set_pace(**(pace | fields), base_url=str(client.base_url), api_key=client.api_key)


def conn(client: OpenAI) -> dict[str, str]:
    """base_url/api_key keyword arguments for the control-surface wrappers."""
    return {"base_url": str(client.base_url), "api_key": client.api_key}


def file_lines(client: OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    return [json.loads(x) for x in client.files.content(file_id).text.splitlines() if x]


def raw(
    client: OpenAI,
    method: str,
    path: str,
    *,
    key: str | None = TEST_KEY,
    **kwargs: Any,
) -> httpx2.Response:
    """A request the SDK would not send as it is (no key, broken body...)."""
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    url = str(client.base_url).rstrip("/") + path
    with httpx2.Client(timeout=20, trust_env=False) as http:
        return http.request(method, url, headers=headers, **kwargs)


def raw_json(client: OpenAI, path: str) -> dict[str, Any]:
    """The JSON the server sends for ``GET path``, untouched by the SDK's models."""
    return client.get(path, cast_to=object)  # type: ignore[return-value]


def assert_envelope(body: Any, message: str | None = None) -> dict[str, Any]:
    """``body`` is OpenAI's ``{"error": {message, type, param, code}}``; returns the error."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str)
    if message is not None:
        assert error["message"] == message
    return error


def sdk_error(exc: openai.APIStatusError, message: str | None = None) -> dict[str, Any]:
    """The error object of the response behind an SDK exception, checked as an envelope."""
    return assert_envelope(exc.response.json(), message)
