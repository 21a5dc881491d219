"""The rules a batch input file must pass, with OpenAI's codes, messages and line numbers.

One implementation serves two callers: the local server (at upload, and when a batch leaves
``validating``) and :func:`helpers.check_batch_file`, which lets a learner see the same problems
before uploading. Nothing here touches the network, the database or FastAPI; the wording of every
error is in :mod:`.errors`.

- :class:`UploadCheck` / :func:`check_upload`: what ``POST /v1/files`` refuses for
  ``purpose=batch``, judged by what the file holds, not by its name (an empty file, bytes that
  are not UTF-8, a first line that is not a JSON object);
- :func:`validate_lines` / :func:`validate_file`: what fails a batch while it validates, every bad
  line with its 1-based line number, and the input tokens of each request.
"""

from __future__ import annotations

import codecs
import itertools
import json
import re
import time
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .constants import (
    MAX_BATCH_FILE_BYTES,
    MAX_EMBEDDING_INPUTS,
    MAX_REPORTED_ERRORS,
    MAX_REQUESTS,
)
from .endpoints import ENDPOINTS, rules
from .endpoints.embeddings import count_embedding_inputs
from .errors import BatchError, batch_error, json_type_name
from .models import resolve_model
from .tokens import request_input_tokens

__all__ = [
    "BatchError",
    "UploadCheck",
    "ValidationReport",
    "check_line",
    "check_upload",
    "count_embedding_inputs",
    "duplicates",
    "first_model",
    "has_lone_surrogate",
    "loads_strict",
    "infer_endpoint",
    "iter_lines",
    "numbered_requests",
    "request_lines",
    "validate_file",
    "validate_lines",
]


# -- strict JSON ---------------------------------------------------------------------------------

_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def loads_strict(raw: bytes | str) -> Any:
    """``json.loads`` that refuses what a strict JSON parser refuses, with ValueError: bytes
    that are not UTF-8, ``NaN``, ``Infinity`` and ``-Infinity`` (Python's parser takes them;
    JSON has no such values), a lone UTF-16 surrogate (``"\\ud800"`` alone is valid JSON syntax
    but not text), and nesting so deep that parsing it would exhaust the stack."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw  # a BOM is tolerated
        value = json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    pattern = _SURROGATE_ESCAPE_BYTES if isinstance(raw, bytes) else _SURROGATE_ESCAPE
    if pattern.search(raw) and has_lone_surrogate(value):  # type: ignore[arg-type]
        raise ValueError("a lone surrogate is not text")
    return value


def has_lone_surrogate(value: Any) -> bool:
    """Whether any string in a parsed JSON value (keys included) holds a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# -- upload-time checks --------------------------------------------------------------------------

#: how much of an upload is kept in memory to find its first line; a longer first line is read
#: back from disk
_HEAD_BYTES = 16 * 1024 * 1024


class UploadCheck:
    """The upload-time checks of a ``purpose=batch`` file, fed chunk by chunk as it streams in.

    A file is judged by what it holds, not by its name (an in-memory upload has none): refused
    (HTTP 400 ``Invalid file format for Batch API. Must be .jsonl``, code null) are an empty
    file, bytes that are not UTF-8 (a binary file), and a first non-blank line that is not a
    JSON object (a UTF-8 BOM and a trailing ``\\r`` are tolerated). Later lines are checked when
    a batch validates the file. Whether the real API also looks at the name is UNCONFIRMED:
    reports of this message all involve files that were not JSON Lines, and a maintained batch
    library uploads in-memory files with no name successfully.
    """

    def __init__(self) -> None:
        self.size = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._utf8 = True
        self._head = b""
        self._first_line: bytes | None = None

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._utf8:
            try:
                self._decoder.decode(chunk)
            except UnicodeDecodeError:
                self._utf8 = False
        if self._first_line is None and len(self._head) < _HEAD_BYTES:
            self._head += chunk
            for line in self._head.split(b"\n")[:-1]:
                if line.strip():
                    self._first_line = line
                    break

    def result(self, path: str | Path | None = None) -> BatchError | None:
        """The problem found, or None. ``path`` (the bytes on disk) serves a very long first line."""
        if self._utf8:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self._utf8 = False
        bad = batch_error("invalid_file_format")
        if self.size == 0 or not self._utf8:
            return bad
        first = self._first_line
        if first is None:
            long_first = len(self._head) >= _HEAD_BYTES and path is not None
            first = _first_line(Path(path)) if long_first else self._head.strip()  # type: ignore[arg-type]
        try:
            parsed = loads_strict(first.decode("utf-8-sig"))
        except ValueError:
            return bad
        return None if isinstance(parsed, dict) else bad


