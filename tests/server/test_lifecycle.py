"""Every status, watched with a slowed pace: what each step sets, and what stays null before it."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI
from openai.types import Batch

from helpers.local_server import ControlError, advance_clock, expire_batch

from support import (
    DAY,
    SNAPSHOT,
    STAMPS,
    ZERO_USAGE,
    chat_line,
    conn,
    file_lines,
    slow_pace,
    start_batch,
    statuses,
    wait_until,
    watch,
)

EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."

# the timestamp each status sets, and the ones that must still be null while in it
SET_BY = {
    "validating": set(),
    "in_progress": {"in_progress_at"},
    "finalizing": {"in_progress_at", "finalizing_at"},
    "completed": {"in_progress_at", "finalizing_at", "completed_at"},
    "failed": {"failed_at"},
}


def _check_stamps(snap: Batch, expected: set[str]) -> None:
    for stamp in STAMPS:
        value = getattr(snap, stamp)
        if stamp in expected:
            assert isinstance(value, int) and value >= snap.created_at, (snap.status, stamp)
        else:
            assert value is None, (snap.status, stamp)
    assert snap.expires_at == snap.created_at + DAY


def test_happy_path_through_every_status(client: OpenAI) -> None:
    slow_pace(client, validating=0.3, per_request=0.2, finalizing=0.3)
    batch = start_batch(client, [chat_line(f"r{i}") for i in range(4)])
    snaps = [batch, *watch(client, batch.id)]

    assert statuses(snaps) == ["validating", "in_progress", "finalizing", "completed"]
    counts_seen = []
    for snap in snaps:
        _check_stamps(snap, SET_BY[snap.status])
        assert snap.request_counts is not None and snap.usage is not None
        counts = snap.request_counts
        if snap.status == "validating":
            assert snap.model is None
            assert counts.model_dump() == {"total": 0, "completed": 0, "failed": 0}
        else:
            assert snap.model == SNAPSHOT
            assert counts.total == 4
        if snap.status == "completed":
            assert snap.output_file_id is not None
            assert snap.usage.input_tokens > 0 and snap.usage.output_tokens > 0
        else:
            assert snap.output_file_id is None and snap.error_file_id is None
            assert snap.usage.model_dump() == ZERO_USAGE
        if snap.status == "in_progress":
            counts_seen.append(counts.completed)
        if snap.status in ("finalizing", "completed"):
            assert counts.model_dump() == {"total": 4, "completed": 4, "failed": 0}

    # counts move live: at least one in_progress snapshot caught the batch part-way
    assert counts_seen == sorted(counts_seen)
    assert any(0 < c < 4 for c in counts_seen), counts_seen

    done = snaps[-1]
    assert done.created_at <= done.in_progress_at <= done.finalizing_at <= done.completed_at


def test_validating_then_failed(client: OpenAI) -> None:
    slow_pace(client, validating=0.3)
    batch = start_batch(client, [chat_line("a"), "{oops"])
    snaps = [batch, *watch(client, batch.id)]
    assert statuses(snaps) == ["validating", "failed"]
    for snap in snaps:
        _check_stamps(snap, SET_BY[snap.status])
    failed = snaps[-1]
    assert failed.errors is not None and failed.errors.data is not None
    assert [(e.code, e.line) for e in failed.errors.data] == [("invalid_json_line", 2)]
    assert failed.usage is not None and failed.usage.model_dump() == ZERO_USAGE


def test_in_progress_then_cancelling_then_cancelled(client: OpenAI) -> None:
    slow_pace(client, validating=0, per_request=0.2, cancelling=0.4)
    batch = start_batch(client, [chat_line(f"r{i}") for i in range(10)])
    running = wait_until(client, batch.id, lambda b: b.request_counts.completed >= 1)
    assert running.status == "in_progress"

    cancelled_snapshot = client.batches.cancel(batch.id)
    snaps = [cancelled_snapshot, *watch(client, batch.id)]
    assert statuses(snaps) == ["cancelling", "cancelled"]
    for snap in snaps:
        expected = {"in_progress_at", "cancelling_at"}
        if snap.status == "cancelled":
            expected.add("cancelled_at")
        _check_stamps(snap, expected)
        assert snap.request_counts is not None and snap.request_counts.total == 10

    done = snaps[-1]
    assert done.cancelling_at <= done.cancelled_at
    output = file_lines(client, done.output_file_id)
    errors = file_lines(client, done.error_file_id)
    assert len(output) >= 1
    assert len(output) + len(errors) == 10
    assert {e["error"]["code"] for e in errors} == {"batch_cancelled"}
    assert done.request_counts.completed == len(output)
    assert done.usage is not None and done.usage.input_tokens > 0  # the work done is billed


def test_expiry_keeps_finished_lines(client: OpenAI) -> None:
    slow_pace(client, validating=0, per_request=0.3)
    batch = start_batch(client, [chat_line(f"r{i}") for i in range(6)])
    running = wait_until(client, batch.id, lambda b: b.request_counts.completed >= 2)
    assert running.status == "in_progress"

    now = advance_clock(hours=24, **conn(client))
    assert now >= batch.expires_at

    done = wait_until(client, batch.id)
    assert done.status == "expired"
    _check_stamps(done, {"in_progress_at", "expired_at"})
    assert done.expired_at >= done.expires_at  # the server's clock moved on

    output = file_lines(client, done.output_file_id)
    errors = file_lines(client, done.error_file_id)
    assert 2 <= len(output) < 6
    assert len(output) + len(errors) == done.request_counts.total == 6
    custom_ids = [x["custom_id"] for x in output + errors]
    assert sorted(custom_ids) == [f"r{i}" for i in range(6)]
    assert all(x["response"]["status_code"] == 200 for x in output)
    for line in errors:
        assert list(line) == ["id", "custom_id", "response", "error"]
        assert line["response"] is None
        assert line["error"] == {"code": "batch_expired", "message": EXPIRED_MESSAGE}
    assert done.request_counts.completed == len(output)
    assert done.request_counts.failed == 0  # unrun requests are not counted as failed
    for file_id in (done.output_file_id, done.error_file_id):
        assert client.files.retrieve(file_id).purpose == "batch_output"


def test_expire_batch_control_call(client: OpenAI) -> None:
    slow_pace(client, validating=0, per_request=0.3)
    batch = start_batch(client, [chat_line(f"r{i}") for i in range(5)])
    wait_until(client, batch.id, lambda b: b.request_counts.completed >= 1)

    expire_batch(batch.id, **conn(client))
    done = wait_until(client, batch.id)
    assert done.status == "expired"
    _check_stamps(done, {"in_progress_at", "expired_at"})
    output = file_lines(client, done.output_file_id)
    errors = file_lines(client, done.error_file_id)
    assert len(output) >= 1 and len(output) + len(errors) == 5
    assert {e["error"]["code"] for e in errors} == {"batch_expired"}

    with pytest.raises(ControlError, match="expired"):
        expire_batch(batch.id, **conn(client))


def test_expire_while_validating(client: OpenAI) -> None:
    slow_pace(client, validating=5)
    batch = start_batch(client, [chat_line("a")])
    expire_batch(batch.id, **conn(client))
    done = wait_until(client, batch.id)
    assert done.status == "expired"
    _check_stamps(done, {"expired_at"})
    assert done.output_file_id is None and done.error_file_id is None
    assert done.request_counts is not None
    assert done.request_counts.model_dump() == {"total": 0, "completed": 0, "failed": 0}


def test_cancelling_an_expired_batch_is_409(client: OpenAI) -> None:
    slow_pace(client, validating=5)
    batch = start_batch(client, [chat_line("a")])
    expire_batch(batch.id, **conn(client))
    wait_until(client, batch.id)
    with pytest.raises(openai.ConflictError) as exc:
        client.batches.cancel(batch.id)
    assert exc.value.response.json()["error"]["message"] == (
        "Cannot cancel a batch with status 'expired'."
    )
