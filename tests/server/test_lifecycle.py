"""Every status, each held in place with the control surface: what each step sets, and what
stays null before it.

A batch is held in a status with the pace (support.hold, support.move_to), or part-way through
its requests with the gate (the ``gated`` fixture), so every snapshot below is taken while the
batch is known to be where the test says, however slow or fast the machine.
"""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI
from openai.types import Batch

from batch_api_local import ControlError, advance_clock, expire_batch

from support import (
    DAY,
    GATE_CHUNK,
    SNAPSHOT,
    STAMPS,
    ZERO_USAGE,
    Gated,
    chat_line,
    conn,
    file_lines,
    gated_lines,
    hold,
    move_to,
    release,
    start_batch,
    wait_until,
)

EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."
#: a gated batch: GATE_CHUNK requests pass the gate, then three chunks' worth are held, so once
#: the gate opens the held chunk finishes and at least two chunks never run
FREE, HELD_LINES = GATE_CHUNK, 3 * GATE_CHUNK
TOTAL = FREE + HELD_LINES

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


def _running_part_way(gated: Gated) -> Batch:
    """A batch of TOTAL requests, stopped at the gate with its first requests done."""
    batch = start_batch(gated.client, gated_lines(FREE, HELD_LINES))
    gated.gate.wait_for_held()
    running = gated.client.batches.retrieve(batch.id)
    assert running.status == "in_progress", running
    assert running.request_counts is not None
    assert 0 < running.request_counts.completed <= FREE, running.request_counts
    return running


def test_happy_path_through_every_status(client: OpenAI) -> None:
    hold(client, "validating")
    batch = start_batch(client, [chat_line(f"r{i}") for i in range(4)])
    snaps = [batch, client.batches.retrieve(batch.id)]
    snaps.append(move_to(client, batch.id, "in_progress"))  # held before any request runs
    snaps.append(move_to(client, batch.id, "finalizing"))
    release(client)
    snaps.append(wait_until(client, batch.id))

    assert [snap.status for snap in snaps] == [
        "validating",
        "validating",
        "in_progress",
        "finalizing",
        "completed",
    ]
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
            assert counts.model_dump() == {"total": 4, "completed": 0, "failed": 0}
        if snap.status in ("finalizing", "completed"):
            assert counts.model_dump() == {"total": 4, "completed": 4, "failed": 0}

    done = snaps[-1]
    assert done.created_at <= done.in_progress_at <= done.finalizing_at <= done.completed_at


def test_request_counts_move_while_in_progress(gated: Gated) -> None:
    client = gated.client
    running = _running_part_way(gated)
    # counts land while the batch runs, not only at the end; usage and files come at the end
    _check_stamps(running, SET_BY["in_progress"])
    assert running.request_counts.failed == 0 and running.request_counts.total == TOTAL
    assert running.usage is not None and running.usage.model_dump() == ZERO_USAGE
    assert running.output_file_id is None and running.error_file_id is None
    assert client.batches.retrieve(running.id) == running  # nothing moves while it is held

    gated.gate.open()
    done = wait_until(client, running.id)
    assert done.status == "completed"
    assert done.request_counts.model_dump() == {"total": TOTAL, "completed": TOTAL, "failed": 0}
    assert done.usage is not None and done.usage.input_tokens > 0


def test_validating_then_failed(client: OpenAI) -> None:
    hold(client, "validating")
    batch = start_batch(client, [chat_line("a"), "{oops"])
    snaps = [batch, client.batches.retrieve(batch.id)]
    release(client)
    snaps.append(wait_until(client, batch.id))
    assert [snap.status for snap in snaps] == ["validating", "validating", "failed"]
    for snap in snaps:
        _check_stamps(snap, SET_BY[snap.status])
    failed = snaps[-1]
    assert failed.errors is not None and failed.errors.data is not None
    assert [(e.code, e.line) for e in failed.errors.data] == [("invalid_json_line", 2)]
    assert failed.usage is not None and failed.usage.model_dump() == ZERO_USAGE


