"""The work log of a running batch: its result lines, appended crash-safely, and its progress.

While a batch runs, its result lines live in the state directory's ``work/`` folder::

    work/<batch id>.input.jsonl    the batch's own link to (or copy of) its input file
    work/<batch id>.tokens         input tokens of each request, counted once at validation
    work/<batch id>.output.jsonl   lines of requests that succeeded (HTTP < 400)
    work/<batch id>.errors.jsonl   lines of requests that failed, or never ran

Lines are appended whole, one ``write`` per chunk, before the database is told about them, so the
files are the source of truth: after a crash :meth:`WorkLog.recount` drops a torn last line and
rebuilds the progress from what the files hold, and the batch carries on with the requests whose
``custom_id`` is not in them. No line is lost and none is written twice. When the batch ends the
two result files become its ``batch_output`` files (:meth:`WorkLog.take`).
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ids, jsontext
from .errors import UNRUN_CODES, server_error
from .validation import request_lines


@dataclass
class Progress:
    """What a batch's result lines add up to: which requests are done, counts and usage."""

    done: set[str] = field(default_factory=set)
    completed: int = 0
    failed: int = 0
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def processed(self) -> int:
        return len(self.done)

    def count(self, line: dict[str, Any], *, ok: bool) -> None:
        """Add one result line (``ok``: it belongs in the output file)."""
        self.done.add(line["custom_id"])
        if ok:
            self.completed += 1
            add_usage(self.usage, line["response"]["body"])
        elif (
            line.get("response") is not None
            or (line.get("error") or {}).get("code") not in UNRUN_CODES
        ):
            # requests that never ran (expired, cancelled) are not counted as failed
            # (one observation of an expired batch; UNCONFIRMED for cancelled ones)
            self.failed += 1

    def usage_object(self) -> dict[str, Any]:
        """The batch's ``usage``: the sums over the successful requests."""
        total = self.usage
        return {
            "input_tokens": total.get("input_tokens", 0),
            "input_tokens_details": {"cached_tokens": total.get("cached_tokens", 0)},
            "output_tokens": total.get("output_tokens", 0),
            "output_tokens_details": {"reasoning_tokens": total.get("reasoning_tokens", 0)},
            "total_tokens": total.get("input_tokens", 0) + total.get("output_tokens", 0),
        }


def _tokens(value: Any) -> int:
    """A token count from a reply's usage; anything that is not a whole number >= 0 counts 0."""
    if type(value) is int:
        return value if value >= 0 else 0
    if isinstance(value, float) and math.isfinite(value) and value >= 0:
        return int(value)
    return 0


def add_usage(total: dict[str, int], body: Any) -> None:
    """Add a chat, Responses or embeddings reply's ``usage`` to ``total``.

    Chat's names (``prompt_tokens`` ...) and Responses' (``input_tokens`` ...) are both read; a
    field that is missing or not a count adds nothing.
    """
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return
    get = usage.get
    inputs = get("input_tokens")
    outputs = get("output_tokens")
    details_in = get("input_tokens_details")
    details_out = get("output_tokens_details")
    if inputs is None:  # chat's names
        inputs = get("prompt_tokens")
        outputs = get("completion_tokens")
        details_in = get("prompt_tokens_details")
        details_out = get("completion_tokens_details")
    cached = details_in.get("cached_tokens") if type(details_in) is dict else 0
    reasoning = details_out.get("reasoning_tokens") if type(details_out) is dict else 0
    total["input_tokens"] = total.get("input_tokens", 0) + _tokens(inputs)
    total["output_tokens"] = total.get("output_tokens", 0) + _tokens(outputs)
    total["cached_tokens"] = total.get("cached_tokens", 0) + _tokens(cached)
    total["reasoning_tokens"] = total.get("reasoning_tokens", 0) + _tokens(reasoning)


def result_line(custom_id: str, now: int, status: int, body: Any) -> dict[str, Any]:
    """The result line of a request that got an HTTP answer (output or error file)."""
    return {
        "id": ids.batch_request_id(now),
        "custom_id": custom_id,
        "response": {"status_code": status, "request_id": ids.request_id(), "body": body},
        "error": None,
    }


