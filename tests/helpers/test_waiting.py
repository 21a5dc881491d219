"""Tests for helpers.waiting, against the session's local server through the real SDK."""

from __future__ import annotations

from pathlib import Path

import pytest
from openai import OpenAI

from helpers import TERMINAL_STATUSES, build_requests, wait_for_batch, wait_for_status, write_jsonl
from helpers.waiting import default_poll_interval

from support import GATE_CHUNK, HELD, Gated, hold, release


def submit(client: OpenAI, tmp_path: Path, count: int = 3, held_from: int | None = None) -> str:
    """Upload ``count`` chat requests and create a batch; return its id.

    With ``held_from``, the requests from that one on are held by a closed gate.
    """
    prompts = [f"Say {n}" for n in range(count)]
    if held_from is not None:
        prompts = [p if n < held_from else f"{p} {HELD}" for n, p in enumerate(prompts)]
    path = write_jsonl(build_requests(prompts, model="gpt-4o-mini"), tmp_path / "input.jsonl")
    with open(path, "rb") as fh:
        file = client.files.create(file=fh, purpose="batch")
    return client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
    ).id


@pytest.fixture
def held(client: OpenAI) -> OpenAI:
    """The client, with its batches held in validating (the next test's reset lets them go)."""
    hold(client, "validating")
    return client


class ReleaseAfter:
    """An SDK client whose batches.retrieve lets held batches move on after ``calls`` calls."""

    def __init__(self, client: OpenAI, calls: int) -> None:
        self.batches = self
        self._client, self._left = client, calls

    def retrieve(self, batch_id: str):
        batch = self._client.batches.retrieve(batch_id)
        self._left -= 1
        if self._left == 0:
            release(self._client)
        return batch


def test_terminal_statuses_are_the_four_final_ones():
    assert TERMINAL_STATUSES == {"completed", "failed", "expired", "cancelled"}


def test_wait_for_batch_returns_the_completed_batch_and_prints_nothing_without_progress(
    client, tmp_path, capsys
):
    batch_id = submit(client, tmp_path)
    batch = wait_for_batch(client, batch_id, poll_interval=0.05, timeout=60, progress=False)
    assert batch.id == batch_id
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.total) == (3, 3)
    assert capsys.readouterr() == ("", "")


def test_progress_bar_shows_status_and_counts_of_total(held, tmp_path, capsys):
    batch_id = submit(held, tmp_path, count=2)
    # the first answer is a held batch, still validating; then it may go
    batch = wait_for_batch(ReleaseAfter(held, calls=1), batch_id, poll_interval=0.05, timeout=60)
    assert batch.status == "completed"
    bar = capsys.readouterr().err  # tqdm.auto writes text to stderr outside Jupyter
    states = [state for state in bar.split("\r") if state.strip()]
    assert states[0].startswith("validating:")  # the first picture already names the status
    final = states[-1]
    assert final.startswith("completed: 2 completed, 0 failed of 2")
    assert final.rstrip().endswith("100%")
    assert "req/s" not in bar and "00:0" not in bar  # no timings: saved notebooks stay stable


def test_timeout_raises_and_leaves_the_batch_running(held, tmp_path):
    batch_id = submit(held, tmp_path, count=5)
    with pytest.raises(TimeoutError) as info:
        wait_for_batch(held, batch_id, poll_interval=0.05, timeout=0.1, progress=False)
    message = str(info.value)
    assert batch_id in message and "keeps running" in message
    assert f'client.batches.cancel("{batch_id}")' in message
    assert held.batches.retrieve(batch_id).status == "validating"


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


def test_an_interrupt_stops_waiting_but_not_the_batch(held, tmp_path, capsys):
    batch_id = submit(held, tmp_path, count=5)
    with pytest.raises(KeyboardInterrupt):  # re-raised, so "Run All" stops here
        wait_for_batch(InterruptAfter(held, calls=1), batch_id, poll_interval=0.01)
    out = capsys.readouterr().out
    assert f"Stopped waiting. Batch {batch_id} was validating" in out
    assert f'client.batches.cancel("{batch_id}")' in out
    assert held.batches.retrieve(batch_id).status == "validating"


def test_an_interrupt_before_any_answer_is_not_swallowed(client):
    with pytest.raises(KeyboardInterrupt):
        wait_for_batch(InterruptAfter(client, calls=0), "batch_x", progress=False)


def test_wait_for_status_stops_at_the_named_status(client, tmp_path):
    hold(client, "in_progress")  # it gets there and stays, so a poll cannot miss it
    batch_id = submit(client, tmp_path, count=5)
    batch = wait_for_status(
        client, batch_id, "in_progress", poll_interval=0.02, timeout=60, progress=False
    )
    assert batch.status == "in_progress"


def test_wait_for_status_with_a_condition_then_cancel(gated: Gated, tmp_path):
    client = gated.client
    # the first requests pass the gate; the batch cannot end before the gate opens
    batch_id = submit(client, tmp_path, count=4 * GATE_CHUNK, held_from=GATE_CHUNK)
    batch = wait_for_status(
        client,
        batch_id,
        lambda b: b.request_counts.completed >= 1,
        poll_interval=0.02,
        timeout=60,
        progress=False,
    )
    assert batch.status == "in_progress" and batch.request_counts.completed >= 1
    client.batches.cancel(batch_id)
    gated.gate.open()
    batch = wait_for_batch(client, batch_id, poll_interval=0.05, timeout=60, progress=False)
    assert batch.status == "cancelled"
    assert 1 <= batch.request_counts.completed < 4 * GATE_CHUNK


def test_wait_for_status_also_stops_at_a_terminal_status(client, tmp_path):
    batch_id = submit(client, tmp_path)
    batch = wait_for_status(
        client, batch_id, "cancelling", poll_interval=0.05, timeout=60, progress=False
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


def test_the_notebook_widget_draws_one_bar_with_the_text_beside_it():
    """In Jupyter, tqdm.auto's bar is a widget: text, a graphical bar, text. The format must
    leave the drawing to the widget, or a second bar appears as text in the label."""
    pytest.importorskip("ipywidgets")
    from tqdm.notebook import tqdm as notebook_tqdm

    from helpers.waiting import BAR_FORMAT

    label = "in_progress: 1 completed, 0 failed of 3"
    bar = notebook_tqdm(total=3, initial=1, desc=label, bar_format=BAR_FORMAT, display=False)
    try:
        left, graphic, right = bar.container.children
        assert left.value.replace("\u2007", " ").strip() == label
        assert right.value.replace("\u2007", " ").strip() == "33%"
        assert graphic.value == 1 and graphic.max == 3
        for text in (left.value, right.value):
            assert "|" not in text and "#" not in text
            assert not any("\u2588" <= char <= "\u258f" for char in text)  # no block characters
    finally:
        bar.close()
