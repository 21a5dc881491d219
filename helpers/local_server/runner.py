"""The runner: moves batches through their statuses and executes their requests.

One background thread looks at every active batch, a few times a second or as soon as something
wakes it (a create, a cancel, a control call), and does the next piece of work the pace allows:

- ``validating``: validate the whole input file (:mod:`.validation`), then ``failed`` with
  ``errors.data`` or ``in_progress`` with ``request_counts.total`` and ``model`` set;
- ``in_progress``: run the next requests through the responder, append each result line to the
  batch's work files, update ``request_counts``; then ``finalizing``;
- ``finalizing``: publish the work files as ``batch_output`` files and complete;
- ``cancelling`` / the 24 h window passing: write ``batch_cancelled`` / ``batch_expired`` lines
  for every request that never ran, publish, and end ``cancelled`` / ``expired``.

Crash safety: result lines are appended (one ``write`` per chunk, whole lines only) before the
database is updated, and the work files are the source of truth. After a restart the runner
re-reads them, drops a torn last line, and carries on with the requests whose ``custom_id`` is
not in them: no line is lost and none is written twice.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from . import ids
from .lifecycle import transition
from .models import resolve_model
from .service import DEFAULT_FILE_EXPIRY, Service
from .validation import (
    file_not_found_error,
    iter_lines,
    token_limit_error,
    validate_file,
    wrong_purpose_error,
)

log = logging.getLogger("helpers.local_server.runner")

#: how many requests one step runs before it saves progress and looks at other batches
CHUNK_LINES = 500

UNRUN_ERRORS = {
    "expired": (
        "batch_expired",
        "This request could not be executed before the completion window expired.",
    ),
    # UNCONFIRMED wording
    "cancelled": (
        "batch_cancelled",
        "This request was not executed because the batch was cancelled.",
    ),
}
#: Whether requests that never ran (expired or cancelled) count in request_counts.failed.
#: One observation of an expired batch says they do not (UNCONFIRMED).
COUNT_UNRUN_AS_FAILED = False

#: error bodies used when a line is forced to fail with only a status code
DEFAULT_ERROR_BODIES = {
    400: ("Invalid request.", "invalid_request_error", None),
    429: (
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, read the docs: "
        "https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "insufficient_quota",
        "insufficient_quota",
    ),
    500: (
        "An error occurred while processing your request. You can retry your request, or "
        "contact us through our help center at help.openai.com if the error persists.",
        "server_error",
        None,
    ),
}


class Responder(Protocol):
    def respond(self, url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]: ...


@dataclass
class _Run:
    """In-memory progress of one batch, rebuilt from its work files after a restart."""

    output: Path
    errors: Path
    done: set[str] = field(default_factory=set)
    completed: int = 0
    failed: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    pending: Iterator[dict[str, Any]] | None = None

    @property
    def processed(self) -> int:
        return len(self.done)


def _repair(path: Path) -> None:
    """Drop a torn last line (a write cut short by a crash), reading only the file's tail."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as fh:
        end = fh.seek(0, os.SEEK_END)
        fh.seek(end - 1)
        if fh.read(1) == b"\n":
            return
        position = end
        while position > 0:  # walk back to the last newline, 64 KB at a time
            step = min(65536, position)
            position -= step
            fh.seek(position)
            block = fh.read(step)
            newline = block.rfind(b"\n")
            if newline != -1:
                fh.truncate(position + newline + 1)
                return
        fh.truncate(0)


def _add_usage(total: dict[str, int], body: dict[str, Any]) -> None:
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return
    prompt = usage.get("input_tokens", usage.get("prompt_tokens", 0)) or 0
    output = usage.get("output_tokens", usage.get("completion_tokens", 0)) or 0
    details_in = usage.get("input_tokens_details") or usage.get("prompt_tokens_details") or {}
    details_out = usage.get("output_tokens_details") or usage.get("completion_tokens_details") or {}
    total["input_tokens"] = total.get("input_tokens", 0) + int(prompt)
    total["output_tokens"] = total.get("output_tokens", 0) + int(output)
    total["cached_tokens"] = total.get("cached_tokens", 0) + int(
        details_in.get("cached_tokens", 0) or 0
    )
    total["reasoning_tokens"] = total.get("reasoning_tokens", 0) + int(
        details_out.get("reasoning_tokens", 0) or 0
    )


