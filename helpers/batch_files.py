"""Batch input files: build request lines, write them, check them before upload, split them.

A batch input file is JSON Lines, one request per line
(``{"custom_id", "method": "POST", "url", "body"}``). :func:`build_requests` makes those lines
from prompts, :func:`write_jsonl` writes them, :func:`check_batch_file` reports what the API would
reject, with the same codes, messages and line numbers (it runs the local server's own rules in
:mod:`batch_api_local.validation`), and :func:`split_batch_file` cuts work that exceeds one
batch's limits into several files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from batch_api_local import (
    BATCH_ENDPOINTS,
    MAX_BATCH_FILE_BYTES,
    MAX_EMBEDDING_INPUTS,
    MAX_REQUESTS,
    BatchError,
    check_upload,
    count_embedding_inputs,
    duplicates,
    limit_field,
    request_lines,
    validate_file,
    writes_images,
)

#: the endpoints :func:`build_requests` can build lines for
ENDPOINTS = BATCH_ENDPOINTS
#: the columns of :func:`problems_table`
PROBLEM_COLUMNS = ["line", "code", "param", "message"]


def _body(
    endpoint: str, model: str, prompt: Any, system: str | None, max_output_tokens: int | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model}
    if endpoint == "/v1/chat/completions":
        messages = [{"role": "system", "content": system}] if system is not None else []
        body["messages"] = messages + [{"role": "user", "content": prompt}]
    elif endpoint == "/v1/responses":
        body["input"] = prompt
        if system is not None:
            body["instructions"] = system
    elif endpoint in ("/v1/completions", "/v1/images/generations", "/v1/images/edits"):
        body["prompt"] = prompt
    else:  # /v1/embeddings, /v1/moderations
        body["input"] = prompt
    field = limit_field(endpoint)
    if max_output_tokens is not None and field is not None:
        body[field] = max_output_tokens
    return body


def build_requests(
    prompts: list[str] | pd.DataFrame,
    *,
    model: str,
    endpoint: str = "/v1/chat/completions",
    system: str | None = None,
    max_output_tokens: int | None = None,
    custom_id_prefix: str = "request-",
    column: str = "prompt",
    **body_params: Any,
) -> list[dict[str, Any]]:
    """Build one batch request line (a dict) per prompt, for ``endpoint``.

    - ``/v1/chat/completions``: ``messages`` (an optional ``system`` message, then the prompt as
      the user message), and ``max_output_tokens`` as ``max_completion_tokens``, the limit
      reasoning models take (reasoning included; the older ``max_tokens`` is refused by them);
    - ``/v1/responses``: ``input``, ``system`` as ``instructions``, ``max_output_tokens``;
    - ``/v1/embeddings`` and ``/v1/moderations``: ``input``;
    - ``/v1/completions``: ``prompt`` and ``max_output_tokens`` as ``max_tokens``;
    - ``/v1/images/generations`` and ``/v1/images/edits``: ``prompt`` (an image's size and
      quality, and an edit's ``images``, go in ``body_params``: ``size="1024x1024"``,
      ``quality="low"``, ``images=[{"file_id": ...}]``); no ``max_output_tokens``, since what an
      image costs is set by its quality and size.

    ``body_params`` (``reasoning_effort="low"``, ``dimensions=256`` ...) are added to every body. From a
    list, custom ids are ``request-1`` .. ``request-n`` (``custom_id_prefix`` + position). From a
    DataFrame, prompts come from ``column`` and custom ids from its ``custom_id`` column, or are
    made from its index (prefix + index label).

    Returns the list of request dicts, in prompt order. Raises ValueError for an unknown
    endpoint, a ``system``/``max_output_tokens`` the endpoint has no place for, or a missing
    column.
    """
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; choose one of {', '.join(ENDPOINTS)}")
    if system is not None and endpoint not in ("/v1/chat/completions", "/v1/responses"):
        raise ValueError(f"{endpoint} has no system prompt: leave system=None")
    if max_output_tokens is not None and limit_field(endpoint) is None:
        what = (
            "sets no output limit (an image's quality and size do)"
            if writes_images(endpoint)
            else "generates no tokens"
        )
        raise ValueError(f"{endpoint} {what}: leave max_output_tokens=None")
    if isinstance(prompts, pd.DataFrame):
        if column not in prompts.columns:
            raise ValueError(
                f"the DataFrame has no {column!r} column (columns: {list(prompts.columns)})"
            )
        texts = prompts[column].tolist()
        if "custom_id" in prompts.columns:
            ids = [str(c) for c in prompts["custom_id"]]
        else:
            ids = [f"{custom_id_prefix}{label}" for label in prompts.index]
    else:
        texts = list(prompts)
        ids = [f"{custom_id_prefix}{n}" for n in range(1, len(texts) + 1)]
    requests = []
    for custom_id, prompt in zip(ids, texts, strict=True):
        body = _body(endpoint, model, prompt, system, max_output_tokens)
        body.update(body_params)
        requests.append({"custom_id": custom_id, "method": "POST", "url": endpoint, "body": body})
    return requests


def write_jsonl(requests: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Write request dicts to ``path`` as JSON Lines (UTF-8), creating parent directories.

    Returns the path written. Raises ValueError naming the duplicated custom ids, before writing
    anything, when two requests share a ``custom_id`` (the API would fail the whole batch).
    """
    requests = list(requests)
    repeated = duplicates(request.get("custom_id") for request in requests)
    if repeated:
        raise ValueError("; ".join(f"request {n}: {error.message}" for n, error in repeated))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for request in requests:
            fh.write(json.dumps(request, ensure_ascii=False) + "\n")
    return path


