"""The domain: files, batches and the control operations, independent of HTTP.

Every state change of a file or a batch happens here, and every File and Batch object is built
here (:func:`new_file_object`, :func:`new_batch`). Routes in :mod:`.app` parse a request and call
one method; the runner (:mod:`.runner`) decides *when* a batch moves and calls the methods under
"Running batches" to move it. Rules live here, in :mod:`.validation` (what an input file must be)
and in :mod:`.lifecycle` (which status may follow which); every failure is an
:class:`.errors.APIError`.

One lock (:attr:`Service.lock`) makes each change atomic: writing a batch's result lines and
saving its counts, publishing its result files, a reset. It is never held while a request is
answered or a file is validated, so a slow responder delays nobody else.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from . import ids
from .config import PACES, Pace, Settings, pace_from
from .constants import (
    BATCH_ENDPOINTS,
    BATCH_WINDOW,
    COMPLETION_WINDOWS,
    DAY,
    DEFAULT_FILE_EXPIRY,
    DEFAULT_NAMESPACE,
    DEFAULT_TOKEN_LIMIT,
    FILE_EXPIRY_RANGE,
    FILE_PURPOSES,
    MAX_BATCH_FILE_BYTES,
    MAX_FILE_BYTES,
    METADATA_MAX_KEY,
    METADATA_MAX_KEYS,
    METADATA_MAX_VALUE,
)
from .errors import (
    APIError,
    BadRequest,
    BatchError,
    Conflict,
    NotFound,
    batch_error,
    file_not_found_error,
    invalid_json_body,
    invalid_type,
    invalid_value,
    not_between,
    token_limit_error,
    wrong_purpose_error,
)
from .errors import missing_parameter as missing
from .lifecycle import ACTIVE, CANCEL_IS_NOOP, CANCELLABLE, TERMINAL, transition
from .models import resolve_model
from .store import Store
from .validation import UploadCheck, ValidationReport, first_model, validate_file
from .webhooks import Outbox
from .worklog import Progress, WorkLog

log = logging.getLogger("batch_api_local.service")

#: bytes read from an upload at a time
CHUNK = 1024 * 1024

ZERO_USAGE = {
    "input_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 0,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 0,
}


def setting_key(namespace: str, name: str) -> str:
    """Where a namespace's setting is saved (the default namespace keeps the plain names)."""
    return name if namespace == DEFAULT_NAMESPACE else f"{namespace}/{name}"


class Clock:
    """A namespace's clock: real time plus an offset that control calls can move forward."""

    #: the furthest the clock may be moved, in total
    MAX_OFFSET = 100 * 365 * DAY

    def __init__(self, store: Store, namespace: str = DEFAULT_NAMESPACE) -> None:
        self._store = store
        self._key = setting_key(namespace, "clock_offset")
        saved = store.get_setting(self._key, 0.0)
        valid = isinstance(saved, int | float) and math.isfinite(saved)
        self.offset = float(saved) if valid and 0 <= saved <= self.MAX_OFFSET else 0.0

    def now(self) -> int:
        return int(time.time() + self.offset)

    def advance(self, seconds: float) -> int:
        if not math.isfinite(seconds) or self.offset + seconds > self.MAX_OFFSET:
            raise BadRequest(
                "seconds must be a finite number; the clock moves at most 100 years in all.",
                param="seconds",
            )
        if seconds < 0:
            raise BadRequest("The clock only moves forward.", param="seconds")
        self.offset += seconds
        self._store.set_setting(self._key, self.offset)
        return self.now()

    def reset(self) -> None:
        self.offset = 0.0
        self._store.set_setting(self._key, 0.0)


class FileUpload:
    """One upload being received: its bytes go to a temporary file as they arrive, checked as
    they go (size, and for batch files :class:`.validation.UploadCheck`).

    :meth:`write` raises ``File is too large.`` as soon as the limit is passed, so the caller can
    stop reading; :meth:`abort` leaves nothing on disk.
    """

    def __init__(self, store: Store, filename: str, limit: int) -> None:
        self.filename = filename
        self.limit = limit
        self.check = UploadCheck(filename)
        self.path = store.files_dir / f".upload-{ids.request_id()}"
        self._out: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 - closed by close/abort

    @property
    def size(self) -> int:
        return self.check.size

    def write(self, data: bytes) -> None:
        self.check.feed(data)
        if self.check.size > self.limit:
            raise batch_error("file_too_large").as_api_error()
        assert self._out is not None, "write after close"
        self._out.write(data)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def abort(self) -> None:
        try:
            self.close()
        finally:
            self.path.unlink(missing_ok=True)


