"""The runner survives its own faults: a batch never hangs in a status because of one."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from batch_api_local.config import PACES, Settings
from batch_api_local.domain import Service
from batch_api_local.responder import LocalResponder
from batch_api_local.runner import Runner

from support import service_upload


class _Crash(BaseException):
    """Stands for the process dying at a chosen point (not an Exception: nothing catches it)."""


def _service_with_batch(state: Path, lines: int, final_ok: int) -> tuple[Service, str]:
    service = Service(Settings(state_dir=state, pace=PACES["instant"]))
    requests = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": f"q{i}"}],
                # the last ones ask for more than the model's context: HTTP 400 lines
                "max_tokens": 10 if i < final_ok else 1_000_000,
            },
        }
        for i in range(lines)
    ]
    path = state / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in requests))
    file = service_upload(service, "ns", path.read_bytes())
    batch = service.batches.create(
        "ns",
        {
            "input_file_id": file["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    )
    return service, batch["id"]


def _steps(runner: Runner, n: int = 5) -> None:
    """Advance the batches ``n`` times, each time waiting for the jobs it started."""
    for _ in range(n):
        runner.step()
        assert runner.wait_idle(30)


def _lines(service: Service, file_id: str | None) -> list[dict]:
    if file_id is None:
        return []
    return [json.loads(x) for x in service.store.file_path(file_id).read_text().splitlines()]


def test_an_exception_during_validation_fails_the_batch(tmp_path: Path, monkeypatch):
    service, batch_id = _service_with_batch(tmp_path, lines=1, final_ok=1)
    runner = Runner(service, LocalResponder())

    def broken(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr("batch_api_local.domain.batches.validate_file", broken)
    _steps(runner, 1)
    failed = service.batches.get("ns", batch_id)
    assert failed["status"] == "failed"
    assert failed["failed_at"] is not None
    [error] = failed["errors"]["data"]
    assert error["code"] == "server_error"
    assert "disk on fire" not in error["message"] and "OSError" not in error["message"]

    # and the runner carries on with the next batch as usual
    monkeypatch.undo()
    again = service.batches.create(
        "ns",
        {
            "input_file_id": failed["input_file_id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    )
    _steps(runner)
    assert service.batches.get("ns", again["id"])["status"] == "completed"
    service.store.close()


@pytest.mark.parametrize("ending", ["completed", "cancelled"])
def test_a_crash_in_the_middle_of_publishing_loses_and_repeats_nothing(
    tmp_path: Path, monkeypatch, ending: str
):
    service, batch_id = _service_with_batch(tmp_path, lines=6, final_ok=5)
    runner = Runner(service, LocalResponder())
    if ending == "completed":
        while service.batches.get("ns", batch_id)["status"] != "finalizing":
            _steps(runner, 1)
    else:
        service.tenants.set_pace(
            "ns", {"validating": 0, "per_request": 3600, "finalizing": 0, "cancelling": 0}
        )
        _steps(runner, 3)
        assert service.batches.get("ns", batch_id)["status"] == "in_progress"
        service.batches.cancel("ns", batch_id)

    # die after the work files were moved, before the file objects and status are written:
    # the job that publishes stops there, as the whole process would
    crashes: list[int] = []

    def crash(*args, **kwargs):
        crashes.append(1)
        raise _Crash

    default_hook = threading.excepthook
    monkeypatch.setattr(service.store, "insert_file", crash)
    monkeypatch.setattr(
        threading,
        "excepthook",
        lambda hook: None if hook.exc_type is _Crash else default_hook(hook),
    )
    _steps(runner, 1)
    assert crashes, "publishing never reached the point of the crash"
    runner.stop()
    monkeypatch.undo()
    service.store.close()

    # a new process on the same state directory
    again = Service(Settings(state_dir=tmp_path, pace=PACES["instant"]))
    runner = Runner(again, LocalResponder())
    _steps(runner)
    batch = again.batches.get("ns", batch_id)
    assert batch["status"] == ending
    out = _lines(again, batch["output_file_id"])
    err = _lines(again, batch["error_file_id"])
    ids = [line["custom_id"] for line in out + err]
    assert len(ids) == len(set(ids)) == (6 if ending == "completed" else len(ids))
    assert batch["request_counts"]["completed"] == len(out)
    http_errors = [line for line in err if line["response"] is not None]
    assert batch["request_counts"]["failed"] == len(http_errors)
    if ending == "completed":
        assert (len(out), len(err)) == (5, 1)
        assert batch["usage"]["input_tokens"] > 0
    else:
        assert len(out) + len(err) == 6
        assert all(line["error"]["code"] == "batch_cancelled" for line in err)
    again.store.close()


def test_a_cancel_that_arrives_once_the_window_has_passed_is_refused(tmp_path: Path):
    from batch_api_local.errors import Conflict

    service, batch_id = _service_with_batch(tmp_path, lines=2, final_ok=2)
    service.tenants.advance_clock(
        "ns", 86_400
    )  # the runner has not looked yet: the batch still validating
    with pytest.raises(Conflict, match="'expired'"):
        service.batches.cancel("ns", batch_id)
    service.store.close()
