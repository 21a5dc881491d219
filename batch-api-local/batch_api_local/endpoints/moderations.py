"""``/v1/moderations``: its registry entry, the checks of its body, and its local answer.

A moderations request needs ``input`` (a string, a list of strings, or text and image parts for
``omni-moderation-latest``), is served by moderation models, defaults to
``omni-moderation-latest`` on a direct call that names no model, counts its text like a message's
content, and is answered with results that flag nothing: every category false, with a small
stable score per (model, text, category). It writes no tokens and reports no usage.
"""

from __future__ import annotations

from typing import Any

from .. import errors, tokens
from ..errors import empty_array, invalid_type
from ..models import ModelInfo
from . import Endpoint, Request
from .common import digest

URL = "/v1/moderations"
DEFAULT_MODEL = "omni-moderation-latest"
#: the categories of openai.types.moderation.Categories (by their wire names)
MODERATION_CATEGORIES: tuple[str, ...] = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
#: categories whose score may also come from an image (omni-moderation)
_IMAGE_CATEGORIES = frozenset(
    {
        "self-harm",
        "self-harm/instructions",
        "self-harm/intent",
        "sexual",
        "violence",
        "violence/graphic",
    }
)
_EXPECTED_INPUT = "one of a string, array of strings, or array of objects"


def input_tokens(body: dict[str, Any], encoding: str) -> int:
    """Tokens of the text in ``input``: a string, or a list of text (and image) parts."""
    return tokens.content_tokens(body.get("input"), encoding)


def _multimodal_input(info: ModelInfo, parts: list[dict[str, Any]]) -> tuple[str, bool]:
    """The text of a list of parts, and whether it has an image."""
    if info.id != DEFAULT_MODEL:
        raise errors.text_only_moderation(info.id)
    texts: list[str] = []
    has_image = False
    for index, part in enumerate(parts):
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            has_image = True
        else:
            raise errors.invalid_choice(f"input[{index}].type", kind, ["text", "image_url"])
    return " ".join(texts), has_image


def answer(request: Request) -> dict[str, Any]:
    """Moderation results; raises :class:`..errors.APIError` for a body the API refuses."""
    info, body = request.info, request.body
    value = body.get("input")
    # Each entry: (text to score, does it include an image?)
    inputs: list[tuple[str, bool]]
    if isinstance(value, str):
        inputs = [(value, False)]
    elif isinstance(value, list):
        if not value:
            raise empty_array("input")
        if all(isinstance(item, str) for item in value):
            inputs = [(item, False) for item in value]
        elif all(isinstance(item, dict) for item in value):
            inputs = [_multimodal_input(info, value)]
        else:
            raise invalid_type("input", _EXPECTED_INPUT, value)
    else:
        raise invalid_type("input", _EXPECTED_INPUT, value)

    results = []
    for text, has_image in inputs:
        applied: dict[str, list[str]] = {}
        scores: dict[str, float] = {}
        for category in MODERATION_CATEGORIES:
            kinds = ["text"] if text else []
            if has_image and category in _IMAGE_CATEGORIES:
                kinds.append("image")
            applied[category] = kinds or ["text"]
            fraction = (
                int.from_bytes(digest("moderation", info.snapshot, text, category)[:8], "big")
                / 2**64
            )
            scores[category] = round(10 ** (-6 + 3 * fraction), 10)
        results.append(
            {
                "flagged": False,
                "categories": dict.fromkeys(MODERATION_CATEGORIES, False),
                "category_scores": scores,
                "category_applied_input_types": applied,
            }
        )
    return {
        "id": "modr-" + digest("moderations", info.snapshot, value).hex()[:32],
        "model": info.snapshot,
        "results": results,
    }


ENDPOINT: Endpoint = Endpoint(
    url=URL,
    label="Moderations",
    required="input",
    model_kinds=("moderation",),
    input_tokens=input_tokens,
    answer=answer,
    default_model=DEFAULT_MODEL,
)
