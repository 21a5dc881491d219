"""What the tests share, in one module: keys and ports, request lines and files, waiting on a
batch, the pace, raw HTTP and OpenAI's error envelope, and the server's log.

Fixtures live in ``conftest.py``; this module only has plain functions and classes, imported as
``from support import ...`` (pytest's ``pythonpath`` includes ``tests``).

Every wait here is bounded by :data:`WAIT` so that a hung server fails the test with a message
instead of hanging the run.
"""

from __future__ import annotations

import json
import socket
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
CHAT = "/v1/chat/completions"
SNAPSHOT = "gpt-4o-mini-2024-07-18"
DAY = 86_400
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
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
#: the most any single wait may take before the test fails (a bound, never a speed goal)
WAIT = 60.0
ANY = object()  # "do not compare this field"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- request lines and files ----------------------------------------------------------------------


def chat_line(custom_id: str, content: str = "Say hello.", **body: Any) -> dict[str, Any]:
    """One /v1/chat/completions request line for gpt-4o-mini (``body`` fields override)."""
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": CHAT,
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]} | body,
    }


def jsonl(lines: Iterable[dict[str, Any] | str], newline: str = "\n") -> bytes:
    """Request lines as file bytes: dicts JSON-encoded, strings written as they are."""
    text = "".join((json.dumps(x) if isinstance(x, dict) else x) + newline for x in lines)
    return text.encode("utf-8")


