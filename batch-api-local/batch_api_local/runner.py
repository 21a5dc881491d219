"""The runner: decides when each batch moves, and runs its requests through a responder.

One background thread looks at every active batch, a few times a second or as soon as something
wakes it (a create, a cancel, a control call), and starts the next piece of work the pace allows.
Every state change goes through the domain (:class:`.domain.batches.Batches`):

- ``validating``, once the pace allows: validate the input file (:meth:`Batches.validate`), then
  save the verdict: ``failed`` with ``errors.data``, or ``in_progress``;
- ``in_progress``: take the next requests from the batch's work log, answer each (a forced
  outcome, or the responder), then record the result lines and counts
  (:meth:`Batches.record_results`); once every request has run, ``finalizing``;
- ``finalizing``: publish the result files and complete;
- ``cancelling``, or an expiry (the 24 h window passing, or forced): write a ``batch_cancelled``
  / ``batch_expired`` line for every request that never ran, publish, end.

Everything that reads or writes files is a *job*: validating a file, answering requests,
writing the lines of requests that never ran, publishing. Each runs in a thread of its own, and
one batch has at most one job at a time. The thread that looks at the batches only reads the
database and starts jobs, so a slow responder (an upstream server taking minutes) or a big
batch being published holds up no other batch, nor a reset, nor a stop.

It is a scheduler, fair between namespaces. A look at the batches reads a few columns of each
(:meth:`Batches.running`: no JSON) and queues, per namespace, those with something to do now;
jobs are then started round robin over the namespaces, at most :data:`JOBS_PER_NAMESPACE` of one
namespace and :data:`MAX_JOBS` in all at a time. So a student with 2,000 batches waiting has
four of them moving, and another student's batch starts as soon as it is due, as if the
backlog were not there. A batch whose job ends is queued again at once (its next chunk of
requests does not wait for a look), and the looks themselves come at most every
:data:`LOOK_EVERY` seconds, however often jobs end.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from .domain import RunningBatch, Service
from .errors import UNRUN_ERRORS, LineError, batch_error, server_error, status_error
from .like_live import refuse
from .records import BatchRecord
from .responder import respond
from .retry import Backoff
from .worklog import Progress, WorkLog, error_line, result_line

log = logging.getLogger("batch_api_local.runner")

#: how many requests one job runs before it saves progress (with a local responder)
CHUNK_LINES = 500
#: after a failed step or job, a batch waits before its next try: 0.1 s, doubled each time up
#: to 5 s (a full disk is retried until space returns, never in a tight loop)
STEP_RETRY = Backoff(first=0.1, maximum=5.0)
#: after this many failures in a row that are not the disk's, a batch's next requests are
#: written as 500 lines without being answered, so that it ends instead of retrying forever
GIVE_UP_AFTER = 3
#: jobs running at once, in all and for one namespace: one student's backlog takes at most
#: JOBS_PER_NAMESPACE, and everyone else's batches find a free one
MAX_JOBS = 32
JOBS_PER_NAMESPACE = 4
#: the least time between two looks at every running batch (a batch whose job has ended is
#: looked at again without waiting for one)
LOOK_EVERY = 0.02


class Responder(Protocol):
    def respond(
        self,
        url: str,
        body: dict[str, Any],
        *,
        input_tokens: int | None = None,
        now: int | None = None,
    ) -> tuple[int, dict[str, Any]]: ...


@dataclass
class _Run:
    """The runner's view of one running batch: its work log, progress and what is left."""

    log: WorkLog
    progress: Progress
    pending: Iterator[tuple[dict[str, Any], int | None]] = field(default_factory=lambda: iter(()))


