"""HTTP routes: parse the request, call the domain, render OpenAI's wire format. Nothing else.

The whole route table is in :func:`create_app`. ``/v1/...`` speaks the OpenAI API; ``/_local/...``
is the control surface (reset, clock, pace, forced outcomes), kept apart so that nothing a real
client sends can reach it by accident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from . import ids
from .answering import build as answering_for
from .config import Settings, is_loopback
from .constants import (
    BATCH_ENDPOINTS,
    MAX_FILE_BYTES,
    MAX_FORM_OVERHEAD,
    MAX_JSON_BODY_BYTES,
    VERSION,
)
from .errors import (
    APIError,
    BadRequest,
    file_too_large,
    invalid_host,
    invalid_url,
    server_error,
    storage_failed,
    unknown_model,
)
from .forms import FormReader
from .http import JSONResponse, host_allowed, parse_json, read_body
from .keys import Caller, Keys
from .launcher import record_server
from .models import list_models, resolve_model
from .runner import Runner
from .service import FileUpload, Service
from .webhooks import Deliverer

log = logging.getLogger("batch_api_local")
#: the instructor's page (static: it fetches its data with the admin key the instructor types)
CLASS_PAGE = Path(__file__).with_name("class_page.html")


def allowed_methods(app: FastAPI, scope: Any) -> list[str]:
    """Every method some route accepts for this request's path."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def create_app(settings: Settings, *, start_runner: bool = True, record: bool = False) -> FastAPI:
    """The server's app. ``record``: write ``server.json`` at start-up (the ``serve`` command
    does, so that launchers and notebooks find it)."""
    service = Service(settings)
    keys = Keys(settings.keys_file, settings.admin_keys)
    # local, replayed from a cassette, or forwarded upstream: batch lines and direct calls alike
    answering = answering_for(settings)
    runner = Runner(service, answering.responder, concurrency=answering.concurrency)
    direct_responder = answering.responder
    deliverer = Deliverer(service.outbox)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        if record:
            record_server(settings.state_dir, settings.port, service.instance)
        if start_runner:
            runner.start()
            deliverer.start()
        try:
            yield
        finally:
            runner.stop()
            deliverer.stop()

    loopback_only = is_loopback(settings.host)
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
    app.state.runner = runner
    app.state.deliverer = deliverer

    def caller(request: Request) -> Caller:
        return keys.caller(request.headers.get("authorization", ""))

    def namespace(request: Request) -> str:
        return caller(request).namespace

    async def json_body(request: Request) -> Any:
        raw = await read_body(request, MAX_JSON_BODY_BYTES)
        return parse_json(raw) if raw else None

    async def object_body(request: Request) -> dict[str, Any]:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        return body

    # -- error rendering and request ids ----------------------------------------------------

    @app.exception_handler(APIError)
    async def api_error(_: Request, exc: APIError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code in (404, 405):
            err = invalid_url(request.method, request.url.path, exc.status_code)
        else:
            err = APIError(str(exc.detail), status_code=exc.status_code)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # name every method the path allows, as HTTP asks
            headers["Allow"] = ", ".join(allowed_methods(app, request.scope))
        return JSONResponse(err.body(), status_code=err.status_code, headers=headers)

    @app.exception_handler(OSError)
    async def storage_error(_: Request, exc: OSError) -> JSONResponse:
        log.error("the state directory refused a write: %s", exc)
        err = storage_failed(settings.state_dir, exc)
        return JSONResponse(err.body(), status_code=err.status_code)

    @app.exception_handler(Exception)
    async def unhandled_error(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        # this handler runs outside the middleware below, so it sets the request id itself
        request_id = "req_" + ids.request_id()
        return JSONResponse(
            server_error(request_id).body(),
            status_code=500,
            headers={"x-request-id": request_id},
        )

    @app.middleware("http")
    async def request_id(request: Request, call_next):
        if loopback_only and not host_allowed(request.headers.get("host")):
            # a web page the learner visits must not reach this server through the browser
            # (DNS rebinding): on loopback, only loopback host names are answered
            err = invalid_host(request.headers.get("host"))
            return JSONResponse(err.body(), status_code=err.status_code)
        response = await call_next(request)
        response.headers["x-request-id"] = "req_" + ids.request_id()
        return response

    # -- Files ------------------------------------------------------------------------------

    @app.post("/v1/files")
    async def upload_file(request: Request):
        ns = namespace(request)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_FILE_BYTES + MAX_FORM_OVERHEAD:
            refused = file_too_large()  # refused before a byte is read
            refused.close_connection = True
            raise refused
        uploads: list[FileUpload] = []

        def open_file(filename: str, fields: dict[str, str]) -> FileUpload:
            uploads.append(service.begin_upload(filename, fields.get("purpose")))
            return uploads[-1]

        try:
            form = FormReader(request.headers.get("content-type", ""), open_file)
            async for chunk in request.stream():
                # the file's bytes go to disk in a worker thread; past the limit this raises
                # and the rest of the body is never read
                await run_in_threadpool(form.feed, chunk)
            form.finish()
        except BaseException as exc:
            for upload in uploads:
                upload.abort()
            if isinstance(exc, APIError):
                exc.close_connection = True
            raise
        fields = form.fields
        expires_after = None
        if fields.get("expires_after[anchor]") or fields.get("expires_after[seconds]"):
            expires_after = {
                "anchor": fields.get("expires_after[anchor]"),
                "seconds": fields.get("expires_after[seconds]"),
            }
        return await run_in_threadpool(
            service.finish_upload,
            ns,
            uploads[0] if uploads else None,
            purpose=fields.get("purpose"),
            expires_after=expires_after,
        )

    @app.get("/v1/files")
    async def list_files(request: Request):
        q = request.query_params
        return service.list_files(
            namespace(request),
            purpose=q.get("purpose"),
            limit=q.get("limit"),
            order=q.get("order"),
            after=q.get("after"),
        )

    @app.get("/v1/files/{file_id}")
    async def retrieve_file(file_id: str, request: Request):
        return service.get_file(namespace(request), file_id)

    @app.get("/v1/files/{file_id}/content")
    async def file_content(file_id: str, request: Request):
        path = service.file_content_path(namespace(request), file_id)
        return FileResponse(path, media_type="application/octet-stream")

    @app.delete("/v1/files/{file_id}")
    async def delete_file(file_id: str, request: Request):
        return service.delete_file(namespace(request), file_id)

    # -- Batches ----------------------------------------------------------------------------

    @app.post("/v1/batches")
    async def create_batch(request: Request):
        ns = namespace(request)
        return service.create_batch(ns, await json_body(request))

    @app.get("/v1/batches")
    async def list_batches(request: Request):
        q = request.query_params
        return service.list_batches(namespace(request), limit=q.get("limit"), after=q.get("after"))

    @app.get("/v1/batches/{batch_id}")
    async def retrieve_batch(batch_id: str, request: Request):
        return service.get_batch(namespace(request), batch_id)

    @app.post("/v1/batches/{batch_id}/cancel")
    async def cancel_batch(batch_id: str, request: Request):
        return service.cancel_batch(namespace(request), batch_id)

    # -- what a batch line can target, callable directly --------------------------------------

    async def answer(url: str, request: Request):
        ns = namespace(request)
        body = await object_body(request)
        status, payload = await run_in_threadpool(
            lambda: direct_responder.respond(url, body, now=service.now(ns))
        )
        return JSONResponse(payload, status_code=status)

    for url in BATCH_ENDPOINTS:

        async def endpoint(request: Request, _url: str = url):
            return await answer(_url, request)

        app.add_api_route(url, endpoint, methods=["POST"], name=url.rsplit("/", 1)[-1])

    @app.get("/v1/models")
    async def models(request: Request):
        namespace(request)
        return {
            "object": "list",
            "data": [
                {"id": m.id, "object": "model", "created": m.created, "owned_by": "system"}
                for m in list_models()
            ],
        }

    @app.get("/v1/models/{model_id}")
    async def model(model_id: str, request: Request):
        namespace(request)
        info = resolve_model(model_id)
        if info is None:
            raise unknown_model(model_id)
        return {"id": model_id, "object": "model", "created": info.created, "owned_by": "system"}

    # -- control surface --------------------------------------------------------------------

    @app.get("/_local/health")
    async def health():
        # anyone may ask, so it says only that the server is up: no paths, no pid
        return {"status": "ok", "version": VERSION, "instance": service.instance}

    async def control_body(request: Request) -> dict[str, Any]:
        """A control call's JSON object (``{}`` when empty)."""
        body = await json_body(request)
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        return body

    def targets(request: Request, who: Caller, body: dict[str, Any]) -> list[str]:
        """The namespaces a control call acts on: the caller's, or (admin) the one named by
        ``namespace`` in the body or the query, or ``*`` for the whole class."""
        named = body.pop("namespace", None) or request.query_params.get("namespace")
        if named is not None and not isinstance(named, str):
            raise BadRequest("namespace must be a student's label or '*'.", param="namespace")
        return keys.targets(who, named)

    def each(namespaces: list[str], answer: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        """One namespace's answer, or a list of every one's for a class-wide call."""
        if len(namespaces) == 1:
            return answer(namespaces[0])
        return {"object": "list", "data": [answer(ns) for ns in namespaces]}

    @app.get("/_local/whoami")
    async def whoami(request: Request):
        who = caller(request)
        return {
            "object": "local_server.caller",
            "server": "local-batch-api",
            "version": VERSION,
            "namespace": who.namespace,
            "label": who.label,
            "admin": who.admin,
            "shared": keys.shared,
        }

    @app.get("/_local/state")
    async def state(request: Request):
        who = caller(request)
        details = who.admin or not keys.shared  # paths and URLs: for the owner only
        return each(targets(request, who, {}), lambda ns: service.state(ns, details=details))

    @app.post("/_local/reset")
    async def reset(request: Request):
        who = caller(request)
        namespaces = targets(request, who, await control_body(request))
        return await run_in_threadpool(each, namespaces, service.reset)

    @app.post("/_local/clock/advance")
    async def advance_clock(request: Request):
        who = caller(request)
        body = await control_body(request)
        namespaces = targets(request, who, body)
        seconds = body.get("seconds")
        return each(
            namespaces,
            lambda ns: {"namespace": ns, "now": service.advance_clock(ns, seconds)},
        )

    @app.post("/_local/pace")
    async def set_pace(request: Request):
        who = caller(request)
        body = await control_body(request)
        namespaces = targets(request, who, body)
        value = body.get("preset", body)
        return each(namespaces, lambda ns: service.set_pace(ns, value).as_dict())

    @app.post("/_local/token-limit")
    async def set_token_limit(request: Request):
        who = caller(request)
        body = await control_body(request)
        namespaces = targets(request, who, body)
        limit = body.get("token_limit")
        return each(
            namespaces,
            lambda ns: {"namespace": ns, "token_limit": service.set_token_limit(ns, limit)},
        )

    @app.post("/_local/force/line")
    async def force_line(request: Request):
        who = caller(request)
        body = await object_body(request)
        namespaces = targets(request, who, body)
        return each(namespaces, lambda ns: service.force_line(ns, body))

    @app.post("/_local/force/validation")
    async def force_validation(request: Request):
        who = caller(request)
        body = await object_body(request)
        namespaces = targets(request, who, body)
        return each(namespaces, lambda ns: service.force_validation(ns, body))

    @app.post("/_local/batches/{batch_id}/expire")
    async def force_expiry(batch_id: str, request: Request):
        who = caller(request)
        namespaces = targets(request, who, await control_body(request))
        # a batch belongs to one namespace: among those named, the one that has it
        owner = next((ns for ns in namespaces if service.store.get_batch(ns, batch_id)), None)
        return service.force_expiry(owner or namespaces[0], batch_id)

    # -- webhooks: where a batch's end is sent, and how delivery went ------------------------

    def webhook_targets(request: Request, body: dict[str, Any]) -> list[str]:
        """On a shared server only an instructor decides where the server sends requests."""
        who = caller(request)
        if keys.shared:
            keys.require_admin(who)
        return targets(request, who, body)

    @app.get("/_local/webhook")
    async def webhook(request: Request):
        return each(webhook_targets(request, {}), service.outbox.describe)

    @app.post("/_local/webhook")
    async def set_webhook(request: Request):
        body = await control_body(request)
        namespaces = webhook_targets(request, body)
        return each(namespaces, lambda ns: service.set_webhook(ns, body))

    @app.get("/_local/webhooks")
    async def webhook_events(request: Request):
        q = request.query_params
        return each(
            webhook_targets(request, {}),
            lambda ns: service.webhook_events(
                ns, status=q.get("status"), batch_id=q.get("batch_id"), limit=q.get("limit")
            ),
        )

    # -- the instructor's view --------------------------------------------------------------

    @app.get("/_local/class")
    async def class_view(request: Request):
        keys.require_admin(caller(request))
        return await run_in_threadpool(service.class_view, keys.namespaces())

    @app.get("/_local/class/page", response_class=HTMLResponse)
    async def class_page():
        # the page holds no data: its script asks for the admin key and fetches /_local/class
        return HTMLResponse(CLASS_PAGE.read_text("utf-8"), headers={"Cache-Control": "no-store"})

    return app
