"""The control surface, ``/_local/...``: kept apart from ``/v1`` so that nothing a real client
sends can reach it by accident.

A page for a browser that opens the server's address (``/``, or ``/v1`` asked for HTML);
health and who-am-I; a namespace's state, reset, clock, pace, token limit, usage tier and
forced outcomes; its webhook setting and events; the instructor's class view and page. Each call acts on the
caller's namespace; an admin key may name another (``namespace``: a label or a namespace) or
every student's (``*``), and then gets one answer per namespace.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..constants import VERSION
from ..errors import BadRequest, invalid_url
from ..keys import EVERYONE, Caller, Keys
from ..webhooks import EVENTS_LIMIT
from .deps import CallerDep, ControlBody, ObjectBody, ServiceDep, int_param, keys

router = APIRouter()
#: the instructor's page (static: it fetches its data with the admin key the instructor types)
CLASS_PAGE = Path(__file__).resolve().parents[1] / "class_page.html"


def targets(request: Request, who: Caller, body: dict[str, Any]) -> list[str]:
    """The namespaces a control call acts on: the caller's, or (admin) the one named by
    ``namespace`` in the body or the query, or ``*`` for the whole class."""
    named = body.pop("namespace", None) or request.query_params.get("namespace")
    if named is not None and not isinstance(named, str):
        raise BadRequest("namespace must be a student's label or '*'.", param="namespace")
    return keys(request).targets(who, named)


def each(namespaces: list[str], answer: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """One namespace's answer, or a list of every one's for a class-wide call."""
    if len(namespaces) == 1:
        return answer(namespaces[0])
    return {"object": "list", "data": [answer(ns) for ns in namespaces]}


#: what a browser shows at the server's address: what it is, and where to read more
FRONT_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Local Batch API server</title>
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 44em; margin: 2em auto; padding: 0 1em;
         line-height: 1.5; color: #111; }}
  code {{ background: #f2f4f7; padding: 0.1em 0.3em; border-radius: 4px; }}
</style>
</head>
<body>
<h1>Local Batch API server</h1>
<p>This is <strong>batch-api-local</strong> {version}: a local server that answers OpenAI's
Files and Batch APIs, and the endpoints a batch line can target, with no key and no cost. It is
an API for the <code>openai</code> SDK, not a website: the notebooks (and your code) use it with
<code>OPENAI_BASE_URL={base}/v1</code>.</p>
<ul>
  <li>Its reference, with every known deviation from the real API:
    <code>docs/local-server.md</code> in the repository it comes from, and
    <code>batch-api-local/README.md</code>.</li>
  <li>Every route, as OpenAPI: <a href="/_local/openapi.json">/_local/openapi.json</a>
    (browsable at <a href="/_local/docs">/_local/docs</a>, whose viewer loads from the
    internet).</li>
  <li>Is it up? <a href="/_local/health">/_local/health</a>.
    Teaching a class? <a href="/_local/class/page">The class page</a>.</li>
</ul>
</body>
</html>
"""


@router.get("/", include_in_schema=False)
@router.get("/v1", include_in_schema=False)
@router.get("/v1/", include_in_schema=False)  # else the framework redirects it to /v1
def front_page(request: Request) -> HTMLResponse:
    # /v1 answers a browser only: an API client gets OpenAI's 404, as from the real API
    if request.url.path != "/" and "text/html" not in request.headers.get("accept", ""):
        raise invalid_url(request.method, request.url.path)
    base = html.escape(str(request.base_url).rstrip("/"))
    return HTMLResponse(FRONT_PAGE.format(version=html.escape(VERSION), base=base))


@router.get("/_local/health")
async def health(request: Request) -> dict[str, Any]:
    # anyone may ask, so it says only that the server is up: no paths, no pid
    return {"status": "ok", "version": VERSION, "instance": request.app.state.service.instance}


@router.get("/_local/whoami")
async def whoami(request: Request, who: CallerDep) -> dict[str, Any]:
    return {
        "object": "local_server.caller",
        "server": "local-batch-api",
        "version": VERSION,
        "namespace": who.namespace,
        "label": who.label,
        "admin": who.admin,
        "shared": keys(request).shared,
    }


@router.get("/_local/state")
def state(request: Request, who: CallerDep, svc: ServiceDep) -> dict[str, Any]:
    details = who.admin or not keys(request).shared  # paths and URLs: for the owner only
    return each(targets(request, who, {}), lambda ns: svc.control.state(ns, details=details))


@router.post("/_local/reset")
def reset(
    request: Request,
    who: CallerDep,
    body: ControlBody,
    svc: ServiceDep,
) -> dict[str, Any]:
    return each(targets(request, who, body), svc.control.reset)


