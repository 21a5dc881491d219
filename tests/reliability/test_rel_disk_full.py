"""A real full disk: the server's state directory on a small tmpfs that fills up mid-batch.

Before, a 1,000-request batch on a full disk ended ``completed`` 1000/1000 with 274 lines in its
output file. Now the batch waits while the disk is full (its counts never ahead of its files),
uploads are refused cleanly and leave nothing behind, and once space returns the batch completes
with every line exactly once.

Mounting a tmpfs needs root on Linux; elsewhere this test is skipped, and
``tests/server/test_faults.py`` covers the same ground by injecting ENOSPC at the write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batch_api_local import ensure_server, set_pace, stop_server

from support import chat_line, sdk_client, write_jsonl

pytestmark = pytest.mark.slow
KEY = "sk-local-disk"
N = 1000
WAIT = 120.0


def _mount(target: Path, megabytes: int) -> bool:
    if sys.platform != "linux" or os.geteuid() != 0:
        return False
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(target)],
        capture_output=True,
    )
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    if not _mount(disk, 24):
        pytest.skip(
            "cannot mount a tmpfs here (needs root on Linux); test_faults.py injects ENOSPC"
        )
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> Path:
    """Take every free byte of the filesystem."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh:  # unbuffered: no flush can fail at close
        block = b"\0" * 65536
        while True:
            try:
                fh.write(block)
            except OSError:
                if len(block) == 1:
                    break
                block = block[: len(block) // 2]  # fill the last bytes too
    return filler


def _until(check, what: str):
    deadline = time.monotonic() + WAIT
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


def test_a_full_disk_mid_batch_loses_nothing_and_completes_when_space_returns(small_disk, tmp_path):
    state = small_disk / "state"
    info = ensure_server(state, pace="instant")
    conn = {"base_url": info.base_url, "api_key": KEY}
    client = sdk_client(info.base_url, KEY)
    try:
        path = write_jsonl(
            tmp_path / "in.jsonl", [chat_line(f"r{i}", f"question {i} " * 20) for i in range(N)]
        )
        with open(path, "rb") as fh:
            file = client.files.create(file=fh, purpose="batch")
        # about 10 s of running: time to fill the disk while it runs
        set_pace(validating=0, per_request=0.01, finalizing=0, cancelling=0, **conn)
        batch = client.batches.create(
            input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        _until(lambda: client.batches.retrieve(batch.id).request_counts.completed >= 50, "progress")
        filler = _fill(small_disk)

        # while the disk is full: the batch waits, its counts never ahead of its files
        time.sleep(2)
        stalled = client.batches.retrieve(batch.id)
        assert stalled.status == "in_progress"
        assert stalled.request_counts.completed < N
        with open(path, "rb") as fh, pytest.raises(Exception) as refused:
            client.files.create(file=fh, purpose="batch")
        assert getattr(refused.value, "status_code", None) == 507
        assert not list((state / "files").glob(".upload-*"))
        assert client.batches.list().data[0].id == batch.id  # reads still work

        filler.unlink()  # space returns
        done = _until(
            lambda: (b := client.batches.retrieve(batch.id)).status == "completed" and b,
            "the batch to complete",
        )
        lines = [json.loads(x) for x in client.files.content(done.output_file_id).text.splitlines()]
        ids = [line["custom_id"] for line in lines]
        assert sorted(ids) == sorted(f"r{i}" for i in range(N))
        assert done.request_counts.completed == N and done.request_counts.failed == 0
    finally:
        stop_server(state)