def error_line(custom_id: str, now: int, error: dict[str, Any]) -> dict[str, Any]:
    """The error-file line of a request that got no HTTP answer (never ran, timed out ...)."""
    return {
        "id": ids.batch_request_id(now),
        "custom_id": custom_id,
        "response": None,
        "error": error,
    }


class WorkLog:
    """The work files of one batch (see the module docstring)."""

    def __init__(self, work_dir: Path, batch_id: str) -> None:
        self.batch_id = batch_id
        self.input = work_dir / f"{batch_id}.input.jsonl"
        self.tokens = work_dir / f"{batch_id}.tokens"
        self.files = {
            "output": work_dir / f"{batch_id}.output.jsonl",
            "error": work_dir / f"{batch_id}.errors.jsonl",
        }

    # -- when the batch starts -------------------------------------------------------------

    def keep_input(self, source: Path, line_tokens: array | None) -> None:
        """Keep the input file for the life of the batch (a hard link, or a copy where the
        filesystem has none), and the token count of each request."""
        if not self.input.exists():
            try:
                os.link(source, self.input)  # no copy: the bytes are shared until one is deleted
            except OSError:
                shutil.copyfile(source, self.input)
        if line_tokens is not None and len(line_tokens):
            with open(self.tokens, "wb") as fh:
                line_tokens.tofile(fh)

    # -- while it runs ---------------------------------------------------------------------

    def recount(self) -> Progress:
        """The progress the result files hold, after dropping a torn last line of each."""
        progress = Progress()
        for kind, path in self.files.items():
            _repair(path)
            if not path.exists():
                continue
            with open(path, "rb") as fh:
                for raw in fh:
                    progress.count(json.loads(raw), ok=kind == "output")
        return progress

    def pending(self, done: set[str]) -> Iterator[tuple[dict[str, Any], int | None]]:
        """The requests not in ``done``, in input order, each with its input token count."""
        if not self.input.exists():
            return
        counts = array("q")
        if self.tokens.exists():
            with open(self.tokens, "rb") as fh:
                counts.frombytes(fh.read())
        index = 0
        for _, raw in request_lines(self.input):
            request = json.loads(raw)
            tokens = counts[index] if index < len(counts) else None
            index += 1
            if request["custom_id"] not in done:
                yield request, tokens

    def append(self, lines: list[tuple[dict[str, Any], bool]]) -> list[tuple[dict[str, Any], bool]]:
        """Append result lines, ``(line, ok)``: ``ok`` ones to the output file, the rest to the
        error file. Returns the lines as written: one whose response cannot be written as strict
        JSON (NaN, a value JSON has no type for) is replaced by a 500 line for its request."""
        written: list[tuple[dict[str, Any], bool]] = []
        texts: dict[bool, list[str]] = {True: [], False: []}
        for line, ok in lines:
            try:  # in pieces: a line of 2,048 embeddings leaves other threads time to run
                text = jsontext.dumps(line, separators=(", ", ": "), ensure_ascii=True)
            except (TypeError, ValueError, RecursionError):
                line, ok = _unwritable(line), False
                text = json.dumps(line)
            texts[ok].append(text + "\n")
            written.append((line, ok))
        _append(self.files["output"], texts[True])
        _append(self.files["error"], texts[False])
        return written

    # -- when it ends ----------------------------------------------------------------------

    def results(self) -> list[str]:
        """The kinds of result file that have lines."""
        return [k for k, p in self.files.items() if p.exists() and p.stat().st_size > 0]

    def take(self, kind: str, target: Path, *, shuffle: bool = False) -> None:
        """Move a result file to ``target`` (a no-op when a crash already moved it)."""
        source = self.files[kind]
        if source.exists():
            if shuffle:
                _shuffle(source, seed=self.batch_id + kind)
            os.replace(source, target)

    def remove(self) -> None:
        for path in (self.input, self.tokens, *self.files.values()):
            path.unlink(missing_ok=True)


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


def _unwritable(line: dict[str, Any]) -> dict[str, Any]:
    """The 500 line that stands for a result that could not be written as JSON."""
    return result_line(str(line.get("custom_id")), int(time.time()), 500, server_error().body())


def _append(path: Path, texts: list[str]) -> None:
    """Append whole lines with one write, in OpenAI's JSON style (", " and ": ")."""
    if not texts:
        return
    data = "".join(texts).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
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