@router.post("/_local/clock/advance")
def advance_clock(
    request: Request,
    who: CallerDep,
    body: ControlBody,
    svc: ServiceDep,
) -> dict[str, Any]:
    namespaces = targets(request, who, body)
    seconds = body.get("seconds")
    return each(
        namespaces,
        lambda ns: {"namespace": ns, "now": svc.tenants.advance_clock(ns, seconds)},
    )


@router.post("/_local/pace")
def set_pace(
    request: Request,
    who: CallerDep,
    body: ControlBody,
    svc: ServiceDep,
) -> dict[str, Any]:
    everyone = (body.get("namespace") or request.query_params.get("namespace")) == EVERYONE
    namespaces = targets(request, who, body)
    value = body.get("preset", body)
    if everyone:  # the class's pace: what "default" means for each student from now on
        value = svc.tenants.set_class_pace(value)
    return each(namespaces, lambda ns: svc.tenants.set_pace(ns, value).as_dict())


@router.post("/_local/token-limit")
def set_token_limit(
    request: Request,
    who: CallerDep,
    body: ControlBody,
    svc: ServiceDep,
) -> dict[str, Any]:
    namespaces = targets(request, who, body)
    limit = body.get("token_limit")
    return each(
        namespaces,
        lambda ns: {"namespace": ns, "token_limit": svc.tenants.set_token_limit(ns, limit)},
    )


@router.post("/_local/tier")
def set_tier(
    request: Request,
    who: CallerDep,
    body: ControlBody,
    svc: ServiceDep,
) -> dict[str, Any]:
    namespaces = targets(request, who, body)
    if "tier" not in body:
        raise BadRequest(
            "Give tier: a usage tier from 1 to 5, null (no tier) or 'default' (the server's).",
            param="tier",
        )
    tier = body.get("tier")
    return each(namespaces, lambda ns: {"namespace": ns, "tier": svc.tenants.set_tier(ns, tier)})


@router.post("/_local/force/line")
def force_line(
    request: Request,
    who: CallerDep,
    body: ObjectBody,
    svc: ServiceDep,
) -> dict[str, Any]:
    namespaces = targets(request, who, body)
    return each(namespaces, lambda ns: svc.control.force_line(ns, body))


@router.post("/_local/force/validation")
def force_validation(
    request: Request,
    who: CallerDep,
    body: ObjectBody,
    svc: ServiceDep,
) -> dict[str, Any]:
    namespaces = targets(request, who, body)
    return each(namespaces, lambda ns: svc.control.force_validation(ns, body))


@router.post("/_local/batches/{batch_id}/expire")
def force_expiry(
    batch_id: str,
    request: Request,
    who: CallerDep,
    body: ControlBody,
    svc: ServiceDep,
) -> dict[str, Any]:
    namespaces = targets(request, who, body)
    # a batch belongs to one namespace: among those named, the one that has it
    owner = next((ns for ns in namespaces if svc.store.get_batch(ns, batch_id)), None)
    return svc.batches.expire(owner or namespaces[0], batch_id)


# -- webhooks: where a batch's end is sent, and how delivery went ------------------------------


def webhook_targets(request: Request, who: Caller, body: dict[str, Any]) -> list[str]:
    """On a shared server only an instructor decides where the server sends requests."""
    found: Keys = keys(request)
    if found.shared:
        found.require_admin(who)
    return targets(request, who, body)


@router.get("/_local/webhook")
def webhook(request: Request, who: CallerDep, svc: ServiceDep) -> dict[str, Any]:
    return each(webhook_targets(request, who, {}), svc.outbox.describe)


@router.post("/_local/webhook")
def set_webhook(
    request: Request,
    who: CallerDep,
    body: ControlBody,
    svc: ServiceDep,
) -> dict[str, Any]:
    namespaces = webhook_targets(request, who, body)
    return each(namespaces, lambda ns: svc.outbox.configure(ns, body))


@router.get("/_local/webhooks")
def webhook_events(request: Request, who: CallerDep, svc: ServiceDep) -> dict[str, Any]:
    query = request.query_params
    limit = int_param("limit", query.get("limit"), default=100, low=1, high=EVENTS_LIMIT)
    return each(
        webhook_targets(request, who, {}),
        lambda ns: svc.outbox.events(
            ns, status=query.get("status"), batch_id=query.get("batch_id"), limit=limit
        ),
    )


# -- the instructor's view -----------------------------------------------------------------------


@router.get("/_local/class")
def class_view(request: Request, who: CallerDep, svc: ServiceDep) -> dict[str, Any]:
    found: Keys = keys(request)
    found.require_admin(who)
    return svc.control.class_view(found.namespaces())


@router.get("/_local/class/page", response_class=HTMLResponse)
def class_page() -> HTMLResponse:
    # the page holds no data: its script asks for the admin key and fetches /_local/class
    return HTMLResponse(CLASS_PAGE.read_text("utf-8"), headers={"Cache-Control": "no-store"})
