"""Deterministic answers for the local Batch API server: a dispatcher over the endpoint registry.

The local server never calls a model. For every batch line (and every direct request) it asks
:class:`LocalResponder` for the reply the real endpoint would send. The responder finds the
endpoint's entry (:data:`.endpoints.ENDPOINTS`), resolves the model, applies the rules every
request must pass (:mod:`.endpoints.rules`: no stream, a model that exists and serves the
endpoint, the endpoint's required parameter), and hands the request to the entry's answer,
which checks the rest of the body and builds a reply with the exact shape of OpenAI's JSON:

* chat completions, legacy completions and Responses get a short placeholder text that says
  plainly it was written by the local server, quotes the prompt and reports how many tokens the
  prompt was;
* embeddings are unit vectors derived from a hash of the model and the input;
* moderations never flag anything and report tiny, stable scores;
* image generations and edits are placeholder pictures of the size and format asked.

The same request always gets the same reply (apart from the ``created`` timestamp), token counts
in ``usage`` are real counts from the model's tokenizer, and the limits the real API enforces
(context window, maximum output tokens, required parameters, unknown models) produce the real
error envelopes. None of this says anything about what a model would answer: switch to live
mode for that.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from . import errors
from .endpoints import FileReader, Request, lookup, rules
from .endpoints.moderations import MODERATION_CATEGORIES
from .errors import APIError
from .models import resolve_model, stand_in

__all__ = ["MODERATION_CATEGORIES", "LocalResponder", "respond"]


class _Responder(Protocol):
    def respond(
        self,
        url: str,
        body: dict[str, Any],
        *,
        input_tokens: int | None = None,
        now: int | None = None,
    ) -> tuple[int, dict[str, Any]]: ...


def respond(
    responder: _Responder,
    url: str,
    body: dict[str, Any],
    *,
    input_tokens: int | None = None,
    now: int | None = None,
    files: FileReader | None = None,
) -> tuple[int, dict[str, Any]]:
    """Ask ``responder`` for an answer, with the caller's ``files`` when it reads files (the
    local responder: an image given by ``file_id``). The runner and the direct route call this;
    a responder that does not read files (upstream, replay) keeps the plain protocol."""
    if isinstance(responder, LocalResponder):
        return responder.respond(url, body, input_tokens=input_tokens, now=now, files=files)
    return responder.respond(url, body, input_tokens=input_tokens, now=now)


class LocalResponder:
    """Answers requests locally, with the JSON shapes of the real endpoints.

    ``now`` supplies the Unix timestamps put in ``created`` / ``created_at``;
    tests pass a fixed clock. Everything else in a reply is a pure function of the
    URL and the request body.
    """

    def __init__(
        self, now: Callable[[], int] = lambda: int(time.time()), *, any_model: bool = False
    ) -> None:
        self._now = now
        #: answer unknown model names like a chat model of the catalog (``--any-model``)
        self.any_model = any_model

    def respond(
        self,
        url: str,
        body: dict[str, Any],
        *,
        input_tokens: int | None = None,
        now: int | None = None,
        files: FileReader | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request as the real endpoint would: (HTTP status, JSON body).

        ``input_tokens``, when the caller has already counted the request's input tokens (a
        batch counts them once, at validation), saves counting them again. ``now`` is the time
        to stamp the reply with (the caller's clock); by default the responder's own.
        ``files`` reads the caller's files, for images given by ``file_id`` (without it such an
        image is taken unseen).
        """
        try:
            stamp = now if now is not None else self._now()
            return 200, self._answer(url, body, input_tokens, stamp, files)
        except APIError as error:
            return error.status_code, error.body()
        except Exception:  # a bug here must not take a whole batch down
            return 500, errors.server_error().body()

    def _answer(
        self,
        url: str,
        body: object,
        input_tokens: int | None,
        now: int,
        files: FileReader | None = None,
    ) -> dict[str, Any]:
        endpoint = lookup(url)
        if endpoint is None:
            raise errors.invalid_url("POST", str(url))
        if not isinstance(body, dict):
            raise errors.invalid_json_body()
        path = endpoint.url
        # the rules every request must pass, in a direct call's order: the stream flag, the
        # model, the endpoint's required parameter; then the entry checks the rest and answers
        refused = rules.streaming(path, body)
        if refused is not None:
            raise refused.api_error()
        model = rules.model_name(path, body, use_default=True)
        if isinstance(model, rules.Problem):
            raise model.api_error()
        info = resolve_model(model)
        if info is None and self.any_model:
            info = stand_in(model)
        served = rules.served_model(path, model, info, now)
        if isinstance(served, rules.Problem):
            raise served.api_error()
        refused = rules.required_parameter(path, body)
        if refused is not None:
            raise refused.api_error()
        return endpoint.answer(Request(body, model, served, input_tokens, now, files))
