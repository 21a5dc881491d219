"""Python wrappers for the local server's control surface (``/_local/...``).

These only work against the local server: they change its clock, pace and outcomes so that a
notebook can show every status on demand. The real API has no such calls. Each function finds
the server from ``OPENAI_BASE_URL`` and authenticates with ``OPENAI_API_KEY`` (as the SDK does),
unless ``base_url``/``api_key`` are given.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlError(RuntimeError):
    """The local server refused a control call (or is not a local server)."""


def _root(base_url: str | None) -> str:
    url = (base_url or os.environ.get("OPENAI_BASE_URL") or "").rstrip("/")
    if not url:
        raise ControlError("OPENAI_BASE_URL is not set: call helpers.setup() first.")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def _call(
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
) -> Any:
    key = api_key or os.environ.get("OPENAI_API_KEY") or "local"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        _root(base_url) + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with _OPENER.open(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            message = json.load(exc)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {exc.code} from {path}: is this the local server?"
        raise ControlError(message) from None


def state(**conn: Any) -> dict[str, Any]:
    """The server's clock, pace, token limit and state directory."""
    return _call("GET", "/_local/state", **conn)


def reset(**conn: Any) -> dict[str, Any]:
    """Delete this key's files, batches and forced outcomes.

    On a server without a keys file (one user), also puts the clock, pace and token limit back
    to their start-up values.
    """
    return _call("POST", "/_local/reset", {}, **conn)


def advance_clock(seconds: float = 0, *, hours: float = 0, **conn: Any) -> int:
    """Move the server's clock forward; returns its new time (Unix seconds).

    ``advance_clock(hours=24)`` makes every running batch pass its ``expires_at``.
    """
    return _call("POST", "/_local/clock/advance", {"seconds": seconds + hours * 3600}, **conn)[
        "now"
    ]


def set_pace(preset: str | None = None, **fields_and_conn: Any) -> dict[str, float]:
    """Set how fast batches move: a preset ("instant", "normal", "slow") or seconds per status.

    ``set_pace(validating=1, per_request=3, finalizing=1, cancelling=2)`` sets each field;
    the ones not given come from "normal".
    """
    conn = {k: fields_and_conn.pop(k) for k in ("base_url", "api_key") if k in fields_and_conn}
    body: dict[str, Any] = {"preset": preset} if preset else dict(fields_and_conn)
    return _call("POST", "/_local/pace", body, **conn)


def set_token_limit(limit: int | None, **conn: Any) -> int | None:
    """Set the enqueued-token limit per model (None: no limit)."""
    return _call("POST", "/_local/token-limit", {"token_limit": limit}, **conn)["token_limit"]


def force_line(
    custom_id: str,
    *,
    status_code: int | None = None,
    error: dict[str, Any] | None = None,
    batch_id: str | None = None,
    **conn: Any,
) -> dict[str, Any]:
    """Decide the outcome of the next request with ``custom_id`` (in ``batch_id``, or any).

    ``status_code=500`` writes an error-file line with that HTTP status and a typical error
    body (or ``error``, an ``{"error": {...}}`` body). With only ``error`` (for example
    ``{"code": "request_timeout", "message": "..."}``) the line has ``response: null``.
    """
    body = {
        "custom_id": custom_id,
        "status_code": status_code,
        "error": error,
        "batch_id": batch_id,
    }
    return _call("POST", "/_local/force/line", body, **conn)


def force_validation_failure(
    code: str = "token_limit_exceeded",
    *,
    message: str | None = None,
    param: str | None = None,
    line: int | None = None,
    batch_id: str | None = None,
    **conn: Any,
) -> dict[str, Any]:
    """Make ``batch_id`` (or the next batch to be validated) fail validation with ``code``."""
    body = {"code": code, "message": message, "param": param, "line": line, "batch_id": batch_id}
    return _call("POST", "/_local/force/validation", body, **conn)


def expire_batch(batch_id: str, **conn: Any) -> dict[str, Any]:
    """Expire a validating or running batch now, as if its 24-hour window had passed."""
    return _call("POST", f"/_local/batches/{batch_id}/expire", {}, **conn)
