"""Tests for helpers.waiting, against the session's local server through the real SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from helpers import TERMINAL_STATUSES, build_requests, wait_for_batch, wait_for_status, write_jsonl
from helpers.local_server import set_pace
from helpers.waiting import default_poll_interval

from support import TEST_KEY


def submit(client: OpenAI, tmp_path: Path, count: int = 3) -> str:
    """Upload ``count`` chat requests and create a batch; return its id."""
    path = write_jsonl(
        build_requests([f"Say {n}" for n in range(count)], model="gpt-4o-mini"),
        tmp_path / "input.jsonl",
    )
    with open(path, "rb") as fh:
        file = client.files.create(file=fh, purpose="batch")
    return client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
    ).id


@pytest.fixture
def slow(client: OpenAI, local_server) -> Iterator[OpenAI]:
    """The client, with batches slow enough to watch (back to instant afterwards)."""
    conn = {"base_url": local_server.base_url, "api_key": TEST_KEY}
    set_pace(validating=0.2, per_request=0.3, finalizing=0.2, cancelling=0.2, **conn)
    yield client
    set_pace("instant", **conn)


def test_terminal_statuses_are_the_four_final_ones():
    assert TERMINAL_STATUSES == {"completed", "failed", "expired", "cancelled"}


def test_wait_for_batch_returns_the_completed_batch_and_prints_nothing_without_progress(
    client, tmp_path, capsys
):
    batch_id = submit(client, tmp_path)
    batch = wait_for_batch(client, batch_id, poll_interval=0.05, timeout=10, progress=False)
    assert batch.id == batch_id
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.total) == (3, 3)
    assert capsys.readouterr() == ("", "")


def test_progress_bar_shows_status_and_counts_of_total(slow, tmp_path, capsys):
    batch_id = submit(slow, tmp_path, count=2)
    batch = wait_for_batch(slow, batch_id, poll_interval=0.05, timeout=10)
    assert batch.status == "completed"
    bar = capsys.readouterr().err  # tqdm.auto writes text to stderr outside Jupyter
    states = [state for state in bar.split("\r") if state.strip()]
    assert states[0].startswith("validating:")  # the first picture already names the status
    final = states[-1]
    assert final.startswith("completed: 2 completed, 0 failed of 2")
    assert final.rstrip().endswith("100%")
    assert "req/s" not in bar and "00:0" not in bar  # no timings: saved notebooks stay stable


def test_timeout_raises_and_leaves_the_batch_running(slow, tmp_path):
    batch_id = submit(slow, tmp_path, count=5)
    with pytest.raises(TimeoutError) as info:
        wait_for_batch(slow, batch_id, poll_interval=0.05, timeout=0.1, progress=False)
    message = str(info.value)
    assert batch_id in message and "keeps running" in message
    assert f'client.batches.cancel("{batch_id}")' in message
    assert slow.batches.retrieve(batch_id).status not in TERMINAL_STATUSES


class InterruptAfter:
    """An SDK client whose batches.retrieve raises KeyboardInterrupt after ``calls`` calls."""

    def __init__(self, client: OpenAI, calls: int) -> None:
        self.batches = self
        self._client, self._left = client, calls

    def retrieve(self, batch_id: str):
        if self._left == 0:
            raise KeyboardInterrupt
        self._left -= 1
        return self._client.batches.retrieve(batch_id)


def test_an_interrupt_stops_waiting_but_not_the_batch(slow, tmp_path, capsys):
    batch_id = submit(slow, tmp_path, count=5)
    with pytest.raises(KeyboardInterrupt):  # re-raised, so "Run All" stops here
        wait_for_batch(InterruptAfter(slow, calls=1), batch_id, poll_interval=0.01)
    out = capsys.readouterr().out
    assert "Stopped waiting" in out
    assert f'client.batches.cancel("{batch_id}")' in out
    assert slow.batches.retrieve(batch_id).status not in ("cancelling", "cancelled")


def test_an_interrupt_before_any_answer_is_not_swallowed(client):
    with pytest.raises(KeyboardInterrupt):
        wait_for_batch(InterruptAfter(client, calls=0), "batch_x", progress=False)


def test_wait_for_status_stops_at_the_named_status(slow, tmp_path):
    batch_id = submit(slow, tmp_path, count=5)
    batch = wait_for_status(slow, batch_id, "in_progress", poll_interval=0.02, progress=False)
    assert batch.status == "in_progress"


def test_wait_for_status_with_a_condition_then_cancel(slow, tmp_path):
    batch_id = submit(slow, tmp_path, count=6)
    batch = wait_for_status(
        slow,
        batch_id,
        lambda b: b.request_counts.completed >= 1,
        poll_interval=0.02,
        progress=False,
    )
    assert batch.status == "in_progress" and batch.request_counts.completed >= 1
    slow.batches.cancel(batch_id)
    batch = wait_for_batch(slow, batch_id, poll_interval=0.05, timeout=10, progress=False)
    assert batch.status == "cancelled"
    assert 1 <= batch.request_counts.completed < 6


def test_wait_for_status_also_stops_at_a_terminal_status(client, tmp_path):
    batch_id = submit(client, tmp_path)
    batch = wait_for_status(
        client, batch_id, "cancelling", poll_interval=0.05, timeout=10, progress=False
    )
    assert batch.status == "completed"


def test_wait_for_status_refuses_an_unknown_status(client):
    with pytest.raises(ValueError, match="in-progress"):
        wait_for_status(client, "batch_x", "in-progress", progress=False)


def test_default_poll_interval_follows_where_the_client_points():
    local = OpenAI(base_url="http://127.0.0.1:8765/v1", api_key="x")
    remote = OpenAI(base_url="https://api.openai.com/v1", api_key="x")
    assert default_poll_interval(local) == 0.25
    assert default_poll_interval(remote) == 30.0
    assert default_poll_interval(object()) == 0.25  # a stand-in without base_url
