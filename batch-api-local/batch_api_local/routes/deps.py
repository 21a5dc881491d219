"""What every route needs, resolved once per request by FastAPI's dependencies.

- :func:`caller`: who is calling (``Depends(caller)``), from the bearer key, or the 401;
- :func:`json_body`, :func:`object_body`, :func:`control_body`: the request's JSON, read up to
  the body limit and parsed strictly (these are ``async``: they read the body on the event loop,
  so that the route itself can be a plain ``def``, run in the thread pool; a long body is
  parsed in the thread pool too);
- :func:`service`, :func:`keys`: the app's domain and keys;
- :func:`int_param`: a query parameter that must be an integer in a range.

Routes that touch SQLite, a lock or the disk are plain ``def`` functions: Starlette runs them in
its thread pool, and the event loop stays free for every other client.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ..constants import MAX_JSON_BODY_BYTES
from ..domain import Service
from ..errors import invalid_type, not_an_object, not_between
from ..http import parse_json, read_body
from ..keys import Caller, Keys


async def service(request: Request) -> Service:
    """The app's domain (``async``, though it waits for nothing: a plain ``def`` dependency
    costs every request a trip to the thread pool and back)."""
    found: Service = request.app.state.service
    return found


def keys(request: Request) -> Keys:
    """The app's keys (who may call, and as whom)."""
    found: Keys = request.app.state.keys
    return found


async def caller(request: Request) -> Caller:
    """The owner of the request's bearer key (401 without a valid one)."""
    return keys(request).caller(request.headers.get("authorization", ""))


#: a body longer than this is parsed in the thread pool, not on the event loop (a 32 MiB body
#: takes the parser a good part of a second)
PARSE_IN_THREAD_BYTES = 64 * 1024


async def json_body(request: Request) -> Any:
    """The body as JSON (None when empty); 413 past the limit, 400 when it is not JSON."""
    raw = await read_body(request, MAX_JSON_BODY_BYTES)
    if len(raw) > PARSE_IN_THREAD_BYTES:
        return await run_in_threadpool(parse_json, raw)
    return parse_json(raw) if raw else None


async def object_body(request: Request) -> dict[str, Any]:
    """The body, which must be a JSON object."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise not_an_object()
    return body


async def control_body(request: Request) -> dict[str, Any]:
    """A control call's body: a JSON object, or ``{}`` when empty."""
    body = await json_body(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise not_an_object()
    return body


def int_param(name: str, value: Any, *, default: int, low: int, high: int) -> int:
    """A query parameter that must be a whole number from ``low`` to ``high``."""
    if value is None or value == "":
        return default
    # plain decimal digits only: Python's int() would also take "1_0", " 7 " or "١٠"
    if not (isinstance(value, int) or re.fullmatch(r"-?[0-9]{1,19}", str(value))):
        raise invalid_type(name, "an integer", value)
    number = int(value)
    if not low <= number <= high:
        raise not_between(name, number, low, high)
    return number


#: the parameters a route declares to get them (``who: CallerDep``), FastAPI's ``Annotated`` way
CallerDep = Annotated[Caller, Depends(caller)]
ServiceDep = Annotated[Service, Depends(service)]
JsonBody = Annotated[Any, Depends(json_body)]
ObjectBody = Annotated[dict[str, Any], Depends(object_body)]
ControlBody = Annotated[dict[str, Any], Depends(control_body)]