def check_batch_file(
    path: str | Path, endpoint: str | None = None, *, any_model: bool = False
) -> list[BatchError]:
    """Check a batch input file with the rules the API applies when the batch is validating.

    ``endpoint`` is the one you will pass to ``client.batches.create``; by default the ``url`` of
    the first request. Model names are checked against the local server's catalog; pass
    ``any_model=True`` for a model it does not know (a newer one, in live mode): the file must
    still use one model throughout. Not checked: the enqueued-token limit (it depends on your
    account and running batches).

    First come the checks the upload itself makes (``client.files.create`` refuses a file that
    is not named ``.jsonl``, is empty, is not UTF-8, is over 200 MB or whose first line is not a
    JSON object): such a file gets that one problem, with the upload's message and a null code.
    Then every line is checked as a validating batch would.

    Returns the problems (``code``, ``message``, ``param``, ``line``: the same the API puts in
    ``batch.errors.data``), in line order; an empty list for a good file. Raises
    FileNotFoundError for a missing file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no batch input file at {path}")
    refused = check_upload(path)
    if refused is not None:
        return [refused]
    report = validate_file(path, endpoint, count_tokens=False, any_model=any_model, max_errors=None)
    return list(report.errors)


def problems_table(problems: Iterable[Any]) -> pd.DataFrame:
    """Return problems as a DataFrame with columns line, code, param, message.

    Accepts what :func:`check_batch_file` returns, the SDK's ``batch.errors.data`` items, or
    dicts with those keys. ``line`` is an Int64 column (NA for file-level problems); the others
    hold strings, or None where the API has null.
    """
    rows = []
    for problem in problems:
        if isinstance(problem, Mapping):
            rows.append({c: problem.get(c) for c in PROBLEM_COLUMNS})
        else:
            rows.append({c: getattr(problem, c, None) for c in PROBLEM_COLUMNS})
    table = pd.DataFrame(rows, columns=PROBLEM_COLUMNS, dtype=object)
    table["line"] = table["line"].astype("Int64")
    return table


def _part_path(path: Path, out_dir: Path, number: int) -> Path:
    return out_dir / f"{path.stem}.part{number:03d}.jsonl"


def split_batch_file(
    path: str | Path,
    out_dir: str | Path,
    *,
    max_requests: int = MAX_REQUESTS,
    max_bytes: int = MAX_BATCH_FILE_BYTES,
    max_embedding_inputs: int = MAX_EMBEDDING_INPUTS,
) -> list[Path]:
    """Split a batch input file into parts that each fit one batch's limits.

    Lines are copied unchanged and in order, never cut; blank lines are dropped. Each part has at
    most ``max_requests`` lines, ``max_bytes`` bytes and ``max_embedding_inputs`` embedding inputs
    (counted as the API counts them, for ``/v1/embeddings`` lines). Parts are named
    ``<stem>.part001.jsonl``, ``<stem>.part002.jsonl`` ... in ``out_dir`` (created if needed);
    parts of an earlier split of the same stem there are removed first. A file that fits gives
    one part.

    Returns the paths of the parts, in order. Raises ValueError when a single line is larger than
    ``max_bytes`` or has more embedding inputs than ``max_embedding_inputs``, and
    FileNotFoundError for a missing file.
    """
    path, out_dir = Path(path), Path(out_dir)
    if not path.is_file():
        raise FileNotFoundError(f"no batch input file at {path}")
    if min(max_requests, max_bytes, max_embedding_inputs) < 1:
        raise ValueError("the limits must be at least 1")
    out_dir.mkdir(parents=True, exist_ok=True)
    stale = re.compile(re.escape(path.stem) + r"\.part\d{3,}\.jsonl")
    for old in out_dir.iterdir():
        if stale.fullmatch(old.name) and old.resolve() != path.resolve():
            old.unlink()

    parts: list[Path] = []
    out = None
    requests = size = inputs = 0
    try:
        for number, raw in request_lines(path):
            line = raw + b"\n"
            line_inputs = _embedding_inputs(line)
            if len(line) > max_bytes:
                raise ValueError(
                    f"line {number} is {len(line):,} bytes, more than max_bytes={max_bytes:,}"
                )
            if line_inputs > max_embedding_inputs:
                raise ValueError(
                    f"line {number} has {line_inputs:,} embedding inputs, more than "
                    f"max_embedding_inputs={max_embedding_inputs:,}"
                )
            if out is None or (
                requests + 1 > max_requests
                or size + len(line) > max_bytes
                or inputs + line_inputs > max_embedding_inputs
            ):
                if out is not None:
                    out.close()
                parts.append(_part_path(path, out_dir, len(parts) + 1))
                out = open(parts[-1], "wb")
                requests = size = inputs = 0
            out.write(line)
            requests += 1
            size += len(line)
            inputs += line_inputs
    finally:
        if out is not None:
            out.close()
    return parts


def _embedding_inputs(line: bytes) -> int:
    """How many embedding inputs one line holds (0 for lines that are not embeddings)."""
    if b"/v1/embeddings" not in line:
        return 0
    try:
        request = json.loads(line)
    except ValueError:
        return 0
    if not isinstance(request, dict) or request.get("url") != "/v1/embeddings":
        return 0
    body = request.get("body")
    return count_embedding_inputs(body.get("input")) if isinstance(body, dict) else 0
