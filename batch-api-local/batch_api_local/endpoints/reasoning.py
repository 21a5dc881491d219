"""What a reasoning model makes of a request: its effort, what it refuses, how long it thinks.

A request's effort is the one it sets (chat's ``reasoning_effort``, Responses'
``reasoning.effort``) or the model's default (:attr:`..models.ModelInfo.default_effort`); it
must be one the model takes (:attr:`..models.ModelInfo.efforts`), refused otherwise in each
endpoint's own words (:func:`effort`). While a model reasons (any effort but ``none``) it
refuses sampling other than the default: ``temperature``, ``top_p``, log probabilities, the
penalties and ``logit_bias`` (:func:`refuse_sampling`); at effort ``none`` it takes them as a
model that does not reason would. ``max_tokens`` is refused by chat whatever the effort.

The local server never thinks, but it bills thinking as a model would: :func:`reasoning_tokens`
grows with the effort and the prompt, deterministically, within the request's output limit. A
Responses request that asks for a summary gets one that says it is a placeholder
(:func:`summary`).
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..models import ModelInfo, resolve_model

__all__ = [
    "EFFORTS",
    "SUMMARIES",
    "THINKING",
    "asked_summary",
    "effort",
    "reasoning_tokens",
    "refuse_sampling",
    "summary",
]

#: every ``reasoning_effort`` the spec knows, in order of effort (``ReasoningEffort`` in the SDK)
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
#: the ``reasoning.summary`` values (``Reasoning.summary`` in the SDK)
SUMMARIES = ("auto", "concise", "detailed")
#: what a local model thinks at each effort, before the prompt's share: ``base`` tokens, plus
#: ``base`` more for every ``PROMPT_TOKENS_PER_BASE`` prompt tokens, at most
#: ``CEILING_TIMES`` × ``base`` (and never past the request's limit)
THINKING: dict[str, int] = {
    "none": 0,
    "minimal": 16,
    "low": 64,
    "medium": 128,
    "high": 256,
    "xhigh": 512,
    "max": 1024,
}
PROMPT_TOKENS_PER_BASE = 1280
CEILING_TIMES = 32
#: the sampling parameters a reasoning model takes only at their default, and that default
_SAMPLING_DEFAULTS = (("temperature", 1), ("top_p", 1))
_PENALTIES = ("frequency_penalty", "presence_penalty")
#: what Responses' ``include`` asks for to get log probabilities
LOGPROBS_INCLUDE = "message.output_text.logprobs"


def _asked(body: dict[str, Any], *, chat: bool) -> Any:
    if chat:
        return body.get("reasoning_effort")
    reasoning = body.get("reasoning")
    return reasoning.get("effort") if isinstance(reasoning, dict) else None


def effort(info: ModelInfo, model: str, body: dict[str, Any], *, chat: bool) -> str | None:
    """The request's effort: the one it sets, else the model's default (None for a model that
    does not reason and a request that sets none).

    Raises :class:`..errors.APIError`, as the real endpoint does, for an effort that is not one
    of the spec's (Responses: ``invalid_value``; chat checks the model's values only), one the
    model does not take (``unsupported_value``), or any effort for a model that does not reason
    (``unsupported_parameter``). A model the catalog does not know (``--any-model``) takes any of
    the spec's efforts.
    """
    asked = _asked(body, chat=chat)
    if asked is None:
        return info.default_effort
    param = "reasoning_effort" if chat else "reasoning.effort"
    if not chat:  # Responses checks the spec's enum first, then the model
        if not isinstance(asked, str):
            raise errors.responses_effort_type(EFFORTS, asked)
        if asked not in EFFORTS:
            raise errors.invalid_enum(param, asked, EFFORTS)
    if resolve_model(model) is None:  # a stand-in: nothing is known of its efforts
        if asked not in EFFORTS:
            raise errors.effort_unsupported(asked, EFFORTS)
        return str(asked)
    if not info.reasoning:
        raise errors.unsupported_parameter(param)
    if asked not in info.efforts:
        if chat:
            raise errors.effort_unsupported(asked, info.efforts)
        raise errors.responses_effort_unsupported(asked, model, info.efforts)
    return str(asked)


def refuse_sampling(
    info: ModelInfo, body: dict[str, Any], effort: str | None, *, chat: bool
) -> None:
    """What a reasoning model refuses, in the words of the endpoint: chat's ``max_tokens``
    always; while it reasons (effort other than ``none``), ``temperature`` and ``top_p`` other
    than 1, and log probabilities; in chat also the penalties other than 0 and a ``logit_bias``
    that biases any token."""
    if not info.reasoning:
        return
    if chat and body.get("max_tokens") is not None:
        raise errors.unsupported_parameter("max_tokens", "Use 'max_completion_tokens' instead.")
    if effort == "none":
        return
    for name, default in _SAMPLING_DEFAULTS:
        value = body.get(name)
        if value is None or value == default:
            continue
        if chat:
            raise errors.unsupported_value(name, value)
        raise errors.unsupported_parameter(name)
    if chat:
        if body.get("logprobs") is True:
            raise errors.unsupported_parameter("logprobs")
        for name in _PENALTIES:
            if body.get(name) not in (None, 0):
                raise errors.unsupported_parameter(name)
        if body.get("logit_bias"):
            raise errors.unsupported_parameter("logit_bias")
        return
    include = body.get("include")
    if isinstance(include, list) and LOGPROBS_INCLUDE in include:
        raise errors.logprobs_while_reasoning("include")
    if body.get("top_logprobs") not in (None, 0):
        raise errors.logprobs_while_reasoning("top_logprobs")


def reasoning_tokens(
    info: ModelInfo, effort: str | None, prompt_tokens: int, limit: int | None
) -> int:
    """The tokens a model spends thinking before it answers.

    0 for a model that does not reason or at effort ``none``; otherwise ``base × (1 +
    prompt_tokens / 1,280)`` for the effort's ``base`` (:data:`THINKING`: 16 at ``minimal``,
    64 ``low``, 128 ``medium``, 256 ``high``, 512 ``xhigh``, 1,024 ``max``), rounded down, at
    most 32 × ``base`` and the model's maximum output, and never past ``limit`` (the request's
    output limit), which may leave the answer no room at all.
    """
    if not info.reasoning or effort is None:
        return 0
    base = THINKING.get(effort, THINKING["medium"])
    thought = min(
        base + base * max(prompt_tokens, 0) // PROMPT_TOKENS_PER_BASE,
        CEILING_TIMES * base,
        info.max_output_tokens,
    )
    return thought if limit is None else max(min(thought, limit), 0)


def asked_summary(body: dict[str, Any]) -> str | None:
    """The summary a Responses request asks for (``reasoning.summary``, or the deprecated
    ``reasoning.generate_summary``), or None."""
    reasoning = body.get("reasoning")
    if not isinstance(reasoning, dict):
        return None
    for name in ("summary", "generate_summary"):
        value = reasoning.get(name)
        if value in SUMMARIES:
            return str(value)
    return None


def summary(kind: str | None, effort: str | None, spent: int) -> list[dict[str, str]]:
    """The ``summary`` of a reasoning item: empty unless a summary is asked for; otherwise one
    ``summary_text`` that says plainly no model reasoned (``detailed`` also says what the
    reasoning tokens stand for)."""
    if kind is None:
        return []
    text = (
        "[local server] A placeholder, not a summary of a model's reasoning: the local Batch "
        "API server ran no model and did no reasoning."
    )
    if kind == "detailed":
        text += (
            f" The {spent} reasoning tokens in usage are counted by a formula from the effort "
            f"('{effort}') and the prompt's length. Switch to live mode for real summaries."
        )
    return [{"type": "summary_text", "text": text}]