def test_in_progress_then_cancelling_then_cancelled(gated: Gated) -> None:
    client = gated.client
    hold(client, "cancelling")
    running = _running_part_way(gated)

    # held twice over: the gate keeps its requests from finishing, the pace keeps it cancelling
    snaps = [client.batches.cancel(running.id), client.batches.retrieve(running.id)]
    gated.gate.open()
    release(client)
    snaps.append(wait_until(client, running.id))
    assert [snap.status for snap in snaps] == ["cancelling", "cancelling", "cancelled"]
    for snap in snaps:
        expected = {"in_progress_at", "cancelling_at"}
        if snap.status == "cancelled":
            expected.add("cancelled_at")
        _check_stamps(snap, expected)
        assert snap.request_counts is not None and snap.request_counts.total == TOTAL

    done = snaps[-1]
    assert done.cancelling_at <= done.cancelled_at
    output = file_lines(client, done.output_file_id)
    errors = file_lines(client, done.error_file_id)
    assert running.request_counts.completed <= len(output) < TOTAL
    assert len(output) + len(errors) == TOTAL
    assert {e["error"]["code"] for e in errors} == {"batch_cancelled"}
    assert done.request_counts.completed == len(output)
    assert done.usage is not None and done.usage.input_tokens > 0  # the work done is billed


def test_expiry_keeps_finished_lines(gated: Gated) -> None:
    client = gated.client
    running = _running_part_way(gated)

    now = advance_clock(hours=24, **conn(client))
    assert now >= running.expires_at
    gated.gate.open()

    done = wait_until(client, running.id)
    assert done.status == "expired"
    _check_stamps(done, {"in_progress_at", "expired_at"})
    assert done.expired_at >= done.expires_at  # the server's clock moved on

    output = file_lines(client, done.output_file_id)
    errors = file_lines(client, done.error_file_id)
    assert running.request_counts.completed <= len(output) < TOTAL
    assert len(output) + len(errors) == done.request_counts.total == TOTAL
    custom_ids = [x["custom_id"] for x in output + errors]
    assert sorted(custom_ids) == sorted(f"r{i}" for i in range(TOTAL))
    assert all(x["response"]["status_code"] == 200 for x in output)
    for line in errors:
        assert list(line) == ["id", "custom_id", "response", "error"]
        assert line["response"] is None
        assert line["error"] == {"code": "batch_expired", "message": EXPIRED_MESSAGE}
    assert done.request_counts.completed == len(output)
    assert done.request_counts.failed == 0  # unrun requests are not counted as failed
    for file_id in (done.output_file_id, done.error_file_id):
        assert client.files.retrieve(file_id).purpose == "batch_output"


def test_expire_batch_control_call(gated: Gated) -> None:
    client = gated.client
    running = _running_part_way(gated)

    expire_batch(running.id, **conn(client))
    gated.gate.open()
    done = wait_until(client, running.id)
    assert done.status == "expired"
    _check_stamps(done, {"in_progress_at", "expired_at"})
    output = file_lines(client, done.output_file_id)
    errors = file_lines(client, done.error_file_id)
    assert len(output) >= running.request_counts.completed
    assert len(output) + len(errors) == TOTAL
    assert {e["error"]["code"] for e in errors} == {"batch_expired"}

    with pytest.raises(ControlError, match="expired"):
        expire_batch(running.id, **conn(client))


def test_expire_while_validating(client: OpenAI) -> None:
    hold(client, "validating")
    batch = start_batch(client, [chat_line("a")])
    expire_batch(batch.id, **conn(client))
    done = wait_until(client, batch.id)  # expiry does not wait for the validating pace
    assert done.status == "expired"
    _check_stamps(done, {"expired_at"})
    assert done.output_file_id is None and done.error_file_id is None
    assert done.request_counts is not None
    assert done.request_counts.model_dump() == {"total": 0, "completed": 0, "failed": 0}


def test_cancelling_an_expired_batch_is_409(client: OpenAI) -> None:
    hold(client, "validating")
    batch = start_batch(client, [chat_line("a")])
    expire_batch(batch.id, **conn(client))
    wait_until(client, batch.id)
    with pytest.raises(openai.ConflictError) as exc:
        client.batches.cancel(batch.id)
    assert exc.value.response.json()["error"]["message"] == (
        "Cannot cancel a batch with status 'expired'."
    )
