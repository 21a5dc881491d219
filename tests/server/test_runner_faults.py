"""The runner survives its own faults: a batch never hangs in a status because of one."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.local_server.config import PACES, Settings
from helpers.local_server.runner import Runner
from helpers.local_server.service import Service


class _Responder:
    def respond(self, url: str, body: dict) -> tuple[int, dict]:
        return 200, {"usage": {"prompt_tokens": 1, "completion_tokens": 1}}


def test_an_exception_during_validation_fails_the_batch(tmp_path: Path, monkeypatch):
    service = Service(Settings(state_dir=tmp_path, pace=PACES["instant"]))
    runner = Runner(service, _Responder())
    line = {
        "custom_id": "a",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    }
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with open(path, "rb") as fh:
        file = service.upload_file(
            "ns", stream=fh, filename="in.jsonl", purpose="batch", expires_after=None
        )
    batch = service.create_batch(
        "ns",
        {
            "input_file_id": file["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    )

    def broken(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr("helpers.local_server.runner.validate_file", broken)
    runner.step()
    failed = service.get_batch("ns", batch["id"])
    assert failed["status"] == "failed"
    assert failed["failed_at"] is not None
    [error] = failed["errors"]["data"]
    assert error["code"] == "server_error" and "disk on fire" in error["message"]

    # and the runner carries on with the next batch as usual
    monkeypatch.undo()
    again = service.create_batch(
        "ns",
        {
            "input_file_id": file["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    )
    for _ in range(5):
        runner.step()
    assert service.get_batch("ns", again["id"])["status"] == "completed"
    service.store.close()
