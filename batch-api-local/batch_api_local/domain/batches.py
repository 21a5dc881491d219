"""Batches: creating, finding, listing and cancelling them, and the state machine a batch runs.

The first part is the Batches API. The second part is what the runner (:mod:`..runner`) calls
to move a running batch: validate its input file and save the verdict, record result lines,
finish its requests, begin an ending (expiry or cancel) and publish its result files. Which
status may follow which is :mod:`..lifecycle`'s table; every move goes through :meth:`_move`,
which also queues the batch's webhook event when it reaches a final status, in the same
transaction.

Each change is one short SQLite transaction (:meth:`_editing`): no lock is ever held while a
file is read or written. File work (keeping the input file, appending result lines, moving the
result files into place) happens between transactions; one job at a time works on a batch (the
runner sees to that), and a batch that a reset deleted meanwhile is noticed by the next
transaction, which then removes what was written for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import ids, wire
from ..config import Settings
from ..constants import (
    BATCH_ENDPOINTS,
    COMPLETION_WINDOWS,
    DEFAULT_FILE_EXPIRY,
    DEFAULT_TOKEN_LIMIT,
    ENDPOINTS_IN_ERRORS,
    METADATA_MAX_KEY,
    METADATA_MAX_KEYS,
    METADATA_MAX_VALUE,
)
from ..errors import (
    BatchError,
    Conflict,
    batch_error,
    cannot_cancel,
    file_not_found_error,
    invalid_json_body,
    invalid_type,
    invalid_value,
    metadata_key_too_long,
    metadata_value_too_long,
    missing_parameter,
    no_such_batch,
    request_limit_error,
    token_limit_error,
    too_many_metadata_keys,
    unsupported_endpoint,
    wrong_purpose_error,
)
from ..lifecycle import ACTIVE, CANCEL_IS_NOOP, CANCELLABLE, TERMINAL, transition
from ..models import resolve_model
from ..records import BatchRecord, Publishing
from ..store import Store
from ..validation import ValidationReport, first_model, validate_file
from ..webhooks import Outbox
from ..worklog import Progress, WorkLog
from .files import Files, expiry_time
from .tenants import Tenants

log = logging.getLogger("batch_api_local.batches")

#: statuses in which a batch can still be expired (by its window, or on demand)
EXPIRABLE = CANCELLABLE


#: statuses in which an ending already decided (before a restart, say) goes on
ENDING_GOES_ON = ("validating", "in_progress", "cancelling")


@dataclass(frozen=True)
class RunningBatch:
    """What the runner reads of a batch that has not ended, each time it looks, without
    loading it: enough to tell whether it has something to do now (:meth:`Batches.running`)."""

    namespace: str
    id: str
    status: str
    #: when it entered its status (``time.time()``)
    entered: float
    #: how it is ending, once decided
    ending: str | None
    expires_at: int
    #: its requests, once validated
    total: int
    #: an expiry forced by a control call is waiting for it
    expiry_forced: bool


@dataclass(frozen=True)
class Verdict:
    """What validating a batch found: its errors, or the report to start running it with."""

    errors: list[BatchError]
    report: ValidationReport | None = None
    #: the forced validation outcome that decided it, deleted when the verdict is saved
    force_seq: int | None = None


class Batches:
    """The batches of every namespace, and the moves of a running batch."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        tenants: Tenants,
        files: Files,
        outbox: Outbox,
        wake: threading.Event,
    ) -> None:
        self.store = store
        self.settings = settings
        self.tenants = tenants
        self.files = files
        self.outbox = outbox
        self._wake = wake

    # -- the Batches API ---------------------------------------------------------------------

    def create(self, namespace: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid_json_body()
        for name in ("input_file_id", "endpoint", "completion_window"):
            if body.get(name) is None:
                raise missing_parameter(name)
        input_file_id = body["input_file_id"]
        if not isinstance(input_file_id, str):
            raise invalid_type("input_file_id", "a string", input_file_id)
        endpoint = body["endpoint"]
        if endpoint not in BATCH_ENDPOINTS:
            raise unsupported_endpoint(endpoint, ENDPOINTS_IN_ERRORS)
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
            output_expiry = expiry_time(0, "batch", spec, name="output_expires_after")
        now = self.tenants.now(namespace)
        batch = wire.batch_object(ids.batch_id(now), endpoint, input_file_id, window, metadata, now)
        if self.settings.like_live:  # the SDK types usage Optional: --like-live leaves it out
            batch["usage"] = None
        self.store.insert_batch(namespace, batch, BatchRecord(output_expiry=output_expiry))
        self._wake.set()
        return batch

    def get(self, namespace: str, batch_id: str) -> dict[str, Any]:
        found = self.store.get_batch_object(namespace, batch_id)
        if found is None:
            raise no_such_batch(batch_id)
        return found

    def page(self, namespace: str, *, limit: int, after: str | None) -> dict[str, Any]:
        """A page of a namespace's batches, newest first."""
        found, more = self.store.list_batches(namespace, after=after, limit=limit)
        return wire.page(found, more)

    def cancel(self, namespace: str, batch_id: str) -> dict[str, Any]:
        self.get(namespace, batch_id)
        with self._editing(batch_id) as (batch, record):
            status = batch["status"]
            if status in CANCEL_IS_NOOP:
                return batch
            if status not in CANCELLABLE:
                raise cannot_cancel(status)
            ending = self._ending(namespace, batch, record)
            if ending is not None:  # its window has passed: it is expiring, too late
                raise cannot_cancel(ending)
            self._move(namespace, batch, record, "cancelling")
        return batch

    def expire(self, namespace: str, batch_id: str) -> dict[str, Any]:
        """Expire a validating or running batch now, as if its 24 hours had passed (a forced
        outcome: the runner ends it the next time it looks)."""
        batch = self.get(namespace, batch_id)
        if batch["status"] not in EXPIRABLE:
            raise Conflict(f"Cannot expire a batch with status '{batch['status']}'.")
        self.store.add_force(namespace, "expiry", batch_id, None, {})
        self._wake.set()
        return batch

    # -- running batches (called by the runner) ------------------------------------------------

    def active(self) -> list[tuple[str, str]]:
        """(namespace, id) of every batch that has not ended, oldest first."""
        return self.store.active_batch_ids()

    def running(self) -> list[RunningBatch]:
        """Every batch that has not ended, oldest first, as the runner needs to see it."""
        forced = self.store.expiry_targets()
        return [
            RunningBatch(
                namespace,
                batch_id,
                status,
                entered,
                ending,
                expires_at,
                total,
                (namespace, batch_id) in forced or (namespace, None) in forced,
            )
            for namespace, batch_id, status, entered, ending, expires_at, total in (
                self.store.running_batches()
            )
        ]

    def ending_is_due(self, batch: RunningBatch) -> bool:
        """:meth:`due_ending`'s rule, on what :meth:`running` read: whether the batch must
        begin or go on with its ending now."""
        if batch.ending is not None:
            return batch.status in ENDING_GOES_ON
        if batch.status not in EXPIRABLE:
            return False
        return batch.expiry_forced or self.tenants.now(batch.namespace) >= batch.expires_at

    def load(self, batch_id: str) -> tuple[dict[str, Any], BatchRecord] | None:
        """A batch and its record, whatever its namespace."""
        return self.store.get_batch(None, batch_id)

    def worklog(self, batch_id: str) -> WorkLog:
        return WorkLog(self.store.work_dir, batch_id)

    def due_ending(self, namespace: str, batch: dict[str, Any], record: BatchRecord) -> str | None:
        """How a running batch must end now, if it must: "expired" or "cancelled", or None.

        An ending already under way (decided before a restart) goes on; a validating or running
        batch expires when its 24 h window has passed or an expiry was forced.
        """
        if record.ending is not None:
            return record.ending if batch["status"] in ENDING_GOES_ON else None
        if batch["status"] not in EXPIRABLE:
            return None
        if self._ending(namespace, batch, record) is not None:
            return "expired"
        if self.store.forces(namespace, "expiry", batch["id"]):
            return "expired"  # the forced expiry is deleted when the ending is marked
        return None

    def _ending(self, namespace: str, batch: dict[str, Any], record: BatchRecord) -> str | None:
        """The one rule for "this batch is ending": marked so, or its window has passed."""
        if record.ending is not None:
            return record.ending
        if self.tenants.now(namespace) >= batch["expires_at"]:
            return "expired"
        return None

    def validate(self, namespace: str, batch: dict[str, Any]) -> Verdict:
        """Validate a batch's input file (slow for a big file: no transaction is open).

        A forced validation outcome wins; then the input file must exist, have purpose
        ``batch`` and pass :func:`..validation.validate_file`.
        """
        forced = self.store.forces(namespace, "validation", batch["id"])
        if forced:
            seq, outcome = forced[0]
            return Verdict([self._forced_validation_error(namespace, batch, outcome)], None, seq)
        file = self.files.find(namespace, batch["input_file_id"])
        if file is None:
            return Verdict(
                [file_not_found_error(batch["input_file_id"], self.settings.organization)]
            )
        if file["purpose"] != "batch":
            return Verdict([wrong_purpose_error(file["id"], file["purpose"])])
        any_model = bool(self.settings.upstream or self.settings.replay) or self.settings.any_model
        report = validate_file(
            self.store.file_path(file["id"]),
            batch["endpoint"],
            any_model=any_model,
            now=self.tenants.now(namespace),
        )
        return Verdict(list(report.errors), report)

    def _forced_validation_error(
        self, namespace: str, batch: dict[str, Any], outcome: dict[str, Any]
    ) -> BatchError:
        code, message = outcome["code"], outcome.get("message")
        if code == "token_limit_exceeded" and not message:
            file = self.store.get_file(namespace, batch["input_file_id"])
            model = first_model(self.store.file_path(file["id"])) if file else None
            model = model or "gpt-4o-mini"
            limit = self.tenants.queue_limits(namespace, model)[0] or DEFAULT_TOKEN_LIMIT
            return token_limit_error(model, limit, self.settings.organization)
        return BatchError(
            code,
            message or batch_error("forced", code=code).message,
            outcome.get("param"),
            outcome.get("line"),
        )

    def finish_validation(self, namespace: str, batch_id: str, verdict: Verdict) -> None:
        """Save a verdict: ``failed`` with ``errors.data``, or ``in_progress`` with its requests.

        The input file is kept for the life of the batch (a hard link) before the transaction;
        the enqueued-token limit is checked in it, against the batches running at that moment.
        """
        report = verdict.report
        work = self.worklog(batch_id)
        kept = False
        if not verdict.errors and report is not None:
            found = self.load(batch_id)
            if found is None or found[0]["status"] != "validating":
                return
            line_tokens = report.line_tokens if len(report.line_tokens) == report.requests else None
            work.keep_input(self.store.file_path(found[0]["input_file_id"]), line_tokens)
            kept = True
        started = False
        with self._editing(batch_id, "validating") as found:
            if found is not None:
                batch, record = found
                if verdict.force_seq is not None:
                    self.store.delete_force(verdict.force_seq)
                errors = list(verdict.errors)
                if not errors and report is not None and report.model is not None:
                    errors += self._queue_errors(namespace, batch_id, report)
                if errors or report is None:
                    self._fail(namespace, batch, record, errors)
                else:
                    info = resolve_model(report.model or "")
                    batch["request_counts"]["total"] = report.requests
                    batch["model"] = info.snapshot if info else report.model
                    record.model = report.model
                    record.input_tokens = report.input_tokens
                    self._move(namespace, batch, record, "in_progress")
                    started = True
        if kept and not started:
            work.remove()

    def _queue_errors(
        self, namespace: str, batch_id: str, report: ValidationReport
    ) -> list[BatchError]:
        """The queue limits a validated batch would pass (its namespace's running batches of
        the same model, plus this one): token limit first, then the request limit."""
        model = report.model or ""
        limit, requests = self.tenants.queue_limits(namespace, model)
        if limit is None and requests is None:
            return []
        tokens, running = self.store.enqueued(namespace, model, batch_id)
        organization = self.settings.organization
        if limit is not None and tokens + report.input_tokens > limit:
            return [token_limit_error(model, limit, organization)]
        if requests is not None and running + report.requests > requests:
            return [request_limit_error(model, requests, organization)]
        return []

    def fail_validation(self, namespace: str, batch_id: str, error: BatchError) -> None:
        """End a validating batch with one error (validation itself broke)."""
        with self._editing(batch_id, "validating") as found:
            if found is not None:
                batch, record = found
                self._fail(namespace, batch, record, [error])

    def _fail(
        self, namespace: str, batch: dict[str, Any], record: BatchRecord, errors: list[BatchError]
    ) -> None:
        batch["errors"] = {"object": "list", "data": [e.as_dict() for e in errors]}
        self._move(namespace, batch, record, "failed")

    def forced_lines(self, namespace: str, batch_id: str) -> dict[str, tuple[int, dict[str, Any]]]:
        """Forced outcomes for the lines of a batch, by custom_id: (seq, outcome)."""
        forces: dict[str, tuple[int, dict[str, Any]]] = {}
        for seq, outcome in self.store.forces(namespace, "line", batch_id):
            forces.setdefault(outcome["custom_id"], (seq, outcome))
        return forces

    def record_results(
        self,
        batch_id: str,
        work: WorkLog,
        progress: Progress,
        lines: list[tuple[dict[str, Any], bool]],
        *,
        used_forces: Sequence[int] = (),
    ) -> bool:
        """Append result lines (``(line, ok)``) to a batch's work log and save its counts.

        The lines are appended first (the files are the source of truth: after a crash the
        counts are rebuilt from them), then the counts are saved and the forced outcomes they
        used deleted, in one transaction. Returns False, keeping nothing, when the batch no
        longer exists (a reset) or has ended.
        """
        found = self.load(batch_id)
        if found is None or found[0]["status"] not in ACTIVE:
            return False
        for line, ok in work.append(lines):
            progress.count(line, ok=ok)
        with self._editing(batch_id, None, missing_ok=True) as found:
            if found is not None:
                batch, _ = found
                for seq in used_forces:
                    self.store.delete_force(seq)
                counts = batch["request_counts"]
                counts["completed"], counts["failed"] = progress.completed, progress.failed
        if found is None:  # reset meanwhile: what was just appended belongs to nobody
            work.remove()
            return False
        return True

    def finish_requests(self, namespace: str, batch_id: str, progress: Progress) -> None:
        """Every request has run: ``in_progress`` → ``finalizing``."""
        with self._editing(batch_id, "in_progress") as found:
            if found is not None:
                batch, record = found
                counts = batch["request_counts"]
                counts["completed"], counts["failed"] = progress.completed, progress.failed
                self._move(namespace, batch, record, "finalizing")

    def begin_ending(self, namespace: str, batch_id: str, status: str, final: str) -> bool:
        """Mark a batch as ending in ``final`` (from now on a cancel cannot change that).

        Returns whether the batch is still in ``status`` and so marked.
        """
        with self._editing(batch_id, status) as found:
            if found is None:
                return False
            found[1].ending = final
            self.store.delete_forces(namespace, "expiry", batch_id)
        return True

    def publish(
        self, namespace: str, batch_id: str, expect: str, final: str, progress: Progress | None
    ) -> bool:
        """End a batch in ``final``: its work files become ``batch_output`` files.

        First what publishing decides (the result files' ids, the counts and usage) is saved
        with the batch; then the work files are moved into place, outside any transaction; then
        the File objects and the final status are saved in one transaction. A restart at any
        point finishes the same publishing. Returns whether the batch ended (False: it was no
        longer in ``expect``).
        """
        work = self.worklog(batch_id)
        kinds = work.results()
        with self._editing(batch_id, expect) as found:
            if found is None:
                return False
            record = found[1]
            if record.publishing is None:  # decide everything first, so a restart reuses it
                record.publishing = Publishing(
                    files={kind: ids.file_id() for kind in kinds},
                    counts=(progress.completed, progress.failed) if progress else None,
                    usage=progress.usage_object() if progress else None,
                )
            publishing = record.publishing
        targets = {
            kind: self.store.file_path(file_id) for kind, file_id in publishing.files.items()
        }
        shuffle = self.settings.output_order == "shuffled"
        for kind, target in targets.items():
            work.take(kind, target, shuffle=shuffle)
        sizes = {kind: target.stat().st_size for kind, target in targets.items() if target.exists()}
        ended = False
        with self._editing(batch_id, expect) as found:
            if found is not None:
                batch, record = found
                now = self.tenants.now(namespace)
                expiry = record.output_expiry or DEFAULT_FILE_EXPIRY
                # --like-live: result files without output_expires_after show no expires_at
                hide = self.settings.like_live and record.output_expiry is None
                for kind, file_id in publishing.files.items():
                    if kind in sizes and self.store.get_file(namespace, file_id) is None:
                        name = f"{batch_id}_{kind}.jsonl"
                        obj = wire.file_object(
                            file_id,
                            sizes[kind],
                            now,
                            name,
                            "batch_output",
                            None if hide else now + expiry,
                        )
                        self.store.insert_file(namespace, obj)
                batch["output_file_id"] = publishing.files.get("output")
                batch["error_file_id"] = publishing.files.get("error")
                if publishing.counts is not None:
                    counts = batch["request_counts"]
                    counts["completed"], counts["failed"] = publishing.counts
                if publishing.usage is not None and not self.settings.like_live:
                    batch["usage"] = publishing.usage
                self._move(namespace, batch, record, final)
                ended = True
        if not ended:  # reset meanwhile: the files just moved belong to nobody
            _remove(targets.values())
            return False
        work.remove()
        return True

    def clean_leftovers(self) -> None:
        """Delete what a crash can leave: work files of batches no longer running, uploads
        that were never finished, and the bytes of deleted files a download held open on Windows
        (call it before the runner starts)."""
        active = {batch_id for _, batch_id in self.active()}
        for path in self.store.work_dir.iterdir():
            if path.name.split(".", 1)[0] not in active:
                path.unlink(missing_ok=True)
        for pattern in (".upload-*", ".deleted-*"):
            _remove(self.store.files_dir.glob(pattern))
        self.store.sweep_later()

    # -- one change at a time ----------------------------------------------------------------

    @contextmanager
    def _editing(
        self, batch_id: str, expect: str | None = None, *, missing_ok: bool = False
    ) -> Iterator[Any]:
        """Read, change and save one batch in one transaction.

        Yields (batch, record), or None when the batch is not in ``expect`` (or, with
        ``missing_ok``, gone); a batch that is gone is a 404 otherwise. Keep the body short: it
        holds the database.
        """
        with self.store.transaction():
            found = self.load(batch_id)
            wrong = found is not None and expect is not None and found[0]["status"] != expect
            if found is None and expect is None and not missing_ok:
                raise no_such_batch(batch_id)
            if found is None or wrong:
                yield None
                return
            yield found
            self.store.save_batch(*found)

    def _move(
        self, namespace: str, batch: dict[str, Any], record: BatchRecord, status: str
    ) -> None:
        transition(batch, status, self.tenants.now(namespace))
        record.enter()
        if status in TERMINAL:  # in the transaction that saves the status: sent exactly once
            self.outbox.enqueue(namespace, batch)
        self._wake.set()


def check_metadata(metadata: Any) -> dict[str, str] | None:
    """Apply OpenAI's metadata limits: 16 keys, keys <= 64 and values <= 512 characters."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise invalid_type("metadata", "an object", metadata)
    if len(metadata) > METADATA_MAX_KEYS:
        raise too_many_metadata_keys(METADATA_MAX_KEYS, len(metadata))
    for key, value in metadata.items():
        if len(key) > METADATA_MAX_KEY:
            raise metadata_key_too_long(key, METADATA_MAX_KEY)
        if not isinstance(value, str):
            raise invalid_type(f"metadata.{key}", "a string", value)
        if len(value) > METADATA_MAX_VALUE:
            raise metadata_value_too_long(key, METADATA_MAX_VALUE, len(value))
    return dict(metadata)


def _remove(paths: Any) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)
