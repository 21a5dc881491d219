"""The class's hot path: ``GET /v1/batches/{id}``, answered without the framework when it can be.

A class polls ``batches.retrieve`` four times a second per student (``helpers.wait_for_batch``):
with 300 students, over a thousand calls a second, most of what the server does. Through the
framework each costs the event loop its routing, its dependencies, a trip to the thread pool and
back, and the object read, parsed and rendered again. :class:`RetrieveFastPath` answers the
common case first, on the event loop: a known key asking for one of its own batches gets the
batch object as stored, read on a connection of the loop's own (SQLite's WAL lets it read while
jobs write, without the store's lock). Everything else (another path, a query string, no key or
a wrong one, a batch that is not the caller's) goes on to the routes, which answer it, errors
included, as before.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import APIError
from ..keys import Keys
from ..store import Store

_RETRIEVE = re.compile(r"/v1/batches/(batch_[0-9a-f]{1,64})")


class RetrieveFastPath:
    """ASGI middleware: ``GET /v1/batches/{id}`` of a caller's own batch, answered at once."""

    def __init__(self, app: ASGIApp, keys: Keys, store: Store) -> None:
        self.app = app
        self.keys = keys
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and not scope.get("query_string")
            and _RETRIEVE.fullmatch(scope["path"])
        )
        if found:
            body = self._object(scope, found.group(1))
            if body is not None:
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _object(self, scope: Scope, batch_id: str) -> bytes | None:
        """The caller's batch as stored, or None: the routes answer then."""
        try:
            caller = self.keys.caller(Headers(scope=scope).get("authorization", ""))
        except APIError:
            return None
        text = self.store.batch_object_text(caller.namespace, batch_id)
        return text.encode("utf-8") if text is not None else None
