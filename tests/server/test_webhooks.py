"""Signed webhooks: a batch's end is delivered, signed so the SDK's ``webhooks.unwrap`` accepts
it, at least once, from an outbox that outlives the receiver being down and the server
restarting.

Most tests use one server of this module's own, started with ``--webhook-url`` pointing at a
receiver (``helpers.webhook_receiver``) and fast retries. The retry tests start servers of
their own. The tests that one endpoint holds up no other use a receiver that answers a byte at a
time until released (``SlowReceiver``); some run a ``Deliverer`` in this process, over an outbox
filled by hand. Every wait is bounded (``support.WAIT``); nothing is timed.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openai import InvalidWebhookSignatureError, OpenAI
from openai.types.webhooks import (
    BatchCancelledWebhookEvent,
    BatchCompletedWebhookEvent,
    BatchExpiredWebhookEvent,
    BatchFailedWebhookEvent,
)

from batch_api_local import (
    PACES,
    ControlError,
    ServerInfo,
    advance_clock,
    ensure_server,
    ids,
    reset,
    set_webhook,
    stop_server,
    webhook_events,
    webhook_settings,
)
from batch_api_local.config import Settings
from batch_api_local.domain import Service
from batch_api_local.webhooks import Deliverer, Outbox, event_body, new_secret, sign
from helpers import WebhookReceiver, webhook_receiver

from support import (
    DAY,
    TEST_KEY,
    WAIT,
    assert_error,
    chat_line,
    conn,
    free_port,
    hold,
    poll,
    raw,
    release,
    run_batch,
    sdk_client,
    server_env,
    start_batch,
    start_class_server,
    wait_until,
)

SECRET = new_secret()
#: the server of this module gives up after this many attempts
MAX_ATTEMPTS = 3


@dataclass
class Hooked:
    """A server that sends every batch's end to ``receiver``, and the receiver."""

    info: ServerInfo
    receiver: WebhookReceiver


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hooked]:
    state_dir = tmp_path_factory.mktemp("webhooks-state")
    receiver = webhook_receiver(SECRET)
    try:
        info = ensure_server(
            state_dir,
            port=free_port(),
            pace="instant",
            extra_args=[
                *("--webhook-url", receiver.url, "--webhook-secret", SECRET),
                *("--webhook-max-attempts", str(MAX_ATTEMPTS), "--webhook-retry-base", "0.05"),
            ],
        )
        try:
            yield Hooked(info, receiver)
        finally:
            stop_server(state_dir)
    finally:
        receiver.close()


@pytest.fixture
def hook_client(hooked: Hooked) -> OpenAI:
    """A client on an empty namespace of the module's server (its events and settings too)."""
    reset(base_url=hooked.info.base_url, api_key=TEST_KEY)
    return sdk_client(hooked.info.base_url)


def verifier(**kwargs: Any) -> OpenAI:
    """An SDK client that only verifies webhooks (no request is ever sent with it)."""
    return OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1", **kwargs)


def delivery_of(receiver: WebhookReceiver, event: Any) -> Any:
    [delivery] = [d for d in receiver.deliveries if d.event.id == event.id]
    return delivery


def signature_headers(delivery: Any) -> dict[str, str]:
    """The three Standard Webhooks headers of a delivery, by their lower-case names."""
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    return {k: headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}


def events_of(client: OpenAI, **filters: Any) -> list[dict[str, Any]]:
    return webhook_events(**filters, **conn(client))["data"]


def wait_for_outcome(client: OpenAI, batch_id: str, status: str) -> dict[str, Any]:
    """Wait until the event of ``batch_id`` is ``status`` in the delivery log; return it."""

    def settled() -> dict[str, Any] | None:
        found = events_of(client, batch_id=batch_id)
        return found[0] if found and found[0]["status"] == status else None

    return poll(settled, what=f"the webhook event of {batch_id} to be {status}")


# -- delivered, and verified by the SDK ---------------------------------------------------------


