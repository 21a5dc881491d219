"""The batch endpoints, one registry entry each: everything the project knows about an endpoint.

An :class:`Endpoint` holds its URL, the label its messages use, the body parameter it cannot run
without, the kind of model that serves it (and the model a direct call gets when it names none),
how its input tokens are counted, how its answer is built, how many tokens that answer may write
(:class:`OutputLimit`, what a cost estimate bounds it by), the images it takes as input (which
count as input tokens, :mod:`.image_inputs`), and anything else only it has (the embedding
inputs the 50,000 limit counts, the error a model of the wrong kind gets). Validation
(:mod:`..validation`), the local responder (:mod:`..responder`), token counting
(:func:`..tokens.request_input_tokens`), the model catalog (:meth:`..models.ModelInfo.supports`),
``constants.BATCH_ENDPOINTS`` and ``helpers.estimate_cost`` (through :func:`output_bound`) all
read :data:`ENDPOINTS`, so they cannot disagree. Each entry lives in a module of its own
(``chat.py``, ``responses.py`` ...); adding an endpoint means adding its module and its line in
:data:`ENDPOINTS`. The rules every request must pass before it is answered are in :mod:`.rules`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import APIError, endpoint_unsupported
from ..models import ModelInfo, ModelKind, resolve_model
from .image_inputs import FileReader, ImageRef

__all__ = [
    "ENDPOINTS",
    "Endpoint",
    "FileReader",
    "ImageRef",
    "OutputLimit",
    "Request",
    "limit_field",
    "lookup",
    "output_bound",
    "writes_images",
]


@dataclass(frozen=True)
class Request:
    """One request to answer, once the rules every request must pass have passed.

    Attributes:
        body: The request body (a JSON object).
        model: The model name the request gave, as it gave it (or the endpoint's default).
        info: That model's catalog entry (a stand-in for an unknown name under ``--any-model``).
        input_tokens: The request's input tokens when the caller has counted them already (a
            batch counts every line once, at validation), else None.
        now: The Unix time to stamp the answer with.
        files: Reads the caller's files (an image given by ``file_id``), or None when the
            caller cannot (such an image is then taken unseen, at an assumed size).
    """

    body: dict[str, Any]
    model: str
    info: ModelInfo
    input_tokens: int | None = None
    now: int = 0
    files: FileReader | None = None


def _count(value: object) -> int | None:
    """An integer field of a body (not a bool), or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class OutputLimit:
    """How many output tokens an endpoint's answer may write, for a cost estimate.

    Attributes:
        fields: The body fields that limit one answer's output tokens, in the order looked up.
            When a request sets more than one (a chat request that sets both ``max_tokens`` and
            ``max_completion_tokens``, which the API refuses) the smallest bounds it.
        answers: How many answers one request may generate (``n``; for ``/v1/completions``
            ``best_of`` when more, for each of its prompts), each within the limit.
        default: What one answer may write when a request sets no limit (16 for
            ``/v1/completions``); None: as much as the model's maximum output.
        image: For an endpoint that makes images, the most output tokens one image of a request
            may cost, ``(body, model) -> int`` (from its quality and size); such an endpoint has
            no ``fields``.
    """

    fields: tuple[str, ...]
    answers: Callable[[Mapping[str, Any]], int]
    default: int | None = None
    image: Callable[[Mapping[str, Any], str], int] | None = None

    def bound(self, body: Mapping[str, Any], model: str) -> tuple[int, str | None]:
        """The most output tokens a request may produce, and where that bound comes from: the
        body field, ``"default <field>"``, ``"model maximum"``, or (images) ``"quality and
        size"``.

        Raises ValueError when the request sets no limit, the endpoint has no default and the
        model is unknown (nothing bounds its output), or when an image model is unknown.
        """
        answers = max(self.answers(body), 1)
        if self.image is not None:
            return self.image(body, model) * answers, "quality and size"
        limits = [
            (value, name) for name in self.fields if (value := _count(body.get(name))) is not None
        ]
        if limits:
            limit, name = min(limits, key=lambda pair: pair[0])  # the first of equal ones
            return max(limit, 0) * answers, name
        if self.default is not None:
            return self.default * answers, f"default {self.fields[0]}"
        info = resolve_model(model)
        if info is None or not info.max_output_tokens:
            raise ValueError(
                f"a request sets no {' or '.join(self.fields)}, and the model {model!r} is "
                "unknown, so its output has no bound: set a limit in every request"
            )
        return info.max_output_tokens * answers, "model maximum"


