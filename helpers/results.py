"""Read a batch's results into one DataFrame, and build a new input file from what failed.

A finished batch has up to two result files: the output file (requests that succeeded) and the
error file (requests answered with an HTTP error, and, for an expired or cancelled batch, the
requests that never ran, with ``batch_expired``/``batch_cancelled``). Either may be missing, and
neither is in input order. :func:`read_results` reads both through the SDK
(``client.files.content``) into one row per ``custom_id`` and, given the input file, joins the
rows back to the prompts in input order. :func:`retry_file` then collects the original request
lines of every row that did not succeed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from openai.types import Batch

#: the columns of :func:`parse_result_lines` (``read_results`` adds ``prompt`` after custom_id)
RESULT_COLUMNS = [
    "custom_id",
    "status_code",
    "answer",
    "error_code",
    "error_message",
    "input_tokens",
    "output_tokens",
]
_INT_COLUMNS = ("status_code", "input_tokens", "output_tokens")


def _text_of(content: Any) -> Any:
    """The text of a message's content: a string, or the text parts of a list joined."""
    if isinstance(content, list):
        texts = [str(p["text"]) for p in content if isinstance(p, dict) and p.get("text")]
        return "\n".join(texts) if texts else None
    return content


def _answer(body: dict[str, Any]) -> Any:
    """What a successful response body answered, by endpoint (see :func:`parse_result_lines`)."""
    kind = body.get("object")
    choices = body.get("choices")
    if kind == "chat.completion" or (choices and isinstance(choices[0].get("message"), dict)):
        message = (choices or [{}])[0].get("message") or {}
        content = message.get("content")
        return _text_of(content) if content is not None else message.get("refusal")
    if kind == "text_completion" or choices:
        return (choices or [{}])[0].get("text")
    if kind == "response" or "output" in body:
        texts = [
            part.get("text", "")
            for item in body.get("output") or []
            if isinstance(item, dict) and item.get("type") == "message"
            for part in item.get("content") or []
            if isinstance(part, dict) and part.get("type") == "output_text"
        ]
        return "".join(texts) if texts else None
    if isinstance(body.get("data"), list):  # embeddings: one vector, or one per input
        vectors = [item.get("embedding") for item in body["data"] if isinstance(item, dict)]
        return vectors[0] if len(vectors) == 1 else vectors
    if isinstance(body.get("results"), list):  # moderations
        results = body["results"]
        return results[0] if len(results) == 1 else results
    return None


def _row(line: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    row["custom_id"] = line.get("custom_id")
    response = line.get("response")
    if isinstance(response, dict):
        row["status_code"] = response.get("status_code")
        body: dict[str, Any] = response["body"] if isinstance(response.get("body"), dict) else {}
        error = body.get("error")
        if isinstance(error, dict):
            row["error_code"] = error.get("code") or error.get("type")
            row["error_message"] = error.get("message")
        elif (row["status_code"] or 0) < 400:
            row["answer"] = _answer(body)
        usage: dict[str, Any] = body["usage"] if isinstance(body.get("usage"), dict) else {}
        row["input_tokens"] = usage.get("prompt_tokens", usage.get("input_tokens"))
        row["output_tokens"] = usage.get("completion_tokens", usage.get("output_tokens"))
    error = line.get("error")
    if isinstance(error, dict):  # the request never produced a response: expired, cancelled ...
        row["error_code"] = error.get("code")
        row["error_message"] = error.get("message")
    return row


def _with_dtypes(table: pd.DataFrame) -> pd.DataFrame:
    """Int64 for counts and status codes; Python objects (None when missing) for the rest."""
    for column in table.columns:
        if column in _INT_COLUMNS:
            table[column] = table[column].astype("Int64")
        elif column != "custom_id":
            values = table[column].astype(object)
            table[column] = values.where(values.notna(), None)
    return table


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=RESULT_COLUMNS, dtype=object)
    return _with_dtypes(table)


