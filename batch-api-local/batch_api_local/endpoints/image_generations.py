"""``/v1/images/generations``: its registry entry and its local answer.

A generation request needs a ``prompt``, is served by image models (the GPT image models of the
catalog), counts its prompt's text tokens, and is answered with an ``ImagesResponse`` of ``n``
placeholder images of the size and format asked (:mod:`.imaging`, which also checks the body).
It takes no input images: ``images``, ``mask`` and ``input_fidelity`` are an edit's, and
``Unknown parameter`` here. A cost estimate bounds it by the output image tokens of its quality
and size, times ``n``.
"""

from __future__ import annotations

from typing import Any

from .. import tokens
from . import Endpoint, OutputLimit, Request, imaging
from .parameters import Parameter

URL = "/v1/images/generations"
#: an edit's parameters, which a generation does not have
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("images", "unknown"),
    Parameter("image", "unknown"),
    Parameter("mask", "unknown"),
    Parameter("input_fidelity", "unknown"),
)


def input_tokens(body: dict[str, Any], encoding: str) -> int:
    """Tokens of the ``prompt``."""
    return tokens.count_tokens(body.get("prompt"), encoding)


def answer(request: Request) -> dict[str, Any]:
    """An ``ImagesResponse``; raises :class:`..errors.APIError` for a body the API refuses."""
    return imaging.answer(request, imaging.check(request, PARAMETERS))


ENDPOINT: Endpoint = Endpoint(
    url=URL,
    label="Images",
    required="prompt",
    model_kinds=("image",),
    input_tokens=input_tokens,
    answer=answer,
    output=OutputLimit(fields=(), answers=imaging.images_asked, image=imaging.image_bound),
)
