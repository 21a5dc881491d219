"""Input-file validation: every error code at its line, file-level limits, missing files."""

from __future__ import annotations

import json
from pathlib import Path

from openai import OpenAI
from openai.types import Batch

from batch_api_local import set_token_limit

from support import CHAT, chat_line, conn, hold, release, start_batch, upload, wait_until

EMBEDDINGS = "/v1/embeddings"


def _assert_failed_cleanly(batch: Batch) -> None:
    """A batch that failed validation: failed_at only, 0/0/0, no result files."""
    assert batch.status == "failed"
    assert batch.failed_at is not None and batch.failed_at >= batch.created_at
    for stamp in ("in_progress_at", "finalizing_at", "completed_at", "cancelling_at"):
        assert getattr(batch, stamp) is None, stamp
    assert batch.request_counts is not None
    assert batch.request_counts.model_dump() == {"total": 0, "completed": 0, "failed": 0}
    assert batch.output_file_id is None and batch.error_file_id is None
    assert batch.errors is not None and batch.errors.object == "list"


def _errors(batch: Batch) -> list[dict]:
    assert batch.errors is not None and batch.errors.data is not None
    return [e.model_dump() for e in batch.errors.data]


def _line(custom_id: str | None = "x", **changes) -> dict:
    line = chat_line(custom_id or "x")
    if custom_id is None:
        del line["custom_id"]
    for key, value in changes.items():
        if value is None:
            del line[key]
        else:
            line[key] = value
    return line


def _body(**changes) -> dict:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    for key, value in changes.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    return body


def test_every_line_error_in_line_order(client: OpenAI) -> None:
    lines = [
        chat_line("first"),  # 1: fine (the upload checks the first line)
        '{"custom_id": "broken", "method": ',  # 2
        _line(None),  # 3: no custom_id
        _line("no-method", method=None),  # 4
        _line("no-url", url=None),  # 5
        _line("no-body", body=None),  # 6
        chat_line("ok-2"),  # 7: fine
        _line("wrong-url", url="/v1/embeddings"),  # 8
        _line("unknown-model", body=_body(model="gpt-nope")),  # 9
        _line("stream", body=_body(stream=True)),  # 10
        _line("no-model", body=_body(model=None)),  # 11
        _line("no-messages", body=_body(messages=None)),  # 12
        _line("other-model", body=_body(model="gpt-4o")),  # 13
        chat_line("first"),  # 14: custom_id used on line 1
    ]
    done = wait_until(client, start_batch(client, lines).id)
    _assert_failed_cleanly(done)

    assert _errors(done) == [
        {
            "code": "invalid_json_line",
            "line": 2,
            "param": None,
            "message": "This line is not parseable as valid JSON.",
        },
        {
            "code": "missing_required_parameter",
            "line": 3,
            "param": "custom_id",
            "message": "Missing required parameter: 'custom_id'.",
        },
        {
            "code": "missing_required_parameter",
            "line": 4,
            "param": "method",
            "message": "Missing required parameter: 'method'.",
        },
        {
            "code": "missing_required_parameter",
            "line": 5,
            "param": "url",
            "message": "Missing required parameter: 'url'.",
        },
        {
            "code": "missing_required_parameter",
            "line": 6,
            "param": "body",
            "message": "Missing required parameter: 'body'.",
        },
        {
            "code": "invalid_url",
            "line": 8,
            "param": "url",
            "message": "The URL provided for this request does not match the batch endpoint.",
        },
        {
            "code": "model_not_found",
            "line": 9,
            "param": "body.model",
            "message": "The provided model 'gpt-nope' is not supported by the Batch API.",
        },
        {
            "code": "streaming_unsupported",
            "line": 10,
            "param": "body.stream",
            "message": "Chat Completions: Streaming is not supported in the Batch API.",
        },
        {
            "code": "invalid_request",
            "line": 11,
            "param": "body.model",
            "message": "Model parameter is required.",
        },
        {
            "code": "invalid_request",
            "line": 12,
            "param": "body.messages",
            "message": "Messages parameter is required.",
        },
        {
            "code": "mismatched_model",
            "line": 13,
            "param": "body.model",
            "message": done.errors.data[10].message,  # wording unconfirmed; checked below
        },
        {
            "code": "duplicate_custom_id",
            "line": 14,
            "param": "custom_id",
            "message": done.errors.data[11].message,
        },
    ]
    assert "gpt-4o" in _errors(done)[10]["message"]
    assert "'first'" in _errors(done)[11]["message"]


def test_each_error_alone_fails_the_batch(client: OpenAI) -> None:
    # one good line and one bad line per file: each rule on its own is enough to fail
    cases = {
        "invalid_json_line": "{",
        "missing_required_parameter": _line("m", method=None),
        "invalid_url": _line("u", url="/v1/completions"),
        "model_not_found": _line("n", body=_body(model="text-embedding-3-small")),
        "streaming_unsupported": _line("s", body=_body(stream=True)),
        "invalid_request": _line("r", body=_body(messages=None)),
        "mismatched_model": _line("mm", body=_body(model="gpt-4.1")),
        "duplicate_custom_id": chat_line("good"),
    }
    batch_ids = {}
    for code, bad in cases.items():
        batch_ids[code] = start_batch(client, [chat_line("good"), bad]).id
    for code, batch_id in batch_ids.items():
        done = wait_until(client, batch_id)
        _assert_failed_cleanly(done)
        assert [(e["code"], e["line"]) for e in _errors(done)] == [(code, 2)], code


def test_a_clean_file_passes(client: OpenAI) -> None:
    lines = [chat_line("a"), "", chat_line("b", max_tokens=5, temperature=0.2)]
    done = wait_until(client, start_batch(client, lines).id)
    assert done.status == "completed", done.errors
    assert done.errors is None
    assert done.request_counts is not None and done.request_counts.total == 2


