"""The app: the routers of :mod:`.routes`, the error envelope, request ids and the Host check.

``/v1/...`` speaks the OpenAI API; ``/_local/...`` is the control surface. Every error a route
raises (an :class:`.errors.APIError`, a 404 or 405 of the router, a full disk, a bug) leaves as
OpenAI's error envelope, from the handlers here and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import ids
from .answering import build as answering_for
from .config import Settings
from .domain import Service
from .errors import APIError, invalid_host, invalid_url, server_error, storage_failed
from .http import JSONResponse
from .keys import Keys
from .launcher import record_server
from .net import host_header_is_loopback, is_loopback
from .routes import batches, control, direct, files
from .routes.hot import RetrieveFastPath
from .runner import Runner
from .webhooks import Deliverer

log = logging.getLogger("batch_api_local")


#: the routers of :mod:`.routes`, in the order they are included
ROUTERS = (files.router, batches.router, direct.router, control.router)


def allowed_methods(scope: Any) -> list[str]:
    """Every method some route accepts for this request's path."""
    methods: set[str] = set()
    for route in (route for router in ROUTERS for route in router.routes):
        match, _ = route.matches(scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def create_app(settings: Settings, *, start_runner: bool = True, record: bool = False) -> FastAPI:
    """The server's app. ``record``: write ``server.json`` at start-up (the ``serve`` command
    does, so that launchers and notebooks find it)."""
    service = Service(settings)
    # local, replayed from a cassette, or forwarded upstream: batch lines and direct calls alike
    answering = answering_for(settings)
    runner = Runner(service, answering.responder, concurrency=answering.concurrency)
    deliverer = Deliverer(service.outbox)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if record:
            record_server(
                settings.state_dir, settings.port, service.instance, like_live=settings.like_live
            )
        if start_runner:
            runner.start()
            deliverer.start()
        try:
            yield
        finally:
            runner.stop()
            deliverer.stop()

    app = FastAPI(
        title="Local Batch API server",
        default_response_class=JSONResponse,
        description="A local, faithful emulation of OpenAI's Files and Batch APIs.",
        lifespan=lifespan,
        docs_url="/_local/docs",
        redoc_url=None,
        openapi_url="/_local/openapi.json",
    )
    app.state.service = service
    app.state.keys = Keys(settings.keys_file, settings.admin_keys)
    app.state.responder = answering.responder
    app.state.runner = runner
    app.state.deliverer = deliverer
    app.state.heavy = direct.HeavyCalls()
    for router in ROUTERS:
        app.include_router(router)
    _handle_errors(app, settings)
    return app


def _handle_errors(app: FastAPI, settings: Settings) -> None:
    """Every error as OpenAI's envelope; a request id on every answer; the Host check."""

    @app.exception_handler(APIError)
    async def api_error(_: Request, exc: APIError) -> Response:
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405):
            err = invalid_url(request.method, request.url.path, exc.status_code)
        else:
            err = APIError(str(exc.detail), status_code=exc.status_code)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # name every method the path allows, as HTTP asks
            headers["Allow"] = ", ".join(allowed_methods(request.scope))
        return JSONResponse(err.body(), status_code=err.status_code, headers=headers)

    @app.exception_handler(OSError)
    async def storage_error(_: Request, exc: OSError) -> Response:
        # the folder goes to the log only: the answer may reach a student of a class server
        log.error("the state directory %s refused a write: %s", settings.state_dir, exc)
        err = storage_failed(exc)
        return JSONResponse(err.body(), status_code=err.status_code)

    @app.exception_handler(Exception)
    async def unhandled_error(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        # this handler runs outside the middleware below, so it sets the request id itself
        request_id = "req_" + ids.request_id()
        return JSONResponse(
            server_error(request_id).body(),
            status_code=500,
            headers={"x-request-id": request_id},
        )

    # added last, so it runs first: the Host check and a request id on every answer, the fast
    # path's included
    app.add_middleware(RetrieveFastPath, keys=app.state.keys, store=app.state.service.store)
    app.add_middleware(RequestIds, loopback_only=is_loopback(settings.host))


class RequestIds:
    """A request id on every answer, and the Host check of a loopback server.

    Plain ASGI, not Starlette's ``BaseHTTPMiddleware``: that one runs every request's app in a
    task of its own and passes every answer through a stream, which cost the event loop more
    than the request itself on a class server's hot path (``batches.retrieve``).
    """

    def __init__(self, app: ASGIApp, loopback_only: bool) -> None:
        self.app = app
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.loopback_only:
            host = Headers(scope=scope).get("host")
            if not host_header_is_loopback(host):
                # a web page the learner visits must not reach this server through the browser
                # (DNS rebinding): on loopback, only loopback host names are answered
                err = invalid_host(host)
                response = JSONResponse(err.body(), status_code=err.status_code)
                await response(scope, receive, send)
                return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = "req_" + ids.request_id()
            await send(message)

        await self.app(scope, receive, send_with_id)
