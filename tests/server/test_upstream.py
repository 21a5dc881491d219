"""The upstream responder: a second local server forwards its batch lines to the first.

The first server (the session's test server) plays the part of any OpenAI-compatible server;
the second runs batches with ``--upstream`` pointing at it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI
from openai.types import Batch

from batch_api_local import ServerInfo, ensure_server, stop_server

from support import chat_line, free_port, run_batch, sdk_client


@pytest.fixture
def forwarding(local_server: ServerInfo, tmp_path: Path) -> Iterator[OpenAI]:
    state = tmp_path / "forwarding-state"
    info = ensure_server(
        state,
        port=free_port(),
        pace="instant",
        extra_args=["--upstream", local_server.base_url, "--upstream-concurrency", "4"],
    )
    try:
        yield sdk_client(info.base_url)
    finally:
        stop_server(state)


def _batch(client: OpenAI, model: str, n: int) -> Batch:
    return run_batch(client, [chat_line(f"r{i}", f"q{i}", model=model) for i in range(n)])


def test_lines_are_answered_by_the_upstream_server(forwarding: OpenAI):
    batch = _batch(forwarding, "gpt-4o-mini", 10)
    assert batch.status == "completed"
    assert batch.request_counts.completed == 10
    lines = forwarding.files.content(batch.output_file_id).text.splitlines()
    bodies = {json.loads(x)["custom_id"]: json.loads(x)["response"]["body"] for x in lines}
    assert sorted(bodies) == sorted(f"r{i}" for i in range(10))
    # the placeholder text of the upstream (local) responder, quoting each prompt
    assert all(
        f'"q{cid[1:]}"' in b["choices"][0]["message"]["content"] for cid, b in bodies.items()
    )


def test_models_outside_the_local_catalog_are_left_to_the_upstream(forwarding: OpenAI):
    batch = _batch(forwarding, "my-own-llama", 3)
    # validation let the unknown model through; the upstream refused it, line by line
    assert batch.status == "completed"
    assert batch.model == "my-own-llama"
    assert batch.request_counts.failed == 3 and batch.output_file_id is None
    line = json.loads(forwarding.files.content(batch.error_file_id).text.splitlines()[0])
    assert line["response"]["status_code"] == 404
    assert line["response"]["body"]["error"]["code"] == "model_not_found"
