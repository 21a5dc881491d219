"""What the endpoints' local answers share: parameter checks, placeholder text, output limits.

The local server never calls a model. The endpoints that write text (chat completions,
Responses, completions) answer with a placeholder that says plainly it came from the local
server, quotes the prompt and reports its token count (:func:`placeholder`); an output limit cuts
it the way a model is cut off (:func:`generate`), after what a reasoning model spent thinking
(:func:`answer_budget`; how much it thinks is :mod:`.reasoning`'s). Also here: the checks of
integer and decimal parameters in the real API's words, the ``usage`` block of chat completions
and completions, and the stable digests every id and every derived value comes from, so that
the same request always gets the same answer.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from .. import errors, tokens
from ..errors import invalid_type, missing_parameter
from ..models import ModelInfo

QUOTE_CHARS = 200
#: the most answers (``n``) one chat or completions request may ask for
MAX_N = 128
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# -- parameters ----------------------------------------------------------------------------------


def is_int(value: object) -> bool:
    """An integer, and not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """An integer or a float, and not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def optional_int(
    body: dict[str, Any], name: str, minimum: int, maximum: int | None = None
) -> int | None:
    """Check an integer parameter and return it (None when absent)."""
    value = body.get(name)
    if value is None:
        return None
    if not is_int(value):
        raise invalid_type(name, "an integer", value)
    if value < minimum:
        raise errors.integer_out_of_range(name, value, minimum, above=False)
    if maximum is not None and value > maximum:
        raise errors.integer_out_of_range(name, value, maximum, above=True)
    return int(value)


def optional_number(body: dict[str, Any], name: str, minimum: float, maximum: float) -> float:
    """Check a sampling parameter and return it (1.0 when absent)."""
    value = body.get(name)
    if value is None:
        return 1.0
    if not is_number(value):
        raise invalid_type(name, "a decimal", value)
    if math.isnan(value):
        raise errors.nan_value(name)
    if value < minimum:
        raise errors.decimal_out_of_range(name, value, minimum, above=False)
    if value > maximum:
        raise errors.decimal_out_of_range(name, value, maximum, above=True)
    return float(value)


def check_parts(where: str, parts: list[Any], supported: tuple[str, ...]) -> None:
    """Each content part is an object whose ``type`` is one the role may send."""
    for index, part in enumerate(parts):
        if not isinstance(part, dict):
            raise invalid_type(f"{where}[{index}]", "an object", part)
        kind = part.get("type")
        if kind is None:
            raise missing_parameter(f"{where}[{index}].type")
        if not isinstance(kind, str):
            raise invalid_type(f"{where}[{index}].type", "a string", kind)
        if kind not in supported:
            raise errors.invalid_part_type(f"{where}[{index}].type", kind, list(supported))


def text_or_token_inputs(value: object, param: str) -> list[str | list[int]]:
    """Normalise a completions ``prompt`` or embeddings ``input`` to a list of units.

    A unit is a string or one array of token ids.
    """
    expected = (
        "one of a string, array of strings, array of integers, or array of arrays of integers"
    )
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise invalid_type(param, expected, value)
    if not value:
        raise errors.empty_array(param)
    if all(is_int(v) for v in value):
        return [list(value)]
    units: list[str | list[int]] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            units.append(item)
        elif isinstance(item, list) and item and all(is_int(v) for v in item):
            units.append(list(item))
        else:
            raise invalid_type(f"{param}[{index}]", "a string or an array of integers", item)
    return units


def answers_asked(body: Mapping[str, Any]) -> int:
    """How many answers a request asks for (``n``, 1 when absent or not an integer)."""
    n = body.get("n")
    return max(n, 1) if isinstance(n, int) and not isinstance(n, bool) else 1


# -- ids and derived values ----------------------------------------------------------------------


def digest(*parts: object) -> bytes:
    """A stable sha256 of JSON-able values (anything else is hashed by its repr)."""
    payload = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(payload.encode("utf-8")).digest()


def base62(data: bytes, length: int) -> str:
    """``length`` base62 characters taken from ``data``."""
    number = int.from_bytes(data, "big")
    chars: list[str] = []
    while len(chars) < length:
        number, rest = divmod(number, 62)
        chars.append(_BASE62[rest])
    return "".join(chars)


# -- the placeholder text ------------------------------------------------------------------------


def quote(text: str) -> str:
    """Whitespace-collapsed text, cut to about QUOTE_CHARS characters."""
    flat = " ".join(text.split())
    if len(flat) <= QUOTE_CHARS:
        return flat
    return flat[:QUOTE_CHARS].rstrip() + "…"


def content_text(content: object) -> str | None:
    """The text of a message content: a string or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts: list[str] = [
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
        texts += [part for part in content if isinstance(part, str)]
        if texts:
            return " ".join(texts)
    return None


def last_message_text(messages: list[Any]) -> str | None:
    """The last user message's text, else the last message with any text."""
    dicts = [m for m in messages if isinstance(m, dict)]
    for wanted_user in (True, False):
        for message in reversed(dicts):
            if wanted_user and message.get("role") != "user":
                continue
            text = content_text(message.get("content"))
            if text is not None and text.strip():
                return text
    return None


def placeholder(model: str, label: str, quoted: str | None, prompt_tokens: int) -> str:
    """The text the local server answers with: who wrote it, the prompt quoted, its tokens."""
    head = (
        "[local server] This is a placeholder reply generated by the local Batch API server, "
        f"not by {model}."
    )
    if quoted is None:
        middle = f"Your request had no text to quote ({prompt_tokens} prompt tokens)."
    else:
        middle = f'{label} "{quote(quoted)}" ({prompt_tokens} prompt tokens).'
    return f"{head} {middle} Switch to live mode for real answers."


# -- output limits -------------------------------------------------------------------------------


def generate(text: str, limit: int | None, encoding: str) -> tuple[str, int, bool]:
    """Apply an output-token limit: (text, output tokens, was it cut)."""
    count = tokens.count_tokens(text, encoding)
    if limit is not None and count > limit:
        return tokens.truncate_to_tokens(text, limit, encoding), limit, True
    return text, count, False


def chat_usage(
    prompt_tokens: int, completion_tokens: int, reasoning_tokens: int = 0
) -> dict[str, Any]:
    """The ``usage`` block of chat completions and completions."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def check_chat_limits(
    info: ModelInfo,
    prompt_tokens: int,
    requested: int | None,
    param: str,
    prompt_param: str,
) -> None:
    """The context-window and output-size checks of chat completions and Responses."""
    window = info.context_window
    if requested is None:
        if prompt_tokens > window:
            raise errors.context_length_exceeded(window, prompt_tokens, prompt_param)
        return
    # the output limit is checked first, as the real API does
    if requested > info.max_output_tokens:
        raise errors.output_limit_exceeded(param, requested, info.max_output_tokens)
    if prompt_tokens + requested > window:
        raise errors.context_and_completion_exceeded(window, prompt_tokens, requested, prompt_param)


def answer_budget(info: ModelInfo, limit: int | None, reasoning: int) -> int:
    """The tokens left for the visible answer: the request's limit, or the model's maximum
    output when it sets none, less what the model spent reasoning."""
    cap = limit if limit is not None else info.max_output_tokens
    return max(cap - reasoning, 0)
