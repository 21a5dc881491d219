"""One student's backlog does not delay another student's batch.

The review's case: one student created 2,000 one-line batches, and another student's one-line
batch went from 0.3 s to 22.5 s, because the runner walked every running batch oldest first and
started a job for each (the backlog first). The runner is now a scheduler, round robin over the
namespaces with a few jobs per namespace at a time (:data:`JOBS_PER_NAMESPACE`): here the
second student's batch completes while most of the first student's backlog is still waiting.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from batch_api_local import ServerInfo, ensure_server, stop_server
from batch_api_local.config import PACES, Settings
from batch_api_local.domain import Service
from batch_api_local.responder import LocalResponder
from batch_api_local.runner import JOBS_PER_NAMESPACE, Runner

from support import (
    CHAT,
    TERMINAL,
    WAIT,
    assert_clean_log,
    chat_line,
    free_port,
    jsonl,
    log_since,
    sdk_client,
    service_batch,
    service_upload,
    upload,
    wait_until,
)

KEY_A = "sk-fair-alice-0001"
KEY_B = "sk-fair-bob-0002"
BACKLOG = 400


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[ServerInfo]:
    keys = tmp_path / "keys.txt"
    keys.write_text(f"{KEY_A} alice\n{KEY_B} bob\n")
    state_dir = tmp_path / "state"
    info = ensure_server(
        state_dir, port=free_port(), pace="instant", extra_args=["--keys-file", str(keys)]
    )
    try:
        yield info
    finally:
        stop_server(state_dir)
    assert_clean_log(log_since(state_dir, 0))


def test_a_backlog_of_one_student_does_not_delay_another_students_batch(tmp_path: Path):
    """Alice has 400 one-line batches waiting when Bob creates his: Bob's completes while most
    of hers still wait (before, it completed after all of them)."""
    service = Service(Settings(state_dir=tmp_path / "state", pace=PACES["instant"]))
    file = service_upload(service, "alice", jsonl([chat_line("one")]))
    body = {"input_file_id": file["id"], "endpoint": CHAT, "completion_window": "24h"}
    backlog = [service.batches.create("alice", body)["id"] for _ in range(BACKLOG)]
    mine = service_batch(service, ["mine"], "bob")
    runner = Runner(service, LocalResponder())
    runner.start()
    try:
        deadline = time.monotonic() + WAIT
        while service.batches.get("bob", mine)["status"] not in TERMINAL:
            assert time.monotonic() < deadline, "Bob's batch did not end"
            time.sleep(0.01)
        assert service.batches.get("bob", mine)["status"] == "completed"
        # counted after Bob's batch completed: at that moment at most this many of Alice's had
        done = sum(service.batches.get("alice", b)["status"] == "completed" for b in backlog)
        assert done < BACKLOG // 2, f"{done} of Alice's {BACKLOG} batches completed before Bob's"
        # and the backlog itself completes, every batch of it
        while any(service.batches.get("alice", b)["status"] != "completed" for b in backlog):
            assert time.monotonic() < deadline + WAIT, "Alice's backlog did not complete"
            time.sleep(0.05)
    finally:
        runner.stop()
        runner.wait_idle(30)
        service.store.close()


def test_a_student_with_a_backlog_and_another_on_one_server(classroom: ServerInfo):
    """Through the API: Alice's 100 batches and Bob's one, on a class server, all complete."""
    alice, bob = sdk_client(classroom.base_url, KEY_A), sdk_client(classroom.base_url, KEY_B)
    file = upload(alice, [chat_line("one")])

    def create(_: int) -> str:
        batch = alice.batches.create(
            input_file_id=file.id,
            endpoint=CHAT,  # type: ignore[arg-type]
            completion_window="24h",
        )
        return batch.id

    with ThreadPoolExecutor(8) as pool:
        backlog = list(pool.map(create, range(100)))
    mine = upload(bob, [chat_line("mine")])
    batch = bob.batches.create(
        input_file_id=mine.id,
        endpoint=CHAT,  # type: ignore[arg-type]
        completion_window="24h",
    )
    assert wait_until(bob, batch.id).status == "completed"
    assert [b.id for b in bob.batches.list().data] == [batch.id]
    for batch_id in backlog:
        assert wait_until(alice, batch_id).status == "completed"


def test_the_runner_runs_at_most_a_few_jobs_of_one_namespace_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    service = Service(Settings(state_dir=tmp_path / "state", pace=PACES["instant"]))
    backlog = [service_batch(service, [f"q{i}"], "alice") for i in range(3 * JOBS_PER_NAMESPACE)]
    mine = service_batch(service, ["mine"], "bob")
    gate = threading.Event()
    validate = service.batches.validate

    def held(namespace: str, batch: dict[str, Any]) -> Any:
        gate.wait(30)  # each validation job stays running until the gate opens
        return validate(namespace, batch)

    monkeypatch.setattr(service.batches, "validate", held)
    runner = Runner(service, LocalResponder())
    try:
        runner.step()  # every batch is due: validating, at the instant pace
        running = set(runner._busy)
        assert len(running & set(backlog)) == JOBS_PER_NAMESPACE
        assert mine in running  # Bob's batch did not wait behind Alice's
        runner.step()
        assert set(runner._busy) == running  # Alice's others wait for one of hers to end
    finally:
        gate.set()
        assert runner.wait_idle(30)
        service.store.close()


def test_a_state_directory_from_before_the_runner_columns_gets_them_filled(tmp_path: Path):
    """The runner reads a few columns of each running batch instead of its JSON; a state
    directory written before those columns existed gets them, filled from its JSON."""
    state = tmp_path / "state"
    service = Service(Settings(state_dir=state, pace=PACES["instant"]))
    batch_id = service_batch(service, ["one", "two"], "alice")
    service.store.close()
    db = sqlite3.connect(state / "state.sqlite3")
    db.execute("ALTER TABLE batches RENAME TO old")
    db.execute(
        "CREATE TABLE batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, "
        "namespace TEXT NOT NULL, status TEXT NOT NULL, object TEXT NOT NULL, "
        "internal TEXT NOT NULL)"
    )
    db.execute("INSERT INTO batches SELECT seq, id, namespace, status, object, internal FROM old")
    db.execute("DROP TABLE old")
    db.commit()
    db.close()

    again = Service(Settings(state_dir=state, pace=PACES["instant"]))
    [running] = again.batches.running()
    batch = again.batches.get("alice", batch_id)
    assert (running.id, running.status, running.expires_at) == (
        batch_id,
        "validating",
        batch["expires_at"],
    )
    assert running.entered > 0 and running.ending is None
    runner = Runner(again, LocalResponder())
    for _ in range(10):
        runner.step()
        assert runner.wait_idle(30)
    assert again.batches.get("alice", batch_id)["status"] == "completed"
    again.store.close()
