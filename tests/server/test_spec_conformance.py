"""Raw JSON of every kind of response against OpenAI's published schemas and the SDK's types."""

from __future__ import annotations

import base64
from typing import Any

import openai
import pytest
from openai import OpenAI
from openai.types import Batch, FileDeleted, FileObject

from batch_api_local import advance_clock

from spec_schemas import validate_against_spec
from support import (
    CHAT,
    GATE_CHUNK,
    Gated,
    chat_line,
    conn,
    gated_lines,
    hold,
    move_to,
    raw,
    raw_json,
    start_batch,
    upload,
    wait_until,
)

BATCH_KEYS = set(Batch.model_fields)


def _check_batch(raw_batch: dict[str, Any], status: str) -> Batch:
    """Spec schema, every SDK key present (explicit nulls), and the SDK's own model."""
    assert raw_batch["status"] == status
    validate_against_spec(raw_batch, "Batch")
    missing = BATCH_KEYS - set(raw_batch)
    assert not missing, f"keys missing from a {status} batch: {missing}"
    assert set(raw_batch) == BATCH_KEYS, set(raw_batch) - BATCH_KEYS  # nothing invented
    if raw_batch["errors"] is not None:
        assert raw_batch["errors"]["object"] == "list"
        for error in raw_batch["errors"]["data"]:
            validate_against_spec(error, "BatchError")
            assert set(error) == {"code", "message", "param", "line"}
    parsed = Batch.model_validate(raw_batch)
    assert parsed.model_dump(mode="json") == raw_batch
    return parsed


def _raw_batch(client: OpenAI, batch_id: str) -> dict[str, Any]:
    response = client.with_raw_response.batches.retrieve(batch_id)
    assert response.http_response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.http_response.json()
    assert body == raw_json(client, f"/batches/{batch_id}")
    assert response.parse() == Batch.model_validate(body)
    return body


def _error_body(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    body = response.json()
    validate_against_spec(body, "ErrorResponse")
    validate_against_spec(body["error"], "Error")
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_validating_and_in_progress_batches(client: OpenAI) -> None:
    hold(client, "validating")
    created = client.with_raw_response.batches.create(
        input_file_id=upload(client, [chat_line("a"), chat_line("b")]).id,
        endpoint=CHAT,
        completion_window="24h",
        metadata={"purpose": "spec"},
    )
    body = created.http_response.json()
    batch = _check_batch(body, "validating")
    assert body["model"] is None and body["errors"] is None
    assert _check_batch(_raw_batch(client, batch.id), "validating").id == batch.id

    move_to(client, batch.id, "in_progress")
    running = _check_batch(_raw_batch(client, batch.id), "in_progress")
    assert running.model is not None


def test_completed_batch(client: OpenAI) -> None:
    lines = [chat_line("a"), chat_line("b", max_tokens=1_000_000)]
    done = wait_until(client, start_batch(client, lines).id)
    body = _raw_batch(client, done.id)
    _check_batch(body, "completed")
    assert body["output_file_id"] and body["error_file_id"]


def test_failed_batch_with_errors(client: OpenAI) -> None:
    lines = [chat_line("a"), "{", chat_line("a")]
    done = wait_until(client, start_batch(client, lines).id)
    body = _raw_batch(client, done.id)
    _check_batch(body, "failed")
    assert [e["line"] for e in body["errors"]["data"]] == [2, 3]


def _part_way(gated: Gated) -> Batch:
    """A batch stopped at the gate with some of its requests done (so it has usage and both
    result files once it ends)."""
    batch = start_batch(gated.client, gated_lines(GATE_CHUNK, 3 * GATE_CHUNK))
    gated.gate.wait_for_held()
    running = gated.client.batches.retrieve(batch.id)
    assert running.status == "in_progress" and running.request_counts.completed >= 1
    return running


def test_cancelled_and_cancelling_batches(gated: Gated) -> None:
    client = gated.client
    batch = _part_way(gated)
    _check_batch(_raw_batch(client, batch.id), "in_progress")
    cancelling = client.with_raw_response.batches.cancel(batch.id).http_response.json()
    _check_batch(cancelling, "cancelling")
    _check_batch(_raw_batch(client, batch.id), "cancelling")  # held: the gate is still closed
    gated.gate.open()
    wait_until(client, batch.id)
    body = _raw_batch(client, batch.id)
    _check_batch(body, "cancelled")
    assert body["output_file_id"] and body["error_file_id"]


def test_expired_batch(gated: Gated) -> None:
    client = gated.client
    batch = _part_way(gated)
    advance_clock(hours=24, **conn(client))
    gated.gate.open()
    wait_until(client, batch.id)
    body = _raw_batch(client, batch.id)
    _check_batch(body, "expired")
    assert body["output_file_id"] and body["error_file_id"]


def test_file_objects_and_lists(client: OpenAI) -> None:
    done = wait_until(client, start_batch(client, [chat_line("a")]).id)
    for file_id in (done.input_file_id, done.output_file_id):
        body = raw_json(client, f"/files/{file_id}")
        validate_against_spec(body, "OpenAIFile")
        assert set(FileObject.model_fields) <= set(body)
        assert FileObject.model_validate(body).id == file_id

    listing = raw_json(client, "/files?limit=1")
    validate_against_spec(listing, "ListFilesResponse")
    assert listing["has_more"] is True
    assert listing["first_id"] == listing["last_id"] == listing["data"][0]["id"]
    # An empty page has no first or last id: null, as OpenAI's list endpoints send it (the spec
    # types both as required strings, so only non-empty pages are checked against it).
    empty = raw_json(client, "/files?purpose=fine-tune")
    assert empty == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }

    batches = raw_json(client, "/batches")
    validate_against_spec(batches, "ListBatchesResponse")
    for item in batches["data"]:
        _check_batch(item, item["status"])

    deleted = client.with_raw_response.files.delete(done.output_file_id).http_response.json()
    validate_against_spec(deleted, "DeleteFileResponse")
    assert FileDeleted.model_validate(deleted).deleted is True