def test_a_completed_batch_sends_an_event_the_sdk_verifies(
    hooked: Hooked, hook_client: OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = run_batch(hook_client, [chat_line("a"), chat_line("b")])
    assert batch.status == "completed"

    event = hooked.receiver.wait_for(batch.id, timeout=WAIT)  # verified by the receiver
    assert isinstance(event, BatchCompletedWebhookEvent)
    assert (event.type, event.object, event.data.id) == ("batch.completed", "event", batch.id)
    assert event.created_at == batch.completed_at
    assert event.id.startswith("evt_") and len(event.id) == 36

    delivery = delivery_of(hooked.receiver, event)
    payload = json.loads(delivery.body)
    assert payload == {
        "id": event.id,
        "object": "event",
        "type": "batch.completed",
        "created_at": batch.completed_at,
        "data": {"id": batch.id},
    }
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    assert headers["webhook-id"].startswith("wh_") and headers["webhook-id"] != event.id
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 300  # real time, not a clock

    # verified again, independently: the secret passed, or read from OPENAI_WEBHOOK_SECRET
    assert verifier().webhooks.unwrap(delivery.body, delivery.headers, secret=SECRET) == event
    monkeypatch.setenv("OPENAI_WEBHOOK_SECRET", SECRET)
    assert verifier().webhooks.unwrap(delivery.body, delivery.headers) == event

    # marked delivered once the receiver's 200 is back (just after it kept the event)
    listed = wait_for_outcome(hook_client, batch.id, "delivered")
    assert listed["attempts"] == 1
    assert listed["last_error"] is None and listed["delivered_at"] is not None
    assert (listed["id"], listed["webhook_id"]) == (event.id, headers["webhook-id"])
    assert listed["payload"] == payload and listed["url"] == hooked.receiver.url
    assert "secret" not in listed


def test_a_tampered_delivery_is_refused(hooked: Hooked, hook_client: OpenAI) -> None:
    batch = run_batch(hook_client, [chat_line("a")])
    delivery = delivery_of(hooked.receiver, hooked.receiver.wait_for(batch.id, timeout=WAIT))
    headers = signature_headers(delivery)
    sdk = verifier(webhook_secret=SECRET)
    assert sdk.webhooks.unwrap(delivery.body, headers).data.id == batch.id

    tampered = delivery.body.replace(b"batch.completed", b"batch.failed")
    with pytest.raises(InvalidWebhookSignatureError):
        sdk.webhooks.unwrap(tampered, headers)
    forged = sign(new_secret(), headers["webhook-id"], int(headers["webhook-timestamp"]), tampered)
    with pytest.raises(InvalidWebhookSignatureError):  # signed, but not with the secret
        sdk.webhooks.unwrap(tampered, {**headers, "webhook-signature": forged})
    with pytest.raises(InvalidWebhookSignatureError):
        sdk.webhooks.unwrap(delivery.body, headers, secret=new_secret())

    # the receiver answers such a delivery 400 and keeps nothing
    before = len(hooked.receiver.deliveries)
    response = raw(hooked.receiver.url, "POST", "", key=None, content=tampered, headers=headers)
    assert response.status_code == 400 and "signature" in response.text
    assert len(hooked.receiver.deliveries) == before
    assert hooked.receiver.rejected[-1].body == tampered


def test_an_old_timestamp_is_refused(hooked: Hooked, hook_client: OpenAI) -> None:
    batch = run_batch(hook_client, [chat_line("a")])
    delivery = delivery_of(hooked.receiver, hooked.receiver.wait_for(batch.id, timeout=WAIT))
    webhook_id = signature_headers(delivery)["webhook-id"]
    sdk = verifier(webhook_secret=SECRET)

    def signed_at(timestamp: int) -> dict[str, str]:
        return {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(SECRET, webhook_id, timestamp, delivery.body),
        }

    now = int(time.time())
    assert sdk.webhooks.unwrap(delivery.body, signed_at(now)).data.id == batch.id
    with pytest.raises(InvalidWebhookSignatureError, match="too old"):
        sdk.webhooks.unwrap(delivery.body, signed_at(now - 600))  # a replay, 10 minutes on
    with pytest.raises(InvalidWebhookSignatureError, match="too new"):
        sdk.webhooks.unwrap(delivery.body, signed_at(now + 600))

    response = raw(
        hooked.receiver.url,
        "POST",
        "",
        key=None,
        content=delivery.body,
        headers=signed_at(now - 600),
    )
    assert response.status_code == 400 and "too old" in response.text


def test_a_repeated_delivery_is_kept_once(hooked: Hooked, hook_client: OpenAI) -> None:
    """At least once: the same webhook-id may come twice; the receiver keeps one event."""
    batch = run_batch(hook_client, [chat_line("a")])
    delivery = delivery_of(hooked.receiver, hooked.receiver.wait_for(batch.id, timeout=WAIT))
    webhook_id = signature_headers(delivery)["webhook-id"]
    now = int(time.time())
    again = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(now),
        "webhook-signature": sign(SECRET, webhook_id, now, delivery.body),
    }
    response = raw(hooked.receiver.url, "POST", "", key=None, content=delivery.body, headers=again)
    assert response.status_code == 200
    assert len([d for d in hooked.receiver.deliveries if d.webhook_id == webhook_id]) == 2
    assert len(hooked.receiver.events_for(batch.id)) == 1


