"""The rules a batch input file must pass, with OpenAI's codes, messages and line numbers.

One implementation serves two callers: the local server, when a batch leaves ``validating``, and
:func:`helpers.check_batch_file`, which lets a learner see the same problems before uploading.
Nothing here touches the network, the database or FastAPI.

What OpenAI documents or was observed returning is reproduced exactly (see ``MESSAGES``); where
the real wording is unknown the choice is marked ``UNCONFIRMED`` and listed in
``docs/local-server.md`` under "Known deviations". Change a message in ``MESSAGES`` and both
callers follow.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import json_type_name
from .models import resolve_model
from .tokens import request_input_tokens

#: Endpoints a batch can target on the local server (the real API also accepts
#: /v1/images/generations, /v1/images/edits and /v1/videos, which it does not emulate).
BATCH_ENDPOINTS = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
)
COMPLETION_WINDOWS = ("24h",)

MAX_REQUESTS = 50_000
MAX_EMBEDDING_INPUTS = 50_000
MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024  # 209,715,200
#: The real API's cap on errors.data entries is unknown (UNCONFIRMED); this keeps a failed
#: batch of a huge broken file readable.
MAX_REPORTED_ERRORS = 1_000

_ENDPOINT_LABEL = {
    "/v1/chat/completions": "Chat Completions",
    "/v1/completions": "Completions",
    "/v1/responses": "Responses",
    "/v1/embeddings": "Embeddings",
    "/v1/moderations": "Moderations",
}
# the body parameter without which each endpoint cannot run, and its message
_REQUIRED_BODY_PARAM = {
    "/v1/chat/completions": ("messages", "Messages parameter is required."),
    "/v1/completions": ("prompt", "Prompt parameter is required."),  # UNCONFIRMED wording
    "/v1/responses": ("input", "Input parameter is required."),  # UNCONFIRMED wording
    "/v1/embeddings": ("input", "Input parameter is required."),  # UNCONFIRMED wording
    "/v1/moderations": ("input", "Input parameter is required."),  # UNCONFIRMED wording
}

MESSAGES = {
    # observed on the real API
    "invalid_json_line": "This line is not parseable as valid JSON.",
    "missing_required_parameter": "Missing required parameter: '{param}'.",
    "invalid_url": "The URL provided for this request does not match the batch endpoint.",
    "model_not_found": "The provided model '{model}' is not supported by the Batch API.",
    "streaming_unsupported": "{label}: Streaming is not supported in the Batch API.",
    "model_required": "Model parameter is required.",
    "file_not_found": (
        "Cannot find file {file_id}, or organization {organization} does not have access to it."
    ),
    "token_limit_exceeded": (
        "Enqueued token limit reached for {model} in organization {organization}. "
        "Limit: {limit:,} enqueued tokens. "
        "Please try again once some in_progress batches have been completed."
    ),
    # UNCONFIRMED wording (codes observed; text as OpenAI-compatible services word it)
    "mismatched_model": (
        "The model '{model}' for this request does not match the rest of the batch. "
        "Each batch must contain requests for a single model."
    ),
    "duplicate_custom_id": (
        "The custom_id '{custom_id}' for this request is a duplicate of another request. "
        "The custom_id parameter must be unique for each request in a batch."
    ),
    # UNCONFIRMED codes and wording
    "invalid_method": "The method '{method}' is not supported. Only 'POST' is supported.",
    "invalid_type": "Invalid type for '{param}': expected {expected}, but got {got} instead.",
    "empty_file": "The batch input file is empty. It must contain at least one request.",
    "too_many_requests": (
        "The batch input file contains {count:,} requests, more than the maximum of "
        "{limit:,} requests per batch."
    ),
    "too_many_embedding_inputs": (
        "The batch input file contains {count:,} embedding inputs, more than the maximum of "
        "{limit:,} embedding inputs per batch."
    ),
    "wrong_purpose": (
        "The input file {file_id} was uploaded with purpose '{purpose}'. "
        "A batch input file must be uploaded with purpose 'batch'."
    ),
}


@dataclass(frozen=True)
class BatchError:
    """One problem, as the API reports it in ``batch.errors.data``."""

    code: str
    message: str
    param: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "param": self.param, "line": self.line}


@dataclass
class ValidationReport:
    """What validating a whole file found."""

    errors: list[BatchError] = field(default_factory=list)
    requests: int = 0
    model: str | None = None
    input_tokens: int = 0
    embedding_inputs: int = 0
    truncated: bool = False  # more errors than MAX_REPORTED_ERRORS were found

    @property
    def ok(self) -> bool:
        return not self.errors


def _error(code: str, key: str | None = None, *, param=None, line=None, **fmt) -> BatchError:
    # ``param`` is both a field of the error and a placeholder of some messages
    return BatchError(
        code, MESSAGES[key or code].format(param=param, **fmt), param=param, line=line
    )


def iter_lines(path: str | Path) -> Iterator[bytes]:
    """Yield the physical lines of a file as bytes (without the newline), streaming."""
    with open(path, "rb") as fh:
        for raw in fh:
            yield raw.rstrip(b"\n")


def count_embedding_inputs(value: Any) -> int:
    """How many embedding inputs a body's ``input`` holds (the 50,000 limit counts these)."""
    if isinstance(value, list):
        if value and all(isinstance(x, int) for x in value):
            return 1  # one input given as a list of tokens
        return len(value)
    return 1


