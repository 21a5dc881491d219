"""Signed webhooks: the event a batch sends when it ends, kept in an outbox until delivered.

When a batch reaches a final status, the domain (:meth:`.domain.batches.Batches._move`) calls
:meth:`Outbox.enqueue` inside the transaction that saves that status: the event is stored
exactly when the status is, so none is lost and none is made up. A :class:`Deliverer` POSTs
each pending event to its endpoint, signed the Standard Webhooks way (what
``client.webhooks.unwrap`` in the ``openai`` SDK checks), and tries again with exponential
backoff until the endpoint answers 2xx or the attempts run out: delivery is at least once.
Attempts run a few at once, one at a time per endpoint, each ended at ``--webhook-timeout``
however slowly the endpoint answers: one endpoint cannot hold up another's events.

Where an event goes: the endpoint its namespace set at run time (``POST /_local/webhook``), else
the server's (``serve --webhook-url``). A batch that ends while neither is set sends nothing,
as on the real service without an endpoint. The URL and secret are stored with each event, so
an event goes where it was meant to go even after the settings change or the server restarts.

Only ``http://`` URLs on a loopback address are accepted unless the server runs with
``--webhook-allow-remote``: a server on a class network must not become a way to POST to other
machines.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from . import ids
from .config import Settings
from .constants import VERSION
from .errors import BadRequest, invalid_type, invalid_value, not_between
from .lifecycle import STAMP
from .net import is_loopback
from .retry import Backoff
from .store import Store, setting_key

log = logging.getLogger("batch_api_local.webhooks")

#: the event each final status sends
EVENT_TYPES = {
    "completed": "batch.completed",
    "failed": "batch.failed",
    "expired": "batch.expired",
    "cancelled": "batch.cancelled",
}
#: what an event in the outbox can be
EVENT_STATUSES = ("pending", "delivered", "failed")
#: the most events one ``GET /_local/webhooks`` lists
EVENTS_LIMIT = 1000
SECRET_PREFIX = "whsec_"
#: the longest wait between two attempts, however many attempts are allowed
WEBHOOK_RETRY_MAX = 3600.0
#: how much of a refusing endpoint's answer is kept in ``last_error``
ERROR_EXCERPT = 200
USER_AGENT = f"local-batch-api/{VERSION} (webhooks; +docs/local-server.md#webhooks)"


@dataclass(frozen=True)
class Endpoint:
    """Where events go, and the secret that signs them."""

    url: str
    secret: str


# -- secrets, URLs and signatures -------------------------------------------------------------


def new_secret() -> str:
    """A signing secret in the dashboard's format: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_problem(secret: Any) -> str | None:
    """Why ``secret`` cannot sign webhooks, or None when it can."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        return f"a webhook secret starts with '{SECRET_PREFIX}'"
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        return f"a webhook secret is '{SECRET_PREFIX}' followed by a key in base64"
    return None


def url_problem(url: Any, *, allow_remote: bool) -> str | None:
    """Why events cannot be sent to ``url``, or None when they can.

    A URL that passes is sent exactly as it is written, to the host this check saw: it holds
    only printable ASCII (no space, control character or other letter, which would have to be
    encoded on the way, each client its own way) and no user name before its host (in
    ``http://evil@127.0.0.1/``, a client that splits it otherwise would connect elsewhere).
    """
    if not isinstance(url, str) or not url:
        return "a webhook URL is a non-empty string"
    if any(not "!" <= char <= "~" for char in url):
        return (
            f"'{url}' holds a space, a control character or a non-ASCII character; "
            "percent-encode it (é is %C3%A9)"
        )
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"'{url}' is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"'{url}' is not an http:// or https:// URL"
    if "@" in parts.netloc:
        return f"'{url}' has a user name before its host; a webhook URL has none"
    if not allow_remote and (parts.scheme != "http" or not is_loopback(parts.hostname)):
        return (
            f"'{url}' is not an http:// URL on this machine (127.0.0.1, localhost or [::1]); "
            "the server sends webhooks elsewhere only when started with --webhook-allow-remote"
        )
    return None


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,`` and the base64 HMAC-SHA256, keyed with the
    secret's decoded bytes, of ``"{webhook_id}.{timestamp}.{body}"`` (Standard Webhooks)."""
    key = base64.b64decode(secret[len(SECRET_PREFIX) :])
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, webhook_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Every header of one delivery attempt."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id, timestamp, body),
    }