@dataclass(frozen=True)
class Endpoint:
    """One batch endpoint: what it needs, who serves it, how it counts, answers and is bounded.

    Attributes:
        url: Its path, e.g. ``"/v1/chat/completions"`` (a batch's ``endpoint``, a line's ``url``).
        label: Its name in messages, e.g. ``"Chat Completions"``.
        required: The body parameter without which it cannot run (``messages``, ``input`` ...).
        model_kinds: The kinds of model that serve it (:attr:`..models.ModelInfo.kind`).
        input_tokens: Its request's input tokens, ``(body, encoding) -> int``: what the
            enqueued-token limit counts and the answer's usage reports. Never raises.
        answer: Its local answer, ``(request) -> JSON body``: checks the body's own parameters
            (raising :class:`..errors.APIError` with the real API's wording) and builds a reply
            of the real shape.
        output: How many output tokens an answer may write; None when it writes none.
        default_model: The model a direct call gets when it names none (batch lines must always
            name theirs).
        embedding_inputs: How many embedding inputs a body holds, which the 50,000 limit of a
            batch counts; None when the endpoint has no such limit.
        images: The images a body carries as input, ``(body) -> [ImageRef]``, whose tokens
            count with its input tokens (:func:`.image_inputs.image_tokens`); None when it
            takes none. Never raises.
        wrong_model: The HTTP error a direct call gets for a known model of another kind,
            ``(model, info) -> APIError``; None: ``The model `x` does not support <url>``.
    """

    url: str
    label: str
    required: str
    model_kinds: tuple[ModelKind, ...]
    input_tokens: Callable[[dict[str, Any], str], int]
    answer: Callable[[Request], dict[str, Any]]
    output: OutputLimit | None = None
    default_model: str | None = None
    embedding_inputs: Callable[[dict[str, Any]], int] | None = None
    images: Callable[[dict[str, Any]], list[ImageRef]] | None = None
    wrong_model: Callable[[str, ModelInfo], APIError] | None = None

    def refuse(self, model: str, info: ModelInfo) -> APIError:
        """The HTTP error a direct call naming ``model`` (of another kind) gets."""
        if self.wrong_model is not None:
            return self.wrong_model(model, info)
        return endpoint_unsupported(model, self.url)


# The entries: one module per endpoint, each building its ``ENDPOINT`` from the records above
# (so they are imported after them).
from . import (  # noqa: E402
    chat,
    completions,
    embeddings,
    image_edits,
    image_generations,
    moderations,
    responses,
)

#: every endpoint a batch can target, by URL, in the order the SDK lists them
ENDPOINTS: Mapping[str, Endpoint] = {
    entry.url: entry
    for entry in (
        responses.ENDPOINT,
        chat.ENDPOINT,
        embeddings.ENDPOINT,
        completions.ENDPOINT,
        moderations.ENDPOINT,
        image_generations.ENDPOINT,
        image_edits.ENDPOINT,
    )
}


def lookup(url: object) -> Endpoint | None:
    """The entry of ``url`` (surrounding spaces and a trailing ``/`` ignored), or None."""
    if not isinstance(url, str):
        return None
    return ENDPOINTS.get(url.strip().rstrip("/"))


def output_bound(url: str, body: Mapping[str, Any], model: str) -> tuple[int, str | None]:
    """The most output tokens one request may produce, and where that bound comes from.

    ``url`` is the request's endpoint, ``body`` its body and ``model`` its model. The bound is
    the request's own limit (the field named, times the answers it asks for), the endpoint's
    default (``"default max_tokens"`` for ``/v1/completions``: 16 per answer), or the model's
    maximum output (``"model maximum"``). An image endpoint's bound is the output tokens of
    the quality and size asked, times ``n`` (``"quality and size"``; ``auto`` quality counts as
    the model's highest below ``xhigh``, ``auto`` size as its dearest standard size, since the
    model picks). Endpoints that write no tokens (embeddings, moderations) and unknown URLs give
    ``(0, None)``.

    Raises ValueError when the request sets no limit and the model is unknown, or names an
    image model the catalog does not know.
    """
    entry = lookup(url)
    if entry is None or entry.output is None:
        return 0, None
    return entry.output.bound(body, model)


def limit_field(url: str) -> str | None:
    """The body field that limits an answer's output tokens at ``url``, as today's models take
    it (``max_completion_tokens`` for chat, ``max_output_tokens`` for Responses, ``max_tokens``
    for completions), or None for an endpoint that writes no tokens or whose output no field
    limits (the image endpoints)."""
    entry = lookup(url)
    if entry is None or entry.output is None or not entry.output.fields:
        return None
    return entry.output.fields[0]


def writes_images(url: str) -> bool:
    """Whether the answers of ``url`` are images, whose output tokens are image tokens (priced
    at a model's image output rate)."""
    entry = lookup(url)
    return entry is not None and entry.output is not None and entry.output.image is not None
