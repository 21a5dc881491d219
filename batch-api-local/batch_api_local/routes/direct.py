"""What a batch line can target, callable directly (``POST /v1/chat/completions`` ...), and the
model list (``/v1/models``: the models served on the caller's clock, each with its announced
``shutdown_date``).

A direct call gets the answer a batch line would get, from the same responder (local, replayed
or upstream), stamped with the caller's clock, reading the caller's files (an image given by
``file_id``). Bodies are JSON: an image edit sent as a multipart form (how the SDK's
``images.edit`` sends one) is refused with a message that says to send the JSON body a batch
line uses.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from ..constants import BATCH_ENDPOINTS
from ..errors import edits_need_json, unknown_model
from ..http import JSONResponse
from ..models import ModelInfo, list_models, resolve_model, retired
from ..responder import respond
from .deps import CallerDep, ServiceDep, object_body

router = APIRouter()


async def direct_body(request: Request) -> dict[str, Any]:
    """A direct call's JSON object; a multipart image edit gets :func:`..errors.edits_need_json`
    (and the connection is closed, its upload unread)."""
    content_type = request.headers.get("content-type", "").lower()
    if request.url.path.endswith("/images/edits") and content_type.startswith("multipart/"):
        refused = edits_need_json()
        refused.close_connection = True
        raise refused
    return await object_body(request)


DirectBody = Annotated[dict[str, Any], Depends(direct_body)]


def _answer(url: str) -> Any:
    def answer(
        request: Request,
        who: CallerDep,
        body: DirectBody,
        svc: ServiceDep,
    ) -> JSONResponse:
        status, payload = respond(
            request.app.state.responder,
            url,
            body,
            now=svc.tenants.now(who.namespace),
            files=svc.file_reader(who.namespace),
        )
        return JSONResponse(payload, status_code=status)

    return answer


for _url in BATCH_ENDPOINTS:
    router.add_api_route(_url, _answer(_url), methods=["POST"], name=_url.rsplit("/", 1)[-1])


def _model_object(model_id: str, info: ModelInfo) -> dict[str, Any]:
    return {
        "id": model_id,
        "object": "model",
        "created": info.created,
        "owned_by": "system",
        "shutdown_date": info.shutdown,
    }


@router.get("/v1/models")
def models(who: CallerDep, svc: ServiceDep) -> dict[str, Any]:
    """The models served today, by the caller's clock."""
    now = svc.tenants.now(who.namespace)
    return {"object": "list", "data": [_model_object(m.id, m) for m in list_models(now)]}


@router.get("/v1/models/{model_id}")
def model(model_id: str, who: CallerDep, svc: ServiceDep) -> dict[str, Any]:
    info = resolve_model(model_id)
    if info is None or retired(model_id, svc.tenants.now(who.namespace)):
        raise unknown_model(model_id)
    return _model_object(model_id, info)
