"""No lock is held while a responder answers: a stuck request holds up nobody else.

A responder that blocks on an event stands for an upstream server taking minutes. While it is
stuck on one batch's request, a reset, a stop and every other batch go on.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from batch_api_local.config import PACES, Settings
from batch_api_local.domain import Service
from batch_api_local.responder import LocalResponder
from batch_api_local.runner import Runner

from support import service_batch

WAIT = 20.0  # seconds a test may wait for something that should happen at once


class BlockingResponder:
    """Answers like the local responder, except requests whose prompt says "block"."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.blocked = threading.Event()
        self._local = LocalResponder()

    def respond(
        self,
        url: str,
        body: dict[str, Any],
        *,
        input_tokens: int | None = None,
        now: int | None = None,
    ) -> tuple[int, dict[str, Any]]:
        if body["messages"][0]["content"] == "block":
            self.blocked.set()
            self.release.wait()
        return self._local.respond(url, body, input_tokens=input_tokens, now=now)


def _create(service: Service, state: Path, namespace: str, prompts: list[str]) -> str:
    return service_batch(service, prompts, namespace)


def _until(check, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.01)


def _started(tmp_path: Path) -> tuple[Service, Runner, BlockingResponder]:
    service = Service(Settings(state_dir=tmp_path, pace=PACES["instant"]))
    responder = BlockingResponder()
    runner = Runner(service, responder)
    runner.start()
    return service, runner, responder


def test_other_batches_finish_while_one_request_is_stuck(tmp_path: Path):
    service, runner, responder = _started(tmp_path)
    stuck = _create(service, tmp_path, "ns", ["block", "after"])
    assert responder.blocked.wait(WAIT)
    other = _create(service, tmp_path, "ns", ["a", "b", "c"])
    _until(lambda: service.batches.get("ns", other)["status"] == "completed", "the other batch")
    assert service.batches.get("ns", stuck)["status"] == "in_progress"

    responder.release.set()
    _until(lambda: service.batches.get("ns", stuck)["status"] == "completed", "the stuck batch")
    assert service.batches.get("ns", stuck)["request_counts"]["completed"] == 2
    runner.stop()
    runner.wait_idle()
    service.store.close()


def test_a_reset_does_not_wait_for_a_stuck_request_and_its_answer_is_dropped(tmp_path: Path):
    service, runner, responder = _started(tmp_path)
    stuck = _create(service, tmp_path, "ns", ["block"])
    kept = _create(service, tmp_path, "other", ["a"])
    assert responder.blocked.wait(WAIT)

    done = threading.Event()
    threading.Thread(target=lambda: (service.control.reset("ns"), done.set())).start()
    assert done.wait(WAIT), "reset waited for the responder"
    assert service.store.get_batch("ns", stuck) is None

    responder.release.set()  # the late answer must not bring back anything of the reset batch
    assert runner.wait_idle(WAIT)
    assert not list(service.store.work_dir.glob(stuck + ".*"))
    assert service.store.get_batch("ns", stuck) is None
    _until(lambda: service.batches.get("other", kept)["status"] == "completed", "the other batch")
    runner.stop()
    service.store.close()


def test_stop_does_not_wait_for_a_stuck_request(tmp_path: Path):
    service, runner, responder = _started(tmp_path)
    stuck = _create(service, tmp_path, "ns", ["block", "after"])
    assert responder.blocked.wait(WAIT)

    stopped = threading.Event()
    threading.Thread(target=lambda: (runner.stop(), stopped.set())).start()
    assert stopped.wait(WAIT), "stop waited for the responder"
    assert service.batches.get("ns", stuck)["status"] == "in_progress"

    # a new runner on the same state (a restart) runs the request again: nothing was recorded
    responder.release.set()
    assert runner.wait_idle(WAIT)
    again = Runner(service, LocalResponder())
    again.start()
    _until(lambda: service.batches.get("ns", stuck)["status"] == "completed", "the restart")
    lines = service.store.file_path(service.batches.get("ns", stuck)["output_file_id"]).read_text()
    assert sorted(json.loads(x)["custom_id"] for x in lines.splitlines()) == ["r0", "r1"]
    again.stop()
    service.store.close()