def _usage_object(total: dict[str, int]) -> dict[str, Any]:
    return {
        "input_tokens": total.get("input_tokens", 0),
        "input_tokens_details": {"cached_tokens": total.get("cached_tokens", 0)},
        "output_tokens": total.get("output_tokens", 0),
        "output_tokens_details": {"reasoning_tokens": total.get("reasoning_tokens", 0)},
        "total_tokens": total.get("input_tokens", 0) + total.get("output_tokens", 0),
    }


class Runner:
    """Drives every active batch of a :class:`Service` from a background thread."""

    def __init__(self, service: Service, responder: Responder, concurrency: int = 1) -> None:
        self.service = service
        self.store = service.store
        self.responder = responder
        self.concurrency = max(1, concurrency)
        self._runs: dict[str, _Run] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(self.concurrency) if self.concurrency > 1 else None
        service.on_reset.append(self._forget)

    # -- thread -----------------------------------------------------------------------------

    def start(self) -> None:
        self._clean_work_dir()
        self._thread = threading.Thread(target=self._loop, name="batch-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.service.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.step()
            except Exception:  # keep the runner alive whatever one batch does
                log.exception("runner step failed")
                busy = False
            if not busy:
                self.service.wake.wait(self.service.settings.tick)
                self.service.wake.clear()

    def _clean_work_dir(self) -> None:
        """Delete work files left by batches that are no longer running (a crash at the end)."""
        active = {batch_id for _, batch_id in self.store.active_batch_ids()}
        for path in self.store.work_dir.iterdir():
            if path.name.split(".", 1)[0] not in active:
                path.unlink(missing_ok=True)

    def _forget(self, batch_ids: list[str]) -> None:
        for batch_id in batch_ids:
            self._runs.pop(batch_id, None)

    # -- one pass ---------------------------------------------------------------------------

    def step(self) -> bool:
        """Advance every active batch once. Returns whether there is more work right now."""
        busy = False
        for namespace, batch_id in self.store.active_batch_ids():
            if self._stop.is_set():
                break
            try:
                with self.service.step_lock:
                    busy |= self._advance(namespace, batch_id)
            except Exception:
                log.exception("batch %s could not advance", batch_id)
        return busy

    def _advance(self, namespace: str, batch_id: str) -> bool:
        found = self.store.get_batch(None, batch_id)
        if found is None:
            return False
        batch, internal = found
        status = batch["status"]
        pace = self.service.pace
        elapsed = time.time() - internal.get("entered", 0)
        ending = internal.get("ending")
        if ending is not None and status in ("validating", "in_progress", "cancelling"):
            self._end_early(namespace, batch_id, status, ending)  # decided before a restart
            return True
        if status in ("validating", "in_progress"):
            forced = self._take_force(namespace, "expiry", batch_id)
            if forced or self.service.clock.now() >= batch["expires_at"]:
                self._end_early(namespace, batch_id, status, "expired")
                return True
        if status == "validating" and elapsed >= pace.validating:
            try:
                self._validate(namespace, batch, internal)
            except Exception as exc:  # a bug here must not leave the batch validating forever
                log.exception("validation of %s failed", batch_id)
                error = {
                    "code": "server_error",
                    "message": f"The local server could not validate the input file: {exc!r}",
                    "param": None,
                    "line": None,
                }

                def fail(b: dict, _: dict) -> None:
                    b["errors"] = {"object": "list", "data": [error]}

                self._commit(batch_id, "validating", to="failed", mutate=fail)
            return True
        if status == "in_progress":
            return self._run_requests(namespace, batch, internal, elapsed)
        if status == "finalizing" and elapsed >= pace.finalizing:
            self._publish(namespace, batch_id, "finalizing", "completed")
            return True
        if status == "cancelling" and elapsed >= pace.cancelling:
            self._end_early(namespace, batch_id, "cancelling", "cancelled")
            return True
        return False

    # -- commits ----------------------------------------------------------------------------

    def _commit(
        self,
        batch_id: str,
        expect: str,
        *,
        counts: tuple[int, int] | None = None,
        to: str | None = None,
        mutate: Callable[[dict, dict], None] | None = None,
    ) -> bool:
        """Save progress. Counts always land; the rest only if the status is still ``expect``."""
        with self.store.transaction():
            found = self.store.get_batch(None, batch_id)
            if found is None:
                return False
            batch, internal = found
            if counts is not None:
                batch["request_counts"]["completed"], batch["request_counts"]["failed"] = counts
            moved = batch["status"] == expect
            if moved:
                if mutate is not None:
                    mutate(batch, internal)
                if to is not None:
                    transition(batch, to, self.service.clock.now())
                    internal["entered"] = time.time()
            self.store.save_batch(batch, internal)
        if moved and to is not None:
            self.service.wake.set()
        return moved

    def _take_force(self, namespace: str, kind: str, target: str) -> dict | None:
        """Take (and delete) the oldest forced outcome of ``kind`` for ``target`` or for any."""
        for seq, outcome in self.store.forces(namespace, kind, target):
            self.store.delete_force(seq)
            return outcome
        return None

    # -- validating -------------------------------------------------------------------------

    def _validate(self, namespace: str, batch: dict, internal: dict) -> None:
        settings = self.service.settings
        errors: list[dict[str, Any]] = []
        forced = self._take_force(namespace, "validation", batch["id"])
        report = None
        if forced is not None:
            code = forced["code"]
            message = forced.get("message")
            if code == "token_limit_exceeded" and not message:
                model = self._first_model(namespace, batch) or "gpt-4o-mini"
                limit = self.service.token_limit or settings.token_limit or 2_000_000
                err = token_limit_error(model, limit, settings.organization).as_dict()
            else:
                err = {
                    "code": code,
                    "message": message or f"The batch was forced to fail with code '{code}'.",
                    "param": forced.get("param"),
                    "line": forced.get("line"),
                }
            errors.append(err)
        else:
            file = self.store.get_file(namespace, batch["input_file_id"])
            now = self.service.clock.now()
            if file is None or (file.get("expires_at") and file["expires_at"] <= now):
                errors.append(
                    file_not_found_error(batch["input_file_id"], settings.organization).as_dict()
                )
            elif file["purpose"] != "batch":
                errors.append(wrong_purpose_error(file["id"], file["purpose"]).as_dict())
            else:
                report = validate_file(
                    self.store.file_path(file["id"]),
                    batch["endpoint"],
                    any_model=bool(settings.upstream),
                )
                errors.extend(e.as_dict() for e in report.errors)
                limit = self.service.token_limit
                if not errors and limit is not None and report.model is not None:
                    enqueued = self.store.enqueued_tokens(namespace, report.model, batch["id"])
                    if enqueued + report.input_tokens > limit:
                        errors.append(
                            token_limit_error(report.model, limit, settings.organization).as_dict()
                        )
        if errors:

            def fail(b: dict, _: dict) -> None:
                b["errors"] = {"object": "list", "data": errors}

            self._commit(batch["id"], "validating", to="failed", mutate=fail)
            return
        assert report is not None
        self._keep_input(batch["id"], self.store.file_path(batch["input_file_id"]))

        def start(b: dict, state: dict) -> None:
            info = resolve_model(report.model or "")
            b["request_counts"]["total"] = report.requests
            b["model"] = info.snapshot if info else report.model
            state["model"] = report.model
            state["input_tokens"] = report.input_tokens

        self._commit(batch["id"], "validating", to="in_progress", mutate=start)

    def _first_model(self, namespace: str, batch: dict) -> str | None:
        file = self.store.get_file(namespace, batch["input_file_id"])
        if file is None:
            return None
        for raw in iter_lines(self.store.file_path(file["id"])):
            try:
                return json.loads(raw)["body"]["model"]
            except (ValueError, KeyError, TypeError):
                continue
        return None

    # -- in_progress ------------------------------------------------------------------------

    def _run_for(self, namespace: str, batch: dict) -> _Run:
        run = self._runs.get(batch["id"])
        if run is not None:
            return run
        work = self.store.work_dir
        run = _Run(
            output=work / f"{batch['id']}.output.jsonl", errors=work / f"{batch['id']}.errors.jsonl"
        )
        for path, ok in ((run.output, True), (run.errors, False)):
            _repair(path)
            if not path.exists():
                continue
            with open(path, "rb") as fh:
                for raw in fh:
                    line = json.loads(raw)
                    run.done.add(line["custom_id"])
                    if ok:
                        run.completed += 1
                        _add_usage(run.usage, line["response"]["body"])
                    elif (
                        line.get("response") is not None
                        or COUNT_UNRUN_AS_FAILED
                        or (line.get("error") or {}).get("code")
                        not in ("batch_expired", "batch_cancelled")
                    ):
                        run.failed += 1
        path = self._input_copy(batch["id"])
        run.pending = self._requests(path, run.done) if path.exists() else iter(())
        self._runs[batch["id"]] = run
        return run

    def _input_copy(self, batch_id: str) -> Path:
        """The batch's own copy of its input file, kept from in_progress to the end."""
        return self.store.work_dir / f"{batch_id}.input.jsonl"

    def _keep_input(self, batch_id: str, source: Path) -> None:
        target = self._input_copy(batch_id)
        if target.exists():
            return
        try:
            os.link(source, target)  # no copy: the bytes are shared until one is deleted
        except OSError:
            shutil.copyfile(source, target)

    @staticmethod
    def _requests(path: Path, done: set[str]) -> Iterator[dict[str, Any]]:
        for raw in iter_lines(path):
            if not raw.strip():
                continue
            request = json.loads(raw)
            if request["custom_id"] not in done:
                yield request

    def _run_requests(self, namespace: str, batch: dict, internal: dict, elapsed: float) -> bool:
        run = self._run_for(namespace, batch)
        total = batch["request_counts"]["total"]
        per_request = self.service.pace.per_request
        allowed = total if per_request <= 0 else min(total, int(elapsed / per_request))
        # with an upstream, a chunk is what runs at once: results land (and a cancel is seen)
        # after every few requests, and a crash repeats at most that many
        chunk_size = self.concurrency * 2 if self._pool is not None else CHUNK_LINES
        todo = min(allowed - run.processed, chunk_size)
        if todo > 0:
            chunk = [r for _, r in zip(range(todo), run.pending)]  # noqa: B905
            self._execute_chunk(namespace, batch, run, chunk)
        counts = (run.completed, run.failed)
        if run.processed >= total:
            self._commit(batch["id"], "in_progress", counts=counts, to="finalizing")
            return True
        if todo > 0:
            self._commit(batch["id"], "in_progress", counts=counts)
        return todo > 0 and per_request <= 0

    def _execute_chunk(
        self, namespace: str, batch: dict, run: _Run, chunk: list[dict[str, Any]]
    ) -> None:
        forces = {
            o["custom_id"]: (seq, o) for seq, o in self.store.forces(namespace, "line", batch["id"])
        }
        url = batch["endpoint"]

        def execute(request: dict[str, Any]) -> dict[str, Any]:
            custom_id = request["custom_id"]
            forced = forces.get(custom_id)
            now = self.service.clock.now()
            if forced is not None:
                self.store.delete_force(forced[0])
                outcome = forced[1]
                if outcome.get("status_code") is None:
                    return {
                        "id": ids.batch_request_id(now),
                        "custom_id": custom_id,
                        "response": None,
                        "error": outcome["error"],
                    }
                status = int(outcome["status_code"])
                body = outcome.get("error") or _default_error(status)
                if "error" not in body and status >= 400:
                    body = {"error": body}
            else:
                try:
                    status, body = self.responder.respond(url, request["body"])
                except Exception as exc:  # an upstream that fails is a 500 for this line
                    log.warning("responder failed for %s: %s", custom_id, exc)
                    status, body = 500, _default_error(500)
            return {
                "id": ids.batch_request_id(now),
                "custom_id": custom_id,
                "response": {"status_code": status, "request_id": ids.request_id(), "body": body},
                "error": None,
            }

        if self._pool is not None and len(chunk) > 1:
            lines = list(self._pool.map(execute, chunk))
        else:
            lines = [execute(r) for r in chunk]
        out, err = [], []
        for line in lines:
            response = line["response"]
            if response is not None and response["status_code"] < 400:
                out.append(line)
                run.completed += 1
                _add_usage(run.usage, response["body"])
            else:
                err.append(line)
                run.failed += 1
            run.done.add(line["custom_id"])
        _append(run.output, out)
        _append(run.errors, err)

    # -- endings ----------------------------------------------------------------------------

    def _end_early(self, namespace: str, batch_id: str, status: str, final: str) -> None:
        """Expire or cancel: every request that never ran gets a line in the error file."""
        batch, internal = self.store.get_batch(None, batch_id)  # type: ignore[misc]
        if internal.get("publish") is None:  # the unrun lines are not written yet
            if internal.get("ending") != final:
                # mark the ending first: from now on a cancel cannot change it
                def mark(_: dict, state: dict) -> None:
                    state["ending"] = final

                if not self._commit(batch_id, status, mutate=mark):
                    return
            if batch["request_counts"]["total"] > 0:  # validated: its requests are known
                run = self._run_for(namespace, batch)
                code, message = UNRUN_ERRORS[final]
                now = self.service.clock.now()
                lines = [
                    {
                        "id": ids.batch_request_id(now),
                        "custom_id": r["custom_id"],
                        "response": None,
                        "error": {"code": code, "message": message},
                    }
                    for r in run.pending or ()
                ]
                _append(run.errors, lines)
                for line in lines:
                    run.done.add(line["custom_id"])
                    if COUNT_UNRUN_AS_FAILED:
                        run.failed += 1
        self._publish(namespace, batch_id, status, final)

    def _publish(self, namespace: str, batch_id: str, expect: str, final: str) -> None:
        """Turn the work files into batch_output files and end the batch in ``final``.

        First the file ids, counts and usage are saved with the batch (``publish``); then the
        work files are moved; then the file objects and the final status are written in one
        transaction. A restart at any point picks up from the saved ``publish``.
        """
        batch, internal = self.store.get_batch(None, batch_id)  # type: ignore[misc]
        work = self.store.work_dir
        sources = {
            "output": work / f"{batch_id}.output.jsonl",
            "error": work / f"{batch_id}.errors.jsonl",
        }
        pending = internal.get("publish")
        if pending is None:  # decide everything first, so a restart reuses it
            run = self._runs.get(batch_id)
            if run is None and batch["request_counts"]["total"] > 0:
                run = self._run_for(namespace, batch)
            pending = {
                "files": {
                    kind: ids.file_id()
                    for kind, path in sources.items()
                    if path.exists() and path.stat().st_size > 0
                },
                "counts": [run.completed, run.failed] if run is not None else None,
                "usage": _usage_object(run.usage) if run is not None else None,
            }

            def remember(_: dict, state: dict) -> None:
                state["publish"] = pending

            if not self._commit(batch_id, expect, mutate=remember):
                return
        for kind, file_id in pending["files"].items():
            source = sources[kind]
            if source.exists():
                if self.service.settings.output_order == "shuffled":
                    _shuffle(source, seed=batch_id + kind)
                os.replace(source, self.store.file_path(file_id))
        now = self.service.clock.now()
        expiry = internal.get("output_expiry") or DEFAULT_FILE_EXPIRY
        try:
            with self.store.transaction():
                for kind, file_id in pending["files"].items():
                    if self.store.get_file(namespace, file_id) is None:
                        self.store.insert_file(
                            namespace,
                            {
                                "id": file_id,
                                "object": "file",
                                "bytes": self.store.file_path(file_id).stat().st_size,
                                "created_at": now,
                                "filename": f"{batch_id}_{kind}.jsonl",
                                "purpose": "batch_output",
                                "status": "processed",
                                "expires_at": now + expiry,
                                "status_details": None,
                            },
                        )

                def finish(b: dict, _: dict) -> None:
                    b["output_file_id"] = pending["files"].get("output")
                    b["error_file_id"] = pending["files"].get("error")
                    if pending["usage"] is not None:
                        b["usage"] = pending["usage"]

                counts = tuple(pending["counts"]) if pending["counts"] is not None else None
                if not self._commit(batch_id, expect, counts=counts, to=final, mutate=finish):
                    raise _NotEnded  # someone else moved the batch: undo the file rows
        except _NotEnded:
            log.warning("batch %s changed status while it was being published", batch_id)
            return
        self._runs.pop(batch_id, None)
        self._input_copy(batch_id).unlink(missing_ok=True)


class _NotEnded(Exception):
    pass


def _default_error(status: int) -> dict[str, Any]:
    message, kind, code = DEFAULT_ERROR_BODIES.get(
        status, (f"The request failed with status {status}.", "invalid_request_error", None)
    )
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _append(path: Path, lines: list[dict[str, Any]]) -> None:
    """Append whole lines with one write, in OpenAI's JSON style (", " and ": ")."""
    if not lines:
        return
    data = "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def _shuffle(path: Path, seed: str) -> None:
    with open(path, "rb") as fh:
        lines = fh.readlines()
    random.Random(seed).shuffle(lines)
    tmp = path.with_suffix(".shuffled")
    with open(tmp, "wb") as fh:
        fh.writelines(lines)
    os.replace(tmp, path)