def event_body(event_id: str, event_type: str, created_at: int, batch_id: str) -> str:
    """The JSON an event carries, exactly as it is sent (and signed) on every attempt."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created_at": created_at,
            "data": {"id": batch_id},
        }
    )


def backoff(attempts: int, base: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: base, 2 x base, 4 x base ...,
    at most :data:`WEBHOOK_RETRY_MAX`."""
    return Backoff(first=base, maximum=WEBHOOK_RETRY_MAX).delay(attempts)


# -- the outbox ------------------------------------------------------------------------------


class Outbox:
    """Webhook settings per namespace, and the events waiting to be delivered."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._key = setting_key
        #: set when an event is queued, so the deliverer looks at once
        self.wake = threading.Event()

    def endpoint(self, namespace: str) -> tuple[Endpoint | None, str | None]:
        """Where a namespace's events go, and whether that was set for the ``namespace`` at run
        time or for the whole ``server`` at start-up (None, None: nowhere)."""
        saved = self.store.get_setting(self._key(namespace, "webhook"))
        if saved is not None:
            allow = self.settings.webhook_allow_remote
            if (
                isinstance(saved, dict)
                and url_problem(saved.get("url"), allow_remote=allow) is None
                and secret_problem(saved.get("secret")) is None
            ):
                return Endpoint(saved["url"], saved["secret"]), "namespace"
            log.warning("ignoring the saved webhook setting of %s: not valid", namespace)
        if self.settings.webhook_url and self.settings.webhook_secret:
            return Endpoint(self.settings.webhook_url, self.settings.webhook_secret), "server"
        return None, None

    def describe(self, namespace: str) -> dict[str, Any]:
        """A namespace's webhook setting, without its secret."""
        endpoint, source = self.endpoint(namespace)
        return {
            "object": "local_server.webhook",
            "namespace": namespace,
            "url": endpoint.url if endpoint else None,
            "source": source,
            "event_types": list(EVENT_TYPES.values()),
            "max_attempts": self.settings.webhook_max_attempts,
            "retry_base": self.settings.webhook_retry_base,
            "allow_remote": self.settings.webhook_allow_remote,
        }

    def configure(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Set (``{"url", "secret"}``) or clear (``{"url": null}``) a namespace's endpoint.

        Without a secret a new one is made. The answer shows the secret this once, as the
        dashboard does.
        """
        url, secret = body.get("url"), body.get("secret")
        if url is None:
            self.store.set_setting(self._key(namespace, "webhook"), None)
            return {**self.describe(namespace), "secret": None}
        if not isinstance(url, str):
            raise invalid_type("url", "a string", url)
        problem = url_problem(url, allow_remote=self.settings.webhook_allow_remote)
        if problem is not None:
            raise BadRequest(f"Invalid 'url': {problem}.", param="url", code="invalid_value")
        if secret is None:
            secret = new_secret()
        elif secret_problem(secret) is not None:
            raise BadRequest(
                f"Invalid 'secret': {secret_problem(secret)}.", param="secret", code="invalid_value"
            )
        self.store.set_setting(self._key(namespace, "webhook"), {"url": url, "secret": secret})
        return {**self.describe(namespace), "secret": secret}

    def enqueue(self, namespace: str, batch: dict[str, Any]) -> bool:
        """Queue the event of a batch that has just reached a final status, if its namespace
        has an endpoint. Call it in the transaction that saves the status."""
        event_type = EVENT_TYPES.get(batch["status"])
        if event_type is None:
            return False
        endpoint, _ = self.endpoint(namespace)
        if endpoint is None:
            return False
        created = int(batch[STAMP[batch["status"]]])  # when the batch ended, on its clock
        event_id = ids.event_id(created)
        added = self.store.add_webhook_event(
            namespace,
            {
                "id": event_id,
                "webhook_id": ids.webhook_id(created),
                "batch_id": batch["id"],
                "type": event_type,
                "payload": event_body(event_id, event_type, created, batch["id"]),
                "url": endpoint.url,
                "secret": endpoint.secret,
                "status": "pending",
                "attempts": 0,
                "created_at": created,
                "next_attempt_at": time.time(),
            },
        )
        self.wake.set()
        return added

    def events(
        self, namespace: str, *, status: Any = None, batch_id: Any = None, limit: int = 100
    ) -> dict[str, Any]:
        """A namespace's events, newest first, as the control surface shows them (``limit``:
        at most that many, 1 to :data:`EVENTS_LIMIT`; the route parses it)."""
        if status is not None and status not in EVENT_STATUSES:
            raise invalid_value("status", status, list(EVENT_STATUSES))
        if batch_id is not None and not isinstance(batch_id, str):
            raise invalid_type("batch_id", "a string", batch_id)
        if not 1 <= limit <= EVENTS_LIMIT:
            raise not_between("limit", limit, 1, EVENTS_LIMIT)
        rows = self.store.webhook_events(namespace, status=status, batch_id=batch_id, limit=limit)
        return {"object": "list", "data": [self.view(row) for row in rows]}

    def view(self, row: dict[str, Any]) -> dict[str, Any]:
        """An event as the control surface shows it: what was sent and how it went, never its
        secret."""

        def stamp(value: float | None) -> int | None:
            return None if value is None else int(value)

        return {
            "object": "local_server.webhook_event",
            "id": row["id"],
            "webhook_id": row["webhook_id"],
            "type": row["type"],
            "batch_id": row["batch_id"],
            "namespace": row["namespace"],
            "url": row["url"],
            "status": row["status"],
            "attempts": row["attempts"],
            "max_attempts": self.settings.webhook_max_attempts,
            "created_at": row["created_at"],
            "last_attempt_at": stamp(row["last_attempt_at"]),
            "next_attempt_at": stamp(row["next_attempt_at"])
            if row["status"] == "pending"
            else None,
            "delivered_at": stamp(row["delivered_at"]),
            "last_error": row["last_error"],
            "payload": json.loads(row["payload"]),
        }

    def reset(self, namespace: str) -> None:
        """Forget a namespace's events and its run-time endpoint."""
        self.store.delete_webhook_events(namespace)
        self.store.set_setting(self._key(namespace, "webhook"), None)