@dataclass
class Tenant:
    """What belongs to one namespace besides its files and batches: its clock, pace and
    enqueued-token limit. One student's control calls change only their own."""

    clock: Clock
    pace: Pace
    token_limit: int | None


@dataclass(frozen=True)
class Verdict:
    """What validating a batch found: its errors, or the report to start running it with."""

    errors: list[BatchError]
    report: ValidationReport | None = None
    #: the forced validation outcome that decided it, deleted when the verdict is saved
    force_seq: int | None = None


class Service:
    """Files, batches and control operations for every namespace of one state directory."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings.state_dir)
        self._tenants: dict[str, Tenant] = {}
        #: set whenever there is something new for the runner to look at
        self.wake = threading.Event()
        #: makes each change below atomic; never held while a request is answered
        self.lock = threading.RLock()
        #: a random token that tells this process apart from any other on the same port
        self.instance = ids.request_id()
        #: webhook endpoints and the events waiting for delivery (see :mod:`.webhooks`)
        self.outbox = Outbox(self.store, settings, setting_key)

    # -- namespaces -------------------------------------------------------------------------

    def tenant(self, namespace: str) -> Tenant:
        """A namespace's clock, pace and token limit: the start-up values, or those saved at run
        time for it (a saved value that is not valid is ignored, with a warning)."""
        found = self._tenants.get(namespace)
        if found is not None:
            return found
        pace, limit = self.settings.pace, self.settings.token_limit
        saved = self.store.get_setting(setting_key(namespace, "pace"))
        if saved is not None:
            try:
                pace = pace_from(saved)
            except ValueError:
                log.warning("ignoring the saved pace %r of %s: not a valid pace", saved, namespace)
        saved = self.store.get_setting(setting_key(namespace, "token_limit"), limit)
        if saved is None or _valid_token_limit(saved):
            limit = saved
        else:
            log.warning("ignoring the saved token limit %r of %s", saved, namespace)
        found = self._tenants[namespace] = Tenant(Clock(self.store, namespace), pace, limit)
        return found

    def clock(self, namespace: str) -> Clock:
        return self.tenant(namespace).clock

    def now(self, namespace: str) -> int:
        """The time on a namespace's clock (Unix seconds)."""
        return self.tenant(namespace).clock.now()

    def pace(self, namespace: str) -> Pace:
        return self.tenant(namespace).pace

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
        """Store an upload read from ``stream`` (in one go; the route streams it instead)."""
        if stream is None:
            raise missing("file")
        upload = self.begin_upload(filename, purpose)
        try:
            while chunk := stream.read(CHUNK):
                upload.write(chunk)
        except BaseException:
            upload.abort()
            raise
        return self.finish_upload(namespace, upload, purpose=purpose, expires_after=expires_after)

    def begin_upload(self, filename: str | None, purpose: Any = None) -> FileUpload:
        """Start receiving a file's bytes (see :class:`FileUpload`)."""
        limit = MAX_BATCH_FILE_BYTES if purpose == "batch" else MAX_FILE_BYTES
        return FileUpload(self.store, safe_filename(filename), limit)

    def finish_upload(
        self,
        namespace: str,
        upload: FileUpload | None,
        *,
        purpose: Any,
        expires_after: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Check a received upload against the rules and store it as a File, or discard it."""
        try:
            if upload is None:
                raise missing("file")
            if purpose is None or purpose == "":
                raise missing("purpose")
            if purpose not in FILE_PURPOSES:
                raise invalid_value("purpose", purpose, list(FILE_PURPOSES))
            now = self.now(namespace)
            expires_at = self._file_expiry(now, purpose, expires_after, from_form=True)
            upload.close()
            if purpose == "batch":
                if upload.size > MAX_BATCH_FILE_BYTES:
                    raise batch_error("file_too_large").as_api_error()
                problem = upload.check.result(upload.path)
                if problem is not None:
                    raise problem.as_api_error()
            file_id = ids.file_id()
            obj = new_file_object(file_id, upload.size, now, upload.filename, purpose, expires_at)
            os.replace(upload.path, self.store.file_path(file_id))
            try:
                self.store.insert_file(namespace, obj)
            except BaseException:
                self.store.file_path(file_id).unlink(missing_ok=True)
                raise
        except BaseException:
            if upload is not None:
                upload.abort()
            raise
        return obj

    def _file_expiry(
        self,
        now: int,
        purpose: str,
        expires_after: dict[str, Any] | None,
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
        low, high = FILE_EXPIRY_RANGE
        if not low <= seconds <= high:
            raise not_between(f"{name}.seconds", seconds, low, high)
        return now + seconds

    def get_file(self, namespace: str, file_id: str) -> dict[str, Any]:
        obj = self.store.get_file(namespace, file_id)
        if obj is None or (obj.get("expires_at") and obj["expires_at"] <= self.now(namespace)):
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
        now = self.now(namespace)
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
            raise invalid_json_body()
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
        now = self.now(namespace)
        batch = new_batch(ids.batch_id(now), endpoint, input_file_id, window, metadata, now)
        internal = {"entered": time.time(), "output_expiry": output_expiry}
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
        self.get_batch(namespace, batch_id)
        with self._editing(batch_id) as (batch, internal):
            status = batch["status"]
            if status in CANCEL_IS_NOOP:
                return batch
            if status not in CANCELLABLE:
                raise Conflict(f"Cannot cancel a batch with status '{status}'.")
            ending = self._ending(namespace, batch, internal)
            if ending is not None:  # its window has passed: it is expiring, too late
                raise Conflict(f"Cannot cancel a batch with status '{ending}'.")
            self._move(namespace, batch, internal, "cancelling")
        return batch

    # -- running batches (called by the runner) ----------------------------------------------

    def active_batches(self) -> list[tuple[str, str]]:
        """(namespace, id) of every batch that has not ended, oldest first."""
        return self.store.active_batch_ids()

    def load(self, batch_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """A batch and its internal state, whatever its namespace."""
        return self.store.get_batch(None, batch_id)

    def worklog(self, batch_id: str) -> WorkLog:
        return WorkLog(self.store.work_dir, batch_id)

    def due_ending(
        self, namespace: str, batch: dict[str, Any], internal: dict[str, Any]
    ) -> str | None:
        """How a running batch must end now, if it must: "expired" or "cancelled", or None.

        An ending already under way (decided before a restart) goes on; a validating or running
        batch expires when its 24 h window has passed or an expiry was forced.
        """
        ending = internal.get("ending")
        if ending is not None:
            return (
                ending if batch["status"] in ("validating", "in_progress", "cancelling") else None
            )
        if batch["status"] not in CANCELLABLE:
            return None
        if self._ending(namespace, batch, internal) is not None:
            return "expired"
        if self.store.forces(namespace, "expiry", batch["id"]):
            return "expired"  # the forced expiry is deleted when the ending is marked
        return None

    def _ending(
        self, namespace: str, batch: dict[str, Any], internal: dict[str, Any]
    ) -> str | None:
        """The one rule for "this batch is ending": marked so, or its window has passed."""
        if internal.get("ending") is not None:
            return internal["ending"]
        if self.now(namespace) >= batch["expires_at"]:
            return "expired"
        return None

    def validate(self, namespace: str, batch: dict[str, Any]) -> Verdict:
        """Validate a batch's input file (slow for a big file: call it without the lock).

        A forced validation outcome wins; then the input file must exist, have purpose
        ``batch`` and pass :func:`.validation.validate_file`.
        """
        forced = self.store.forces(namespace, "validation", batch["id"])
        if forced:
            seq, outcome = forced[0]
            return Verdict([self._forced_validation_error(namespace, batch, outcome)], None, seq)
        file = self.store.get_file(namespace, batch["input_file_id"])
        if file is None or (file.get("expires_at") and file["expires_at"] <= self.now(namespace)):
            return Verdict(
                [file_not_found_error(batch["input_file_id"], self.settings.organization)]
            )
        if file["purpose"] != "batch":
            return Verdict([wrong_purpose_error(file["id"], file["purpose"])])
        report = validate_file(
            self.store.file_path(file["id"]),
            batch["endpoint"],
            any_model=bool(self.settings.upstream or self.settings.replay)
            or self.settings.any_model,
        )
        return Verdict(list(report.errors), report)

    def _forced_validation_error(
        self, namespace: str, batch: dict[str, Any], outcome: dict[str, Any]
    ) -> BatchError:
        code, message = outcome["code"], outcome.get("message")
        if code == "token_limit_exceeded" and not message:
            file = self.store.get_file(namespace, batch["input_file_id"])
            model = first_model(self.store.file_path(file["id"])) if file else None
            limit = self.tenant(namespace).token_limit or DEFAULT_TOKEN_LIMIT
            return token_limit_error(model or "gpt-4o-mini", limit, self.settings.organization)
        return BatchError(
            code,
            message or batch_error("forced", code=code).message,
            outcome.get("param"),
            outcome.get("line"),
        )

    def finish_validation(self, namespace: str, batch_id: str, verdict: Verdict) -> None:
        """Save a verdict: ``failed`` with ``errors.data``, or ``in_progress`` with its requests.

        The enqueued-token limit is checked here, under the lock, against the batches running
        at this moment.
        """
        with self._editing(batch_id, "validating") as found:
            if found is None:
                return
            batch, internal = found
            if verdict.force_seq is not None:
                self.store.delete_force(verdict.force_seq)
            errors = list(verdict.errors)
            report = verdict.report
            if not errors and report is not None and report.model is not None:
                limit = self.tenant(namespace).token_limit
                enqueued = self.store.enqueued_tokens(namespace, report.model, batch_id)
                if limit is not None and enqueued + report.input_tokens > limit:
                    errors.append(
                        token_limit_error(report.model, limit, self.settings.organization)
                    )
            if errors or report is None:
                self._fail(namespace, batch, internal, errors)
                return
            self.worklog(batch_id).keep_input(
                self.store.file_path(batch["input_file_id"]),
                report.line_tokens if len(report.line_tokens) == report.requests else None,
            )
            info = resolve_model(report.model or "")
            batch["request_counts"]["total"] = report.requests
            batch["model"] = info.snapshot if info else report.model
            internal["model"] = report.model
            internal["input_tokens"] = report.input_tokens
            self._move(namespace, batch, internal, "in_progress")

    def fail_validation(self, namespace: str, batch_id: str, error: BatchError) -> None:
        """End a validating batch with one error (validation itself broke)."""
        with self._editing(batch_id, "validating") as found:
            if found is not None:
                batch, internal = found
                self._fail(namespace, batch, internal, [error])

    def _fail(
        self,
        namespace: str,
        batch: dict[str, Any],
        internal: dict[str, Any],
        errors: list[BatchError],
    ) -> None:
        batch["errors"] = {"object": "list", "data": [e.as_dict() for e in errors]}
        self._move(namespace, batch, internal, "failed")

    def forced_lines(self, namespace: str, batch_id: str) -> dict[str, tuple[int, dict[str, Any]]]:
        """Forced outcomes for the lines of a batch, by custom_id: (seq, outcome)."""
        forces: dict[str, tuple[int, dict[str, Any]]] = {}
        for seq, outcome in self.store.forces(namespace, "line", batch_id):
            forces.setdefault(outcome["custom_id"], (seq, outcome))
        return forces

    def record_results(
        self,
        batch_id: str,
        log: WorkLog,
        progress: Progress,
        lines: list[tuple[dict[str, Any], bool]],
        *,
        used_forces: list[int] = (),  # type: ignore[assignment]
    ) -> bool:
        """Append result lines (``(line, ok)``) to a batch's work log and save its counts.

        The lines, the counts and the deletion of the forced outcomes they used land together.
        Returns False, writing nothing, when the batch no longer exists (a reset) or has ended.
        """
        with self.lock:
            found = self.load(batch_id)
            if found is None or found[0]["status"] not in ACTIVE:
                return False
            for line, ok in log.append(lines):
                progress.count(line, ok=ok)
            with self._editing(batch_id) as (batch, _):
                for seq in used_forces:
                    self.store.delete_force(seq)
                counts = batch["request_counts"]
                counts["completed"], counts["failed"] = progress.completed, progress.failed
        return True

    def finish_requests(self, namespace: str, batch_id: str, progress: Progress) -> None:
        """Every request has run: ``in_progress`` → ``finalizing``."""
        with self._editing(batch_id, "in_progress") as found:
            if found is not None:
                batch, internal = found
                counts = batch["request_counts"]
                counts["completed"], counts["failed"] = progress.completed, progress.failed
                self._move(namespace, batch, internal, "finalizing")

    def begin_ending(self, namespace: str, batch_id: str, status: str, final: str) -> bool:
        """Mark a batch as ending in ``final`` (from now on a cancel cannot change that).

        Returns whether the batch is still in ``status`` and so marked.
        """
        with self._editing(batch_id, status) as found:
            if found is None:
                return False
            found[1]["ending"] = final
            self.store.delete_forces(namespace, "expiry", batch_id)
        return True

    def publish(
        self, namespace: str, batch_id: str, expect: str, final: str, progress: Progress | None
    ) -> bool:
        """End a batch in ``final``: its work files become ``batch_output`` files.

        First the file ids, counts and usage are saved with the batch (``publish``); then the
        work files are moved; then the file objects and the final status are written in one
        transaction. A restart at any point picks up from the saved ``publish``. Returns whether
        the batch ended (False: it was no longer in ``expect``).
        """
        log = self.worklog(batch_id)
        with self.lock:
            with self._editing(batch_id, expect) as found:
                if found is None:
                    return False
                batch, internal = found
                pending = internal.get("publish")
                if pending is None:  # decide everything first, so a restart reuses it
                    pending = internal["publish"] = {
                        "files": {kind: ids.file_id() for kind in log.results()},
                        "counts": [progress.completed, progress.failed] if progress else None,
                        "usage": progress.usage_object() if progress else None,
                    }
            shuffle = self.settings.output_order == "shuffled"
            for kind, file_id in pending["files"].items():
                log.take(kind, self.store.file_path(file_id), shuffle=shuffle)
            now = self.now(namespace)
            expiry = internal.get("output_expiry") or DEFAULT_FILE_EXPIRY
            with self._editing(batch_id, expect) as found:
                if found is None:
                    return False
                batch, internal = found
                for kind, file_id in pending["files"].items():
                    if self.store.get_file(namespace, file_id) is None:
                        size = self.store.file_path(file_id).stat().st_size
                        name = f"{batch_id}_{kind}.jsonl"
                        obj = new_file_object(
                            file_id, size, now, name, "batch_output", now + expiry
                        )
                        self.store.insert_file(namespace, obj)
                batch["output_file_id"] = pending["files"].get("output")
                batch["error_file_id"] = pending["files"].get("error")
                if pending["counts"] is not None:
                    counts = batch["request_counts"]
                    counts["completed"], counts["failed"] = pending["counts"]
                if pending["usage"] is not None:
                    batch["usage"] = pending["usage"]
                self._move(namespace, batch, internal, final)
            log.remove()
        return True

    def clean_leftovers(self) -> None:
        """Delete what a crash can leave: work files of batches no longer running, and uploads
        that were never finished."""
        active = {batch_id for _, batch_id in self.active_batches()}
        for path in self.store.work_dir.iterdir():
            if path.name.split(".", 1)[0] not in active:
                path.unlink(missing_ok=True)
        for pattern in (".upload-*", ".deleted-*"):
            for path in self.store.files_dir.glob(pattern):
                path.unlink(missing_ok=True)

    @contextmanager
    def _editing(self, batch_id: str, expect: str | None = None) -> Iterator[Any]:
        """Read, change and save one batch in a transaction under the lock.

        Yields (batch, internal), or None when the batch is gone or not in ``expect``.
        """
        with self.lock, self.store.transaction():
            found = self.load(batch_id)
            if found is None or (expect is not None and found[0]["status"] != expect):
                if expect is None:
                    raise NotFound(f"No batch found with id '{batch_id}'.", param="batch_id")
                yield None
                return
            yield found
            self.store.save_batch(*found)

    def _move(
        self, namespace: str, batch: dict[str, Any], internal: dict[str, Any], status: str
    ) -> None:
        transition(batch, status, self.now(namespace))
        internal["entered"] = time.time()
        if status in TERMINAL:  # in the transaction that saves the status: sent exactly once
            self.outbox.enqueue(namespace, batch)
        self.wake.set()

    # -- control ----------------------------------------------------------------------------

    def reset(self, namespace: str) -> dict[str, Any]:
        """Delete a namespace's files, batches and forced outcomes (and their work files), and
        put its clock, pace and token limit back to the server's start-up values. Its webhook
        events go too, and its webhook endpoint back to the server's."""
        with self.lock:
            self.store.reset(namespace)
            self.outbox.reset(namespace)
        self.clock(namespace).reset()
        self.set_pace(namespace, self.settings.pace)
        self.set_token_limit(namespace, self.settings.token_limit)
        return self.state(namespace)

    def set_pace(self, namespace: str, value: str | dict[str, Any] | Pace) -> Pace:
        try:
            pace = pace_from(value)
        except ValueError as exc:
            raise BadRequest(str(exc), param="pace") from None
        self.store.set_setting(setting_key(namespace, "pace"), pace.as_dict())
        self.tenant(namespace).pace = pace
        self.wake.set()
        return pace

    def set_token_limit(self, namespace: str, limit: Any) -> int | None:
        if limit is not None and not _valid_token_limit(limit):
            raise BadRequest(
                "token_limit must be a positive integer (at most 10**15) or null.",
                param="token_limit",
            )
        self.store.set_setting(setting_key(namespace, "token_limit"), limit)
        self.tenant(namespace).token_limit = limit
        return limit

    def advance_clock(self, namespace: str, seconds: Any) -> int:
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            raise BadRequest("seconds must be a number.", param="seconds")
        try:
            seconds = float(seconds)
        except OverflowError:  # an integer too large for a float
            seconds = math.inf
        now = self.clock(namespace).advance(seconds)
        self.wake.set()
        return now

    def force_line(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Decide the outcome of the request with ``custom_id`` the next time one runs."""
        custom_id = body.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            raise missing("custom_id")
        batch_id = _optional_str(body, "batch_id")
        status_code = body.get("status_code")
        error = body.get("error")
        if status_code is None and error is None:
            raise BadRequest("Give status_code (with an optional error body) or error.")
        if status_code is not None:
            if not isinstance(status_code, int) or not 400 <= status_code <= 599:
                raise BadRequest(
                    "status_code must be an HTTP error status, from 400 to 599.",
                    param="status_code",
                )
            if error is not None:
                error = _forced_error_body(error)
        else:
            error = _forced_line_error(error)
        outcome = {"status_code": status_code, "error": error}
        self.store.add_force(namespace, "line", batch_id, custom_id, outcome)
        return {"custom_id": custom_id, "batch_id": batch_id, **outcome}

    def force_validation(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Make a batch (or the next one validated) fail validation with the given errors."""
        code = body.get("code")
        if not isinstance(code, str) or not code:
            raise missing("code")
        line = body.get("line")
        if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 1):
            raise BadRequest("line must be a line number (1 or more) or null.", param="line")
        outcome = {
            "code": code,
            "message": _optional_str(body, "message"),
            "param": _optional_str(body, "param"),
            "line": line,
        }
        batch_id = _optional_str(body, "batch_id")
        self.store.add_force(namespace, "validation", batch_id, None, outcome)
        self.wake.set()
        return outcome

    def force_expiry(self, namespace: str, batch_id: str) -> dict[str, Any]:
        """Expire a running batch now, as if its 24 hours had passed."""
        batch = self.get_batch(namespace, batch_id)
        if batch["status"] not in CANCELLABLE:
            raise Conflict(f"Cannot expire a batch with status '{batch['status']}'.")
        self.store.add_force(namespace, "expiry", batch_id, None, {})
        self.wake.set()
        return batch

    def set_webhook(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send this namespace's events to ``url`` signed with ``secret`` (a new one when not
        given, shown this once), or, with ``url`` null, go back to the server's setting."""
        return self.outbox.configure(namespace, body)

    def webhook_events(self, namespace: str, **filters: Any) -> dict[str, Any]:
        """A namespace's webhook events and how their delivery went, newest first."""
        return self.outbox.events(namespace, **filters)

    def state(self, namespace: str, *, details: bool = True) -> dict[str, Any]:
        """A namespace's clock, pace and token limit; with ``details``, also where the server
        keeps its state and what it talks to (for its owner or an instructor only)."""
        tenant = self.tenant(namespace)
        state: dict[str, Any] = {
            "object": "local_server.state",
            "namespace": namespace,
            "now": tenant.clock.now(),
            "clock_offset": tenant.clock.offset,
            "pace": tenant.pace.as_dict(),
            "paces": {name: p.as_dict() for name, p in PACES.items()},
            "token_limit": tenant.token_limit,
            "responder": self.settings.responder,
        }
        if details:
            state["state_dir"] = str(self.settings.state_dir)
            state["pid"] = os.getpid()
            state["upstream"] = self.settings.upstream
            state["replay"] = str(self.settings.replay) if self.settings.replay else None
            state["record"] = str(self.settings.record) if self.settings.record else None
            state["keys_file"] = str(self.settings.keys_file) if self.settings.keys_file else None
        return state

    def class_view(self, students: dict[str, str]) -> dict[str, Any]:
        """One row per student (namespace → label): files, batches by status, last activity
        and the notebooks their batches came from (``metadata["notebook"]``)."""
        rows = []
        for namespace, label in students.items():
            summary = self.store.summary(namespace, self.now(namespace))
            notebooks = sorted(summary["notebooks"])
            rows.append(
                {
                    "label": label,
                    "namespace": namespace,
                    "files": summary["files"],
                    "batches": dict(sorted(summary["batches"].items())),
                    "last_activity": summary["last_activity"],
                    "notebooks": notebooks,
                    "furthest_notebook": notebooks[-1] if notebooks else None,
                    "now": self.now(namespace),
                }
            )
        return {"object": "local_server.class", "data": rows}


# -- the objects the API returns ----------------------------------------------------------------


def new_file_object(
    file_id: str, size: int, now: int, filename: str, purpose: str, expires_at: int | None
) -> dict[str, Any]:
    """A File object as the real API returns it: every key, explicit nulls."""
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": now,
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "expires_at": expires_at,
        "status_details": None,
    }


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
        "expires_at": now + BATCH_WINDOW,
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


