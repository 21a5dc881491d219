"""Faults inside the server: a disk that refuses writes, a step that keeps failing, a crash
between a forced outcome and its line. Each runs a real Service and Runner in this process,
with the fault injected where the operating system would raise it.
"""

from __future__ import annotations

import errno
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest
import uvicorn

from batch_api_local import runner as runner_module
from batch_api_local import worklog
from batch_api_local.app import create_app
from batch_api_local.config import PACES, Settings
from batch_api_local.domain import Service
from batch_api_local.errors import APIError
from batch_api_local.responder import LocalResponder
from batch_api_local.retry import Backoff
from batch_api_local.runner import GIVE_UP_AFTER, Runner

from support import (
    assert_envelope,
    chat_line,
    free_port,
    sdk_client,
    service_batch,
    service_upload,
    upload,
)

WAIT = 30.0


def _service(state: Path) -> Service:
    return Service(Settings(state_dir=state, pace=PACES["instant"]))


def _batch(service: Service, state: Path, n: int, namespace: str = "ns") -> str:
    return service_batch(service, [f"question {i}" for i in range(n)], namespace)


def _run_until(runner: Runner, done, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not done():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        runner.step()
        runner.wait_idle(WAIT)
        time.sleep(0.01)


def _lines(service: Service, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    text = service.store.file_path(file_id).read_text(encoding="utf-8")
    return [json.loads(x) for x in text.splitlines()]


def _assert_whole(service: Service, batch_id: str, n: int) -> dict[str, Any]:
    """The batch completed, and its files hold exactly one line per request, as counted."""
    batch = service.batches.get("ns", batch_id)
    assert batch["status"] == "completed"
    out = _lines(service, batch["output_file_id"])
    err = _lines(service, batch["error_file_id"])
    ids = [line["custom_id"] for line in out + err]
    assert sorted(ids) == sorted(f"r{i}" for i in range(n))
    assert batch["request_counts"] == {"total": n, "completed": len(out), "failed": len(err)}
    return batch


class FlakyDisk:
    """Stands in for ``os.write`` of the work log: after ``ok_writes`` writes, the disk is full
    (a torn half of the next chunk is written, as a real ENOSPC can leave) until freed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, ok_writes: int) -> None:
        self.ok_writes = ok_writes
        self.full = False
        self.refused = 0
        self._write = worklog.os.write
        monkeypatch.setattr(worklog.os, "write", self.write)

    def write(self, fd: int, data: Any) -> int:
        if self.ok_writes > 0:
            self.ok_writes -= 1
            return self._write(fd, data)
        if self.full:
            self.refused += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        self.full = True
        self._write(fd, bytes(data[: len(data) // 2]))  # half a chunk, then the disk fills
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_never_loses_or_doubles_a_result_line(tmp_path, monkeypatch):
    service = _service(tmp_path)
    monkeypatch.setattr(runner_module, "CHUNK_LINES", 100)
    monkeypatch.setattr(runner_module, "STEP_RETRY", Backoff(first=0.01, maximum=0.05))
    batch_id = _batch(service, tmp_path, 1000)
    runner = Runner(service, LocalResponder())
    disk = FlakyDisk(monkeypatch, ok_writes=3)

    # the disk fills during the run: the batch waits in_progress, never counting a line its
    # files do not hold (the database cannot take a write either while the disk is full)
    _run_until(runner, lambda: disk.refused >= 3, "the writes to be refused")
    stuck = service.batches.get("ns", batch_id)
    assert stuck["status"] == "in_progress"
    on_disk = service.batches.worklog(batch_id).recount()
    assert 0 < stuck["request_counts"]["completed"] <= on_disk.completed < 1000

    disk.full = False  # space returns
    disk.ok_writes = 10**9
    _run_until(runner, lambda: service.batches.get("ns", batch_id)["status"] == "completed", "it")
    _assert_whole(service, batch_id, 1000)
    service.store.close()


class FullDisk:
    """An upload's file the disk has no room for: every write fails (put it in place of
    ``open`` in ``batch_api_local.domain.files``)."""

    def __init__(self, path, mode):
        self.inner = open(path, mode)  # noqa: SIM115 - closed by close()

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.inner.name))

    def close(self):
        self.inner.close()


def test_an_upload_on_a_full_disk_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    service = _service(tmp_path)
    monkeypatch.setattr("batch_api_local.domain.files.open", FullDisk, raising=False)
    source = tmp_path / "in.jsonl"
    source.write_text('{"custom_id": "a"}\n')
    with pytest.raises(OSError):
        service_upload(service, "ns", source.read_bytes())
    assert list(service.store.files_dir.iterdir()) == []
    assert (
        service.files.page("ns", purpose=None, limit=10_000, ascending=False, after=None)["data"]
        == []
    )
    service.store.close()


STUDENT_KEY = "sk-class-student-0000000001"
ADMIN_KEY = "sk-class-admin-00000000001"


@contextmanager
def _class_server_in_process(tmp_path: Path) -> Iterator[str]:
    """A class server (a keys file, an admin key) run by uvicorn in a thread of this process,
    so that a fault injected here reaches its routes; yields its ``/v1`` base URL."""
    keys = tmp_path / "keys.txt"
    keys.write_text(f"{STUDENT_KEY} student-01\n", encoding="utf-8")
    port = free_port()
    settings = Settings(
        state_dir=tmp_path / "state",
        port=port,
        pace=PACES["instant"],
        keys_file=keys,
        admin_keys=(ADMIN_KEY,),
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), port=port, log_level="warning", loop="asyncio")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(WAIT)


def test_a_full_disk_answers_507_without_the_servers_paths(tmp_path, monkeypatch, caplog):
    """A student on a class server whose disk is full learns why, not where the instructor
    keeps the server's state; the server's log names the folder."""
    monkeypatch.setattr("batch_api_local.domain.files.open", FullDisk, raising=False)
    with _class_server_in_process(tmp_path) as base_url:
        state_dir = str((tmp_path / "state").resolve())
        for key in (STUDENT_KEY, ADMIN_KEY):
            student = sdk_client(base_url, key)
            with pytest.raises(openai.APIStatusError) as refused:
                upload(student, [chat_line("a")])
            assert refused.value.status_code == 507
            answer = refused.value.response.text
            error = assert_envelope(refused.value.response.json(), error_type="server_error")
            assert "No space left on device" in error["message"]
            assert state_dir not in answer and str(tmp_path) not in answer
            assert "/" not in error["message"], error  # no path of any kind
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert state_dir in logged and "No space left on device" in logged


def test_a_step_that_keeps_failing_ends_as_error_lines_not_a_loop(tmp_path, monkeypatch):
    service = _service(tmp_path)
    monkeypatch.setattr(runner_module, "STEP_RETRY", Backoff(first=0.01, maximum=0.01))
    batch_id = _batch(service, tmp_path, 5)
    runner = Runner(service, LocalResponder())
    original = service.batches.record_results
    calls = {"n": 0}

    def broken(batch, log, progress, lines, **kwargs):
        calls["n"] += 1
        if any(line["response"]["status_code"] == 200 for line, _ in lines):
            raise RuntimeError("a bug that only good answers trigger")
        return original(batch, log, progress, lines, **kwargs)

    monkeypatch.setattr(service.batches, "record_results", broken)
    _run_until(runner, lambda: service.batches.get("ns", batch_id)["status"] == "completed", "it")
    batch = _assert_whole(service, batch_id, 5)
    assert batch["request_counts"]["failed"] == 5
    assert calls["n"] == GIVE_UP_AFTER + 1  # bounded: three tries, then the 500 lines
    [line] = _lines(service, batch["error_file_id"])[:1]
    assert line["response"]["status_code"] == 500
    assert line["response"]["body"]["error"]["type"] == "server_error"
    service.store.close()


def test_a_reply_that_is_not_strict_json_becomes_a_500_line(tmp_path):
    service = _service(tmp_path)
    batch_id = _batch(service, tmp_path, 3)

    class NaNResponder:
        def respond(self, url, body, *, input_tokens=None, now=None):
            if body["messages"][0]["content"].endswith("1"):
                return 200, {"usage": {"prompt_tokens": float("nan")}, "x": float("inf")}
            return LocalResponder().respond(url, body, input_tokens=input_tokens)

    runner = Runner(service, NaNResponder())
    _run_until(runner, lambda: service.batches.get("ns", batch_id)["status"] == "completed", "it")
    batch = _assert_whole(service, batch_id, 3)
    assert batch["request_counts"]["failed"] == 1
    [bad] = _lines(service, batch["error_file_id"])
    assert bad["custom_id"] == "r1" and bad["response"]["status_code"] == 500
    service.store.close()


def test_odd_usage_from_an_upstream_is_counted_as_zero_not_a_crash(tmp_path):
    service = _service(tmp_path)
    batch_id = _batch(service, tmp_path, 3)

    class OddUsage:
        def respond(self, url, body, *, input_tokens=None, now=None):
            usage: Any = {"prompt_tokens": "n/a", "completion_tokens": [], "total_tokens": None}
            if body["messages"][0]["content"].endswith("2"):
                usage = "lots"
            return 200, {"object": "chat.completion", "usage": usage}

    runner = Runner(service, OddUsage())
    _run_until(runner, lambda: service.batches.get("ns", batch_id)["status"] == "completed", "it")
    batch = _assert_whole(service, batch_id, 3)
    assert batch["request_counts"]["completed"] == 3
    assert batch["usage"]["input_tokens"] == 0
    service.store.close()


class _Crash(BaseException):
    """The process dying (not an Exception: nothing catches it)."""


def test_a_crash_between_a_forced_line_and_its_record_keeps_the_forced_line(tmp_path, monkeypatch):
    service = _service(tmp_path)
    batch_id = _batch(service, tmp_path, 2)
    service.control.force_line("ns", {"custom_id": "r1", "status_code": 429, "batch_id": batch_id})
    runner = Runner(service, LocalResponder())

    def crash(seq):
        raise _Crash  # the lines are on disk; the forced outcome is not yet deleted

    monkeypatch.setattr(service.store, "delete_force", crash)
    runner._start_job = lambda namespace, batch, job: (
        job()
    )  # run jobs here, so the crash reaches us
    with pytest.raises(_Crash):
        for _ in range(5):
            runner.step()
    monkeypatch.undo()
    service.store.close()

    again = _service(tmp_path)  # a new process on the same state directory
    runner = Runner(again, LocalResponder())
    _run_until(runner, lambda: again.batches.get("ns", batch_id)["status"] == "completed", "it")
    batch = _assert_whole(again, batch_id, 2)
    [forced] = _lines(again, batch["error_file_id"])
    assert forced["custom_id"] == "r1" and forced["response"]["status_code"] == 429
    again.store.close()


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"validating": 1e309}, "pace"),
        ({"per_request": float("nan")}, "pace"),
        ({"finalizing": -1}, "pace"),
        ({"cancelling": 10**9}, "pace"),
        ({"validating": "1"}, "pace"),
        ({"speed": 1}, "pace"),
    ],
)
def test_a_pace_that_is_not_a_sane_number_is_refused_and_not_saved(tmp_path, body, param):
    service = _service(tmp_path)
    before = service.control.state("ns")["pace"]
    with pytest.raises(APIError) as refused:
        service.tenants.set_pace("ns", body)
    assert refused.value.status_code == 400 and refused.value.param == param
    assert service.control.state("ns")["pace"] == before
    assert service.store.get_setting("pace") is None
    service.store.close()


@pytest.mark.parametrize(
    "body",
    [
        {"custom_id": "a", "error": 5},
        {"custom_id": "a", "error": {"code": 1, "message": "x"}},
        {"custom_id": "a", "status_code": 200},
        {"custom_id": "a", "status_code": 10**30},
        {"custom_id": "a", "status_code": 500, "error": "boom"},
        {"custom_id": "a", "status_code": 500, "error": {"error": {"message": 5}}},
        {"custom_id": "a", "status_code": 500, "batch_id": 7},
        {"custom_id": 3, "status_code": 500},
    ],
)
def test_a_forced_line_of_the_wrong_shape_is_refused_and_not_saved(tmp_path, body):
    service = _service(tmp_path)
    with pytest.raises(APIError) as refused:
        service.control.force_line("ns", body)
    assert refused.value.status_code == 400
    assert service.store.forces("ns", "line", None) == []
    service.store.close()


@pytest.mark.parametrize("seconds", [10**400, float("inf"), float("nan"), -5, 200 * 365 * 86400])
def test_a_clock_move_that_is_not_a_sane_number_is_refused(tmp_path, seconds):
    service = _service(tmp_path)
    with pytest.raises(APIError) as refused:
        service.tenants.advance_clock("ns", seconds)
    assert refused.value.status_code == 400
    assert service.tenants.get("ns").clock.offset == 0.0
    service.store.close()


def test_settings_saved_with_bad_values_are_ignored_at_start(tmp_path):
    service = _service(tmp_path)
    service.store.set_setting("pace", {"validating": float("inf")})
    service.store.set_setting("token_limit", "lots")
    service.store.set_setting("clock_offset", float("nan"))
    service.store.close()

    again = Service(Settings(state_dir=tmp_path, pace=PACES["slow"], token_limit=99))
    state = again.control.state("default")
    assert state["pace"] == PACES["slow"].as_dict()
    assert state["token_limit"] == 99
    assert state["clock_offset"] == 0.0
    again.store.close()


def test_deleting_a_file_on_a_disk_that_refuses_is_all_or_nothing(tmp_path, monkeypatch):
    service = _service(tmp_path)
    source = tmp_path / "in.jsonl"
    source.write_text('{"custom_id": "a"}\n')
    file = service_upload(service, "ns", source.read_bytes())

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("batch_api_local.store.os.replace", read_only)
    with pytest.raises(OSError):
        service.files.delete("ns", file["id"])
    monkeypatch.undo()
    assert service.files.get("ns", file["id"]) == file
    assert service.files.content_path("ns", file["id"]).read_bytes() == source.read_bytes()

    # and when the database refuses, the bytes come back
    def locked(*args, **kwargs):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(service.store, "transaction", locked)
    with pytest.raises(OSError):
        service.files.delete("ns", file["id"])
    monkeypatch.undo()
    assert service.files.content_path("ns", file["id"]).read_bytes() == source.read_bytes()
    assert service.files.delete("ns", file["id"])["deleted"] is True
    assert list(service.store.files_dir.iterdir()) == []
    service.store.close()