def write_jsonl(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    """Write request lines to ``path`` (as :func:`jsonl` encodes them); returns ``path``."""
    path.write_bytes(jsonl(lines))
    return path


def upload(
    client: OpenAI,
    lines: bytes | Iterable[dict[str, Any] | str],
    *,
    name: str = "in.jsonl",
    purpose: str = "batch",
) -> FileObject:
    """Upload file bytes, or request lines encoded by :func:`jsonl`."""
    data = lines if isinstance(lines, bytes) else jsonl(lines)
    return client.files.create(file=(name, data), purpose=purpose)  # type: ignore[arg-type]


def start_batch(
    client: OpenAI,
    lines: bytes | Iterable[dict[str, Any] | str],
    *,
    endpoint: str = CHAT,
    **kwargs: Any,
) -> Batch:
    """Upload ``lines`` and create a batch on them (``kwargs`` go to ``batches.create``)."""
    file = upload(client, lines)
    return client.batches.create(
        input_file_id=file.id,
        endpoint=endpoint,  # type: ignore[arg-type]
        completion_window="24h",
        **kwargs,
    )


def run_batch(
    client: OpenAI,
    lines: bytes | Iterable[dict[str, Any] | str],
    *,
    endpoint: str = CHAT,
    timeout: float = WAIT,
) -> Batch:
    """Upload ``lines``, create a batch on them, and wait until the batch ends."""
    batch = start_batch(client, lines, endpoint=endpoint)
    return wait_until(client, batch.id, timeout=timeout)


def file_lines(client: OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    """The JSON lines of a result file (none when the id is null)."""
    if file_id is None:
        return []
    return [json.loads(x) for x in client.files.content(file_id).text.splitlines() if x.strip()]


def small_batch_completes(client: OpenAI) -> None:
    """A normal two-request batch still runs to ``completed`` with both answers."""
    batch = run_batch(client, [chat_line("ok-1"), chat_line("ok-2", "Name a colour.")])
    assert batch.status == "completed", batch
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed) == (2, 2)
    assert sorted(x["custom_id"] for x in file_lines(client, batch.output_file_id)) == [
        "ok-1",
        "ok-2",
    ]


# -- waiting ----------------------------------------------------------------------------------------


def poll(
    predicate: Callable[[], Any],
    *,
    timeout: float = WAIT,
    interval: float = 0.02,
    what: str = "condition",
) -> Any:
    """Call ``predicate`` until it returns something truthy; return that.

    Fails after ``timeout`` seconds with a message naming ``what``.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def wait_until(
    client: OpenAI,
    batch_id: str,
    done: Callable[[Batch], bool] = lambda b: b.status in TERMINAL,
    *,
    timeout: float = WAIT,
) -> Batch:
    """Poll ``batches.retrieve`` until ``done(batch)`` (default: a terminal status)."""
    seen: list[Batch] = []

    def check() -> Batch | None:
        batch = client.batches.retrieve(batch_id)
        seen[:] = [batch]
        return batch if done(batch) else None

    try:
        return poll(check, timeout=timeout, what=f"batch {batch_id}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen: {seen[-1] if seen else None}") from None


# -- pace ------------------------------------------------------------------------------------------


def conn(client: OpenAI) -> dict[str, str]:
    """base_url/api_key keyword arguments for the control-surface wrappers."""
    return {"base_url": str(client.base_url), "api_key": client.api_key}


def slow_pace(client: OpenAI, **fields: float) -> None:
    """Slow the server down for this test (the ``client`` fixture's reset restores it)."""
    pace = {"validating": 0.3, "per_request": 0.2, "finalizing": 0.3, "cancelling": 0.3}
    set_pace(**(pace | fields), **conn(client))


def watch(client: OpenAI, batch_id: str, timeout: float = WAIT) -> list[Batch]:
    """Every distinct snapshot of a batch until it is terminal, polling quickly."""
    seen: list[Batch] = []

    def check() -> bool:
        batch = client.batches.retrieve(batch_id)
        if not seen or batch.model_dump() != seen[-1].model_dump():
            seen.append(batch)
        return batch.status in TERMINAL

    poll(check, timeout=timeout, what=f"batch {batch_id} to end")
    return seen


def statuses(snapshots: list[Batch]) -> list[str]:
    """The statuses in the order they were seen, without repeats."""
    out: list[str] = []
    for snap in snapshots:
        if not out or out[-1] != snap.status:
            out.append(snap.status)
    return out


# -- raw HTTP and OpenAI's error envelope ---------------------------------------------------------


class RawApi:
    """Raw requests the SDK would not send as they are (no key, a broken body...).

    ``base`` is an SDK client (requests go under its ``/v1`` base URL) or any URL, such as a
    server's root for ``/_local/...``. Never goes through a proxy.
    """

    def __init__(self, base: OpenAI | str, key: str | None = TEST_KEY) -> None:
        url = str(base.base_url) if isinstance(base, OpenAI) else base
        self.base_url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        self.http = httpx2.Client(trust_env=False, timeout=WAIT, headers=headers)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        return self.http.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RawApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def raw(
    base: OpenAI | str, method: str, path: str, *, key: str | None = TEST_KEY, **kwargs: Any
) -> httpx2.Response:
    """One :class:`RawApi` request (``headers`` given here are added to the key's)."""
    with RawApi(base, key) as api:
        return api.request(method, path, **kwargs)


def raw_json(client: OpenAI, path: str) -> dict[str, Any]:
    """The JSON the server sends for ``GET path``, untouched by the SDK's models."""
    return client.get(path, cast_to=object)  # type: ignore[return-value]


def assert_envelope(
    body: Any,
    message: Any = ANY,
    *,
    param: Any = ANY,
    code: Any = ANY,
    error_type: Any = ANY,
) -> dict[str, Any]:
    """``body`` is exactly OpenAI's ``{"error": {message, type, param, code}}``; returns the error.

    The fields given are compared; the others are only checked for their type.
    """
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["type"], str) and error["type"], error
    assert error["param"] is None or isinstance(error["param"], str), error
    assert error["code"] is None or isinstance(error["code"], str), error
    wanted = {"message": message, "param": param, "code": code, "type": error_type}
    for name, want in wanted.items():
        if want is not ANY:
            assert error[name] == want, (name, error)
    return error


def assert_error(
    response: httpx2.Response,
    status: int,
    message: Any = ANY,
    *,
    param: Any = ANY,
    code: Any = ANY,
    error_type: Any = "invalid_request_error",
) -> dict[str, Any]:
    """``response`` has ``status`` and a JSON body that is exactly OpenAI's error envelope."""
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    return assert_envelope(response.json(), message, param=param, code=code, error_type=error_type)


def sdk_error(exc: openai.APIStatusError, message: Any = ANY) -> dict[str, Any]:
    """The error behind an SDK exception, checked as :func:`assert_error` checks a response."""
    return assert_error(exc.response, exc.status_code, message, error_type=ANY)


# -- the server's health and log ------------------------------------------------------------------


def assert_healthy(root: str) -> None:
    """``GET /_local/health`` answers 200 with status ok (no key needed)."""
    response = raw(root, "GET", "/_local/health", key=None)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


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
