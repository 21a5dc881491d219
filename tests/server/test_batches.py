"""Batches API: create, retrieve, list, cancel, result files, and the walkthrough's calls."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx2
import openai
import pytest
from openai import OpenAI
from openai.types import Batch

from batch_api_local import ServerInfo

from support import (
    CHAT,
    DAY,
    GATE_CHUNK,
    SNAPSHOT,
    STAMPS,
    ZERO_USAGE,
    Gated,
    chat_line,
    file_lines,
    gated_lines,
    hold,
    raw,
    release,
    sdk_error,
    start_batch,
    upload,
    wait_until,
    write_jsonl,
)

CREATE = {"endpoint": CHAT, "completion_window": "24h"}


# -- create -----------------------------------------------------------------------------------


def test_create_returns_a_validating_batch(client: OpenAI) -> None:
    hold(client, "validating")
    file = upload(client, [chat_line("a"), chat_line("b")])
    batch = client.batches.create(
        input_file_id=file.id, metadata={"description": "nightly eval"}, **CREATE
    )

    assert re.fullmatch(r"batch_[0-9a-f]{32}", batch.id)
    assert int(batch.id[6:14], 16) == batch.created_at
    assert batch.object == "batch"
    assert batch.status == "validating"
    assert batch.endpoint == CHAT
    assert batch.input_file_id == file.id
    assert batch.completion_window == "24h"
    assert batch.expires_at == batch.created_at + DAY
    assert batch.metadata == {"description": "nightly eval"}
    assert batch.model is None
    assert batch.errors is None
    assert batch.output_file_id is None and batch.error_file_id is None
    assert all(getattr(batch, stamp) is None for stamp in STAMPS)
    assert batch.request_counts is not None
    assert batch.request_counts.model_dump() == {"total": 0, "completed": 0, "failed": 0}
    assert batch.usage is not None and batch.usage.model_dump() == ZERO_USAGE

    assert client.batches.retrieve(batch.id) == batch


def test_identical_creates_make_separate_batches(client: OpenAI) -> None:
    file = upload(client, [chat_line("a")])
    first = client.batches.create(input_file_id=file.id, **CREATE)
    second = client.batches.create(input_file_id=file.id, **CREATE)
    assert first.id != second.id
    assert wait_until(client, first.id).status == "completed"
    assert wait_until(client, second.id).status == "completed"


@pytest.mark.parametrize("window", ["1h", "48h", "invalid", ""])
def test_create_rejects_completion_window(client: OpenAI, window: str) -> None:
    file = upload(client, [chat_line("a")])
    with pytest.raises(openai.BadRequestError) as exc:
        client.batches.create(
            input_file_id=file.id,
            endpoint=CHAT,
            completion_window=window,  # type: ignore[arg-type]
        )
    error = sdk_error(exc.value, f"Invalid value: '{window}'. Supported values are: '24h'.")
    assert (error["code"], error["param"]) == ("invalid_value", "completion_window")
    assert client.batches.list().data == []


def test_create_rejects_endpoint(client: OpenAI) -> None:
    file = upload(client, [chat_line("a")])
    with pytest.raises(openai.BadRequestError) as exc:
        client.batches.create(
            input_file_id=file.id,
            endpoint="/v1/invalid/endpoint",  # type: ignore[arg-type]
            completion_window="24h",
        )
    error = sdk_error(exc.value)
    assert (error["code"], error["param"]) == ("invalid_value", "endpoint")
    assert error["message"].startswith("Invalid value: '/v1/invalid/endpoint'.")
    assert "Supported values are:" in error["message"]
    assert "'/v1/chat/completions'" in error["message"]


@pytest.mark.parametrize(
    ("metadata", "code", "param", "message"),
    [
        pytest.param(
            {f"k{i}": "v" for i in range(17)},
            "object_above_max_properties",
            "metadata",
            "Invalid 'metadata': too many properties. Expected an object with at most 16 "
            "properties, but got an object with 17 properties instead.",
            id="17-keys",
        ),
        pytest.param(
            {"k" * 65: "v"},
            "string_above_max_length",
            "metadata." + "k" * 65,
            f"Invalid property name in 'metadata': '{'k' * 65}' is too long. Expected a "
            "string with maximum length 64, but got a string with length 65 instead.",
            id="65-char-key",
        ),
        pytest.param(
            {"note": "v" * 513},
            "string_above_max_length",
            "metadata.note",
            "Invalid 'metadata.note': string too long. Expected a string with maximum length "
            "512, but got a string with length 513 instead.",
            id="513-char-value",
        ),
        pytest.param(
            {"tags": ["a", "b"]},
            "invalid_type",
            "metadata.tags",
            "Invalid type for 'metadata.tags': expected a string, but got an array instead.",
            id="non-string-value",
        ),
    ],
)
def test_create_rejects_metadata(
    client: OpenAI, metadata: dict, code: str, param: str, message: str
) -> None:
    file = upload(client, [chat_line("a")])
    with pytest.raises(openai.BadRequestError) as exc:
        client.batches.create(input_file_id=file.id, metadata=metadata, **CREATE)
    error = sdk_error(exc.value, message)
    assert (error["code"], error["param"], error["type"]) == (
        code,
        param,
        "invalid_request_error",
    )


def test_create_accepts_metadata_at_the_limits(client: OpenAI) -> None:
    file = upload(client, [chat_line("a")])
    metadata = {f"k{i}": "v" for i in range(15)} | {"k" * 64: "v" * 512}
    batch = client.batches.create(input_file_id=file.id, metadata=metadata, **CREATE)
    assert batch.metadata == metadata


@pytest.mark.parametrize("missing", ["input_file_id", "endpoint", "completion_window"])
def test_create_requires_parameters(client: OpenAI, missing: str) -> None:
    body = {"input_file_id": "file-abc", "endpoint": CHAT, "completion_window": "24h"}
    del body[missing]
    with pytest.raises(openai.BadRequestError) as exc:
        client.post("/batches", body=body, cast_to=Batch)
    error = sdk_error(exc.value, f"Missing required parameter: '{missing}'.")
    assert (error["code"], error["param"]) == ("missing_required_parameter", missing)


@pytest.mark.parametrize("body", [b"{", b"[]", b'"x"', b"null", b""])
def test_create_rejects_bodies_that_are_not_objects(client: OpenAI, body: bytes) -> None:
    response = raw(
        client, "POST", "/batches", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


# -- retrieve / cancel unknown ------------------------------------------------------------------


def test_unknown_batch_is_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as exc:
        client.batches.retrieve("batch_nope")
    assert "batch_nope" in sdk_error(exc.value)["message"]
    with pytest.raises(openai.NotFoundError) as exc:
        client.batches.cancel("batch_nope")
    assert "batch_nope" in sdk_error(exc.value)["message"]


# -- list -------------------------------------------------------------------------------------


def test_list_batches_newest_first_and_paginates(client: OpenAI) -> None:
    file = upload(client, [chat_line("a")])
    ids = [client.batches.create(input_file_id=file.id, **CREATE).id for _ in range(5)]
    newest_first = ids[::-1]

    one = client.batches.list(limit=1)
    assert [b.id for b in one.data] == newest_first[:1]
    assert one.has_more is True
    assert one.first_id == one.last_id == newest_first[0]

    page = client.batches.list(limit=2)
    assert [b.id for b in page.data] == newest_first[:2]
    assert (page.first_id, page.last_id, page.has_more) == (*newest_first[:2], True)
    assert page.has_next_page()
    assert [b.id for b in page.get_next_page().data] == newest_first[2:4]

    after = client.batches.list(after=newest_first[1])
    assert [b.id for b in after.data] == newest_first[2:]
    assert after.has_more is False

    # iterating a page makes the SDK fetch the following pages itself
    assert [b.id for b in client.batches.list(limit=2)] == newest_first
    assert [b.id for b in client.batches.list()] == newest_first


def test_list_batches_bad_limit(client: OpenAI) -> None:
    for limit in (0, 101):
        with pytest.raises(openai.BadRequestError) as exc:
            client.batches.list(limit=limit)
        assert sdk_error(exc.value)["param"] == "limit"
    assert client.batches.list(limit=100).data == []


# -- results ----------------------------------------------------------------------------------


def test_completed_batch_and_output_file(client: OpenAI) -> None:
    batch = start_batch(client, [chat_line("request-1"), chat_line("request-2")])
    done = wait_until(client, batch.id)

    assert done.status == "completed"
    assert done.model == SNAPSHOT
    assert done.request_counts is not None
    assert done.request_counts.model_dump() == {"total": 2, "completed": 2, "failed": 0}
    assert done.error_file_id is None
    assert done.output_file_id is not None
    assert done.usage is not None
    assert done.usage.input_tokens > 0 and done.usage.output_tokens > 0
    assert done.usage.total_tokens == done.usage.input_tokens + done.usage.output_tokens

    output = client.files.retrieve(done.output_file_id)
    content = client.files.content(done.output_file_id).read()
    assert output.purpose == "batch_output"
    assert output.bytes == len(content)
    assert output.filename.endswith(".jsonl")
    assert content.endswith(b"\n")

    lines = [json.loads(x) for x in content.splitlines()]
    assert [line["custom_id"] for line in lines] == ["request-1", "request-2"]
    prompt_tokens = 0
    for line in lines:
        assert list(line) == ["id", "custom_id", "response", "error"]
        assert re.fullmatch(r"batch_req_[0-9a-f]{32}", line["id"])
        assert line["error"] is None
        response = line["response"]
        assert list(response) == ["status_code", "request_id", "body"]
        assert response["status_code"] == 200
        assert re.fullmatch(r"[0-9a-f]{32}", response["request_id"])
        body = response["body"]
        assert body["object"] == "chat.completion"
        assert body["model"] == SNAPSHOT
        assert body["choices"][0]["message"]["role"] == "assistant"
        prompt_tokens += body["usage"]["prompt_tokens"]
    # OpenAI's JSON style: ", " and ": " separators
    assert content.startswith(b'{"id": "batch_req_')
    assert len({line["id"] for line in lines}) == 2
    assert done.usage.input_tokens == prompt_tokens


def test_mixed_batch_writes_both_files(client: OpenAI) -> None:
    lines = [chat_line("ok-1"), chat_line("too-long", max_tokens=1_000_000), chat_line("ok-2")]
    done = wait_until(client, start_batch(client, lines).id)

    assert done.status == "completed"
    assert done.request_counts is not None
    assert done.request_counts.model_dump() == {"total": 3, "completed": 2, "failed": 1}
    assert done.output_file_id and done.error_file_id
    output = file_lines(client, done.output_file_id)
    errors = file_lines(client, done.error_file_id)
    assert [x["custom_id"] for x in output] == ["ok-1", "ok-2"]
    assert [x["custom_id"] for x in errors] == ["too-long"]

    line = errors[0]
    assert list(line) == ["id", "custom_id", "response", "error"]
    assert line["error"] is None
    assert line["response"]["status_code"] == 400
    error = line["response"]["body"]["error"]
    assert error["code"] == "invalid_value"  # max_tokens past the model's output limit
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "max_tokens"
    assert error["message"].startswith("max_tokens is too large: 1000000.")

    for file_id in (done.output_file_id, done.error_file_id):
        obj = client.files.retrieve(file_id)
        data = client.files.content(file_id).read()
        assert obj.purpose == "batch_output"
        assert obj.bytes == len(data)
        assert obj.filename
    assert client.files.retrieve(done.output_file_id).filename != (
        client.files.retrieve(done.error_file_id).filename
    )
    assert {f.id for f in client.files.list(purpose="batch_output")} == {
        done.output_file_id,
        done.error_file_id,
    }


def test_all_requests_failed(client: OpenAI) -> None:
    lines = [chat_line(f"r{i}", max_tokens=1_000_000) for i in range(3)]
    done = wait_until(client, start_batch(client, lines).id)

    assert done.status == "completed"
    assert done.output_file_id is None
    assert done.error_file_id is not None
    assert done.request_counts is not None
    assert done.request_counts.model_dump() == {"total": 3, "completed": 0, "failed": 3}
    errors = file_lines(client, done.error_file_id)
    assert sorted(x["custom_id"] for x in errors) == ["r0", "r1", "r2"]
    assert {x["response"]["status_code"] for x in errors} == {400}


@pytest.mark.parametrize(
    ("endpoint", "body", "obj"),
    [
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "hi"}, "list"),
        ("/v1/responses", {"model": "gpt-4o-mini", "input": "hi"}, "response"),
        ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "hi"}, "text_completion"),
        ("/v1/moderations", {"model": "omni-moderation-latest", "input": "hi"}, None),
    ],
)
def test_other_endpoints_complete(
    client: OpenAI, endpoint: str, body: dict, obj: str | None
) -> None:
    lines = [
        {"custom_id": f"r{i}", "method": "POST", "url": endpoint, "body": body} for i in (1, 2)
    ]
    done = wait_until(client, start_batch(client, lines, endpoint=endpoint).id)
    assert done.status == "completed", done.errors
    assert done.request_counts is not None and done.request_counts.completed == 2
    output = file_lines(client, done.output_file_id)
    assert [x["response"]["status_code"] for x in output] == [200, 200]
    if obj is not None:
        assert output[0]["response"]["body"]["object"] == obj


# -- cancel -----------------------------------------------------------------------------------


def test_cancel_running_batch_keeps_partial_results(gated: Gated) -> None:
    client = gated.client
    total = 4 * GATE_CHUNK
    batch = start_batch(client, gated_lines(GATE_CHUNK, total - GATE_CHUNK))
    gated.gate.wait_for_held()  # the first requests are done, the rest wait
    running = client.batches.retrieve(batch.id)
    assert running.status == "in_progress" and running.request_counts.completed >= 1

    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling"
    assert cancelling.cancelling_at is not None and cancelling.cancelled_at is None
    assert cancelling.in_progress_at is not None

    gated.gate.open()
    done = wait_until(client, batch.id)
    assert done.status == "cancelled"
    assert done.cancelled_at is not None and done.cancelled_at >= done.cancelling_at
    assert done.completed_at is None and done.failed_at is None and done.expired_at is None

    output = file_lines(client, done.output_file_id)
    errors = file_lines(client, done.error_file_id)
    assert running.request_counts.completed <= len(output) < total
    assert len(output) + len(errors) == total
    ids = [x["custom_id"] for x in output + errors]
    assert sorted(ids) == sorted(f"r{i}" for i in range(total))
    for line in errors:
        assert list(line) == ["id", "custom_id", "response", "error"]
        assert line["response"] is None
        assert line["error"]["code"] == "batch_cancelled"
        assert line["error"]["message"]
    assert done.request_counts is not None
    assert done.request_counts.total == total
    assert done.request_counts.completed == len(output)


def test_cancel_right_after_create(client: OpenAI) -> None:
    hold(client, "validating")
    batch = start_batch(client, [chat_line("a")])
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling"
    assert cancelling.in_progress_at is None

    release(client)
    done = wait_until(client, batch.id)
    assert done.status == "cancelled"
    assert done.in_progress_at is None
    assert done.output_file_id is None and done.error_file_id is None
    assert done.request_counts is not None
    assert done.request_counts.model_dump() == {"total": 0, "completed": 0, "failed": 0}


def test_cancel_is_idempotent_while_cancelling_and_after(client: OpenAI) -> None:
    hold(client, "validating", "cancelling")
    batch = start_batch(client, [chat_line("a")])
    first = client.batches.cancel(batch.id)
    again = client.batches.cancel(batch.id)
    assert again.status == "cancelling"
    assert again.cancelling_at == first.cancelling_at

    release(client)
    done = wait_until(client, batch.id)
    assert done.status == "cancelled"
    assert client.batches.cancel(batch.id) == done
    assert client.batches.retrieve(batch.id) == done


@pytest.mark.parametrize("terminal", ["completed", "failed"])
def test_cancel_finished_batch_is_409(client: OpenAI, terminal: str) -> None:
    line = chat_line("a") if terminal == "completed" else chat_line("a", model="no-such-model")
    done = wait_until(client, start_batch(client, [line]).id)
    assert done.status == terminal

    with pytest.raises(openai.ConflictError) as exc:
        client.batches.cancel(done.id)
    assert exc.value.status_code == 409
    assert exc.value.response.headers["x-should-retry"] == "false"
    error = sdk_error(exc.value, f"Cannot cancel a batch with status '{terminal}'.")
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", None, None)
    assert client.batches.retrieve(done.id) == done


def test_409_is_not_retried_by_a_default_client(client: OpenAI, local_server: ServerInfo) -> None:
    done = wait_until(client, start_batch(client, [chat_line("a")]).id)
    sent: list[str] = []
    http = httpx2.Client(event_hooks={"request": [lambda r: sent.append(str(r.url))]})
    retrying = OpenAI(base_url=local_server.base_url, api_key=client.api_key, http_client=http)
    with pytest.raises(openai.ConflictError):
        retrying.batches.cancel(done.id)
    assert len(sent) == 1


# -- the walkthrough, with only environment variables ------------------------------------------


def test_walkthrough_calls_with_env_only(server_env: ServerInfo, tmp_path: Path) -> None:
    client = OpenAI()
    assert str(client.base_url).rstrip("/") == server_env.base_url
    path = write_jsonl(
        tmp_path / "penguins.jsonl",
        [chat_line(f"penguin-{i}", f"Tell me a fact about penguin {i}.") for i in range(3)],
    )

    batch_input_file = client.files.create(file=open(path, "rb"), purpose="batch")
    batch = client.batches.create(
        input_file_id=batch_input_file.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"description": "good nightly penguin job"},
    )
    assert batch.metadata == {"description": "good nightly penguin job"}
    done = wait_until(client, batch.id)
    assert client.batches.retrieve(batch.id).status == "completed"

    latest = client.batches.list(limit=1)
    assert [b.id for b in latest.data] == [batch.id]

    hold(client, "validating")  # so that the second batch is still running when cancelled
    second = client.batches.create(
        input_file_id=batch_input_file.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert [b.id for b in list(client.batches.list())] == [second.id, batch.id]
    assert client.batches.cancel(second.id).status == "cancelling"

    out = tmp_path / "results.jsonl"
    client.files.content(done.output_file_id).write_to_file(out)
    results = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["custom_id"] for r in results] == ["penguin-0", "penguin-1", "penguin-2"]
    assert out.stat().st_size == client.files.retrieve(done.output_file_id).bytes
