"""What a batch line can target, callable directly (``POST /v1/chat/completions`` ...), and the
model list (``/v1/models``: the models served on the caller's clock, each with its announced
``shutdown_date``).

A direct call gets the answer a batch line would get, from the same responder (local, replayed
or upstream), stamped with the caller's clock, reading the caller's files (an image given by
``file_id``). Bodies are JSON: an image edit sent as a multipart form (how the SDK's
``images.edit`` sends one) is refused with a message that says to send the JSON body a batch
line uses. The answer is made in the thread pool.

A few answers are large: 2,048 inputs of ``text-embedding-3-large`` make 6.3 million numbers,
some 130 MB of JSON and several hundred MB of memory while it is built. Such a call is *heavy*
(:func:`answer_numbers`), and :class:`HeavyCalls` bounds them: :data:`HEAVY_SLOTS` are made at
once, server-wide, each answer rendered in pieces as it is sent
(:class:`..http.StreamedJSONResponse`), which frees the slot; the others wait their turn, in
order, up to :data:`HEAVY_PER_KEY` per key (running or waiting), :data:`HEAVY_WAITING` in all
and :data:`HEAVY_WAIT` seconds. Past any of these, the call gets a 429 with ``Retry-After: 1``,
which the SDK waits for and retries. Every other call is answered as usual meanwhile: the event loop is never the one that builds or
renders an answer, and the rendering leaves the interpreter's lock free between pieces.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ..constants import BATCH_ENDPOINTS
from ..endpoints.embeddings import URL as EMBEDDINGS
from ..endpoints.embeddings import count_embedding_inputs
from ..errors import edits_need_json, too_many_large_requests, unknown_model
from ..http import JSONResponse, StreamedJSONResponse
from ..like_live import body_key, refuse
from ..models import ModelInfo, list_models, resolve_model, retired
from ..responder import respond as respond_with
from .deps import CallerDep, ServiceDep, object_body

#: a direct call whose answer holds more numbers than this is heavy: 80 inputs of
#: text-embedding-3-large (some 5 MB of JSON); 2,048 hold 6.3 million
HEAVY_NUMBERS = 250_000
#: heavy calls answered at once, server-wide (one per core of a small laptop)
HEAVY_SLOTS = 2
#: heavy calls one key may have running or waiting (so four at once all get their answers,
#: two of them after a wait); past it, 429
HEAVY_PER_KEY = 4
#: heavy calls that may wait for a slot, server-wide; past it, 429
HEAVY_WAITING = 16
#: seconds a heavy call waits for a slot before it gets a 429
HEAVY_WAIT = 60.0

router = APIRouter()


def answer_numbers(url: str, body: dict[str, Any]) -> int:
    """Roughly how many numbers a direct call's answer holds: an embeddings request's inputs
    times the dimensions of each vector; 0 for every other kind of request, whose answer is
    bounded by the model's output limit."""
    if url != EMBEDDINGS:
        return 0
    model = body.get("model")
    info = resolve_model(model) if isinstance(model, str) else None
    dimensions = body.get("dimensions")
    if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
        dimensions = info.dimensions if info is not None and info.dimensions else 0
    return count_embedding_inputs(body.get("input")) * min(dimensions, 1 << 20)


class HeavyCalls:
    """The slots heavy direct calls are answered in (see the module docstring). Used on the
    event loop only."""

    def __init__(
        self,
        slots: int = HEAVY_SLOTS,
        per_key: int = HEAVY_PER_KEY,
        waiting: int = HEAVY_WAITING,
        wait: float = HEAVY_WAIT,
    ) -> None:
        self.slots = slots
        self.per_key = per_key
        self.most_waiting = waiting
        self.wait = wait
        self._free: asyncio.Semaphore | None = None  # made on the loop, at the first call
        #: heavy calls of each namespace, running or waiting
        self.holding: Counter[str] = Counter()
        #: heavy calls waiting for a slot
        self.waiting = 0

    async def acquire(self, namespace: str, model: Any) -> None:
        """Wait for a slot; 429 when the key has too many heavy calls, too many wait, or the
        wait is too long."""
        if self._free is None:
            self._free = asyncio.Semaphore(self.slots)
        busy = self._free.locked() and self.waiting >= self.most_waiting
        if busy or self.holding[namespace] >= self.per_key:
            raise too_many_large_requests(model, self.slots, self.per_key)
        self.holding[namespace] += 1
        self.waiting += 1
        try:
            await asyncio.wait_for(self._free.acquire(), self.wait)
        except BaseException as exc:
            self._forget(namespace)
            if isinstance(exc, TimeoutError):
                raise too_many_large_requests(model, self.slots, self.per_key) from None
            raise
        finally:
            self.waiting -= 1

    def release(self, namespace: str) -> None:
        assert self._free is not None
        self._free.release()
        self._forget(namespace)

    def _forget(self, namespace: str) -> None:
        self.holding[namespace] -= 1
        if self.holding[namespace] <= 0:
            del self.holding[namespace]


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
    async def answer(
        request: Request,
        who: CallerDep,
        body: DirectBody,
        svc: ServiceDep,
    ) -> Response:
        responder = request.app.state.responder

        def respond() -> tuple[int, dict[str, Any]]:
            status, payload = respond_with(
                responder,
                url,
                body,
                now=svc.tenants.now(who.namespace),
                files=svc.file_reader(who.namespace),
            )
            if svc.settings.like_live and svc.settings.responder == "local" and status == 200:
                payload = refuse(url, body, payload, body_key(body))
            return status, payload

        if answer_numbers(url, body) <= HEAVY_NUMBERS:

            def light() -> JSONResponse:
                status, payload = respond()
                return JSONResponse(payload, status_code=status)  # rendered here, in the thread

            return await run_in_threadpool(light)
        heavy: HeavyCalls = request.app.state.heavy
        await heavy.acquire(who.namespace, body.get("model"))
        try:
            status, payload = await run_in_threadpool(respond)
        except BaseException:
            heavy.release(who.namespace)
            raise
        return StreamedJSONResponse(payload, status, lambda: heavy.release(who.namespace))

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