class Runner:
    """Drives every active batch of a :class:`Service` from a background thread."""

    def __init__(self, service: Service, responder: Responder, concurrency: int = 1) -> None:
        self.service = service
        self.batches = service.batches
        self.tenants = service.tenants
        self.responder = responder
        self.concurrency = max(1, concurrency)
        self._runs: dict[str, _Run] = {}
        self._busy: set[str] = set()  # batches with a job running
        self._jobs: Counter[str] = Counter()  # jobs running, by namespace
        #: batches with something to do, by namespace, oldest first; and those just done
        self._due: dict[str, deque[str]] = {}
        self._queued: set[str] = set()
        self._ended: deque[tuple[str, str]] = deque()
        self._looked = float("-inf")  # when the runner last looked at every batch
        self._turn = 0  # which namespace goes first, in turn
        self._failures: dict[str, tuple[int, float, bool]] = {}  # id: (count, retry at, disk?)
        self._idle = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._workers = _Workers(self.concurrency) if self.concurrency > 1 else None
        self._job_threads = _JobThreads()

    # -- thread -----------------------------------------------------------------------------

    def start(self) -> None:
        self.batches.clean_leftovers()
        self._thread = threading.Thread(target=self._loop, name="batch-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop looking at batches. Jobs still answering are abandoned, not waited for: their
        requests run again after a restart."""
        self._stop.set()
        self.service.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no job is running. Returns False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy, timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:  # a look at every batch at most every LOOK_EVERY, however often jobs end
                busy = self.step(look=time.monotonic() - self._looked >= LOOK_EVERY)
            except Exception:  # keep the runner alive whatever one batch does
                log.exception("runner step failed")
                busy = False
            if not busy:
                self.service.wake.wait(self.service.settings.tick)
                self.service.wake.clear()

    # -- one pass ---------------------------------------------------------------------------

    def step(self, look: bool = True) -> bool:
        """Start the work that is due, fairly between namespaces, after a look at every running
        batch (``look``; without, only the batches whose job has ended are looked at again).
        Returns whether there is more work right now."""
        now = time.monotonic()
        if look:
            self._look(now)
        while self._ended:  # a batch whose job has ended: its next piece of work, if any
            namespace, batch_id = self._ended.popleft()
            self._queue(namespace, batch_id)
        return self._start_due(now)

    def _look(self, now: float) -> None:
        """Look at every running batch (a few columns of each) and queue those with
        something to do now, each namespace's oldest first."""
        self._looked = now
        running = self.batches.running()
        self._due, self._queued = {}, set()
        live = {batch.id for batch in running}
        for gone in set(self._runs) - live:
            if gone not in self._busy:
                del self._runs[gone]  # ended, or reset
        for gone in set(self._failures) - live - self._busy:
            del self._failures[gone]
        for batch in running:
            if batch.id not in self._busy and self._is_due(batch):
                self._queue(batch.namespace, batch.id)

    def _queue(self, namespace: str, batch_id: str) -> None:
        if batch_id not in self._queued:
            self._queued.add(batch_id)
            self._due.setdefault(namespace, deque()).append(batch_id)

    def _is_due(self, batch: RunningBatch) -> bool:
        """Whether a running batch has something to do now, by what :meth:`Batches.running`
        read (the job that does it checks again, on the batch itself)."""
        if self.batches.ending_is_due(batch):
            return True
        pace = self.tenants.pace(batch.namespace)
        elapsed = time.time() - batch.entered
        if batch.status == "in_progress":
            run = self._runs.get(batch.id)
            if run is None or run.progress.processed >= batch.total:
                return True
            if pace.per_request <= 0:
                return True
            return min(batch.total, int(elapsed / pace.per_request)) > run.progress.processed
        wait = {
            "validating": pace.validating,
            "finalizing": pace.finalizing,
            "cancelling": pace.cancelling,
        }.get(batch.status)
        return wait is not None and elapsed >= wait

    def _start_due(self, now: float) -> bool:
        """Start jobs for the queued batches, one namespace after another in turn, within the
        limits (:data:`MAX_JOBS`, :data:`JOBS_PER_NAMESPACE`)."""
        busy = False
        names = [namespace for namespace, due in self._due.items() if due]
        if names:
            first = self._turn % len(names)
            names = names[first:] + names[:first]
            self._turn += 1
        while names and len(self._busy) < MAX_JOBS and not self._stop.is_set():
            for namespace in list(names):
                due = self._due[namespace]
                if not due or self._jobs[namespace] >= JOBS_PER_NAMESPACE:
                    names.remove(namespace)  # done, or at its limit: the others go on
                    continue
                batch_id = due.popleft()
                self._queued.discard(batch_id)
                failing = self._failures.get(batch_id, (0, 0.0, False))[1] > now
                if batch_id in self._busy or failing:
                    continue
                try:
                    busy |= self._advance(namespace, batch_id)
                except Exception as exc:
                    self._failed(batch_id, exc)
                if len(self._busy) >= MAX_JOBS:
                    break
        for namespace in [n for n, due in self._due.items() if not due]:
            del self._due[namespace]
        return busy

    def _failed(self, batch_id: str, exc: BaseException) -> None:
        """Note a failure: the batch starts again from its work log after a growing pause."""
        count = self._failures.get(batch_id, (0, 0.0, False))[0] + 1
        disk = isinstance(exc, OSError | sqlite3.Error)
        delay = STEP_RETRY.delay(count)
        self._failures[batch_id] = (count, time.monotonic() + delay, disk)
        self._runs.pop(batch_id, None)
        if disk:
            log.warning(
                "batch %s: the state directory refused a write (%s); retrying", batch_id, exc
            )
        else:
            log.error("batch %s failed a step (%d in a row)", batch_id, count, exc_info=exc)

    def _advance(self, namespace: str, batch_id: str) -> bool:
        found = self.batches.load(batch_id)
        if found is None:
            return False
        batch, record = found
        status = batch["status"]
        pace = self.tenants.pace(namespace)
        elapsed = record.elapsed()
        ending = self.batches.due_ending(namespace, batch, record)
        if ending is not None:
            self._start_job(namespace, batch_id, lambda: self._end(namespace, batch, ending))
            return True
        if status == "validating" and elapsed >= pace.validating:
            self._start_job(namespace, batch_id, lambda: self._validate(namespace, batch))
            return True
        if status == "in_progress":
            return self._run_requests(namespace, batch, elapsed)
        if status == "finalizing" and elapsed >= pace.finalizing:
            self._start_job(namespace, batch_id, lambda: self._publish(namespace, batch))
            return True
        if status == "cancelling" and elapsed >= pace.cancelling:
            self._start_job(namespace, batch_id, lambda: self._end(namespace, batch, "cancelled"))
            return True
        return False

    def _start_job(self, namespace: str, batch_id: str, job: Callable[[], None]) -> None:
        def run() -> None:
            try:
                job()
            except Exception as exc:
                self._failed(batch_id, exc)  # its requests run again from the work log
            else:
                self._failures.pop(batch_id, None)
            finally:
                with self._idle:
                    self._busy.discard(batch_id)
                    self._jobs[namespace] -= 1
                    if self._jobs[namespace] <= 0:
                        del self._jobs[namespace]
                    self._idle.notify_all()
                self._ended.append((namespace, batch_id))
                self.service.wake.set()

        with self._idle:
            self._busy.add(batch_id)
            self._jobs[namespace] += 1
        self._job_threads.run(run)

    # -- validating -------------------------------------------------------------------------

    def _validate(self, namespace: str, batch: dict[str, Any]) -> None:
        try:
            verdict = self.batches.validate(namespace, batch)
        except Exception:  # a bug here must not leave the batch validating forever
            log.exception("validation of %s failed", batch["id"])
            self.batches.fail_validation(namespace, batch["id"], batch_error("validation_crashed"))
            return
        self.batches.finish_validation(namespace, batch["id"], verdict)

    # -- in_progress ------------------------------------------------------------------------

    def _run_for(self, batch: dict[str, Any]) -> _Run:
        """The batch's run, rebuilt from its work log the first time (and after a restart)."""
        run = self._runs.get(batch["id"])
        if run is None:
            worklog = self.batches.worklog(batch["id"])
            progress = worklog.recount()
            run = _Run(worklog, progress, worklog.pending(set(progress.done)))
            self._runs[batch["id"]] = run
        return run

    def _run_requests(self, namespace: str, batch: dict[str, Any], elapsed: float) -> bool:
        run = self._run_for(batch)
        total = batch["request_counts"]["total"]
        if run.progress.processed >= total:
            self.batches.finish_requests(namespace, batch["id"], run.progress)
            return True
        per_request = self.tenants.pace(namespace).per_request
        allowed = total if per_request <= 0 else min(total, int(elapsed / per_request))
        if self._workers is not None:  # an upstream: every worker kept busy (see _stream)
            todo = allowed - run.progress.processed
            if todo <= 0:
                return False
            self._start_job(
                namespace, batch["id"], lambda: self._stream(namespace, batch, run, todo)
            )
            return per_request <= 0
        todo = min(allowed - run.progress.processed, CHUNK_LINES)
        if todo <= 0:
            return False
        chunk = [request for _, request in zip(range(todo), run.pending, strict=False)]
        if not chunk:  # the input ran out before the count did: recount from the work log
            self._runs.pop(batch["id"], None)
            return False
        self._start_job(namespace, batch["id"], lambda: self._execute(namespace, batch, run, chunk))
        return per_request <= 0

    def _answerer(
        self, namespace: str, batch: dict[str, Any]
    ) -> Callable[[tuple[dict[str, Any], int | None]], tuple[dict[str, Any], int | None]]:
        """What answers one request of ``batch``: its result line, and the forced outcome it
        used (its seq), if any."""
        forces = self.batches.forced_lines(namespace, batch["id"])
        files = self.service.file_reader(namespace)  # images given by file_id
        url = batch["endpoint"]
        failures, _, disk = self._failures.get(batch["id"], (0, 0.0, False))
        give_up = failures >= GIVE_UP_AFTER and not disk
        # --like-live: some structured answers of the local responder are refusals
        settings = self.service.settings
        like_live = settings.like_live and settings.responder == "local"

        def answer(item: tuple[dict[str, Any], int | None]) -> tuple[dict[str, Any], int | None]:
            request, tokens = item
            custom_id = request["custom_id"]
            now = self.tenants.now(namespace)
            if give_up:  # this chunk kept failing: its requests fail instead of the batch
                return result_line(custom_id, now, 500, server_error().body()), None
            forced = forces.get(custom_id)
            if forced is not None:
                return _forced_line(custom_id, now, forced[1]), forced[0]
            try:
                status, body = respond(
                    self.responder, url, request["body"], input_tokens=tokens, now=now, files=files
                )
            except LineError as exc:  # no answer at all (a timeout): response null, an error
                return error_line(custom_id, now, exc.line_error()), None
            except Exception as exc:  # an upstream that fails is a 500 for this line
                log.warning("responder failed for %s: %s", custom_id, exc)
                status, body = 500, status_error(500).body()
            if like_live and status == 200:
                body = refuse(url, request["body"], body, str(custom_id))
            return result_line(custom_id, now, status, body), None

        return answer

    def _record(
        self, batch_id: str, run: _Run, answers: list[tuple[dict[str, Any], int | None]]
    ) -> bool:
        """Record answered requests; False when the batch was reset or ended meanwhile."""
        results = [
            (line, line["response"] is not None and line["response"]["status_code"] < 400)
            for line, _ in answers
        ]
        used = [seq for _, seq in answers if seq is not None]
        if not self.batches.record_results(
            batch_id, run.log, run.progress, results, used_forces=used
        ):
            self._runs.pop(batch_id, None)  # reset or ended meanwhile: nothing is kept
            return False
        return True

    def _execute(
        self,
        namespace: str,
        batch: dict[str, Any],
        run: _Run,
        chunk: list[tuple[dict[str, Any], int | None]],
    ) -> None:
        answer = self._answerer(namespace, batch)
        answers = [answer(item) for item in chunk]
        if self._stop.is_set():  # abandoned: after a restart these requests run again
            return
        self._record(batch["id"], run, answers)

    def _stream(self, namespace: str, batch: dict[str, Any], run: _Run, todo: int) -> None:
        """Answer up to ``todo`` requests through the workers, every one of them kept busy.

        As answers come back they are recorded (those that are in), and only then do their
        workers get the next requests: no worker waits for a slow request of another, results
        land as they come (a crash repeats at most the requests in flight), and once a request
        is held upstream, every answer before it is already counted. After each record the
        batch is looked at again: a cancel, an expiry, a reset or a slower pace stops new
        requests; those in flight are still recorded.
        """
        assert self._workers is not None
        batch_id = batch["id"]
        answer = self._answerer(namespace, batch)
        done: queue.SimpleQueue[Any] = queue.SimpleQueue()
        in_flight = sent = 0
        more = True
        while True:
            while more and in_flight < self.concurrency and sent < todo:
                item = next(run.pending, None)
                if item is None:  # the input ran out before the count did: recount next time
                    more = False
                    self._runs.pop(batch_id, None)
                    break
                self._workers.submit(answer, item, done.put)
                in_flight += 1
                sent += 1
            if in_flight == 0:
                return
            answers = [done.get()]
            while True:
                try:
                    answers.append(done.get_nowait())
                except queue.Empty:
                    break
            in_flight -= len(answers)
            if self._stop.is_set():  # abandoned: after a restart these requests run again
                return
            for item in answers:
                if isinstance(item, BaseException):
                    raise item  # a bug: the job fails, and its unrecorded requests run again
            if not self._record(batch_id, run, answers):
                return
            if more and not self._still_running(namespace, batch_id, run.progress.processed):
                more = False

    def _still_running(self, namespace: str, batch_id: str, processed: int) -> bool:
        """Whether a batch may start more requests: still in_progress, not due to end, and
        within its pace."""
        found = self.batches.load(batch_id)
        if found is None or found[0]["status"] != "in_progress":
            return False
        batch, record = found
        if self.batches.due_ending(namespace, batch, record) is not None:
            return False
        per_request = self.tenants.pace(namespace).per_request
        if per_request > 0:
            return processed < int(record.elapsed() / per_request)
        return True

    # -- endings ----------------------------------------------------------------------------

    def _publish(self, namespace: str, batch: dict[str, Any]) -> None:
        """Every request has run and the finalizing pace has passed: complete."""
        run = self._run_for(batch)
        self.batches.publish(namespace, batch["id"], "finalizing", "completed", run.progress)

    def _end(self, namespace: str, batch: dict[str, Any], final: str) -> None:
        """Expire or cancel: every request that never ran gets a line in the error file."""
        batch_id, status = batch["id"], batch["status"]
        found = self.batches.load(batch_id)
        record = found[1] if found else BatchRecord()
        run: _Run | None = None
        if record.publishing is None:  # the unrun lines are not written yet
            if record.ending != final and not self.batches.begin_ending(
                namespace, batch_id, status, final
            ):
                return
            if batch["request_counts"]["total"] > 0:  # validated: its requests are known
                run = self._run_for(batch)
                now = self.tenants.now(namespace)
                lines = [
                    (error_line(request["custom_id"], now, dict(UNRUN_ERRORS[final])), False)
                    for request, _ in run.pending
                ]
                self.batches.record_results(batch_id, run.log, run.progress, lines)
        elif batch["request_counts"]["total"] > 0:
            run = self._run_for(batch)
        self.batches.publish(namespace, batch_id, status, final, run.progress if run else None)


def _forced_line(custom_id: str, now: int, outcome: dict[str, Any]) -> dict[str, Any]:
    """The result line a forced outcome asks for."""
    if outcome.get("status_code") is None:
        return error_line(custom_id, now, outcome["error"])
    status = int(outcome["status_code"])
    body = outcome.get("error") or status_error(status).body()
    if "error" not in body and status >= 400:
        body = {"error": body}
    return result_line(custom_id, now, status, body)


class _JobThreads:
    """The threads jobs run in: kept, and reused, rather than one started for each job (a
    thread's start waits for the new thread to take the interpreter's lock, which on a busy
    server held up the runner for milliseconds per job). A job finds an idle thread, or a new
    one is started; there are never more than jobs running at once (at most :data:`MAX_JOBS`).
    Daemon threads: a server stopping does not wait for them."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._count = 0

    def run(self, job: Callable[[], None]) -> None:
        with self._lock:
            start = self._idle == 0
            if start:
                self._count += 1
            else:
                self._idle -= 1
        self._jobs.put(job)
        if start:
            name = f"job-{self._count}"
            threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except BaseException:  # the job logs its own failures; the thread goes on
                log.exception("a job failed")
            with self._lock:
                self._idle += 1


class _Workers:
    """A fixed set of daemon threads answering requests at once (``--upstream-concurrency``).

    Daemon threads, unlike ``concurrent.futures.ThreadPoolExecutor``'s, never keep the process
    alive: a server stopping does not wait for an upstream that does not answer.
    """

    def __init__(self, size: int) -> None:
        self._tasks: queue.SimpleQueue[tuple[Callable[[Any], Any], Any, Future[Any]]] = (
            queue.SimpleQueue()
        )
        for n in range(size):
            threading.Thread(target=self._work, name=f"responder-{n}", daemon=True).start()

    def _work(self) -> None:
        while True:
            fn, item, future = self._tasks.get()
            try:
                future.set_result(fn(item))
            except BaseException as exc:
                future.set_exception(exc)

    def submit(self, fn: Callable[[Any], Any], item: Any, done: Callable[[Any], None]) -> None:
        """Run ``fn(item)`` on a worker; ``done`` gets its result, or the exception it raised."""
        future: Future[Any] = Future()
        future.add_done_callback(
            lambda f: done(f.exception() if f.exception() is not None else f.result())
        )
        self._tasks.put((fn, item, future))


__all__ = ["CHUNK_LINES", "Responder", "Runner"]