# -- one event for each final status -------------------------------------------------------------


def test_a_failed_batch_sends_batch_failed(hooked: Hooked, hook_client: OpenAI) -> None:
    batch = run_batch(hook_client, [chat_line("a"), "{oops"])
    assert batch.status == "failed"
    event = hooked.receiver.wait_for(batch.id, timeout=WAIT)
    assert isinstance(event, BatchFailedWebhookEvent)
    assert (event.type, event.created_at) == ("batch.failed", batch.failed_at)


def test_an_expired_batch_sends_batch_expired(hooked: Hooked, hook_client: OpenAI) -> None:
    hold(hook_client, "validating")
    batch = start_batch(hook_client, [chat_line("a")])
    advance_clock(hours=25, **conn(hook_client))
    done = wait_until(hook_client, batch.id)
    assert done.status == "expired"
    event = hooked.receiver.wait_for(batch.id, timeout=WAIT)
    assert isinstance(event, BatchExpiredWebhookEvent)
    # the event tells when the batch expired on its (moved) clock; the delivery's timestamp is
    # real time, so the SDK still accepts it
    assert event.created_at == done.expired_at and event.created_at >= batch.created_at + DAY


def test_a_cancelled_batch_sends_batch_cancelled(hooked: Hooked, hook_client: OpenAI) -> None:
    hold(hook_client, "validating")
    batch = start_batch(hook_client, [chat_line("a")])
    assert hook_client.batches.cancel(batch.id).status == "cancelling"
    release(hook_client)
    done = wait_until(hook_client, batch.id)
    assert done.status == "cancelled"
    event = hooked.receiver.wait_for(batch.id, timeout=WAIT)
    assert isinstance(event, BatchCancelledWebhookEvent)
    assert event.created_at == done.cancelled_at


def test_each_batch_sends_one_event_and_no_other(hooked: Hooked, hook_client: OpenAI) -> None:
    batches = [run_batch(hook_client, [chat_line(f"q{i}")]) for i in range(3)]
    for batch in batches:
        hooked.receiver.wait_for(batch.id, timeout=WAIT)
    listed = events_of(hook_client)
    assert sorted(e["batch_id"] for e in listed) == sorted(b.id for b in batches)
    assert [e["batch_id"] for e in listed] == [b.id for b in reversed(batches)]  # newest first
    for batch in batches:
        assert len(hooked.receiver.events_for(batch.id)) == 1


# -- settings at run time, and what is refused ---------------------------------------------------


def test_no_endpoint_no_event(client: OpenAI) -> None:
    """The shared test server has no webhook URL: batches end quietly."""
    assert webhook_settings(**conn(client))["url"] is None
    batch = run_batch(client, [chat_line("a")])
    assert batch.status == "completed"
    assert events_of(client) == []


