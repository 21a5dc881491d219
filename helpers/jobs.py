"""A job bigger than one batch: parts, a manifest on disk, and a loop that runs them.

:class:`BatchJob` does what notebook 12 writes by hand. A job is a folder: one input file per
part (``part-001.jsonl``, ...) and ``manifest.json``, which records each part's size and the
ids it gets on the way, its uploaded file's and then its batch's, each saved as soon as it
exists (the file is replaced whole on every save, so a crash while writing leaves the old one).

- :meth:`BatchJob.create` splits a batch input file into parts of at most ``part_tokens``
  input tokens (counted offline, as the API counts them) and 50,000 requests;
- :meth:`BatchJob.open` reads a job back, in a new kernel after a crash;
- :meth:`BatchJob.run` submits the waiting parts, in order, while the job's own count of the
  queue (the input tokens of its parts whose batch has not ended) stays within ``budget``;
  a part refused with ``token_limit_exceeded`` waits again until a part that was running ends.
  First it finds, by the job's name and the part's number in each batch's ``metadata``, a
  part whose batch was created but whose id never reached the manifest, so that no part runs
  twice;
- :meth:`BatchJob.results` reads every part's result lines into one table, and
  :meth:`BatchJob.add_retry_part` makes the requests that got no answer one more part.

Nothing here wraps the SDK: every method that needs the API takes an ``openai.OpenAI`` client.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from batch_api_local import MAX_REQUESTS, request_input_tokens, request_lines

from .results import parse_result_lines
from .waiting import TERMINAL_STATUSES, default_poll_interval

#: the manifest's file name in a job's folder
MANIFEST_NAME = "manifest.json"
#: the validation error of a batch the queue had no room for
QUEUE_FULL = "token_limit_exceeded"


def _part(number: int, name: str, requests: int, tokens: int) -> dict[str, Any]:
    return {
        "part": str(number),
        "path": name,
        "requests": requests,
        "input_tokens": tokens,
        "file_id": None,
        "batch_id": None,
        "status": "pending",
        "refusals": 0,
    }


def _refused(batch: Any) -> bool:
    """Whether a batch failed validation because the queue had no room for it."""
    errors = batch.errors.data if batch.errors and batch.errors.data else []
    return bool(batch.status == "failed" and errors and errors[0].code == QUEUE_FULL)


class BatchJob:
    """A job of several batches, kept in a folder with its manifest (see the module's doc).

    ``manifest`` is the dict saved as ``manifest.json``: ``job`` (the name in every batch's
    metadata), ``endpoint``, ``model``, ``budget`` and ``parts``, one dict per part with
    ``part`` (its number, a string), ``path``, ``requests``, ``input_tokens``, ``file_id``,
    ``batch_id``, ``status`` and ``refusals``.
    """

    def __init__(self, directory: str | Path, manifest: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.manifest = manifest

    # -- making and reading a job ----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        directory: str | Path,
        *,
        budget: int,
        part_tokens: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> BatchJob:
        """Split the batch input file at ``path`` into parts, in ``directory`` (created).

        ``budget`` is the input tokens the job may hold in the queue at once: the model's queue
        limit for your usage tier, less some headroom. Each part has at most ``part_tokens``
        input tokens (default: a third of the budget, so that three parts run at once) and at
        most 50,000 requests; lines are copied unchanged and in order. ``metadata`` is added to
        every batch's (the job's name and the part's number always are). A manifest already in
        ``directory`` is replaced: this starts a new job.

        Returns the job. Raises ValueError when ``budget`` or ``part_tokens`` is not positive,
        when one request alone has more tokens than a part may hold, when a line is not a
        request or the file holds none; FileNotFoundError for a missing file.
        """
        path, directory = Path(path), Path(directory)
        part_tokens = budget // 3 if part_tokens is None else part_tokens
        if budget < 1 or part_tokens < 1:
            raise ValueError("budget and part_tokens must be at least 1 token")
        if part_tokens > budget:
            raise ValueError(f"part_tokens={part_tokens:,} is more than budget={budget:,}")
        if not path.is_file():
            raise FileNotFoundError(f"no batch input file at {path}")
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("part-*.jsonl"):
            old.unlink()
        job = cls(
            directory,
            {
                "job": f"{path.stem}-{uuid.uuid4().hex[:8]}",
                "endpoint": None,
                "model": None,
                "budget": budget,
                "metadata": dict(metadata or {}),
                "hold": None,
                "parts": [],
            },
        )
        lines: list[bytes] = []
        tokens = 0
        for number, raw in request_lines(path):
            try:
                request = json.loads(raw)
                url, body = request["url"], request["body"]
            except (ValueError, TypeError, KeyError):
                raise ValueError(
                    f"line {number} of {path.name} is not a request with a url and a body: "
                    "check the file with helpers.check_batch_file"
                ) from None
            if job.manifest["endpoint"] is None:
                job.manifest["endpoint"], job.manifest["model"] = url, body.get("model")
            n = request_input_tokens(url, body)
            if n > part_tokens:
                raise ValueError(
                    f"line {number} of {path.name} has {n:,} input tokens, more than "
                    f"part_tokens={part_tokens:,}"
                )
            if lines and (tokens + n > part_tokens or len(lines) == MAX_REQUESTS):
                job._write_part(lines, tokens)
                lines, tokens = [], 0
            lines.append(raw)
            tokens += n
        if not lines:
            raise ValueError(f"{path.name} holds no request")
        job._write_part(lines, tokens)
        job.save()
        return job

    @classmethod
    def open(cls, directory: str | Path) -> BatchJob:
        """Read the job kept in ``directory``. Raises FileNotFoundError when it has none."""
        directory = Path(directory)
        manifest_path = directory / MANIFEST_NAME
        if not manifest_path.is_file():
            raise FileNotFoundError(f"no job in {directory}: {MANIFEST_NAME} is missing")
        return cls(directory, json.loads(manifest_path.read_text(encoding="utf-8")))

    def _write_part(self, lines: list[bytes], tokens: int) -> dict[str, Any]:
        number = len(self.parts) + 1
        name = f"part-{number:03d}.jsonl"
        (self.directory / name).write_bytes(b"".join(line + b"\n" for line in lines))
        part = _part(number, name, len(lines), tokens)
        self.parts.append(part)
        return part

    @property
    def path(self) -> Path:
        """The manifest's path."""
        return self.directory / MANIFEST_NAME

    @property
    def name(self) -> str:
        """The job's name, in every batch's ``metadata["job"]``."""
        return str(self.manifest["job"])

    @property
    def parts(self) -> list[dict[str, Any]]:
        """The parts, in order (dicts of the manifest: change them only through the methods)."""
        parts: list[dict[str, Any]] = self.manifest["parts"]
        return parts

    def save(self) -> None:
        """Write the manifest: a new file first, then put in place of the old one."""
        new = self.path.with_suffix(".new")
        new.write_text(json.dumps(self.manifest, indent=1), encoding="utf-8")
        new.replace(self.path)

    def table(self) -> pd.DataFrame:
        """The parts as a DataFrame, one row each."""
        return pd.DataFrame(self.parts).set_index("part")

    # -- the queue -------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Whether every part has a batch that has ended."""
        return all(p["batch_id"] and p["status"] in TERMINAL_STATUSES for p in self.parts)

    def queued_tokens(self) -> int:
        """Input tokens of the parts whose batch has not ended: what they hold of the queue."""
        return sum(p["input_tokens"] for p in self._running())

    def _running(self) -> list[dict[str, Any]]:
        return [p for p in self.parts if p["batch_id"] and p["status"] not in TERMINAL_STATUSES]

    def submit(self, client: Any, part: dict[str, Any]) -> None:
        """Upload the part's file (unless it was) and create its batch, saving each id at once."""
        if part["file_id"] is None:
            with open(self.directory / part["path"], "rb") as fh:
                part["file_id"] = client.files.create(file=fh, purpose="batch").id
            self.save()
        metadata = {**self.manifest.get("metadata", {}), "job": self.name, "part": part["part"]}
        batch = client.batches.create(
            input_file_id=part["file_id"],
            endpoint=self.manifest["endpoint"],
            completion_window="24h",
            metadata=metadata,
        )
        part["batch_id"], part["status"] = batch.id, batch.status
        self.save()

    def submit_what_fits(self, client: Any, log: Callable[[str], Any] | None = print) -> list[str]:
        """Submit the waiting parts, in order, while the queue has room for the next one.

        Returns the numbers of the parts submitted.
        """
        submitted = []
        for part in self.parts:
            if part["batch_id"] is None:
                if self.queued_tokens() + part["input_tokens"] > self.manifest["budget"]:
                    break  # the next one must wait: keep the order
                self.submit(client, part)
                submitted.append(part["part"])
                if log:
                    log(f"part {part['part']}: batch created ({part['input_tokens']:,} tokens)")
        return submitted

    def refresh(self, client: Any, log: Callable[[str], Any] | None = print) -> list[str]:
        """Bring every running part's status up to date; a part refused with
        ``token_limit_exceeded`` waits again. Returns the numbers of the parts refused."""
        refused = []
        for part in self._running():
            batch = client.batches.retrieve(part["batch_id"])
            part["status"] = batch.status
            if _refused(batch):
                if log:
                    log(f"part {part['part']}: refused: {batch.errors.data[0].message}")
                part["batch_id"], part["status"] = None, "pending"
                part["refusals"] += 1
                refused.append(part["part"])
        self.save()
        return refused

    def find_lost(self, client: Any, log: Callable[[str], Any] | None = print) -> list[str]:
        """Find the batch of every uploaded part whose batch id was never saved.

        Pages through ``client.batches.list`` (newest first) for batches whose metadata names
        this job and such a part, taking the newest (the part's latest attempt), and stops at
        the job's oldest saved batch. A part not found, or whose latest batch was refused for
        the queue (it ran nothing), keeps no batch id and is submitted later.
        Returns the numbers of the parts found.
        """
        lost = {p["part"]: p for p in self.parts if p["file_id"] and not p["batch_id"]}
        if not lost:
            return []
        known = {p["batch_id"] for p in self.parts if p["batch_id"]}
        found = []
        for batch in client.batches.list(limit=100):
            meta = batch.metadata or {}
            if meta.get("job") == self.name and meta.get("part") in lost:
                part = lost.pop(meta["part"])  # the newest batch of a part: its latest attempt
                if not _refused(batch):  # a refused one ran nothing: the part waits
                    part["batch_id"], part["status"] = batch.id, batch.status
                    self.save()
                    found.append(part["part"])
                    if log:
                        log(f"part {part['part']}: found {batch.id}, created before")
            if not lost:
                break
            if batch.id in known:
                known.discard(batch.id)
                if not known:
                    break  # past the job's oldest saved batch: nothing older is ours
        return found

    def run(
        self,
        client: Any,
        *,
        poll_interval: float | None = None,
        timeout: float | None = None,
        log: Callable[[str], Any] | None = print,
    ) -> None:
        """Submit the parts as the queue allows and wait until every part has ended.

        Finds lost parts first (:meth:`find_lost`). After a refusal, nothing is submitted until
        a part that was running ends (when none was, until the next poll). ``poll_interval``:
        seconds between rounds (default 0.25 s for the local server, 30 s for another).
        ``log`` receives a line per batch created, found or refused (None: silent).

        Raises TimeoutError when ``timeout`` seconds pass first (the batches keep running;
        :meth:`open` and ``run`` again later), and the SDK's errors.
        """
        if poll_interval is None:
            poll_interval = default_poll_interval(client)
        deadline = None if timeout is None else time.monotonic() + timeout
        self.find_lost(client, log)
        while True:
            refused = self.refresh(client, log)
            running = {p["batch_id"] for p in self._running()}
            # after a refusal: the batches that were running, one of which must end first
            # (kept in the manifest, so that a resumed job waits too)
            hold = self.manifest.get("hold")
            if refused:
                hold = sorted(running)
            elif hold is not None and (not hold or set(hold) - running):
                hold = None  # one of them has ended (or none was running: try again now)
            if hold != self.manifest.get("hold"):
                self.manifest["hold"] = hold
                self.save()
            if hold is None:
                self.submit_what_fits(client, log)
            if self.done:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"job {self.name} has parts still running after {timeout:g} s; they keep "
                    f"running: BatchJob.open({str(self.directory)!r}).run(client) resumes it"
                )
            time.sleep(poll_interval)

    # -- results ---------------------------------------------------------------------------------

    def results(self, client: Any, parts: list[str] | None = None) -> pd.DataFrame:
        """Every result line of the parts (all, or the numbers in ``parts``) in one table.

        The columns of :func:`helpers.parse_result_lines`, and ``part``. A request with lines
        in several parts (a retried one) keeps the last part's. Parts without a batch are
        skipped.
        """
        tables = []
        for part in self.parts:
            if part["batch_id"] is None or (parts is not None and part["part"] not in parts):
                continue
            batch = client.batches.retrieve(part["batch_id"])
            lines: list[str] = []
            for file_id in (batch.output_file_id, batch.error_file_id):
                if file_id:
                    lines.extend(client.files.content(file_id).text.split("\n"))
            tables.append(parse_result_lines(lines).assign(part=part["part"]))
        if not tables:
            return parse_result_lines([]).assign(part=pd.Series(dtype=object))
        table = pd.concat(tables, ignore_index=True)
        return table.drop_duplicates("custom_id", keep="last").reset_index(drop=True)

    def add_retry_part(self, custom_ids: Any) -> dict[str, Any] | None:
        """Add a part with the request lines of ``custom_ids`` (copied from the job's parts).

        Returns the new part (waiting: :meth:`run` submits it), or None, adding nothing, when
        no line matches.
        """
        wanted = {str(c) for c in custom_ids}
        lines: list[bytes] = []
        tokens = 0
        for part in list(self.parts):
            for _, raw in request_lines(self.directory / part["path"]):
                request = json.loads(raw)
                if str(request.get("custom_id")) in wanted:
                    wanted.discard(str(request["custom_id"]))
                    lines.append(raw)
                    tokens += request_input_tokens(request["url"], request["body"])
        if not lines:
            return None
        part = self._write_part(lines, tokens)
        self.save()
        return part

    def usage(self, client: Any) -> dict[str, int]:
        """The input and output tokens every part's batch used, together."""
        used = {"input_tokens": 0, "output_tokens": 0}
        for part in self.parts:
            if part["batch_id"]:
                usage = client.batches.retrieve(part["batch_id"]).usage
                if usage is not None:
                    used["input_tokens"] += usage.input_tokens
                    used["output_tokens"] += usage.output_tokens
        return used
