"""What a batch line can target, callable directly (``POST /v1/chat/completions`` ...), and the
model list (``/v1/models``: the models served on the caller's clock, each with its announced
``shutdown_date``).

A direct call gets the answer a batch line would get, from the same responder (local, replayed
or upstream), stamped with the caller's clock.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ..constants import BATCH_ENDPOINTS
from ..errors import unknown_model
from ..http import JSONResponse
from ..models import ModelInfo, list_models, resolve_model, retired
from .deps import CallerDep, ObjectBody, ServiceDep

router = APIRouter()


def _answer(url: str) -> Any:
    def answer(
        request: Request,
        who: CallerDep,
        body: ObjectBody,
        svc: ServiceDep,
    ) -> JSONResponse:
        responder = request.app.state.responder
        status, payload = responder.respond(url, body, now=svc.tenants.now(who.namespace))
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
