"""A small webhook receiver: verifies each delivery with the ``openai`` SDK and keeps the events.

``webhook_receiver()`` starts an HTTP server on this machine in a background thread. Every POST
it gets is checked with the SDK's own ``client.webhooks.unwrap`` (signature and timestamp, the
Standard Webhooks way) with the signing secret given, or else ``OPENAI_WEBHOOK_SECRET`` read at
the time of the delivery. A valid delivery is answered 200 and its event kept; anything else is
answered 400 and noted in ``rejected``. A sender that delivers at least once, like OpenAI, may
send an event twice: ``events`` keeps each ``webhook-id`` once, ``deliveries`` every one.

The receiver is for the local server (``batch_api_local.set_webhook(receiver.url)``), for
tests and for learning. The real service needs a public HTTPS endpoint instead.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openai import OpenAI

#: the largest delivery the receiver reads (an event is a few hundred bytes)
MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Delivery:
    """One POST that passed verification: its headers and raw body, and the event in it."""

    webhook_id: str
    headers: dict[str, str]
    body: bytes
    event: Any


@dataclass(frozen=True)
class Rejection:
    """One POST that did not pass, and why."""

    reason: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """An HTTP server in a background thread that collects verified webhook events.

    Use it as a context manager, or call :meth:`close` when done::

        with webhook_receiver(secret) as receiver:
            batch_api_local.set_webhook(receiver.url, secret=secret)
            ...
            event = receiver.wait_for(batch.id)
    """

    def __init__(
        self,
        secret: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/webhook",
        client: OpenAI | None = None,
    ) -> None:
        from openai import OpenAI

        self.secret = secret
        # unwrap needs no key and makes no request; a client needs a key to exist, though
        self.client = client or OpenAI(
            api_key=os.environ.get("OPENAI_API_KEY") or "not-used-to-verify-webhooks"
        )
        self.path = path
        self.deliveries: list[Delivery] = []
        self.rejected: list[Rejection] = []
        self._seen: dict[str, Any] = {}  # webhook-id → event, in arrival order
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                status, text = receiver._receive(dict(self.headers.items()), body)
                reply = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a sender that hangs up mid-request: nothing to do

        self._server = Server((host, port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()

    # -- what it received ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The URL to give the sender, such as ``http://127.0.0.1:54321/webhook``."""
        host, port = str(self._server.server_address[0]), self._server.server_address[1]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}{self.path}"

    @property
    def events(self) -> list[Any]:
        """Every verified event, once per ``webhook-id``, in the order they arrived (the SDK's
        event objects, such as ``BatchCompletedWebhookEvent``)."""
        with self._changed:
            return list(self._seen.values())

    def events_for(self, batch_id: str) -> list[Any]:
        """The verified events about one batch."""
        return [e for e in self.events if getattr(getattr(e, "data", None), "id", None) == batch_id]

    def wait_for(self, batch_id: str, *, type: str | None = None, timeout: float = 60.0) -> Any:
        """Wait until a verified event about ``batch_id`` (of ``type``, if given) has arrived,
        and return it. Raises ``TimeoutError`` after ``timeout`` seconds."""

        def found() -> Any:
            for event in self.events_for(batch_id):
                if type is None or event.type == type:
                    return event
            return None

        return self.wait(found, timeout=timeout, what=f"a webhook event for batch {batch_id}")

    def wait(self, condition: Callable[[], Any], *, timeout: float = 60.0, what: str = "") -> Any:
        """Wait until ``condition()`` returns something truthy (checked after each delivery)
        and return it; ``TimeoutError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = condition()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    refused = f"; {len(self.rejected)} refused" if self.rejected else ""
                    raise TimeoutError(
                        f"no {what or 'matching event'} within {timeout:g} s "
                        f"({len(self._seen)} verified event(s) received{refused})"
                    )
                self._changed.wait(left)

    # -- verification -------------------------------------------------------------------------

    def _receive(self, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        """Verify one delivery with the SDK; keep it. Returns the status and text to answer."""
        from openai import InvalidWebhookSignatureError

        secret = self.secret or os.environ.get("OPENAI_WEBHOOK_SECRET")
        try:
            if not secret:
                raise ValueError("no webhook secret: pass secret= or set OPENAI_WEBHOOK_SECRET")
            event = self.client.webhooks.unwrap(body, headers, secret=secret)
        except (InvalidWebhookSignatureError, ValueError) as exc:  # ValueError: bad headers/JSON
            with self._changed:
                self.rejected.append(Rejection(str(exc), headers, body))
                self._changed.notify_all()
            return 400, f"refused: {exc}"
        webhook_id = next(v for k, v in headers.items() if k.lower() == "webhook-id")
        with self._changed:
            self.deliveries.append(Delivery(webhook_id, headers, body, event))
            self._seen.setdefault(webhook_id, event)
            self._changed.notify_all()
        return 200, "ok"

    # -- life -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<WebhookReceiver {self.url}: {len(self._seen)} event(s), "
            f"{len(self.rejected)} refused>"
        )


def webhook_receiver(
    secret: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    path: str = "/webhook",
    client: OpenAI | None = None,
) -> WebhookReceiver:
    """Start a webhook receiver on this machine (a free port unless ``port`` is given).

    Each delivery is verified with ``client.webhooks.unwrap`` and the signing ``secret``
    (``whsec_...``), or ``OPENAI_WEBHOOK_SECRET`` when no secret is given; valid ones are
    answered 200 and collected in ``receiver.events``, others answered 400. Give
    ``receiver.url`` to the sender; ``receiver.wait_for(batch_id)`` waits for a batch's event.
    """
    return WebhookReceiver(secret, host=host, port=port, path=path, client=client)


__all__ = ["Delivery", "Rejection", "WebhookReceiver", "webhook_receiver"]
