"""A running batch keeps its input: deleting the input file object does not stall or lose it."""

from __future__ import annotations

import json

from openai import OpenAI

from batch_api_local import advance_clock

from support import (
    GATE_CHUNK,
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


def test_deleting_the_input_file_of_a_running_batch(client: OpenAI):
    hold(client, "in_progress")  # held there before any request runs
    batch = start_batch(client, [chat_line(f"r{i}", "hi") for i in range(8)])
    move_to(client, batch.id, "in_progress")
    assert client.files.delete(batch.input_file_id).deleted
    release(client)
    done = wait_until(client, batch.id)
    assert done.status == "completed"
    assert done.request_counts.completed == 8
    assert len(client.files.content(done.output_file_id).text.splitlines()) == 8


def test_expiring_a_batch_whose_input_file_was_deleted(gated: Gated):
    client = gated.client
    total = 4 * GATE_CHUNK
    batch = start_batch(client, gated_lines(GATE_CHUNK, total - GATE_CHUNK))
    gated.gate.wait_for_held()  # some requests done, the rest not yet run
    assert client.batches.retrieve(batch.id).request_counts.completed >= 1
    client.files.delete(batch.input_file_id)
    advance_clock(hours=24, **conn(client))
    gated.gate.open()
    done = wait_until(client, batch.id)
    assert done.status == "expired"
    ok = file_lines(client, done.output_file_id)
    expired = [json.loads(x) for x in client.files.content(done.error_file_id).text.splitlines()]
    assert len(ok) >= 1
    assert len(ok) + len(expired) == total
    assert {x["error"]["code"] for x in expired} == {"batch_expired"}