def test_missing_input_file_fails_after_create(client: OpenAI) -> None:
    batch = client.batches.create(
        input_file_id="file-doesnotexist", endpoint=CHAT, completion_window="24h"
    )
    assert batch.status == "validating"  # HTTP 200: the file is only looked at later

    done = wait_until(client, batch.id)
    _assert_failed_cleanly(done)
    assert _errors(done) == [
        {
            "code": "invalid_request",
            "line": None,
            "param": "file_id",
            "message": "Cannot find file file-doesnotexist, or organization org-local does not "
            "have access to it.",
        }
    ]


def test_input_file_deleted_before_validation(client: OpenAI) -> None:
    hold(client, "validating")
    file = upload(client, [chat_line("a")])
    batch = client.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h")
    client.files.delete(file.id)
    release(client)  # validation looks at the file only now, after it was deleted
    done = wait_until(client, batch.id)
    _assert_failed_cleanly(done)
    assert [(e["code"], e["param"]) for e in _errors(done)] == [("invalid_request", "file_id")]
    assert file.id in _errors(done)[0]["message"]


def test_token_limit_exceeded(client: OpenAI) -> None:
    assert set_token_limit(50, **conn(client)) == 50

    small = wait_until(client, start_batch(client, [chat_line("s")]).id)
    assert small.status == "completed"  # a few tokens fit under 50

    big = start_batch(client, [chat_line(f"r{i}", "word " * 40) for i in range(2)])
    done = wait_until(client, big.id)
    _assert_failed_cleanly(done)
    assert _errors(done) == [
        {
            "code": "token_limit_exceeded",
            "line": None,
            "param": None,
            "message": "Enqueued token limit reached for gpt-4o-mini in organization org-local. "
            "Limit: 50 enqueued tokens. Please try again once some in_progress batches have "
            "been completed.",
        }
    ]


def test_more_than_50000_requests(client: OpenAI, tmp_path: Path) -> None:
    template = (
        '{"custom_id": "%d", "method": "POST", "url": "/v1/chat/completions", '
        '"body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}}\n'
    )
    path = tmp_path / "big.jsonl"
    path.write_text("".join(template % i for i in range(50_001)))
    file = client.files.create(file=open(path, "rb"), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h")

    done = wait_until(client, batch.id)
    _assert_failed_cleanly(done)
    errors = _errors(done)
    assert len(errors) == 1
    assert (errors[0]["line"], errors[0]["param"]) == (None, None)
    assert errors[0]["code"] == "too_many_requests"
    assert "50,001" in errors[0]["message"] and "50,000" in errors[0]["message"]


def test_more_than_50000_embedding_inputs(client: OpenAI) -> None:
    lines = [
        {
            "custom_id": f"e{i}",
            "method": "POST",
            "url": EMBEDDINGS,
            "body": {"model": "text-embedding-3-small", "input": ["a"] * 25_001},
        }
        for i in range(2)
    ]
    done = wait_until(client, start_batch(client, lines, endpoint=EMBEDDINGS).id)
    _assert_failed_cleanly(done)
    errors = _errors(done)
    assert len(errors) == 1
    assert (errors[0]["line"], errors[0]["param"]) == (None, None)
    assert errors[0]["code"] == "too_many_embedding_inputs"
    assert "50,002" in errors[0]["message"] and "50,000" in errors[0]["message"]

    # exactly 50,000 inputs is allowed
    lines[1]["body"]["input"] = ["a"] * 24_999
    ok = wait_until(client, start_batch(client, lines, endpoint=EMBEDDINGS).id)
    assert ok.status == "completed", ok.errors


def test_line_errors_come_before_file_errors(client: OpenAI) -> None:
    lines = [
        {
            "custom_id": "e0",
            "method": "POST",
            "url": EMBEDDINGS,
            "body": {"model": "text-embedding-3-small", "input": ["a"] * 50_001},
        },
        json.dumps({"custom_id": "e0"}).replace("}", ""),
    ]
    done = wait_until(client, start_batch(client, lines, endpoint=EMBEDDINGS).id)
    _assert_failed_cleanly(done)
    assert [(e["code"], e["line"]) for e in _errors(done)] == [
        ("invalid_json_line", 2),
        ("too_many_embedding_inputs", None),
    ]


def test_wrong_types_and_method(client: OpenAI) -> None:
    lines = [
        chat_line("good"),
        _line("x") | {"custom_id": 123},
        _line("get", method="GET"),
        _line("body", body="not an object"),
        "[1, 2]",
    ]
    done = wait_until(client, start_batch(client, lines).id)
    _assert_failed_cleanly(done)
    errors = _errors(done)
    assert [(e["code"], e["line"], e["param"]) for e in errors] == [
        ("invalid_type", 2, "custom_id"),
        ("invalid_request", 3, "method"),
        ("invalid_type", 4, "body"),
        ("invalid_json_line", 5, None),
    ]
    assert errors[0]["message"] == (
        "Invalid type for 'custom_id': expected a string, but got an integer instead."
    )
    assert "'GET'" in errors[1]["message"]


def test_one_rule_for_blank_lines_everywhere(tmp_path):
    from batch_api_local import request_lines

    path = tmp_path / "in.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\r\n\n   \t\r\n{"b": 2}\n\n{"c": 3}')

    # physical line numbers, no line ends, the byte-order mark dropped, blank lines skipped:
    # the validator, the work log, split_batch_file and estimate_cost all read lines this way
    assert list(request_lines(path)) == [(1, b'{"a": 1}'), (4, b'{"b": 2}'), (6, b'{"c": 3}')]
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert list(request_lines(tmp_path / "empty.jsonl")) == []