def _valid_token_limit(limit: Any) -> bool:
    return isinstance(limit, int) and not isinstance(limit, bool) and 1 <= limit <= 10**15


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid_type(name, "a string", value)
    return value


def _forced_error_body(error: Any) -> dict[str, Any]:
    """A forced line's HTTP error body, ``{"error": {...}}`` (or just the inner object)."""
    if not isinstance(error, dict):
        raise invalid_type("error", "an object", error)
    inner = error.get("error", error)
    if not isinstance(inner, dict) or not isinstance(inner.get("message"), str):
        raise BadRequest(
            "error must be an error body: an object with a string 'message'.", param="error"
        )
    return {
        "error": {
            "message": inner["message"],
            "type": str(inner.get("type") or "invalid_request_error"),
            "param": inner.get("param") if isinstance(inner.get("param"), str) else None,
            "code": inner.get("code") if isinstance(inner.get("code"), str) else None,
        }
    }


def _forced_line_error(error: Any) -> dict[str, str]:
    """A forced line's ``error`` when it got no HTTP answer: ``{"code", "message"}`` strings."""
    if not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
    ):
        raise BadRequest(
            "error must be an object with a string 'code' and a string 'message'.", param="error"
        )
    return {"code": error["code"], "message": error["message"]}


def _int_param(name: str, value: Any, *, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    # plain decimal digits only: Python's int() would also take "1_0", " 7 " or "١٠"
    if not (isinstance(value, int) or re.fullmatch(r"-?[0-9]{1,19}", str(value))):
        raise invalid_type(name, "an integer", value)
    number = int(value)
    if not low <= number <= high:
        raise not_between(name, number, low, high)
    return number


def _list(data: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": more,
    }


__all__ = [
    "APIError",
    "Clock",
    "Service",
    "Verdict",
    "check_metadata",
    "new_batch",
    "new_file_object",
    "safe_filename",
]
