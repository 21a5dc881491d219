"""helpers.webhook_receiver: what it answers to valid, forged and malformed deliveries.

No server here: deliveries are signed with the local server's own signing function and sent
by hand. The server's deliveries are tested in tests/server/test_webhooks.py.
"""

from __future__ import annotations

import time

import httpx2
import pytest
from openai.types.webhooks import BatchFailedWebhookEvent

import helpers
from batch_api_local.webhooks import event_body, new_secret, signed_headers

SECRET = new_secret()


def post(url: str, body: bytes, headers: dict[str, str]) -> httpx2.Response:
    with httpx2.Client(trust_env=False, timeout=30) as http:
        return http.post(url, content=body, headers=headers)


def delivery(batch_id: str = "batch_1", secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = event_body("evt_1", "batch.failed", int(time.time()), batch_id).encode()
    return body, signed_headers(secret, "wh_1", body, int(time.time()))


def test_a_valid_delivery_is_kept_and_answered_200() -> None:
    with helpers.webhook_receiver(SECRET) as receiver:
        assert receiver.url.startswith("http://127.0.0.1:") and receiver.url.endswith("/webhook")
        body, headers = delivery()
        assert post(receiver.url, body, headers).status_code == 200
        event = receiver.wait_for("batch_1", type="batch.failed", timeout=30)
        assert isinstance(event, BatchFailedWebhookEvent) and event.id == "evt_1"
        assert receiver.events == [event] and receiver.events_for("batch_2") == []
        assert receiver.deliveries[0].body == body and receiver.rejected == []
        assert "1 event(s)" in repr(receiver)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("wrong secret", "signature does not match"),
        ("no headers", "Could not find webhook-"),
        ("not json", "Expecting value"),
    ],
)
def test_anything_else_is_answered_400(change: str, reason: str) -> None:
    with helpers.webhook_receiver(SECRET) as receiver:
        body, headers = delivery(secret=new_secret() if change == "wrong secret" else SECRET)
        if change == "no headers":
            headers = {"Content-Type": "application/json"}
        if change == "not json":
            body = b"not json"
            headers = signed_headers(SECRET, "wh_1", body, int(time.time()))
        response = post(receiver.url, body, headers)
        assert response.status_code == 400 and reason in response.text
        assert receiver.events == [] and receiver.deliveries == []
        assert reason in receiver.rejected[0].reason


def test_the_secret_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_WEBHOOK_SECRET", raising=False)
    with helpers.webhook_receiver() as receiver:
        body, headers = delivery()
        response = post(receiver.url, body, headers)
        assert response.status_code == 400 and "OPENAI_WEBHOOK_SECRET" in response.text
        monkeypatch.setenv("OPENAI_WEBHOOK_SECRET", SECRET)  # read at each delivery
        assert post(receiver.url, body, headers).status_code == 200
        assert receiver.wait_for("batch_1", timeout=30).id == "evt_1"


def test_waiting_is_bounded() -> None:
    with helpers.webhook_receiver(SECRET) as receiver:
        with pytest.raises(TimeoutError, match="batch_9"):
            receiver.wait_for("batch_9", timeout=0.1)


def test_closed_means_no_longer_listening() -> None:
    receiver = helpers.webhook_receiver(SECRET)
    url = receiver.url
    receiver.close()
    body, headers = delivery()
    with pytest.raises(httpx2.ConnectError):
        post(url, body, headers)
