"""HTTP plumbing the routes share: bounded bodies, strict JSON, safe rendering.

- :func:`read_body` reads a request body up to a limit and stops there (413 past it);
- :func:`parse_json` accepts only what a strict JSON parser would: valid UTF-8, no ``NaN`` or
  ``Infinity``, no lone UTF-16 surrogates, no nesting deep enough to exhaust the stack (each is
  the 400 for a body that is not valid JSON);
- :class:`JSONResponse` renders any stored object: text that cannot be UTF-8 (a lone surrogate
  that slipped in before these checks existed) is escaped rather than failing the response;
- :class:`OpenFileResponse` streams a file from a handle opened before the answer begins.

(The DNS-rebinding guard's rule, which Host headers name this machine, is in :mod:`.net`.)
"""

from __future__ import annotations

import json
import os
from typing import Any, BinaryIO

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse as _JSONResponse
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from .errors import invalid_json_body, request_too_large
from .validation import loads_strict


class JSONResponse(_JSONResponse):
    """Starlette's JSON response, made unable to fail on text that is not valid Unicode."""

    def render(self, content: Any) -> bytes:
        try:
            return json.dumps(
                content, ensure_ascii=False, allow_nan=False, separators=(",", ":")
            ).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: escape it, \\udXXX is valid JSON
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


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
    if declared.isdigit() and int(declared) > limit:
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