def check_upload(path: str | Path) -> BatchError | None:
    """What ``POST /v1/files`` with ``purpose=batch`` would refuse in the file at ``path``
    (judged by what it holds, not by its name)."""
    path = Path(path)
    check = UploadCheck()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            check.feed(chunk)
            if check.size > MAX_BATCH_FILE_BYTES:
                return batch_error("file_too_large")
    return check.result(path)


def _first_line(path: Path) -> bytes:
    """The first non-blank line of a file on disk, without its newline."""
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.strip():
                return raw.rstrip(b"\n")
    return b""


# -- validating a batch's input file -------------------------------------------------------------


@dataclass
class ValidationReport:
    """What validating a whole file found."""

    errors: list[BatchError] = field(default_factory=list)
    requests: int = 0
    model: str | None = None
    input_tokens: int = 0
    #: input tokens of each request, in file order (when tokens were counted and all lines
    #: are good): the run reuses them instead of tokenizing every prompt again
    line_tokens: array = field(default_factory=lambda: array("q"))
    embedding_inputs: int = 0


def iter_lines(path: str | Path) -> Iterator[bytes]:
    """Yield the physical lines of a file as bytes (without the newline), streaming."""
    with open(path, "rb") as fh:
        for raw in fh:
            yield raw.rstrip(b"\n")


def numbered_requests(lines: Iterable[bytes | str]) -> Iterator[tuple[int, bytes | str]]:
    """The lines that hold a request, each with its 1-based physical line number, without its
    line end (``\n``, ``\r\n``). A line of only whitespace holds none and is skipped: the
    one rule of the project for blank lines (the real API's is UNCONFIRMED)."""
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip(b"\r\n") if isinstance(raw, bytes) else raw.rstrip("\r\n")
        if line.strip():
            yield number, line


def request_lines(path: str | Path) -> Iterator[tuple[int, bytes]]:
    """The request lines of a batch input file on disk, numbered, streaming (see
    :func:`numbered_requests`). A UTF-8 byte-order mark before the first line is dropped."""
    lines = iter_lines(path)
    first = next(lines, None)
    if first is None:
        return
    for number, line in numbered_requests(
        itertools.chain([first.removeprefix(codecs.BOM_UTF8)], lines)
    ):
        if isinstance(line, bytes):  # always: the file is read as bytes
            yield number, line


def check_line(
    raw: bytes | str,
    number: int,
    endpoint: str,
    *,
    first_model: str | None,
    seen_ids: set[str],
    any_model: bool = False,
    now: float | None = None,
) -> tuple[BatchError | None, dict[str, Any] | None]:
    """Check one physical line. Returns (the line's first problem or None, the parsed request).

    ``any_model`` accepts model names outside the local catalog (an upstream server decides).
    ``now`` is the time on the server's clock that decides whether a model has shut down
    (None: now).
    """
    try:
        request = loads_strict(raw)
    except ValueError:  # UnicodeDecodeError is one too
        return batch_error("invalid_json_line", line=number), None
    if not isinstance(request, dict):
        # JSON, but not an object: UNCONFIRMED, reported as unparseable
        return batch_error("invalid_json_line", line=number), None
    for name in ("custom_id", "method", "url", "body"):
        if name not in request or request[name] is None:
            return batch_error("missing_required_parameter", param=name, line=number), request
    custom_id, method, url, body = (request[k] for k in ("custom_id", "method", "url", "body"))
    if not isinstance(custom_id, str):
        return _type_error("custom_id", "a string", custom_id, number), request
    if not isinstance(url, str) or url != endpoint:
        return batch_error("invalid_url", param="url", line=number), request
    if not isinstance(method, str) or method.upper() != "POST":
        return batch_error("invalid_method", param="method", line=number, method=method), request
    if not isinstance(body, dict):
        return _type_error("body", "an object", body, number), request
    # the rules every request must pass (endpoints.rules), in a batch line's order
    model = rules.model_name(endpoint, body)
    if isinstance(model, rules.Problem):
        return model.batch_error(number), request
    if not any_model:
        when = time.time() if now is None else now
        served = rules.served_model(endpoint, model, resolve_model(model), when)
        if isinstance(served, rules.Problem):
            return served.batch_error(number), request
    if first_model is not None and model != first_model:
        return batch_error(
            "mismatched_model", param="body.model", line=number, model=model
        ), request
    for problem in (rules.streaming(endpoint, body), rules.required_parameter(endpoint, body)):
        if problem is not None:
            return problem.batch_error(number), request
    if custom_id in seen_ids:  # the rule :func:`duplicates` applies to a whole list
        return batch_error(
            "duplicate_custom_id", param="custom_id", line=number, custom_id=custom_id
        ), request
    return None, request


