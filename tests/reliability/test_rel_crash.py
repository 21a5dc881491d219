"""SIGKILL the server in the middle of a 5,000-request batch, twice, and restart it each time.

The batch must still complete, with every request answered exactly once: output plus error lines
equal the total, no ``custom_id`` appears twice, and ``request_counts`` agree with the files.
Between the kills a torn line (a write cut short) is left at the end of a work file, as a crash
in the middle of an append would leave it.

The server sends the batch's lines through a gate (support.Gate) that holds every request past a
threshold, so each kill lands while the batch is part-way, with the requests before the
threshold written and those after it not yet run, however fast or slow the machine.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI
from openai.types import Batch

from batch_api_local import ServerInfo, stop_server

from support import (
    CHAT,
    WAIT,
    Gate,
    assert_clean_log,
    chat_line,
    file_lines,
    jsonl,
    log_since,
    sdk_client,
    start_gated_server,
    wait_until,
)

TOTAL = 5_000
#: every 7th request asks for temperature 5 and fails when it runs (an error-file line)
BAD = {f"r{i:04d}" for i in range(TOTAL) if i % 7 == 3}
ALL = [f"r{i:04d}" for i in range(TOTAL)]
TORN = b'{"id": "batch_req_torn", "custom_id": "r4999", "response": {"status_code": 200, "requ'


def _input() -> bytes:
    return jsonl(
        chat_line(cid, f"Question {cid}", temperature=5)
        if cid in BAD
        else chat_line(cid, f"Question {cid}")
        for cid in ALL
    )


def _holds_from(threshold: int):
    """The gate's choice: hold the requests numbered ``threshold`` and above."""

    def holds(body: bytes) -> bool:
        found = re.search(rb"Question r(\d{4})", body)
        return found is not None and int(found.group(1)) >= threshold

    return holds


def _done(batch: Batch) -> int:
    counts = batch.request_counts
    return 0 if counts is None else counts.completed + counts.failed


def _work_lines(state_dir: Path, batch_id: str) -> list[dict]:
    """The complete result lines a running batch has written so far."""
    lines = []
    for suffix in ("output", "errors"):
        path = state_dir / "work" / f"{batch_id}.{suffix}.jsonl"
        if path.exists():
            data = path.read_bytes()
            lines += [json.loads(x) for x in data[: data.rfind(b"\n") + 1].splitlines()]
    return lines


def _saved_status(state_dir: Path, batch_id: str) -> str:
    db = sqlite3.connect(state_dir / "state.sqlite3")
    try:
        (status,) = db.execute("SELECT status FROM batches WHERE id = ?", (batch_id,)).fetchone()
    finally:
        db.close()
    return status


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)  # the launcher started it as our child: reap it
    except ChildProcessError:
        pass  # already reaped


def _client(info: ServerInfo) -> OpenAI:
    return sdk_client(info.base_url)


@pytest.fixture
def crash_state(tmp_path: Path) -> Iterator[tuple[Path, list[int]]]:
    """A state directory of our own; every server started on it is stopped at the end."""
    state_dir = tmp_path / "state"
    pids: list[int] = []
    try:
        yield state_dir, pids
    finally:
        stop_server(state_dir)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


@pytest.fixture
def gate(local_server: ServerInfo) -> Iterator[Gate]:
    """The upstream of the crash servers: passes requests to the session's server."""
    gate = Gate(local_server.root_url)
    yield gate
    gate.shutdown()


@pytest.mark.slow
def test_rel_sigkill_mid_batch_loses_and_repeats_nothing(
    gate: Gate, crash_state: tuple[Path, list[int]]
) -> None:
    state_dir, pids = crash_state
    # kill 1 once the requests before r1000 ran; kill 2 once 500 more ran after the restart
    gate.holds = _holds_from(1_000)
    gate.close()
    info = start_gated_server(gate, state_dir, concurrency=8)
    pids.append(info.pid)
    client = _client(info)
    file = client.files.create(file=("crash.jsonl", _input()), purpose="batch")
    batch = client.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h")

    floor = 0
    for round_ in range(2):
        gate.wait_for_held()  # the batch cannot get past the threshold any more
        seen = client.batches.retrieve(batch.id)
        assert seen.status == "in_progress", seen
        assert floor < _done(seen) < TOTAL, (floor, seen.request_counts)
        _kill(info.pid)

        # the kill landed mid-run: some but not all results on disk, the batch still running
        written = _work_lines(state_dir, batch.id)
        ids = [x["custom_id"] for x in written]
        assert _done(seen) <= len(written) < TOTAL
        assert len(ids) == len(set(ids))
        assert _saved_status(state_dir, batch.id) == "in_progress"
        if round_ == 0:  # a write cut short by the crash
            with open(state_dir / "work" / f"{batch.id}.output.jsonl", "ab") as fh:
                fh.write(TORN)
        floor = len(written)

        if round_ == 0:
            gate.holds = _holds_from(floor + 500)
            gate.close()  # count held requests afresh (those of the dead server stay held)
        else:
            gate.open()  # the last restart runs everything left
        restarted = start_gated_server(gate, state_dir, concurrency=8)
        pids.append(restarted.pid)
        assert restarted.pid != info.pid
        info, client = restarted, _client(restarted)

    final = wait_until(client, batch.id, timeout=10 * WAIT)
    assert final.status == "completed", final
    assert final.request_counts is not None
    out = file_lines(client, final.output_file_id)
    err = file_lines(client, final.error_file_id)
    ids = [x["custom_id"] for x in out + err]
    assert len(out) + len(err) == TOTAL
    assert len(ids) == len(set(ids)), "a request was answered twice"
    assert sorted(ids) == ALL
    assert {x["custom_id"] for x in err} == BAD
    assert all(x["response"]["status_code"] == 400 for x in err)
    assert all(x["response"]["status_code"] == 200 for x in out)
    assert len({x["id"] for x in out + err}) == TOTAL
    counts = final.request_counts
    assert (counts.total, counts.completed, counts.failed) == (TOTAL, len(out), len(err))
    assert final.usage is not None and final.usage.input_tokens > 0
    assert not list((state_dir / "work").glob(batch.id + ".*")), "work files left behind"
    assert_clean_log(log_since(state_dir, 0))
