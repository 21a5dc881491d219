"""A server killed mid-batch picks the batch up again: no result line lost, none written twice."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

from openai import OpenAI

from helpers.local_server import ensure_server, find_server, set_pace, stop_server

from support import TEST_KEY, chat_line, file_lines, free_port, start_batch, wait_until

TOTAL = 200


def _client(base_url: str) -> OpenAI:
    return OpenAI(base_url=base_url, api_key=TEST_KEY, max_retries=0, timeout=20)


def _wait_dead(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # the launcher started it in its own session: reap it if it is our child
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"server {pid} is still alive")


def test_sigkill_mid_batch_then_restart(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    info = ensure_server(state_dir, port=free_port(), pace="normal")
    try:
        client = _client(info.base_url)
        set_pace(
            validating=0, per_request=0.05, finalizing=0.2, base_url=info.base_url, api_key=TEST_KEY
        )
        lines = [chat_line(f"req-{i:03d}", f"Question number {i}") for i in range(TOTAL)]
        lines[7] = chat_line("req-007", max_tokens=1_000_000)  # one request fails
        batch = start_batch(client, lines)
        running = wait_until(client, batch.id, lambda b: b.request_counts.completed >= 20)
        assert running.status == "in_progress"

        os.kill(info.pid, signal.SIGKILL)
        _wait_dead(info.pid)
        assert find_server(state_dir) is None
        # as if the kill had cut a write short: a torn last line in the running work file
        work = state_dir / "work" / f"{batch.id}.output.jsonl"
        assert work.exists()
        with open(work, "ab") as fh:
            fh.write(b'{"id": "batch_req_torn", "custom_id": "req-19')

        info = ensure_server(state_dir, port=free_port(), pace="normal")
        client = _client(info.base_url)
        after = client.batches.retrieve(batch.id)
        assert after.status in ("in_progress", "finalizing", "completed")
        assert after.request_counts.completed >= running.request_counts.completed
        set_pace("instant", base_url=info.base_url, api_key=TEST_KEY)

        done = wait_until(client, batch.id, timeout=30)
        assert done.status == "completed"
        output = file_lines(client, done.output_file_id)
        errors = file_lines(client, done.error_file_id)
        counts = done.request_counts
        assert counts.total == TOTAL
        assert len(output) + len(errors) == TOTAL
        assert (counts.completed, counts.failed) == (len(output), len(errors)) == (TOTAL - 1, 1)
        custom_ids = Counter(x["custom_id"] for x in output + errors)
        assert [c for c, n in custom_ids.items() if n > 1] == []
        assert set(custom_ids) == {f"req-{i:03d}" for i in range(TOTAL)}
        assert [x["custom_id"] for x in errors] == ["req-007"]
        assert len({x["id"] for x in output + errors}) == TOTAL
        for file_id in (done.output_file_id, done.error_file_id):
            assert client.files.retrieve(file_id).bytes == len(client.files.content(file_id).read())
        assert done.usage is not None
        assert done.usage.input_tokens == sum(
            x["response"]["body"]["usage"]["prompt_tokens"] for x in output
        )
    finally:
        stop_server(state_dir)
