"""Tests for helpers.results: parsing result lines, reading a batch's results, retry files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from openai import OpenAI

from batch_api_local import advance_clock, expire_batch, force_line
from helpers import (
    build_requests,
    check_batch_file,
    parse_result_lines,
    read_results,
    retry_file,
    wait_for_batch,
    wait_for_status,
    write_jsonl,
)

from support import GATE_CHUNK, HELD, Gated, conn, hold

COLUMNS = [
    "custom_id",
    "status_code",
    "answer",
    "error_code",
    "error_message",
    "input_tokens",
    "output_tokens",
]


def run_batch(client: OpenAI, path: Path, endpoint: str = "/v1/chat/completions"):
    """Upload ``path``, create a batch for ``endpoint`` and return it once it has ended."""
    with open(path, "rb") as fh:
        file = client.files.create(file=fh, purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint=endpoint, completion_window="24h")
    return wait_for_batch(client, batch.id, poll_interval=0.05, timeout=60, progress=False)


def start_batch(client: OpenAI, path: Path) -> str:
    with open(path, "rb") as fh:
        file = client.files.create(file=fh, purpose="batch")
    return client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
    ).id


def input_lines(path: Path) -> dict[str, str]:
    return {json.loads(line)["custom_id"]: line for line in path.read_text().splitlines()}


def gated_input(tmp_path: Path, total: int = 4 * GATE_CHUNK) -> Path:
    """Chat requests of which a closed gate lets only the first GATE_CHUNK through."""
    prompts = [f"prompt {n}" if n < GATE_CHUNK else f"prompt {n} {HELD}" for n in range(total)]
    return write_jsonl(build_requests(prompts, model="gpt-4o-mini"), tmp_path / "in.jsonl")


# -- parse_result_lines: the line shapes the API writes ----------------------------------------

CHAT_OK = {
    "id": "batch_req_1",
    "custom_id": "request-1",
    "response": {
        "status_code": 200,
        "request_id": "r1",
        "body": {
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29},
        },
    },
    "error": None,
}
HTTP_ERROR = {
    "id": "batch_req_2",
    "custom_id": "request-2",
    "response": {
        "status_code": 400,
        "request_id": "r2",
        "body": {
            "error": {
                "message": "This model's maximum context length is 128000 tokens.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
    },
    "error": None,
}
EXPIRED = {
    "id": "batch_req_3",
    "custom_id": "request-3",
    "response": None,
    "error": {
        "code": "batch_expired",
        "message": "This request could not be executed before the completion window expired.",
    },
}


def test_parse_result_lines_reads_success_http_error_and_unrun_lines():
    lines = [json.dumps(CHAT_OK), "", json.dumps(HTTP_ERROR), json.dumps(EXPIRED)]
    table = parse_result_lines(lines)
    assert list(table.columns) == COLUMNS
    assert table["custom_id"].tolist() == ["request-1", "request-2", "request-3"]
    assert str(table["status_code"].dtype) == "Int64"
    ok, bad, expired = (table.iloc[n] for n in range(3))
    assert (ok["status_code"], ok["answer"], ok["input_tokens"], ok["output_tokens"]) == (
        200,
        "Hello!",
        20,
        9,
    )
    assert ok["error_code"] is None and ok["error_message"] is None  # None, as in the JSON
    assert (bad["status_code"], bad["error_code"]) == (400, "context_length_exceeded")
    assert bad["error_message"].startswith("This model's maximum context length")
    assert bad["answer"] is None
    assert pd.isna(expired["status_code"]) and expired["error_code"] == "batch_expired"
    assert pd.isna(expired["input_tokens"])


def test_parse_result_lines_reads_responses_completions_and_embeddings_bodies():
    def line(custom_id: str, body: dict) -> str:
        response = {"status_code": 200, "request_id": "r", "body": body}
        return json.dumps({"id": "x", "custom_id": custom_id, "response": response, "error": None})

    responses = {
        "object": "response",
        "output": [
            {"type": "reasoning", "summary": []},
            {
                "type": "message",
                "content": [
                    {"type": "output_text", "text": "Hello, "},
                    {"type": "output_text", "text": "world"},
                ],
            },
        ],
        "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8},
    }
    completion = {"object": "text_completion", "choices": [{"index": 0, "text": "42"}]}
    embeddings = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.6, 0.8]}],
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }
    two_vectors = {"object": "list", "data": [{"embedding": [1.0]}, {"embedding": [0.0]}]}
    table = parse_result_lines(
        [
            line("r", responses),
            line("c", completion),
            line("e", embeddings),
            line("e2", two_vectors),
        ]
    ).set_index("custom_id")
    assert table.loc["r", "answer"] == "Hello, world"
    assert (table.loc["r", "input_tokens"], table.loc["r", "output_tokens"]) == (5, 3)
    assert table.loc["c", "answer"] == "42"
    assert table.loc["e", "answer"] == [0.6, 0.8]
    assert table.loc["e", "input_tokens"] == 4 and pd.isna(table.loc["e", "output_tokens"])
    assert table.loc["e2", "answer"] == [[1.0], [0.0]]


def test_parse_result_lines_of_nothing_is_empty_with_columns_and_bad_json_is_refused():
    empty = parse_result_lines([])
    assert empty.empty and list(empty.columns) == COLUMNS
    with pytest.raises(ValueError, match="line 2"):
        parse_result_lines([json.dumps(CHAT_OK), "{not json"])


# -- read_results against the local server -----------------------------------------------------


def test_read_results_joins_back_to_inputs_in_input_order(client, tmp_path):
    prompts = ["first", "second", "third", "fourth"]
    path = write_jsonl(
        build_requests(prompts, model="gpt-4o-mini", max_tokens=30), tmp_path / "in.jsonl"
    )
    batch = run_batch(client, path)
    assert batch.status == "completed"

    plain = read_results(client, batch)
    assert list(plain.columns) == COLUMNS
    assert sorted(plain["custom_id"]) == ["request-1", "request-2", "request-3", "request-4"]

    # write the input file in another order: the joined table follows the input, not the output
    shuffled = tmp_path / "shuffled.jsonl"
    lines = path.read_text().splitlines()
    shuffled.write_text("\n".join([lines[2], lines[0], lines[3], lines[1]]) + "\n")
    joined = read_results(client, batch, input_path=shuffled)
    assert list(joined.columns) == ["custom_id", "prompt", *COLUMNS[1:]]
    assert joined["custom_id"].tolist() == ["request-3", "request-1", "request-4", "request-2"]
    assert joined["prompt"].tolist() == ["third", "first", "fourth", "second"]
    assert joined["status_code"].tolist() == [200] * 4
    assert all(isinstance(a, str) and a for a in joined["answer"])
    assert (joined["input_tokens"] > 0).all() and (joined["output_tokens"] > 0).all()


def test_per_request_errors_come_from_the_error_file(client, tmp_path):
    requests = build_requests(["ok", "too long", "crash", "timeout"], model="gpt-4o-mini")
    requests[1]["body"]["max_tokens"] = 1_000_000
    path = write_jsonl(requests, tmp_path / "in.jsonl")
    force_line("request-3", status_code=500, **conn(client))
    force_line(
        "request-4", error={"code": "request_timeout", "message": "Timed out."}, **conn(client)
    )

    batch = run_batch(client, path)
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.failed) == (1, 3)

    table = read_results(client, batch, input_path=path).set_index("custom_id")
    assert table.loc["request-1", "status_code"] == 200
    assert table.loc["request-2", "status_code"] == 400
    assert table.loc["request-2", "error_code"] == "invalid_value"  # max_tokens too large
    assert table.loc["request-3", "status_code"] == 500
    assert isinstance(table.loc["request-3", "error_message"], str)
    assert pd.isna(table.loc["request-4", "status_code"])
    assert table.loc["request-4", "error_code"] == "request_timeout"

    retry = retry_file(read_results(client, batch, input_path=path), path, tmp_path / "retry.jsonl")
    originals = input_lines(path)
    assert retry.read_text().splitlines() == [
        originals["request-2"],
        originals["request-3"],
        originals["request-4"],
    ]


def test_a_batch_where_every_request_failed_has_only_an_error_file(client, tmp_path):
    requests = build_requests(["a", "b"], model="gpt-4o-mini", max_tokens=1_000_000)
    path = write_jsonl(requests, tmp_path / "in.jsonl")
    batch = run_batch(client, path)
    assert batch.status == "completed" and batch.output_file_id is None
    table = read_results(client, batch, input_path=path)
    assert table["error_code"].tolist() == ["invalid_value"] * 2  # max_tokens too large


def test_a_failed_batch_has_no_results_and_every_row_is_retried(client, tmp_path):
    path = tmp_path / "in.jsonl"
    lines = [json.dumps(r) for r in build_requests(["a", "b"], model="gpt-4o-mini")]
    path.write_text(lines[0] + "\n" + lines[0] + "\n")  # duplicate custom_id: fails validation
    batch = run_batch(client, path)
    assert batch.status == "failed"
    table = read_results(client, batch, input_path=path)
    assert table["custom_id"].tolist() == ["request-1", "request-1"]
    assert table["status_code"].isna().all()
    retry = retry_file(table, path, tmp_path / "retry.jsonl")
    assert retry.read_text() == path.read_text()


def test_a_cancelled_batch_keeps_partial_results_and_the_rest_can_be_retried(
    gated: Gated, tmp_path
):
    client = gated.client
    path = gated_input(tmp_path)
    batch_id = start_batch(client, path)
    wait_for_status(
        client,
        batch_id,
        lambda b: b.request_counts.completed >= 1,
        poll_interval=0.02,
        timeout=60,
        progress=False,
    )
    client.batches.cancel(batch_id)
    gated.gate.open()
    batch = wait_for_batch(client, batch_id, poll_interval=0.05, timeout=60, progress=False)
    assert batch.status == "cancelled"

    table = read_results(client, batch, input_path=path)
    done = table[table["status_code"] == 200]
    cancelled = table[table["error_code"] == "batch_cancelled"]
    assert len(done) >= 1 and len(cancelled) >= 1
    assert len(done) + len(cancelled) == 4 * GATE_CHUNK
    assert cancelled["status_code"].isna().all()

    retry = retry_file(table, path, tmp_path / "retry" / "again.jsonl")
    assert retry == tmp_path / "retry" / "again.jsonl"
    retried = [json.loads(line)["custom_id"] for line in retry.read_text().splitlines()]
    assert retried == cancelled["custom_id"].tolist()
    assert check_batch_file(retry) == []


def test_an_expired_batch_keeps_partial_results(gated: Gated, tmp_path):
    client = gated.client
    path = gated_input(tmp_path)
    batch_id = start_batch(client, path)
    wait_for_status(
        client,
        batch_id,
        lambda b: b.request_counts.completed >= 1,
        poll_interval=0.02,
        timeout=60,
        progress=False,
    )
    advance_clock(hours=24, **conn(client))
    gated.gate.open()
    batch = wait_for_batch(client, batch_id, poll_interval=0.05, timeout=60, progress=False)
    assert batch.status == "expired"

    table = read_results(client, batch, input_path=path)
    assert (table["status_code"] == 200).sum() >= 1
    expired = table[table["error_code"] == "batch_expired"]
    assert len(expired) >= 1
    assert expired["error_message"].str.contains("completion window").all()


def test_expire_batch_before_any_request_ran(client, tmp_path):
    path = write_jsonl(build_requests(["a", "b"], model="gpt-4o-mini"), tmp_path / "in.jsonl")
    hold(client, "in_progress")  # it gets there and runs nothing
    batch_id = start_batch(client, path)
    wait_for_status(client, batch_id, "in_progress", poll_interval=0.02, timeout=60, progress=False)
    expire_batch(batch_id, **conn(client))
    batch = wait_for_batch(client, batch_id, poll_interval=0.05, timeout=60, progress=False)
    assert batch.status == "expired"
    table = read_results(client, batch, input_path=path)
    assert set(table["error_code"]) == {"batch_expired"}
    assert retry_file(table, path, tmp_path / "retry.jsonl").read_text() == path.read_text()


def test_responses_and_embeddings_batches_give_text_and_vectors(client, tmp_path):
    path = write_jsonl(
        build_requests(["Hi"], model="gpt-4o-mini", endpoint="/v1/responses", max_output_tokens=20),
        tmp_path / "responses.jsonl",
    )
    table = read_results(client, run_batch(client, path, "/v1/responses"), input_path=path)
    assert isinstance(table.loc[0, "answer"], str) and table.loc[0, "answer"]
    assert table.loc[0, "prompt"] == "Hi"
    assert table.loc[0, "output_tokens"] > 0

    path = write_jsonl(
        build_requests(["a cat"], model="text-embedding-3-small", endpoint="/v1/embeddings"),
        tmp_path / "embeddings.jsonl",
    )
    table = read_results(client, run_batch(client, path, "/v1/embeddings"), input_path=path)
    vector = table.loc[0, "answer"]
    assert isinstance(vector, list) and len(vector) == 1536
    assert all(isinstance(x, float) for x in vector)


# -- retry_file ----------------------------------------------------------------------------------


def test_retry_file_is_none_when_everything_succeeded(tmp_path):
    path = write_jsonl(build_requests(["a"], model="gpt-4o-mini"), tmp_path / "in.jsonl")
    table = parse_result_lines([json.dumps(CHAT_OK)])
    target = tmp_path / "retry.jsonl"
    assert retry_file(table, path, target) is None
    assert not target.exists()


def test_retry_file_retries_only_the_rows_it_is_given(tmp_path):
    path = write_jsonl(build_requests(["a", "b", "c"], model="gpt-4o-mini"), tmp_path / "in.jsonl")
    table = parse_result_lines([json.dumps(CHAT_OK), json.dumps(HTTP_ERROR), json.dumps(EXPIRED)])
    only_expired = table[table["error_code"] == "batch_expired"]
    retry = retry_file(only_expired, path, tmp_path / "retry.jsonl")
    assert [json.loads(line)["custom_id"] for line in retry.read_text().splitlines()] == [
        "request-3"
    ]
    with pytest.raises(ValueError, match="status_code"):
        retry_file(table.drop(columns="status_code"), path, tmp_path / "x.jsonl")


def test_retry_file_reads_an_input_file_that_starts_with_a_bom(tmp_path):
    path = write_jsonl(build_requests(["a", "b"], model="gpt-4o-mini"), tmp_path / "in.jsonl")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as some editors save UTF-8
    unrun = dict(EXPIRED, custom_id="request-1")
    table = parse_result_lines([json.dumps(unrun)])
    retry = retry_file(table, path, tmp_path / "retry.jsonl")
    assert retry is not None
    assert [json.loads(line)["custom_id"] for line in retry.read_text().splitlines()] == [
        "request-1"
    ]