# -- delivery ----------------------------------------------------------------------------------


class _Deadline:
    """Ends an attempt when its time is up, whatever the receiver does.

    A socket timeout bounds each read only: a receiver that sends a byte every half second
    would hold an attempt for as long as it likes. At the deadline this shuts the connection's
    socket down, which ends the read or write under way at once (a connection still being made
    is bounded by its own timeout, the same number of seconds).
    """

    def __init__(self, connection: http.client.HTTPConnection, seconds: float) -> None:
        self.connection = connection
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        sock = self.connection.sock
        if sock is not None:
            try:  # the plain socket's shutdown, also under TLS: it ends a read in another thread
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    def cancel(self) -> None:
        self._timer.cancel()


class Deliverer:
    """Sends pending events: a thread that hands each due event to an attempt in a thread of
    its own, at most :attr:`WORKERS` at once and one at a time per endpoint (URL), oldest
    first. A slow or broken endpoint holds up its own events only."""

    #: the longest the loop sleeps when nothing is due and nothing wakes it
    IDLE = 5.0
    #: attempts under way at once (each to a different endpoint)
    WORKERS = 4
    #: how long an endpoint rests after an attempt whose outcome could not be saved (a full
    #: disk, say), so that its event is not sent again and again meanwhile
    REST = 5.0

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.settings = outbox.settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: the endpoints (URLs) with an attempt under way
        self._busy: set[str] = set()

    def start(self) -> None:
        """Start sending. Events left pending by an earlier run are due at once."""
        left = self.outbox.store.retry_pending_webhooks(time.time())
        if left:
            log.info("%d webhook event(s) still to deliver", left)
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sending. Attempts under way are not waited for beyond a moment: their events
        stay pending, and are sent again after a restart."""
        self._stop.set()
        self.outbox.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.outbox.wake.clear()
            try:
                pause = self.deliver_due()
            except Exception:  # the outbox could not be read: look again in a moment
                log.exception("webhook delivery failed")
                pause = 1.0
            self.outbox.wake.wait(pause)

    def deliver_due(self) -> float:
        """Start an attempt of the oldest due event of each endpoint that has none under way,
        while workers are free. Returns how long to wait before looking again (an attempt
        that ends wakes the loop sooner)."""
        store = self.outbox.store
        with self._lock:
            busy = set(self._busy)
        free = self.WORKERS - len(busy)
        if free > 0:
            for row in store.due_webhook_events(time.time(), skip_urls=busy, limit=free):
                if self._stop.is_set():
                    return 0.0
                busy.add(row["url"])
                with self._lock:
                    self._busy.add(row["url"])
                name = f"webhook-{row['id']}"
                threading.Thread(target=self._attempt, args=(row,), name=name, daemon=True).start()
        if len(busy) >= self.WORKERS:
            return self.IDLE
        upcoming = store.next_webhook_attempt(skip_urls=busy)
        if upcoming is None:
            return self.IDLE
        return min(max(upcoming - time.time(), 0.0), self.IDLE)

    def _attempt(self, row: dict[str, Any]) -> None:
        """One attempt, in its own thread; then the endpoint is free again."""
        try:
            self.attempt(row)
        except Exception:  # its outcome could not be saved: the event stays due
            log.exception("webhook %s: the outcome of an attempt was not saved", row["id"])
            self._stop.wait(self.REST)
        finally:
            with self._lock:
                self._busy.discard(row["url"])
            self.outbox.wake.set()

    def attempt(self, row: dict[str, Any]) -> bool:
        """One delivery attempt of an event; saves its outcome. Returns whether it arrived.

        Whatever stops the attempt (a URL that no longer passes the rule, a receiver that
        breaks HTTP, a bug on the way) is a failed attempt of this event, and of no other.
        """
        problem = url_problem(row["url"], allow_remote=self.settings.webhook_allow_remote)
        error = problem and f"not sent: {problem}"
        if error is None:
            try:
                error = self._post(row)
            except Exception as exc:
                log.exception("webhook %s: the attempt failed", row["id"])
                error = f"not sent: {type(exc).__name__}: {exc}"
        now = time.time()
        attempts = row["attempts"] + 1
        if error is None:
            fields: dict[str, Any] = {"status": "delivered", "delivered_at": now}
        elif problem is not None or attempts >= self.settings.webhook_max_attempts:
            fields = {"status": "failed"}
            log.warning("webhook %s for %s failed: %s", row["id"], row["batch_id"], error)
        else:
            fields = {"next_attempt_at": now + backoff(attempts, self.settings.webhook_retry_base)}
        self.outbox.store.update_webhook_event(
            row["id"], attempts=attempts, last_attempt_at=now, last_error=error, **fields
        )
        return error is None

    def _post(self, row: dict[str, Any]) -> str | None:
        """POST the event, signed for this attempt, to the host :func:`url_problem` checked.
        Returns what went wrong, or None. No proxy, no redirect followed (a 3xx is an answer
        that is not 2xx), and the whole attempt ends at ``--webhook-timeout``."""
        body = row["payload"].encode()
        # the timestamp of the attempt in real time (never a namespace's moved clock): the
        # receiver compares it with its own clock and refuses anything 5 minutes off
        headers = signed_headers(row["secret"], row["webhook_id"], body, int(time.time()))
        headers["Connection"] = "close"
        timeout = self.settings.webhook_timeout
        parts = urllib.parse.urlsplit(row["url"])
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        https = parts.scheme == "https"
        kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
        # the host and port the check saw (given apart: http.client would split "::1" itself)
        port = parts.port or (443 if https else 80)
        connection = kind(parts.hostname or "", port, timeout=timeout)
        deadline = _Deadline(connection, timeout)
        late = f"no answer within {timeout:g} s"
        try:
            try:
                connection.connect()
            except OSError as exc:
                if deadline.expired or isinstance(exc, TimeoutError):
                    return late
                return f"could not connect: {exc}"
            if deadline.expired:
                return late
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            # the status is the answer; the start of the body only tells why a refusal was one
            excerpt = b"" if 200 <= response.status < 300 else response.read(ERROR_EXCERPT)
        except (OSError, http.client.HTTPException) as exc:
            if deadline.expired or isinstance(exc, TimeoutError):
                return late
            return f"{type(exc).__name__}: {exc}"
        finally:
            deadline.cancel()
            connection.close()
        if 200 <= response.status < 300:
            return None
        text = excerpt.decode("utf-8", "replace").strip()
        return f"HTTP {response.status}" + (f": {text}" if text else "")


__all__ = [
    "EVENT_TYPES",
    "Deliverer",
    "Endpoint",
    "Outbox",
    "backoff",
    "event_body",
    "new_secret",
    "secret_problem",
    "sign",
    "signed_headers",
    "url_problem",
]
