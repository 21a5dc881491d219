"""The domain: files, batches and the control operations, independent of HTTP.

Routes in :mod:`helpers.local_server.app` parse a request and call one method here; every rule
(limits, validation, what a cancel does to which status) lives in this module, in
:mod:`.validation` or in :mod:`.lifecycle`, and every failure is an :class:`.errors.APIError`.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from . import ids
from .config import PACES, Pace, Settings, pace_from
from .errors import APIError, BadRequest, Conflict, NotFound, invalid_type, invalid_value
from .errors import missing_parameter as missing
from .lifecycle import CANCEL_IS_NOOP, CANCELLABLE, TERMINAL, transition
from .store import Store
from .validation import (
    BATCH_ENDPOINTS,
    COMPLETION_WINDOWS,
    MAX_BATCH_FILE_BYTES,
)

DAY = 86_400
FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
MAX_FILE_BYTES = 512 * 1024 * 1024
DEFAULT_FILE_EXPIRY = 30 * DAY  # purpose=batch files, and result files
METADATA_MAX_KEYS = 16
METADATA_MAX_KEY = 64
METADATA_MAX_VALUE = 512
CHUNK = 1024 * 1024

ZERO_USAGE = {
    "input_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 0,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 0,
}


class Clock:
    """The server's clock: real time plus an offset that control calls can move forward."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.offset = float(store.get_setting("clock_offset", 0.0))

    def now(self) -> int:
        return int(time.time() + self.offset)

    def advance(self, seconds: float) -> int:
        if not math.isfinite(seconds) or seconds > 100 * 365 * DAY:
            raise BadRequest("seconds must be a finite number of seconds.", param="seconds")
        if seconds < 0:
            raise BadRequest("The clock only moves forward.", param="seconds")
        self.offset += seconds
        self._store.set_setting("clock_offset", self.offset)
        return self.now()

    def reset(self) -> None:
        self.offset = 0.0
        self._store.set_setting("clock_offset", 0.0)