def test_error_envelopes(client: OpenAI) -> None:
    bad_window = raw(
        client,
        "POST",
        "/batches",
        json={"input_file_id": "file-x", "endpoint": CHAT, "completion_window": "1h"},
    )
    assert _error_body(bad_window, 400)["code"] == "invalid_value"

    bad_upload = raw(
        client, "POST", "/files", files={"file": ("in.jsonl", b"x"), "purpose": (None, "batch")}
    )
    _error_body(bad_upload, 400)

    assert _error_body(raw(client, "GET", "/files/file-x"), 404)["param"] == "id"
    _error_body(raw(client, "GET", "/batches/batch_x"), 404)
    _error_body(raw(client, "GET", "/nope"), 404)

    done = wait_until(client, start_batch(client, [chat_line("a")]).id)
    conflict = raw(client, "POST", f"/batches/{done.id}/cancel")
    assert _error_body(conflict, 409)["message"] == "Cannot cancel a batch with status 'completed'."
    assert conflict.headers["x-should-retry"] == "false"

    _error_body(raw(client, "GET", "/batches", key=None), 401)


# -- the synchronous endpoints a batch line can target -------------------------------------------


def test_sync_chat_completion(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}], max_tokens=20
    )
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini-2024-07-18"
    assert completion.choices[0].message.content
    assert completion.usage is not None and completion.usage.completion_tokens <= 20

    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], max_tokens=10**6
        )
    assert exc.value.code == "invalid_value"


def test_sync_embeddings_default_base64(client: OpenAI) -> None:
    # the SDK asks for base64 by default and decodes it to floats
    response = client.embeddings.create(model="text-embedding-3-small", input=["a", "b c"])
    assert [d.index for d in response.data] == [0, 1]
    assert all(len(d.embedding) == 1536 for d in response.data)
    assert all(isinstance(x, float) for x in response.data[0].embedding[:5])
    assert response.usage.prompt_tokens > 0

    as_floats = client.embeddings.create(
        model="text-embedding-3-small", input="a", encoding_format="float", dimensions=8
    )
    assert len(as_floats.data[0].embedding) == 8
    raw_b64 = client.with_raw_response.embeddings.create(
        model="text-embedding-3-small", input="a", encoding_format="base64", dimensions=8
    ).http_response.json()
    assert len(base64.b64decode(raw_b64["data"][0]["embedding"])) == 8 * 4


def test_sync_responses_completions_moderations_models(client: OpenAI) -> None:
    response = client.responses.create(model="gpt-4o-mini", input="Hello")
    assert response.object == "response"
    assert response.status == "completed"
    assert response.output_text

    legacy = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi")
    assert legacy.object == "text_completion"
    assert legacy.choices[0].text

    moderation = client.moderations.create(model="omni-moderation-latest", input="hello")
    assert len(moderation.results) == 1
    assert isinstance(moderation.results[0].flagged, bool)

    models = client.models.list()
    ids = {m.id for m in models}
    assert {"gpt-4o-mini", "text-embedding-3-small", "omni-moderation-latest"} <= ids
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")
