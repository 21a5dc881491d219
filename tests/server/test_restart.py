"""A server killed mid-batch picks the batch up again: no result line lost, none written twice.

The batch's lines go through a gate (support.Gate) that holds the requests from HELD_FROM on,
so the kill always lands with the first requests written and the rest not yet run, however
fast or slow the machine.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

from batch_api_local import ServerInfo, find_server, stop_server

from support import (
    HELD,
    Gate,
    chat_line,
    file_lines,
    poll,
    sdk_client,
    start_batch,
    start_gated_server,
    wait_until,
)

TOTAL = 200
HELD_FROM = 20


def _dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # the launcher started it in its own session: reap it if it is our child
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return False


def test_sigkill_mid_batch_then_restart(local_server: ServerInfo, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    gate = Gate(local_server.root_url)
    gate.close()
    info = start_gated_server(gate, state_dir)
    try:
        client = sdk_client(info.base_url)
        lines = [
            chat_line(
                f"req-{i:03d}", f"Question number {i}" + (f" {HELD}" if i >= HELD_FROM else "")
            )
            for i in range(TOTAL)
        ]
        lines[7] = chat_line("req-007", max_tokens=1_000_000)  # one request fails
        batch = start_batch(client, lines)
        gate.wait_for_held()  # from here on the batch cannot get past request HELD_FROM
        running = client.batches.retrieve(batch.id)
        assert running.status == "in_progress"
        ran = running.request_counts.completed + running.request_counts.failed
        assert 0 < ran <= HELD_FROM

        os.kill(info.pid, signal.SIGKILL)
        poll(lambda: _dead(info.pid), what=f"server {info.pid} to die")
        assert find_server(state_dir) is None
        # as if the kill had cut a write short: a torn last line in the running work file
        work = state_dir / "work" / f"{batch.id}.output.jsonl"
        assert work.exists()
        with open(work, "ab") as fh:
            fh.write(b'{"id": "batch_req_torn", "custom_id": "req-19')

        gate.open()  # nothing is held any more: the restarted server runs the rest
        info = start_gated_server(gate, state_dir)
        client = sdk_client(info.base_url)
        after = client.batches.retrieve(batch.id)
        assert after.status in ("in_progress", "finalizing", "completed")
        assert after.request_counts.completed >= running.request_counts.completed

        done = wait_until(client, batch.id)
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
        gate.open()
        stop_server(state_dir)
        gate.shutdown()