def check_line(
    raw: bytes | str,
    number: int,
    endpoint: str,
    *,
    first_model: str | None,
    seen_ids: set[str],
    any_model: bool = False,
) -> tuple[BatchError | None, dict[str, Any] | None]:
    """Check one physical line. Returns (the line's first problem or None, the parsed request).

    ``any_model`` accepts model names outside the local catalog (an upstream server decides).
    """
    try:
        request = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _error("invalid_json_line", line=number), None
    if not isinstance(request, dict):
        # JSON, but not an object: UNCONFIRMED, reported as unparseable
        return _error("invalid_json_line", line=number), None
    for name in ("custom_id", "method", "url", "body"):
        if name not in request or request[name] is None:
            return _error("missing_required_parameter", param=name, line=number), request
    custom_id, method, url, body = (request[k] for k in ("custom_id", "method", "url", "body"))
    if not isinstance(custom_id, str):
        return _type_error("custom_id", "a string", custom_id, number), request
    if not isinstance(url, str) or url != endpoint:
        return _error("invalid_url", param="url", line=number), request
    if not isinstance(method, str) or method.upper() != "POST":
        return _error(
            "invalid_request", "invalid_method", param="method", line=number, method=method
        ), request
    if not isinstance(body, dict):
        return _type_error("body", "an object", body, number), request
    model = body.get("model")
    if model is None or model == "":
        return _error("invalid_request", "model_required", param="body.model", line=number), request
    if not isinstance(model, str):
        return _type_error("body.model", "a string", model, number), request
    info = resolve_model(model)
    if not any_model and (info is None or endpoint not in info.endpoints):
        return _error("model_not_found", param="body.model", line=number, model=model), request
    if first_model is not None and model != first_model:
        return _error("mismatched_model", param="body.model", line=number, model=model), request
    if body.get("stream") is True:
        return _error(
            "streaming_unsupported",
            param="body.stream",
            line=number,
            label=_ENDPOINT_LABEL.get(endpoint, "Batch"),
        ), request
    required = _REQUIRED_BODY_PARAM.get(endpoint)
    if required is not None and body.get(required[0]) is None:
        param, message = required
        return BatchError("invalid_request", message, param=f"body.{param}", line=number), request
    if custom_id in seen_ids:
        return _error(
            "duplicate_custom_id", param="custom_id", line=number, custom_id=custom_id
        ), request
    return None, request


def _type_error(param: str, expected: str, got: Any, line: int) -> BatchError:
    return _error(
        "invalid_type", param=param, line=line, expected=expected, got=json_type_name(got)
    )


def validate_lines(
    lines: Iterable[bytes | str],
    endpoint: str,
    *,
    count_tokens: bool = True,
    max_errors: int | None = MAX_REPORTED_ERRORS,
    any_model: bool = False,
) -> ValidationReport:
    """Validate every line of a batch input file for ``endpoint``.

    Every bad line is reported, in line order, with its 1-based physical line number. Blank
    lines are skipped (UNCONFIRMED). File-level problems (empty file, too many requests or
    embedding inputs) come after the line errors, with ``line`` null.
    """
    report = ValidationReport()
    seen_ids: set[str] = set()
    first_model: str | None = None

    def add(err: BatchError) -> None:
        if max_errors is not None and len(report.errors) >= max_errors:
            report.truncated = True
            return
        report.errors.append(err)

    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            raw = raw.rstrip(b"\r")
            if not raw.strip():
                continue
        else:
            raw = raw.rstrip("\r\n")
            if not raw.strip():
                continue
        report.requests += 1
        problem, request = check_line(
            raw,
            number,
            endpoint,
            first_model=first_model,
            seen_ids=seen_ids,
            any_model=any_model,
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
        if endpoint == "/v1/embeddings":
            report.embedding_inputs += count_embedding_inputs(body.get("input"))
        if count_tokens:
            report.input_tokens += request_input_tokens(endpoint, body)

    if report.requests == 0:
        add(_error("empty_file"))
    elif report.requests > MAX_REQUESTS:
        add(_error("too_many_requests", count=report.requests, limit=MAX_REQUESTS))
    if report.embedding_inputs > MAX_EMBEDDING_INPUTS:
        add(
            _error(
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
    )


def infer_endpoint(path: str | Path) -> str | None:
    """The ``url`` of the first parseable request in a file, or None."""
    for raw in iter_lines(path):
        try:
            request = json.loads(raw)
        except ValueError:
            continue
        if isinstance(request, dict) and isinstance(request.get("url"), str):
            return request["url"]
    return None


def token_limit_error(model: str, limit: int, organization: str) -> BatchError:
    return _error("token_limit_exceeded", model=model, limit=limit, organization=organization)


def file_not_found_error(file_id: str, organization: str) -> BatchError:
    return _error(
        "invalid_request",
        "file_not_found",
        param="file_id",
        file_id=file_id,
        organization=organization,
    )


def wrong_purpose_error(file_id: str, purpose: str) -> BatchError:
    return _error(
        "invalid_request", "wrong_purpose", param="input_file_id", file_id=file_id, purpose=purpose
    )