def parse_result_lines(lines: Iterable[str | bytes]) -> pd.DataFrame:
    """Parse the lines of batch output and error files into one row per line.

    Columns: ``custom_id``; ``status_code`` (Int64, NA when the request never ran);
    ``answer`` (chat: the message content; responses: the output text joined; completions: the
    text; embeddings: the vector, or a list of vectors for several inputs; moderations: the
    result); ``error_code`` and ``error_message`` (from the response body's ``error`` for HTTP
    errors, or the line's own ``error``, e.g. ``batch_expired``); ``input_tokens`` and
    ``output_tokens`` (Int64, from the body's ``usage``). Rows keep the order of the lines; blank
    lines are skipped.

    Returns the DataFrame. Raises ValueError for a line that is not a JSON object.
    """
    rows = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"result line {number} is not valid JSON: {exc}") from None
        if not isinstance(line, dict):
            raise ValueError(f"result line {number} is not a JSON object")
        rows.append(_row(line))
    return _frame(rows)


def _prompt(body: Any) -> Any:
    """The prompt of one request body: the last user message, or the input / prompt."""
    if not isinstance(body, dict):
        return None
    messages = body.get("messages")
    if messages is None and isinstance(body.get("input"), list):
        if any(isinstance(m, dict) and "role" in m for m in body["input"]):
            messages = body["input"]
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user":
                return _text_of(message.get("content"))
        return None
    if "input" in body:
        return body["input"]
    return body.get("prompt")


def _input_requests(input_path: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(raw line, parsed request) for every request line of an input file with a custom_id."""
    with open(input_path, encoding="utf-8-sig") as fh:  # a BOM is fine, as for the API
        for raw in fh:
            if not raw.strip():
                continue
            try:
                request = json.loads(raw)
            except ValueError:
                continue
            if isinstance(request, dict) and request.get("custom_id") is not None:
                yield raw, request


def read_results(
    client: Any, batch: Batch, *, input_path: str | Path | None = None
) -> pd.DataFrame:
    """Read a batch's output and error files into one DataFrame (see :func:`parse_result_lines`).

    ``client`` is an ``openai.OpenAI`` client; each file is fetched with
    ``client.files.content(file_id).text`` (a batch may have neither, one or both). Without
    ``input_path`` the rows are the output file's lines, then the error file's. With it, the rows
    are the input file's requests in input order, with a ``prompt`` column (the last user
    message, or the input), joined to their results by ``custom_id``; a request with no result
    line keeps NA in the result columns.

    Returns the DataFrame. Raises the SDK's errors from ``client.files.content`` and
    FileNotFoundError for a missing ``input_path``.
    """
    lines: list[str] = []
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id:
            # split on newlines only: text may hold other line separators (U+2028, ...)
            lines.extend(client.files.content(file_id).text.split("\n"))
    results = parse_result_lines(lines)
    if input_path is None:
        return results
    inputs = pd.DataFrame(
        [
            {"custom_id": str(request["custom_id"]), "prompt": _prompt(request.get("body"))}
            for _, request in _input_requests(input_path)
        ],
        columns=["custom_id", "prompt"],
    )
    results = results.drop_duplicates("custom_id", keep="last")
    joined = inputs.merge(results, on="custom_id", how="left", sort=False)
    return _with_dtypes(joined[["custom_id", "prompt", *RESULT_COLUMNS[1:]]].copy())


def retry_file(results: pd.DataFrame, input_path: str | Path, out_path: str | Path) -> Path | None:
    """Write a new batch input file with the original request lines of the rows that failed.

    A row failed when it has no successful response: an HTTP error (``status_code`` >= 400), a
    request that never ran (expired, cancelled: ``status_code`` NA), or no result at all (a row
    of ``read_results(..., input_path=...)`` with NA). Lines are copied unchanged from
    ``input_path``, in input order; pass a filtered ``results`` to retry only some rows.

    Returns ``out_path`` (parent directories created), or None, writing nothing, when no row
    failed. Raises ValueError when ``results`` lacks the ``custom_id``/``status_code`` columns.
    """
    missing = {"custom_id", "status_code"} - set(results.columns)
    if missing:
        raise ValueError(f"results has no {', '.join(sorted(missing))} column: use read_results()")
    status = results["status_code"].astype("Int64")
    succeeded = (status < 400).fillna(False).astype(bool)
    failed = set(results.loc[~succeeded, "custom_id"].astype(str))
    if not failed:
        return None
    lines = [
        raw for raw, request in _input_requests(input_path) if str(request["custom_id"]) in failed
    ]
    if not lines:
        return None
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(line if line.endswith("\n") else line + "\n" for line in lines)
    return out_path
