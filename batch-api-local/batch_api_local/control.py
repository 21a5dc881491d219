"""Python wrappers for the local server's control surface (``/_local/...``).

These only work against the local server: they change its clock, pace, queue limits and
outcomes so that a notebook can show every status on demand. The real API has no such calls. Each function finds
the server from ``OPENAI_BASE_URL`` and authenticates with ``OPENAI_API_KEY`` (as the SDK does),
unless ``base_url``/``api_key`` are given.

Every call acts on the caller's own namespace: on a class server, one student's
``set_pace("slow")`` slows only that student's batches. An instructor (admin key) may pass
``namespace=`` a student's label, or ``"*"`` for the whole class.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from .net import DIRECT, api_root


class ControlError(RuntimeError):
    """The local server refused a control call (or is not a local server)."""


class _Unset:
    """No value given (``None`` means "no limit" for a token limit)."""


_UNSET = _Unset()


def _root(base_url: str | None) -> str:
    url = base_url or os.environ.get("OPENAI_BASE_URL") or ""
    if not url.strip():
        raise ControlError("OPENAI_BASE_URL is not set: point it at the local server first.")
    return api_root(url)


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
        with DIRECT.open(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            message = json.load(exc)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {exc.code} from {path}: is this the local server?"
        raise ControlError(message) from None


def _target(body: dict[str, Any], namespace: str | None) -> dict[str, Any]:
    return body if namespace is None else {**body, "namespace": namespace}


def whoami(**conn: Any) -> dict[str, Any]:
    """Who the key is on this server: ``namespace``, ``label``, ``admin`` (and that it is a
    local Batch API server, ``server: "local-batch-api"``)."""
    return _call("GET", "/_local/whoami", **conn)


def state(*, namespace: str | None = None, **conn: Any) -> dict[str, Any]:
    """The caller's clock, pace, token limit (``token_limit_set``: set by a control call, so
    it wins over the tier) and usage tier (``tier``) (and, for the server's owner, its state
    directory). An instructor may name a student's ``namespace``."""
    path = "/_local/state" + (f"?namespace={urllib.parse.quote(namespace)}" if namespace else "")
    return _call("GET", path, **conn)


def reset(*, namespace: str | None = None, **conn: Any) -> dict[str, Any]:
    """Delete the caller's files, batches and forced outcomes, and put its clock, pace, token
    limit and tier back to the server's start-up values. Returns the state."""
    return _call("POST", "/_local/reset", _target({}, namespace), **conn)


def advance_clock(
    seconds: float = 0, *, hours: float = 0, namespace: str | None = None, **conn: Any
) -> int:
    """Move the caller's clock forward; returns its new time (Unix seconds).

    ``advance_clock(hours=24)`` makes every running batch of the caller pass its
    ``expires_at``.
    """
    body = _target({"seconds": seconds + hours * 3600}, namespace)
    answer = _call("POST", "/_local/clock/advance", body, **conn)
    return answer["now"] if "now" in answer else max(x["now"] for x in answer["data"])


def set_pace(
    preset: str | None = None, *, namespace: str | None = None, **fields_and_conn: Any
) -> dict[str, float]:
    """Set how fast the caller's batches move: a preset ("instant", "normal", "slow") or
    seconds per status.

    ``set_pace(validating=1, per_request=3, finalizing=1, cancelling=2)`` sets each field;
    the ones not given come from "normal".
    """
    conn = {k: fields_and_conn.pop(k) for k in ("base_url", "api_key") if k in fields_and_conn}
    body: dict[str, Any] = {"preset": preset} if preset else dict(fields_and_conn)
    return _call("POST", "/_local/pace", _target(body, namespace), **conn)


def set_token_limit(
    limit: int | None | Literal["default"], *, namespace: str | None = None, **conn: Any
) -> int | None:
    """Set the caller's enqueued-token limit per model (None: no limit).

    A limit set here wins over the usage tier (:func:`set_tier`) for every model.
    ``"default"`` goes back to the server's start-up limit (``serve --token-limit``), and with
    a tier the tier's figure per model decides again. Returns the limit now in force when no
    tier applies.
    """
    body = _target({"token_limit": limit}, namespace)
    answer = _call("POST", "/_local/token-limit", body, **conn)
    if "token_limit" in answer:
        return answer["token_limit"]
    return answer["data"][0]["token_limit"]


def set_tier(
    tier: int | None | Literal["default"], *, namespace: str | None = None, **conn: Any
) -> int | None:
    """Act as an organization of usage tier ``tier`` (1 to 5): each model's published batch
    queue limit at that tier applies to the caller's batches, and the embeddings models' limit
    of 1,000,000 enqueued requests. None: no tier, the server's single ``--token-limit``;
    ``"default"``: the server's start-up tier (``serve --tier``, or none).

    A token limit set with :func:`set_token_limit` still wins over the tier; a model the tier
    table does not list gets the server's start-up limit. Returns the tier.
    """
    answer = _call("POST", "/_local/tier", _target({"tier": tier}, namespace), **conn)
    return answer["tier"] if "tier" in answer else answer["data"][0]["tier"]