def duplicates(custom_ids: Iterable[Any]) -> list[tuple[int, BatchError]]:
    """Every repeated custom_id, by 1-based position, with the batch error it would get."""
    seen: set[Any] = set()
    found = []
    for position, custom_id in enumerate(custom_ids, start=1):
        if custom_id in seen:
            error = batch_error("duplicate_custom_id", param="custom_id", custom_id=custom_id)
            found.append((position, error))
        seen.add(custom_id)
    return found


def _type_error(param: str, expected: str, got: Any, line: int) -> BatchError:
    return batch_error(
        "invalid_type", param=param, line=line, expected=expected, got=json_type_name(got)
    )


def validate_lines(
    lines: Iterable[bytes | str],
    endpoint: str,
    *,
    count_tokens: bool = True,
    max_errors: int | None = MAX_REPORTED_ERRORS,
    any_model: bool = False,
    now: float | None = None,
) -> ValidationReport:
    """Validate every line of a batch input file for ``endpoint``.

    Every bad line is reported, in line order, with its 1-based physical line number. Blank
    lines are skipped (UNCONFIRMED). File-level problems (empty file, too many requests or
    embedding inputs) come after the line errors, with ``line`` null. ``now`` is the time on
    the server's clock that decides which models have shut down (None: now).
    """
    when = time.time() if now is None else now
    report = ValidationReport()
    seen_ids: set[str] = set()
    first_model: str | None = None
    entry = ENDPOINTS.get(endpoint)
    embedding_inputs = entry.embedding_inputs if entry is not None else None

    def add(err: BatchError) -> None:
        if max_errors is None or len(report.errors) < max_errors:
            report.errors.append(err)

    for number, raw in numbered_requests(lines):
        report.requests += 1
        problem, request = check_line(
            raw,
            number,
            endpoint,
            first_model=first_model,
            seen_ids=seen_ids,
            any_model=any_model,
            now=when,
        )
        if request is not None and isinstance(request.get("custom_id"), str):
            seen_ids.add(request["custom_id"])
        if first_model is None and request is not None and isinstance(request.get("body"), dict):
            model = request["body"].get("model")
            if isinstance(model, str) and (any_model or resolve_model(model) is not None):
                first_model = report.model = model
        if problem is not None:
            add(problem)
            continue
        assert request is not None
        body = request["body"]
        if embedding_inputs is not None:
            report.embedding_inputs += embedding_inputs(body)
        if count_tokens:
            tokens = request_input_tokens(endpoint, body)
            report.input_tokens += tokens
            report.line_tokens.append(tokens)

    if report.requests == 0:
        add(batch_error("empty_file"))
    elif report.requests > MAX_REQUESTS:
        add(batch_error("too_many_requests", count=report.requests, limit=MAX_REQUESTS))
    if report.embedding_inputs > MAX_EMBEDDING_INPUTS:
        add(
            batch_error(
                "too_many_embedding_inputs",
                count=report.embedding_inputs,
                limit=MAX_EMBEDDING_INPUTS,
            )
        )
    return report


def validate_file(
    path: str | Path,
    endpoint: str | None = None,
    *,
    count_tokens: bool = True,
    max_errors: int | None = MAX_REPORTED_ERRORS,
    any_model: bool = False,
    now: float | None = None,
) -> ValidationReport:
    """Validate a file on disk. With no ``endpoint``, use the ``url`` of its first request."""
    if endpoint is None:
        endpoint = infer_endpoint(path) or "/v1/chat/completions"
    return validate_lines(
        iter_lines(path),
        endpoint,
        count_tokens=count_tokens,
        max_errors=max_errors,
        any_model=any_model,
        now=now,
    )


def infer_endpoint(path: str | Path) -> str | None:
    """The ``url`` of the first parseable request in a file, or None."""
    return _first_of(path, lambda request: request.get("url"))


def first_model(path: str | Path) -> str | None:
    """The ``body.model`` of the first parseable request in a file, or None."""
    return _first_of(path, lambda request: (request.get("body") or {}).get("model"))


def _first_of(path: str | Path, pick: Any) -> str | None:
    for raw in iter_lines(path):
        try:
            request = json.loads(raw)
            value = pick(request) if isinstance(request, dict) else None
        except (ValueError, RecursionError, AttributeError):
            continue
        if isinstance(value, str):
            return value
    return None