def test_an_endpoint_set_at_run_time(client: OpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    with webhook_receiver() as receiver:  # its secret comes from OPENAI_WEBHOOK_SECRET
        answer = set_webhook(receiver.url, **conn(client))
        assert answer["url"] == receiver.url and answer["source"] == "namespace"
        assert answer["secret"].startswith("whsec_")  # made by the server, shown this once
        monkeypatch.setenv("OPENAI_WEBHOOK_SECRET", answer["secret"])
        assert "secret" not in webhook_settings(**conn(client))

        batch = run_batch(client, [chat_line("a")])
        assert receiver.wait_for(batch.id, timeout=WAIT).type == "batch.completed"

        mine = new_secret()
        assert set_webhook(receiver.url, secret=mine, **conn(client))["secret"] == mine
        cleared = set_webhook(None, **conn(client))
        assert (cleared["url"], cleared["source"]) == (None, None)
        later = run_batch(client, [chat_line("b")])
        assert [e["batch_id"] for e in events_of(client)] == [batch.id]  # none for `later`
        assert receiver.events_for(later.id) == []


def test_reset_forgets_the_endpoint_and_the_events(client: OpenAI) -> None:
    with webhook_receiver(SECRET) as receiver:
        set_webhook(receiver.url, secret=SECRET, **conn(client))
        batch = run_batch(client, [chat_line("a")])
        receiver.wait_for(batch.id, timeout=WAIT)
        reset(**conn(client))
        assert webhook_settings(**conn(client))["url"] is None
        assert events_of(client) == []


@pytest.mark.parametrize(
    ("url", "secret", "complaint"),
    [
        ("http://example.com/hook", None, "--webhook-allow-remote"),
        ("http://10.1.2.3:8000/hook", None, "--webhook-allow-remote"),
        ("https://127.0.0.1:8443/hook", None, "--webhook-allow-remote"),
        ("ftp://127.0.0.1/hook", None, "http://"),
        ("127.0.0.1:8000", None, "http://"),
        ("http://127.0.0.1:99999/hook", None, "not a valid URL"),
        ("http://127.0.0.1:8000/hook", "not-a-secret", "whsec_"),
        ("http://127.0.0.1:8000/hook", "whsec_!!!", "base64"),
        # the check and the connection must agree on the host: no user name before it
        ("http://evil@127.0.0.1:9000/h", None, "user name"),
        ("http://user:password@localhost:9000/h", None, "user name"),
        ("http://example.com\\@127.0.0.1:9000/h", None, "user name"),
        # what cannot be sent as it is: percent-encode it (é is %C3%A9)
        ("http://127.0.0.1:9000/hook/café", None, "percent-encode"),
        ("http://127.0.0.1:9000/a b", None, "percent-encode"),
        ("http://127.0.0.1:9000/a\tb", None, "percent-encode"),
        ("http://127.0.0.1:9000/hook?q=\u2460", None, "percent-encode"),
    ],
)
def test_a_bad_endpoint_is_refused(
    client: OpenAI, url: str, secret: str | None, complaint: str
) -> None:
    with pytest.raises(ControlError, match=complaint.replace(".", r"\.")):
        set_webhook(url, secret=secret, **conn(client))
    assert webhook_settings(**conn(client))["url"] is None


def test_a_percent_encoded_url_is_accepted_and_delivered(client: OpenAI) -> None:
    with webhook_receiver(SECRET, path="/hook/caf%C3%A9?who=%E2%91%A0") as receiver:
        answer = set_webhook(receiver.url, secret=SECRET, **conn(client))
        assert answer["url"].endswith("/hook/caf%C3%A9?who=%E2%91%A0")
        batch = run_batch(client, [chat_line("a")])
        assert receiver.wait_for(batch.id, timeout=WAIT).data.id == batch.id
        assert wait_for_outcome(client, batch.id, "delivered")["attempts"] == 1


def test_serve_refuses_a_url_with_a_user_name(tmp_path: Path) -> None:
    refused = _serve(
        tmp_path, "--webhook-url", "http://evil@127.0.0.1:9000/h", "--webhook-secret", SECRET
    )
    assert refused.returncode == 2 and "user name" in refused.stderr


def _serve(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``serve`` with ``args``, expected to refuse to start."""
    command = [sys.executable, "-m", "batch_api_local", "serve", "--port", str(free_port())]
    return subprocess.run(
        [*command, "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env={**server_env(), "BATCH_LOCAL_WEBHOOK_URL": "", "BATCH_LOCAL_WEBHOOK_SECRET": ""},
    )


def test_serve_refuses_a_remote_url_without_the_flag(tmp_path: Path) -> None:
    refused = _serve(
        tmp_path, "--webhook-url", "http://example.com/hook", "--webhook-secret", SECRET
    )
    assert refused.returncode == 2
    assert "--webhook-allow-remote" in refused.stderr


def test_serve_refuses_a_url_without_a_secret(tmp_path: Path) -> None:
    refused = _serve(tmp_path, "--webhook-url", "http://127.0.0.1:8000/hook")
    assert refused.returncode == 2
    assert "BATCH_LOCAL_WEBHOOK_SECRET" in refused.stderr and "whsec_" in refused.stderr
    refused = _serve(tmp_path, "--webhook-secret", SECRET)
    assert refused.returncode == 2 and "--webhook-url" in refused.stderr


def test_a_remote_url_with_the_flag(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    info = ensure_server(
        state_dir, port=free_port(), pace="instant", extra_args=["--webhook-allow-remote"]
    )
    try:
        remote = sdk_client(info.base_url)
        answer = set_webhook("https://example.com/hook", **conn(remote))
        assert answer["url"] == "https://example.com/hook" and answer["allow_remote"] is True
    finally:
        stop_server(state_dir)


# -- at least once: retries, restarts, and giving up ---------------------------------------------


def _server_for(state_dir: Path, url: str, *more: str) -> ServerInfo:
    return ensure_server(
        state_dir,
        port=free_port(),
        pace="instant",
        extra_args=["--webhook-url", url, "--webhook-secret", SECRET, *more],
    )


def test_delivered_once_the_receiver_comes_back(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there yet
    url = f"http://127.0.0.1:{port}/webhook"
    state_dir = tmp_path / "state"
    info = _server_for(
        state_dir, url, "--webhook-max-attempts", "100", "--webhook-retry-base", "0.2"
    )
    try:
        client = sdk_client(info.base_url)
        batch = run_batch(client, [chat_line("a")])

        def retried() -> dict[str, Any] | None:
            found = events_of(client, batch_id=batch.id)
            return found[0] if found and found[0]["attempts"] >= 2 else None

        down = poll(retried, what="two failed attempts")
        assert down["status"] == "pending" and "could not connect" in down["last_error"]

        with webhook_receiver(SECRET, port=port) as receiver:
            event = receiver.wait_for(batch.id, timeout=WAIT)
            delivered = wait_for_outcome(client, batch.id, "delivered")
            assert delivered["attempts"] > down["attempts"] and delivered["last_error"] is None
            assert delivered["id"] == event.id
            assert len(receiver.deliveries) == 1  # delivered, then never sent again
    finally:
        stop_server(state_dir)


def test_a_pending_event_is_delivered_after_a_restart(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhook"
    state_dir = tmp_path / "state"
    # after its first failed attempt the event waits an hour: only the restart sends it sooner
    info = _server_for(state_dir, url, "--webhook-retry-base", "3600")
    try:
        client = sdk_client(info.base_url)
        batch = run_batch(client, [chat_line("a")])

        def tried() -> dict[str, Any] | None:
            found = events_of(client, batch_id=batch.id)
            return found[0] if found and found[0]["attempts"] == 1 else None

        pending = poll(tried, what="a first, failed attempt")
        assert pending["status"] == "pending"
    finally:
        stop_server(state_dir)

    with webhook_receiver(SECRET, port=port) as receiver:
        # restarted without any webhook flag: the outbox keeps each event's URL and secret
        info = ensure_server(state_dir, port=free_port(), pace="instant")
        try:
            client = sdk_client(info.base_url)
            event = receiver.wait_for(batch.id, timeout=WAIT)
            assert event.id == pending["id"] and event.type == "batch.completed"
            delivered = wait_for_outcome(client, batch.id, "delivered")
            assert delivered["attempts"] == 2
            assert len(receiver.deliveries) == 1
        finally:
            stop_server(state_dir)


def test_failed_after_the_bounded_attempts(hooked: Hooked, hook_client: OpenAI) -> None:
    # a receiver that checks another secret refuses every delivery with a 400
    with webhook_receiver(new_secret()) as refusing:
        set_webhook(refusing.url, secret=SECRET, **conn(hook_client))
        batch = run_batch(hook_client, [chat_line("a")])
        failed = wait_for_outcome(hook_client, batch.id, "failed")
        assert failed["attempts"] == failed["max_attempts"] == MAX_ATTEMPTS
        assert failed["last_error"].startswith("HTTP 400") and "signature" in failed["last_error"]
        assert failed["next_attempt_at"] is None and failed["delivered_at"] is None
        assert len(refusing.rejected) == MAX_ATTEMPTS and refusing.events == []
    assert [e["id"] for e in events_of(hook_client, status="failed")] == [failed["id"]]
    assert events_of(hook_client, status="delivered") == []
    assert hooked.receiver.events_for(batch.id) == []  # the namespace's endpoint won

    # the same list over HTTP, and its checked query
    response = raw(hooked.info.root_url, "GET", "/_local/webhooks?status=failed")
    assert response.status_code == 200 and response.json()["data"][0]["id"] == failed["id"]
    assert SECRET not in response.text
    assert raw(hooked.info.root_url, "GET", "/_local/webhooks?status=lost").status_code == 400
    assert raw(hooked.info.root_url, "GET", "/_local/webhooks?limit=0").status_code == 400


# -- on a class server, only an instructor decides where the server sends requests ---------------


def test_webhook_calls_are_admin_only_with_a_keys_file(tmp_path: Path) -> None:
    students = [("sk-student-one-123456", "student-01"), ("sk-student-two-654321", "student-02")]
    info = start_class_server(tmp_path, students, admin_key="sk-admin-987654321")
    try:
        student = sdk_client(info.base_url, "sk-student-one-123456")
        admin = {"base_url": info.base_url, "api_key": "sk-admin-987654321"}
        for call in (
            lambda: webhook_events(**conn(student)),
            lambda: webhook_settings(**conn(student)),
            lambda: set_webhook("http://127.0.0.1:8000/hook", **conn(student)),
        ):
            with pytest.raises(ControlError, match="admin key"):
                call()
        with webhook_receiver(SECRET) as receiver:
            set_webhook(receiver.url, secret=SECRET, namespace="student-01", **admin)
            batch = run_batch(student, [chat_line("a")])
            assert receiver.wait_for(batch.id, timeout=WAIT).data.id == batch.id
            listed = webhook_events(namespace="student-01", **admin)["data"]
            assert [e["batch_id"] for e in listed] == [batch.id]
            assert webhook_events(**admin)["data"] == []  # the admin's own namespace
            everyone = webhook_events(namespace="*", **admin)  # one list per student
            assert [len(x["data"]) for x in everyone["data"]] == [1, 0]
    finally:
        stop_server(tmp_path / "state")


def test_control_route_errors_are_openai_envelopes(hooked: Hooked, hook_client: OpenAI) -> None:
    root = hooked.info.root_url
    assert_error(
        raw(root, "POST", "/_local/webhook", json={"url": 5}), 400, param="url", code="invalid_type"
    )
    assert_error(raw(root, "POST", "/_local/webhook", json=[1]), 400)
    assert_error(raw(root, "GET", "/_local/webhooks?limit=x"), 400, param="limit")


@pytest.mark.parametrize(
    "limit",
    ["%C2%B2", "%E2%91%A0", "%D9%A1", "1_0", "+5", "%201", "1.0", "10000000000000000000000"],
)
def test_the_event_list_limit_takes_plain_digits_only(
    hooked: Hooked, hook_client: OpenAI, limit: str
) -> None:
    """Superscript, circled or Arabic-Indic digits pass Python's str.isdigit, not int()."""
    response = raw(hooked.info.root_url, "GET", f"/_local/webhooks?limit={limit}")
    assert_error(response, 400, param="limit")
    ok = raw(hooked.info.root_url, "GET", "/_local/webhooks?limit=1000")
    assert ok.status_code == 200 and ok.json()["object"] == "list"


# -- one endpoint never holds up another ----------------------------------------------------------


class SlowReceiver:
    """A receiver that reads a delivery, then writes its answer (status line and headers) one
    byte every ``pause`` seconds, until :attr:`release` is set (then the rest at once).

    ``holding``: an answer is being dribbled; ``cut_off``: the sender hung up before the
    answer was written; ``answered``: an answer was written whole.
    """

    ANSWER = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: "
        + b"." * 400
        + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    )

    def __init__(self, pause: float = 0.5) -> None:
        self.pause = pause
        self.release = threading.Event()
        self.holding = threading.Event()
        self.cut_off = threading.Event()
        self.answered = threading.Event()
        self.requests = 0
        self._closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/slow"

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(WAIT)
            received = b""
            try:
                while b"\r\n\r\n" not in received:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    received += chunk
            except OSError:
                return
            self.requests += 1
            self.holding.set()
            for i in range(len(self.ANSWER)):
                if self.release.is_set() or self._closed.is_set():
                    try:
                        conn.sendall(self.ANSWER[i:])
                        self.answered.set()
                    except OSError:
                        self.cut_off.set()
                    return
                try:
                    conn.sendall(self.ANSWER[i : i + 1])
                except OSError:  # the sender hung up
                    self.cut_off.set()
                    return
                self.release.wait(self.pause)

    def close(self) -> None:
        self.release.set()
        self._closed.set()
        self._listener.close()

    def __enter__(self) -> SlowReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_an_attempt_ends_at_the_timeout_however_slowly_the_receiver_answers(
    tmp_path: Path,
) -> None:
    """The timeout bounds the whole attempt, not each read: a receiver that writes a byte
    every half second cannot hold an attempt for ever."""
    state_dir = tmp_path / "state"
    with SlowReceiver() as slow:
        info = _server_for(
            state_dir, slow.url, "--webhook-timeout", "2", "--webhook-max-attempts", "1"
        )
        try:
            client = sdk_client(info.base_url)
            batch = run_batch(client, [chat_line("a")])
            failed = wait_for_outcome(client, batch.id, "failed")
            assert failed["attempts"] == 1
            assert failed["last_error"] == "no answer within 2 s"
            assert slow.cut_off.wait(WAIT), "the server never hung up"
            assert not slow.answered.is_set()  # cut off while it was still answering
        finally:
            stop_server(state_dir)


def test_a_slow_endpoint_holds_up_no_other_namespaces_events(tmp_path: Path) -> None:
    """student-01's endpoint answers slowly; student-02's event is delivered meanwhile."""
    keys = tmp_path / "keys.txt"
    keys.write_text("sk-student-slow-000001 student-01\nsk-student-fast-000002 student-02\n")
    admin_key = "sk-admin-hooks-000003"
    state_dir = tmp_path / "state"
    info = ensure_server(
        state_dir,
        port=free_port(),
        pace="instant",
        # longer than the test: only the receiver's release ends the slow attempt
        extra_args=["--keys-file", str(keys), "--admin-key", admin_key, "--webhook-timeout", "600"],
    )
    admin = {"base_url": info.base_url, "api_key": admin_key}
    try:
        with SlowReceiver() as slow, webhook_receiver(SECRET) as fast:
            set_webhook(slow.url, secret=SECRET, namespace="student-01", **admin)
            set_webhook(fast.url, secret=SECRET, namespace="student-02", **admin)
            one = sdk_client(info.base_url, "sk-student-slow-000001")
            two = sdk_client(info.base_url, "sk-student-fast-000002")

            slowed = run_batch(one, [chat_line("a")])
            assert slow.holding.wait(WAIT), "student-01's event was never sent"
            other = run_batch(two, [chat_line("b")])
            assert fast.wait_for(other.id, timeout=WAIT).data.id == other.id
            assert not (slow.cut_off.is_set() or slow.answered.is_set())  # still held

            slow.release.set()
            [event] = poll(
                lambda: [
                    e
                    for e in webhook_events(namespace="student-01", **admin)["data"]
                    if e["status"] == "delivered"
                ],
                what="student-01's event to be delivered once released",
            )
            assert event["batch_id"] == slowed.id and event["attempts"] == 1
    finally:
        stop_server(state_dir)


# the deliverer in this process, over an outbox filled by hand


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    """An outbox of a service of this process, whose failed attempts are retried after an
    hour; its events are queued by :func:`queue` and sent by a :class:`Deliverer` a test
    starts."""
    settings = Settings(
        state_dir=tmp_path / "state",
        pace=PACES["instant"],
        webhook_retry_base=3600,
        webhook_timeout=600,  # longer than any test: a slow receiver is released by the test
    )
    service = Service(settings)
    try:
        yield service.outbox
    finally:
        service.store.close()


def queue(outbox: Outbox, namespace: str, url: str) -> str:
    """Queue the event of a made-up completed batch, as :meth:`Outbox.enqueue` does, to
    ``url`` whatever the URL rule says today (an earlier version may have queued it).
    Returns the batch id."""
    created = int(time.time())
    batch_id = ids.batch_id(created)
    event_id = ids.event_id(created)
    outbox.store.add_webhook_event(
        namespace,
        {
            "id": event_id,
            "webhook_id": ids.webhook_id(created),
            "batch_id": batch_id,
            "type": "batch.completed",
            "payload": event_body(event_id, "batch.completed", created, batch_id),
            "url": url,
            "secret": SECRET,
            "status": "pending",
            "attempts": 0,
            "created_at": created,
            "next_attempt_at": time.time(),
        },
    )
    return batch_id


def event_of(outbox: Outbox, batch_id: str) -> dict[str, Any]:
    [row] = outbox.store.webhook_events(batch_id=batch_id)
    return row


@pytest.fixture
def deliverer(outbox: Outbox) -> Iterator[Deliverer]:
    sender = Deliverer(outbox)
    yield sender
    sender.stop()


def test_an_event_that_cannot_be_sent_fails_alone(
    outbox: Outbox, deliverer: Deliverer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event whose attempt cannot even start (a URL an earlier version accepted, a bug on
    the way) gets a failed attempt of its own; every other event is still delivered."""
    post = Deliverer._post

    def broken_for_some(self: Deliverer, row: dict[str, Any]) -> str | None:
        if row["url"].endswith("?broken"):
            raise RuntimeError("a bug in sending this one")
        return post(self, row)

    monkeypatch.setattr(Deliverer, "_post", broken_for_some)
    with webhook_receiver(SECRET) as receiver:
        cafe = queue(outbox, "ns-1", "http://127.0.0.1:9/hook/café")
        userinfo = queue(outbox, "ns-2", receiver.url.replace("http://", "http://evil@"))
        broken = queue(outbox, "ns-3", receiver.url + "?broken")
        good = queue(outbox, "ns-4", receiver.url)  # queued last, due last
        deliverer.start()
        assert receiver.wait_for(good, timeout=WAIT).data.id == good
        poll(
            lambda: all(event_of(outbox, b)["attempts"] for b in (cafe, userinfo, broken)),
            what="an attempt of every event",
        )
    now = time.time()
    for batch_id, complaint in ((cafe, "percent-encode"), (userinfo, "user name")):
        refused = event_of(outbox, batch_id)
        assert (refused["status"], refused["attempts"]) == ("failed", 1)
        assert refused["last_error"].startswith("not sent: ") and complaint in refused["last_error"]
    failed_once = event_of(outbox, broken)
    assert (failed_once["status"], failed_once["attempts"]) == ("pending", 1)
    assert failed_once["last_error"] == "not sent: RuntimeError: a bug in sending this one"
    assert failed_once["next_attempt_at"] > now + 1800  # retried later, like any failed attempt
    assert event_of(outbox, good)["status"] == "delivered"


def test_a_backlog_at_one_slow_endpoint_holds_up_no_other(
    outbox: Outbox, deliverer: Deliverer
) -> None:
    """Many events for one endpoint that answers slowly, then one for another endpoint: the
    last is delivered while the slow endpoint still holds its first."""
    with SlowReceiver() as slow, webhook_receiver(SECRET) as fast:
        # more than a pass of the outbox used to take (50, oldest first, whatever the endpoint)
        backlog = [queue(outbox, "ns-slow", slow.url) for _ in range(60)]
        other = queue(outbox, "ns-fast", fast.url)
        deliverer.start()
        assert slow.holding.wait(WAIT), "the slow endpoint's first event was never sent"
        assert fast.wait_for(other, timeout=WAIT).data.id == other
        assert not (slow.cut_off.is_set() or slow.answered.is_set())  # still held
        assert slow.requests == 1  # one attempt at a time for an endpoint
        slow.release.set()
        poll(
            lambda: event_of(outbox, backlog[0])["status"] == "delivered",
            what="the slow endpoint's first event, once released",
        )
