"""Log probabilities for a local answer, in the shape the real endpoints return them.

When a request asks for them (chat's ``logprobs: true``, Responses'
``include: ["message.output_text.logprobs"]``), every token of the answer's text (as the model's
tokenizer splits it, :mod:`..tokens`) gets an entry: the token, its UTF-8 ``bytes``, a
``logprob`` and ``top_logprobs``, the ``top_logprobs`` most likely tokens at that position
(exactly as many as asked, the answer's own token among them, sorted from most to least
likely), each with its token, bytes and logprob. A token that holds only part of a UTF-8
character is written ``bytes:\\xe2\\x80`` as the real API writes it.

The numbers are made up but behave: every logprob is below 0, the probabilities at one position
add up to less than 1, the answer's token is the likeliest (a probability between about 0.4 and
1, so it comes first in ``top_logprobs``), and the same request always gets the same numbers. The alternatives come from a fixed
list of common tokens: they are not what a model would have said instead.
"""

from __future__ import annotations

import math
from typing import Any

from .. import tokens
from .common import digest

__all__ = ["ALTERNATIVES", "MAX_TOP_LOGPROBS", "token_logprobs"]

#: the most alternatives a request may ask for at each position (``top_logprobs``, 0..20)
MAX_TOP_LOGPROBS = 20
#: the tokens offered as alternatives: common, each one token in o200k_base and cl100k_base
ALTERNATIVES = (
    " the", " a", " and", "The", ",", ".", " of", " to", " is", " in", " it", " that", " for",
    " you", " on", " with", " as", " this", " be", " not", " are", "\n", " I", " yes", " no",
    "Yes", "No", "A", " was", " but", " or", " at", " by", ":", '"', " we",
)  # fmt: skip
#: the answer's token has a logprob between -LIKELIEST_SPREAD and 0 (less a hair): likelier
#: than any alternative, which takes at most ALTERNATIVE_SHARE of the rest
LIKELIEST_SPREAD = 0.9
#: each alternative takes this share of the probability the tokens before it left over
ALTERNATIVE_SHARE = 0.6


def _unit(*parts: object) -> float:
    """A stable number in [0, 1) from ``parts``."""
    return int.from_bytes(digest(*parts)[:8], "big") / 2**64


def _token_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes:" + "".join(f"\\x{byte:02x}" for byte in raw)


def _entry(token: str, raw: bytes, logprob: float) -> dict[str, Any]:
    return {"token": token, "bytes": list(raw), "logprob": logprob}


def _position(seed: bytes, position: int, token: str, raw: bytes, top: int) -> dict[str, Any]:
    chosen = -(_unit(seed, position) ** 3) * LIKELIEST_SPREAD - 1e-6
    entry = _entry(token, raw, chosen)
    alternatives: list[dict[str, Any]] = []
    if top > 0:
        ranked = sorted(
            (t for t in ALTERNATIVES if t != token),
            key=lambda t: digest(seed, position, t),
        )
        left = 1.0 - math.exp(chosen)
        for rank, other in enumerate(ranked[: top - 1]):
            share = left * ALTERNATIVE_SHARE * (1 - ALTERNATIVE_SHARE) ** rank
            alternatives.append(_entry(other, other.encode("utf-8"), math.log(share)))
        alternatives.append(dict(entry))
        alternatives.sort(key=lambda item: -item["logprob"])
    return {**entry, "top_logprobs": alternatives}


def token_logprobs(text: str, encoding: str, top: int, seed: bytes) -> list[dict[str, Any]]:
    """One entry per token of ``text`` in ``encoding``, each with ``top`` alternatives.

    ``top`` is the request's ``top_logprobs`` (0 gives empty ``top_logprobs`` lists); ``seed``
    makes the numbers of one request differ from another's.
    """
    ids = tokens.encode(text, encoding)
    pieces = tokens.token_bytes(ids, encoding)
    top = max(min(top, MAX_TOP_LOGPROBS), 0)
    return [
        _position(seed, position, _token_text(raw), raw, top) for position, raw in enumerate(pieces)
    ]
