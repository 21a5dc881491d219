"""HTTP plumbing the routes share: bounded bodies, strict JSON, safe rendering.

- :func:`read_body` reads a request body up to a limit and stops there (413 past it);
- :func:`parse_json` accepts only what a strict JSON parser would: valid UTF-8, no ``NaN`` or
  ``Infinity``, no lone UTF-16 surrogates, no nesting deep enough to exhaust the stack (each is
  the 400 for a body that is not valid JSON);
- :class:`JSONResponse` renders any stored object: text that cannot be UTF-8 (a lone surrogate
  that slipped in before these checks existed) is escaped rather than failing the response, and
  a large one is rendered in pieces (:mod:`.jsontext`); :class:`StreamedJSONResponse` renders
  a large answer as it is sent;
- :class:`OpenFileResponse` streams a file from a handle opened before the answer begins.

(The DNS-rebinding guard's rule, which Host headers name this machine, is in :mod:`.net`.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, BinaryIO

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse as _JSONResponse
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from . import jsontext
from .errors import invalid_json_body, request_too_large
from .validation import loads_strict


class JSONResponse(_JSONResponse):
    """Starlette's JSON response, made unable to fail on text that is not valid Unicode, and
    rendered in pieces when large (:mod:`.jsontext`), so other threads run meanwhile."""

    def render(self, content: Any) -> bytes:
        return _utf8(jsontext.dumps(content))


def _utf8(text: str) -> bytes:
    """JSON text as UTF-8. A lone surrogate (which can only be inside a string) becomes its
    escape, ``\\udXXX``, as ``ensure_ascii`` would write it: valid JSON either way."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace")


class StreamedJSONResponse(Response):
    """A large JSON answer, rendered a piece at a time (:func:`.jsontext.pieces`) in the thread
    pool as it is sent: no more of its text is held than a chunk, and other clients are
    answered between pieces. ``on_close`` runs however the answer ends (sent, or the client
    gone): it gives back the slot the answer was made in (see :mod:`.routes.direct`)."""

    media_type = "application/json"
    chunk_size = 256 * 1024

    def __init__(self, content: Any, status_code: int, on_close: Callable[[], None]) -> None:
        self.status_code = status_code
        self.background = None
        self.init_headers()
        self._pieces = jsontext.pieces(content)
        self._on_close = on_close

    def _next_chunk(self) -> bytes:
        parts: list[str] = []
        size = 0
        for piece in self._pieces:
            parts.append(piece)
            size += len(piece)
            if size >= self.chunk_size:
                break
        return _utf8("".join(parts))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            while chunk := await anyio.to_thread.run_sync(self._next_chunk):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self._pieces.close()
            self._on_close()


class OpenFileResponse(Response):
    """A file's bytes, streamed from a handle opened before the answer begins.

    Its length is the open file's (``fstat``) and what is sent is what was opened: a delete
    that comes meanwhile cannot turn the answer into an error, nor cut it after its headers
    (Starlette's ``FileResponse`` opens the path only once the headers are out). The handle is
    read in the thread pool, a chunk at a time, and closed however the answer ends.
    """

    chunk_size = 1024 * 1024

    def __init__(self, handle: BinaryIO, media_type: str) -> None:
        self.handle = handle
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers()
        self.size = os.fstat(handle.fileno()).st_size
        self.headers["content-length"] = str(self.size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            left = 0 if scope.get("method") == "HEAD" else self.size
            while True:
                chunk = b""
                if left > 0:
                    chunk = await anyio.to_thread.run_sync(
                        self.handle.read, min(left, self.chunk_size)
                    )
                left -= len(chunk)
                more = left > 0 and bool(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
                if not more:
                    break
        finally:
            self.handle.close()


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, refused with 413 (without reading on) once it passes ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise request_too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise request_too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    """Parse a request body as strict JSON, or raise the 400 for a body that is not JSON."""
    try:
        return loads_strict(raw)
    except ValueError:  # not UTF-8, NaN, a lone surrogate, nested too deep, or not JSON at all
        raise invalid_json_body() from None