@contextmanager
def temporarily(
    *,
    pace: str | dict[str, float] | None = None,
    token_limit: int | None | Literal["default"] | _Unset = _UNSET,
    tier: int | None | Literal["default"] | _Unset = _UNSET,
    namespace: str | None = None,
    **conn: Any,
) -> Iterator[None]:
    """Change the caller's pace, token limit or usage tier for the ``with`` block only.

    The settings in force before are put back when the block ends, however it ends: an error,
    or the kernel's stop button (KeyboardInterrupt). For example::

        with temporarily(pace="slow"):
            batch = client.batches.create(...)
            client.batches.cancel(batch.id)

    A setting is put back only while it still has the value the block gave it. One that
    someone else changed meanwhile (an instructor's class-wide ``set_pace("slow",
    namespace="*")`` during a student's block, say) is kept: the block ends with the class's
    new value, not the one it found. (Between that check and putting the value back there are a
    few milliseconds in which another change would be lost; and a change to the very value the
    block set cannot be told apart from the block's own.)

    An instructor may name a student's ``namespace``, or ``"*"`` for the whole class: each
    student gets back their own setting.
    """
    before = state(namespace=namespace, **conn)
    saved = before["data"] if "data" in before else [before]
    pace_set: dict[str, float] | None = None  # what the block set, the same for every target
    limit_set: int | None | _Unset = _UNSET
    tier_set: int | None | _Unset = _UNSET
    try:
        if pace is not None:
            body = {"preset": pace} if isinstance(pace, str) else dict(pace)
            answer = _call("POST", "/_local/pace", _target(body, namespace), **conn)
            pace_set = answer["data"][0] if "data" in answer else answer
        if not isinstance(token_limit, _Unset):
            limit_set = set_token_limit(token_limit, namespace=namespace, **conn)
        if not isinstance(tier, _Unset):
            tier_set = set_tier(tier, namespace=namespace, **conn)
        yield
    finally:
        changed = not isinstance(limit_set, _Unset) or not isinstance(tier_set, _Unset)
        if pace_set is not None or changed:
            after = state(namespace=namespace, **conn)
            now = {each["namespace"]: each for each in after.get("data", [after])}
            for each in saved:
                current = now.get(each["namespace"])
                if current is None:
                    continue
                target = each["namespace"] if namespace is not None else None
                if pace_set is not None and current["pace"] == pace_set:
                    _call("POST", "/_local/pace", _target(each["pace"], target), **conn)
                if (
                    not isinstance(limit_set, _Unset)
                    and current["token_limit"] == limit_set
                    and current.get("token_limit_set", True) == (token_limit != "default")
                ):
                    explicit = each.get("token_limit_set", True)
                    back: int | None | Literal["default"] = (
                        each["token_limit"] if explicit else "default"
                    )
                    set_token_limit(back, namespace=target, **conn)
                if not isinstance(tier_set, _Unset) and current.get("tier") == tier_set:
                    set_tier(each.get("tier"), namespace=target, **conn)


def class_view(**conn: Any) -> dict[str, Any]:
    """The instructor's view (admin key): one row per student."""
    return _call("GET", "/_local/class", **conn)


def force_line(
    custom_id: str,
    *,
    status_code: int | None = None,
    error: dict[str, Any] | None = None,
    batch_id: str | None = None,
    namespace: str | None = None,
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
    return _call("POST", "/_local/force/line", _target(body, namespace), **conn)


def force_validation_failure(
    code: str = "token_limit_exceeded",
    *,
    message: str | None = None,
    param: str | None = None,
    line: int | None = None,
    batch_id: str | None = None,
    namespace: str | None = None,
    **conn: Any,
) -> dict[str, Any]:
    """Make ``batch_id`` (or the next batch to be validated) fail validation with ``code``."""
    body = {"code": code, "message": message, "param": param, "line": line, "batch_id": batch_id}
    return _call("POST", "/_local/force/validation", _target(body, namespace), **conn)


def expire_batch(batch_id: str, *, namespace: str | None = None, **conn: Any) -> dict[str, Any]:
    """Expire a validating or running batch now, as if its 24-hour window had passed."""
    return _call("POST", f"/_local/batches/{batch_id}/expire", _target({}, namespace), **conn)


def set_webhook(
    url: str | None, *, secret: str | None = None, namespace: str | None = None, **conn: Any
) -> dict[str, Any]:
    """Send a signed webhook event to ``url`` whenever one of the caller's batches ends.

    What the real service's dashboard setting does, for the caller's namespace. Without
    ``secret`` the server makes one (``whsec_...``) and shows it in the answer, this once, as
    ``answer["secret"]``: give it to the receiver (``OPENAI_WEBHOOK_SECRET``).
    ``set_webhook(None)`` goes back to the server's own setting (``serve --webhook-url``), or
    to no webhooks. Only ``http://`` URLs on this machine, unless the server runs with
    ``--webhook-allow-remote``. On a server with a keys file, only an admin key may call it.
    """
    body = _target({"url": url, "secret": secret}, namespace)
    return _call("POST", "/_local/webhook", body, **conn)


def webhook_settings(*, namespace: str | None = None, **conn: Any) -> dict[str, Any]:
    """Where the caller's batches send their webhook events (``url``, and its ``source``:
    ``"namespace"``, ``"server"`` or None), without the secret."""
    path = "/_local/webhook" + (f"?namespace={urllib.parse.quote(namespace)}" if namespace else "")
    return _call("GET", path, **conn)


def webhook_events(
    *,
    status: str | None = None,
    batch_id: str | None = None,
    limit: int | None = None,
    namespace: str | None = None,
    **conn: Any,
) -> dict[str, Any]:
    """The caller's webhook events, newest first: ``{"object": "list", "data": [...]}``.

    Each says what was sent (``type``, ``batch_id``, ``payload``, ``url``) and how delivery
    went: ``status`` (``pending``, ``delivered`` or ``failed``), ``attempts``,
    ``last_error``. Filter with ``status`` and ``batch_id``.
    """
    query = {"status": status, "batch_id": batch_id, "limit": limit, "namespace": namespace}
    given = {k: v for k, v in query.items() if v is not None}
    path = "/_local/webhooks" + (f"?{urllib.parse.urlencode(given)}" if given else "")
    return _call("GET", path, **conn)
