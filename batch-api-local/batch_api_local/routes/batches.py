"""The Batches API: ``/v1/batches`` (create, list), ``/v1/batches/{id}`` and its ``cancel``.

Each route answers with a :class:`..http.JSONResponse` of the domain's object, rendered in the
thread pool where the route runs: returned as a plain dict, it would go back to the pool to be
validated and then be encoded again on the event loop (FastAPI's way with a return type), and a
class polling ``batches.retrieve`` hundreds of times a second pays for that on the loop.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..http import JSONResponse
from .deps import CallerDep, JsonBody, ServiceDep, int_param

router = APIRouter()


@router.post("/v1/batches")
def create_batch(who: CallerDep, body: JsonBody, svc: ServiceDep) -> JSONResponse:
    return JSONResponse(svc.batches.create(who.namespace, body))


@router.get("/v1/batches")
def list_batches(request: Request, who: CallerDep, svc: ServiceDep) -> JSONResponse:
    query = request.query_params
    limit = int_param("limit", query.get("limit"), default=20, low=1, high=100)
    return JSONResponse(svc.batches.page(who.namespace, limit=limit, after=query.get("after")))


@router.get("/v1/batches/{batch_id}")
def retrieve_batch(batch_id: str, who: CallerDep, svc: ServiceDep) -> JSONResponse:
    return JSONResponse(svc.batches.get(who.namespace, batch_id))


@router.post("/v1/batches/{batch_id}/cancel")
def cancel_batch(batch_id: str, who: CallerDep, svc: ServiceDep) -> JSONResponse:
    return JSONResponse(svc.batches.cancel(who.namespace, batch_id))
