"""Publishing a big batch holds up no other client: no lock is held over file work, and no
route blocks the event loop.

The server runs in this process (uvicorn in a thread) so that the test can hold a publish in
the middle of moving a batch's result files into place, for as long as it likes. While it is
held, another student of the same class server retrieves and cancels their own batch, and the
publishing student's own batch can be retrieved: each answer comes back while the publish is
still held. (Before the domain was split, the cancel waited for the publish's lock, and every
route waited for the event loop it blocked.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from openai import OpenAI

from batch_api_local.app import create_app
from batch_api_local.config import PACES, Settings
from batch_api_local.worklog import WorkLog

from support import chat_line, free_port, start_batch, wait_until

#: a generous bound on any answer: a regression shows as a timeout, not as a hang
WAIT = 20.0
BIG = 2_000


class HeldPublish:
    """Holds :meth:`WorkLog.take` (moving a result file into place) until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()
        original = WorkLog.take

        def take(work: WorkLog, kind: str, target: Path, *, shuffle: bool = False) -> None:
            self.reached.set()
            self.release.wait(60)
            original(work, kind, target, shuffle=shuffle)

        monkeypatch.setattr(WorkLog, "take", take)


@pytest.fixture
def class_server(tmp_path: Path) -> Iterator[str]:
    keys = tmp_path / "keys.txt"
    keys.write_text("sk-student-a student-a\nsk-student-b student-b\n", encoding="utf-8")
    port = free_port()
    settings = Settings(
        state_dir=tmp_path / "state", port=port, pace=PACES["instant"], keys_file=keys
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), port=port, log_level="warning", loop="asyncio")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(WAIT)


def _client(base_url: str, key: str) -> OpenAI:
    return OpenAI(
        base_url=base_url,
        api_key=key,
        max_retries=0,
        timeout=WAIT,
        http_client=httpx2.Client(trust_env=False),
    )


def test_others_are_answered_while_a_big_batch_publishes(
    class_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = _client(class_server, "sk-student-a"), _client(class_server, "sk-student-b")
    held = HeldPublish(monkeypatch)

    big = start_batch(alice, [chat_line(f"r{i}") for i in range(BIG)])
    assert held.reached.wait(60), "the big batch never reached publishing"
    try:
        # Bob's batch, created while Alice's is being published: it waits behind nothing
        # either, but it is cancelled before it can end
        bobs = start_batch(bob, [chat_line("b0")])
        answers: dict[str, Any] = {
            "bob retrieves": bob.batches.retrieve(bobs.id),
            "bob cancels": _cancel_or_final(bob, bobs.id),
            "alice retrieves": alice.batches.retrieve(big.id),
            "bob lists": bob.batches.list(),
        }
        assert not held.release.is_set()  # all of that while the publish was still held
        assert answers["alice retrieves"].status == "finalizing"
        assert answers["bob retrieves"].id == bobs.id
    finally:
        held.release.set()
    done = wait_until(alice, big.id)
    assert done.status == "completed"
    assert done.request_counts is not None and done.request_counts.completed == BIG


def _cancel_or_final(client: OpenAI, batch_id: str) -> Any:
    """Cancel a batch; one that already ended (the instant pace is quick) answers 409."""
    try:
        return client.batches.cancel(batch_id)
    except Exception as exc:  # noqa: BLE001 - only a conflict is expected
        assert getattr(exc, "status_code", None) == 409, exc
        return client.batches.retrieve(batch_id)