class Service:
    """Files, batches and control operations for every namespace of one state directory."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings.state_dir)
        self.clock = Clock(self.store)
        self.wake = threading.Event()  # set to make the runner look again at once
        #: held by the runner while it advances one batch, and by reset: a reset never lands
        #: in the middle of a step (which could recreate files of deleted batches)
        self.step_lock = threading.RLock()
        saved = self.store.get_setting("pace")
        self.pace: Pace = pace_from(saved) if saved else settings.pace
        self.token_limit: int | None = self.store.get_setting("token_limit", settings.token_limit)
        self.on_reset: list[Callable[[list[str]], None]] = []

    # -- files ------------------------------------------------------------------------------

    def upload_file(
        self,
        namespace: str,
        *,
        stream: BinaryIO | None,
        filename: str | None,
        purpose: Any,
        expires_after: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if stream is None:
            raise missing("file")
        if purpose is None or purpose == "":
            raise missing("purpose")
        if purpose not in FILE_PURPOSES:
            raise invalid_value("purpose", purpose, list(FILE_PURPOSES))
        now = self.clock.now()
        expires_at = self._file_expiry(now, purpose, expires_after, from_form=True)
        file_id = ids.file_id()
        path = self.store.file_path(file_id)
        limit = MAX_BATCH_FILE_BYTES if purpose == "batch" else MAX_FILE_BYTES
        try:
            size, first_line, utf8 = _copy_stream(stream, path, limit)
            if size > limit:
                raise BadRequest("File is too large.")
            if purpose == "batch":
                _check_batch_upload(safe_filename(filename), first_line, utf8, size)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        obj = {
            "id": file_id,
            "object": "file",
            "bytes": size,
            "created_at": now,
            "filename": safe_filename(filename),
            "purpose": purpose,
            "status": "processed",
            "expires_at": expires_at,
            "status_details": None,
        }
        self.store.insert_file(namespace, obj)
        return obj

    def _file_expiry(
        self,
        now: int,
        purpose: str,
        expires_after: dict | None,
        *,
        name: str = "expires_after",
        from_form: bool = False,
    ) -> int | None:
        """When a file expires: ``expires_after`` ({anchor, seconds}) or the purpose's default.

        Form fields arrive as text, so ``from_form`` accepts digits for ``seconds``; in JSON it
        must be an integer.
        """
        if expires_after is None:
            return now + DEFAULT_FILE_EXPIRY if purpose == "batch" else None
        for key in ("anchor", "seconds"):
            if expires_after.get(key) in (None, ""):
                raise missing(f"{name}.{key}")
        anchor, seconds = expires_after["anchor"], expires_after["seconds"]
        if anchor != "created_at":
            raise invalid_value(f"{name}.anchor", anchor, ["created_at"])
        if from_form and isinstance(seconds, str) and seconds.strip().isdigit():
            seconds = int(seconds)
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            raise invalid_type(f"{name}.seconds", "an integer", seconds)
        if not 3600 <= seconds <= 2_592_000:
            raise BadRequest(
                f"Invalid '{name}.seconds': integer {seconds} is not between 3600 and 2592000.",
                param=f"{name}.seconds",
                code="invalid_value",
            )
        return now + seconds

    def get_file(self, namespace: str, file_id: str) -> dict[str, Any]:
        obj = self.store.get_file(namespace, file_id)
        if obj is None or (obj.get("expires_at") and obj["expires_at"] <= self.clock.now()):
            raise NotFound(f"No such File object: {file_id}", param="id")
        return obj

    def file_content_path(self, namespace: str, file_id: str) -> Path:
        obj = self.get_file(namespace, file_id)
        if obj["purpose"] in ("user_data", "assistants"):
            raise BadRequest(f"Not allowed to download files of purpose: {obj['purpose']}")
        return self.store.file_path(file_id)

    def list_files(
        self,
        namespace: str,
        *,
        purpose: str | None,
        limit: Any,
        order: Any,
        after: str | None,
    ) -> dict[str, Any]:
        limit = _int_param("limit", limit, default=10_000, low=1, high=10_000)
        order = order or "desc"
        if order not in ("asc", "desc"):
            raise invalid_value("order", order, ["asc", "desc"])
        now = self.clock.now()
        page, more = self.store.list_files(
            namespace, purpose=purpose or None, ascending=order == "asc", after=after, limit=limit
        )
        data = [f for f in page if not (f.get("expires_at") and f["expires_at"] <= now)]
        return _list(data, more)

    def delete_file(self, namespace: str, file_id: str) -> dict[str, Any]:
        self.get_file(namespace, file_id)
        self.store.delete_file(namespace, file_id)
        return {"id": file_id, "object": "file", "deleted": True}

    # -- batches ----------------------------------------------------------------------------

    def create_batch(self, namespace: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise BadRequest(
                "We could not parse the JSON body of your request. (HINT: This likely means you "
                "aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                "payload, but what was sent was not valid JSON.)"
            )
        for name in ("input_file_id", "endpoint", "completion_window"):
            if body.get(name) is None:
                raise missing(name)
        input_file_id = body["input_file_id"]
        if not isinstance(input_file_id, str):
            raise invalid_type("input_file_id", "a string", input_file_id)
        endpoint = body["endpoint"]
        if endpoint not in BATCH_ENDPOINTS:
            raise invalid_value("endpoint", endpoint, list(BATCH_ENDPOINTS))
        window = body["completion_window"]
        if window not in COMPLETION_WINDOWS:
            raise invalid_value("completion_window", window, list(COMPLETION_WINDOWS))
        metadata = check_metadata(body.get("metadata"))
        output_expiry = None
        if body.get("output_expires_after") is not None:
            spec = body["output_expires_after"]
            if not isinstance(spec, dict):
                raise invalid_type("output_expires_after", "an object", spec)
            # the same rules as expires_after on files
            output_expiry = self._file_expiry(0, "batch", spec, name="output_expires_after")
        now = self.clock.now()
        batch = new_batch(ids.batch_id(now), endpoint, input_file_id, window, metadata, now)
        internal = {
            "entered": time.time(),
            "output_expiry": output_expiry,
        }
        self.store.insert_batch(namespace, batch, internal)
        self.wake.set()
        return batch

    def get_batch(self, namespace: str, batch_id: str) -> dict[str, Any]:
        found = self.store.get_batch(namespace, batch_id)
        if found is None:
            raise NotFound(f"No batch found with id '{batch_id}'.", param="batch_id")
        return found[0]

    def list_batches(self, namespace: str, *, limit: Any, after: str | None) -> dict[str, Any]:
        limit = _int_param("limit", limit, default=20, low=1, high=100)
        page, more = self.store.list_batches(namespace, after=after, limit=limit)
        return _list(page, more)

    def cancel_batch(self, namespace: str, batch_id: str) -> dict[str, Any]:
        found = self.store.get_batch(namespace, batch_id)
        if found is None:
            raise NotFound(f"No batch found with id '{batch_id}'.", param="batch_id")
        with self.store.transaction():  # re-read under the lock: the runner may move it
            batch, internal = self.store.get_batch(namespace, batch_id)  # type: ignore[misc]
            status = batch["status"]
            if status in CANCEL_IS_NOOP:
                return batch
            if status not in CANCELLABLE:
                raise Conflict(f"Cannot cancel a batch with status '{status}'.")
            # the runner has already begun ending it (its window has passed): too late
            ending = internal.get("ending")
            if ending is None and self.clock.now() >= batch["expires_at"]:
                ending = "expired"
            if ending is not None:
                raise Conflict(f"Cannot cancel a batch with status '{ending}'.")
            transition(batch, "cancelling", self.clock.now())
            internal["entered"] = time.time()
            self.store.save_batch(batch, internal)
        self.wake.set()
        return batch

    # -- control ----------------------------------------------------------------------------

    def reset(self, namespace: str, *, single_user: bool) -> dict[str, Any]:
        with self.step_lock:
            batch_ids = self.store.reset(namespace)
            for hook in self.on_reset:
                hook(batch_ids)
        if single_user:
            self.clock.reset()
            self.set_pace(self.settings.pace)
            self.set_token_limit(self.settings.token_limit)
        return self.state()

    def set_pace(self, value: str | dict | Pace) -> Pace:
        try:
            self.pace = pace_from(value)
        except ValueError as exc:
            raise BadRequest(str(exc), param="pace") from None
        self.store.set_setting("pace", self.pace.as_dict())
        self.wake.set()
        return self.pace

    def set_token_limit(self, limit: Any) -> int | None:
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            raise BadRequest("token_limit must be a positive integer or null.", param="token_limit")
        self.token_limit = limit
        self.store.set_setting("token_limit", limit)
        return limit

    def advance_clock(self, seconds: Any) -> int:
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            raise BadRequest("seconds must be a number.", param="seconds")
        now = self.clock.advance(float(seconds))
        self.wake.set()
        return now

    def force_line(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Decide the outcome of the request with ``custom_id`` the next time one runs."""
        custom_id = body.get("custom_id")
        if not isinstance(custom_id, str):
            raise missing("custom_id")
        batch_id = body.get("batch_id")
        status_code = body.get("status_code")
        error = body.get("error")
        if status_code is None and error is None:
            raise BadRequest("Give status_code (with an optional error body) or error.")
        if status_code is not None and (not isinstance(status_code, int) or status_code < 100):
            raise BadRequest("status_code must be an HTTP status code.", param="status_code")
        outcome = {"status_code": status_code, "error": error}
        self.store.add_force(namespace, "line", batch_id, custom_id, outcome)
        return {"custom_id": custom_id, "batch_id": batch_id, **outcome}

    def force_validation(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Make a batch (or the next one validated) fail validation with the given errors."""
        code = body.get("code")
        if not isinstance(code, str):
            raise missing("code")
        outcome = {
            "code": code,
            "message": body.get("message"),
            "param": body.get("param"),
            "line": body.get("line"),
        }
        self.store.add_force(namespace, "validation", body.get("batch_id"), None, outcome)
        self.wake.set()
        return outcome

    def force_expiry(self, namespace: str, batch_id: str) -> dict[str, Any]:
        """Expire a running batch now, as if its 24 hours had passed."""
        batch = self.get_batch(namespace, batch_id)
        if batch["status"] in TERMINAL or batch["status"] in ("cancelling", "finalizing"):
            raise Conflict(f"Cannot expire a batch with status '{batch['status']}'.")
        self.store.add_force(namespace, "expiry", batch_id, None, {})
        self.wake.set()
        return batch

    def state(self) -> dict[str, Any]:
        return {
            "object": "local_server.state",
            "now": self.clock.now(),
            "clock_offset": self.clock.offset,
            "pace": self.pace.as_dict(),
            "paces": {name: p.as_dict() for name, p in PACES.items()},
            "token_limit": self.token_limit,
            "state_dir": str(self.settings.state_dir),
            "pid": os.getpid(),
            "upstream": self.settings.upstream,
            "keys_file": str(self.settings.keys_file) if self.settings.keys_file else None,
        }


# -- helpers ----------------------------------------------------------------------------------


def new_batch(
    batch_id: str,
    endpoint: str,
    input_file_id: str,
    window: str,
    metadata: dict[str, str] | None,
    now: int,
) -> dict[str, Any]:
    """A Batch object as the real API returns it at creation: every key, explicit nulls."""
    return {
        "id": batch_id,
        "object": "batch",
        "endpoint": endpoint,
        "errors": None,
        "input_file_id": input_file_id,
        "completion_window": window,
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "created_at": now,
        "in_progress_at": None,
        "expires_at": now + DAY,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": metadata,
        "model": None,
        "usage": json.loads(json.dumps(ZERO_USAGE)),
    }


def check_metadata(metadata: Any) -> dict[str, str] | None:
    """Apply OpenAI's metadata limits: 16 keys, keys <= 64 and values <= 512 characters."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise invalid_type("metadata", "an object", metadata)
    if len(metadata) > METADATA_MAX_KEYS:
        raise BadRequest(
            "Invalid 'metadata': too many properties. Expected an object with at most "
            f"{METADATA_MAX_KEYS} properties, but got an object with {len(metadata)} "
            "properties instead.",
            param="metadata",
            code="object_above_max_properties",
        )
    for key, value in metadata.items():
        if len(key) > METADATA_MAX_KEY:
            raise BadRequest(
                f"Invalid property name in 'metadata': '{key}' is too long. Expected a string "
                f"with maximum length {METADATA_MAX_KEY}, but got a string with length "
                f"{len(key)} instead.",
                param=f"metadata.{key}",
                code="string_above_max_length",
            )
        if not isinstance(value, str):
            raise invalid_type(f"metadata.{key}", "a string", value)
        if len(value) > METADATA_MAX_VALUE:
            raise BadRequest(
                f"Invalid 'metadata.{key}': string too long. Expected a string with maximum "
                f"length {METADATA_MAX_VALUE}, but got a string with length {len(value)} "
                "instead.",
                param=f"metadata.{key}",
                code="string_above_max_length",
            )
    return dict(metadata)


def safe_filename(name: str | None) -> str:
    """The last component of an uploaded name: no directories, no '..'."""
    if not name:
        return "upload"
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if base in ("", ".", ".."):
        return "upload"
    return base.replace("\x00", "")


def _copy_stream(stream: BinaryIO, path: Path, limit: int) -> tuple[int, bytes, bool]:
    """Copy an upload to ``path`` chunk by chunk, stopping past ``limit``.

    Returns (bytes seen, the first non-blank line, whether everything decoded as UTF-8).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    size = 0
    head = b""
    first_line: bytes | None = None
    with open(path, "wb") as out:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                return size, b"", utf8
            out.write(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            if first_line is None and len(head) < 16 * CHUNK:
                head += chunk
                for line in head.split(b"\n")[:-1]:
                    if line.strip():
                        first_line = line
                        break
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if first_line is None:
        # a first line longer than the head is still a line: read it back from disk
        first_line = _first_line(path) if len(head) >= 16 * CHUNK else head.strip()
    return size, first_line, utf8


def _first_line(path: Path) -> bytes:
    """The first non-blank line of a file on disk, without its newline."""
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.strip():
                return raw.rstrip(b"\n")
    return b""


def _check_batch_upload(filename: str, first_line: bytes, utf8: bool, size: int) -> None:
    """Upload-time checks for purpose=batch: a .jsonl name, UTF-8, a first line that parses."""
    bad_format = BadRequest("Invalid file format for Batch API. Must be .jsonl")
    if not filename.lower().endswith(".jsonl") or size == 0 or not utf8:
        raise bad_format
    try:
        first = json.loads(first_line.decode("utf-8-sig"))
    except ValueError:
        raise bad_format from None
    if not isinstance(first, dict):
        raise bad_format


def _int_param(name: str, value: Any, *, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid_type(name, "an integer", value) from None
    if not low <= number <= high:
        raise BadRequest(
            f"Invalid '{name}': integer {number} is not between {low} and {high}.",
            param=name,
            code="invalid_value",
        )
    return number


def _list(data: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": more,
    }


__all__ = ["APIError", "Service", "Clock", "new_batch", "check_metadata", "safe_filename"]
