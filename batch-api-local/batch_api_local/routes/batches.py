"""The Batches API: ``/v1/batches`` (create, list), ``/v1/batches/{id}`` and its ``cancel``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .deps import CallerDep, JsonBody, ServiceDep, int_param

router = APIRouter()


@router.post("/v1/batches")
def create_batch(who: CallerDep, body: JsonBody, svc: ServiceDep) -> dict[str, Any]:
    return svc.batches.create(who.namespace, body)


@router.get("/v1/batches")
def list_batches(request: Request, who: CallerDep, svc: ServiceDep) -> dict[str, Any]:
    query = request.query_params
    limit = int_param("limit", query.get("limit"), default=20, low=1, high=100)
    return svc.batches.page(who.namespace, limit=limit, after=query.get("after"))


@router.get("/v1/batches/{batch_id}")
def retrieve_batch(batch_id: str, who: CallerDep, svc: ServiceDep) -> dict[str, Any]:
    return svc.batches.get(who.namespace, batch_id)


@router.post("/v1/batches/{batch_id}/cancel")
def cancel_batch(batch_id: str, who: CallerDep, svc: ServiceDep) -> dict[str, Any]:
    return svc.batches.cancel(who.namespace, batch_id)
