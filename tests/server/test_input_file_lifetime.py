"""A running batch keeps its input: deleting the input file object does not stall or lose it."""

from __future__ import annotations

import json
from pathlib import Path

from openai import OpenAI

from helpers.local_server import ServerInfo, advance_clock, set_pace
from helpers.waiting import wait_for_batch, wait_for_status

from support import TEST_KEY


def _upload(client: OpenAI, path: Path, n: int) -> str:
    lines = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return client.files.create(file=open(path, "rb"), purpose="batch").id


def test_deleting_the_input_file_of_a_running_batch(
    client: OpenAI, local_server: ServerInfo, tmp_path: Path
):
    conn = {"base_url": local_server.base_url, "api_key": TEST_KEY}
    set_pace(validating=0, per_request=0.1, finalizing=0, cancelling=0, **conn)
    file_id = _upload(client, tmp_path / "in.jsonl", 8)
    batch = client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    wait_for_status(client, batch.id, "in_progress", poll_interval=0.02, progress=False)
    assert client.files.delete(file_id).deleted
    done = wait_for_batch(client, batch.id, poll_interval=0.05, timeout=20, progress=False)
    assert done.status == "completed"
    assert done.request_counts.completed == 8
    assert len(client.files.content(done.output_file_id).text.splitlines()) == 8


def test_expiring_a_batch_whose_input_file_was_deleted(
    client: OpenAI, local_server: ServerInfo, tmp_path: Path
):
    conn = {"base_url": local_server.base_url, "api_key": TEST_KEY}
    set_pace(validating=0, per_request=0.3, finalizing=0, cancelling=0, **conn)
    file_id = _upload(client, tmp_path / "in.jsonl", 6)
    batch = client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    wait_for_status(
        client,
        batch.id,
        lambda b: b.request_counts.completed >= 1,
        poll_interval=0.02,
        progress=False,
    )
    client.files.delete(file_id)
    advance_clock(hours=24, **conn)
    done = wait_for_batch(client, batch.id, poll_interval=0.05, timeout=20, progress=False)
    assert done.status == "expired"
    ok = client.files.content(done.output_file_id).text.splitlines()
    expired = [json.loads(x) for x in client.files.content(done.error_file_id).text.splitlines()]
    assert len(ok) + len(expired) == 6
    assert {x["error"]["code"] for x in expired} == {"batch_expired"}
