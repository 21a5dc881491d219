"""``/v1/completions`` (the legacy endpoint): its registry entry, body checks and local answer.

A completions request needs a ``prompt`` (a string, a list of strings, one array of token ids,
or a list of them), is served by completion models (``gpt-3.5-turbo-instruct``), counts each
prompt's tokens (a token array counts its length), and is answered with a ``text_completion``:
``n`` placeholder choices per prompt, each cut at ``max_tokens``, which is 16 when the request
sets none, as on the real API (OpenAI's spec: ``CreateCompletionRequest.max_tokens`` defaults
to 16; the context window must hold it too). The answer reuses the count made at validation for
one prompt; a list of prompts is counted again, prompt by prompt, since each must fit the
context window alone. A cost estimate bounds each answer as the answer is cut, and counts
``best_of`` answers, which are generated, and billed, to pick one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import errors, tokens
from ..errors import APIError
from ..models import ModelInfo
from . import Endpoint, OutputLimit, Request
from .common import (
    MAX_N,
    answers_asked,
    base62,
    chat_usage,
    digest,
    generate,
    is_int,
    optional_int,
    optional_number,
    placeholder,
    text_or_token_inputs,
)

URL = "/v1/completions"
#: what one answer may write when a request sets no ``max_tokens`` (the spec's default), for the
#: answer and the cost estimate alike
DEFAULT_MAX_TOKENS = 16


def input_tokens(body: dict[str, Any], encoding: str) -> int:
    """Tokens of every prompt together."""
    return tokens.text_or_token_list_tokens(body.get("prompt"), encoding)


def answer(request: Request) -> dict[str, Any]:
    """A ``text_completion``; raises :class:`..errors.APIError` for a body the API refuses."""
    info, model, body = request.info, request.model, request.body
    prompts = text_or_token_inputs(body.get("prompt"), "prompt")
    given = optional_int(body, "max_tokens", 0)
    limit = DEFAULT_MAX_TOKENS if given is None else given
    n = optional_int(body, "n", 1, MAX_N) or 1
    optional_number(body, "temperature", 0, 2)
    optional_number(body, "top_p", 0, 1)

    encoding = info.encoding
    if len(prompts) == 1 and request.input_tokens is not None:
        counts = [request.input_tokens]  # one prompt: the count made at validation
    else:  # each prompt must fit the context window alone: a list of prompts is counted here
        counts = [
            len(p) if isinstance(p, list) else tokens.count_tokens(p, encoding) for p in prompts
        ]
    for count in counts:
        if count + limit > info.context_window:
            raise errors.legacy_context_exceeded(info.context_window, count, limit)
    if limit > info.max_output_tokens:
        raise errors.output_limit_exceeded("max_tokens", limit, info.max_output_tokens)

    choices: list[dict[str, Any]] = []
    completion_tokens = 0
    for prompt, count in zip(prompts, counts, strict=True):
        quoted = prompt if isinstance(prompt, str) else tokens.decode(prompt, encoding)
        if quoted is not None and not quoted.strip():
            quoted = None
        text = placeholder(model, "Your prompt was:", quoted, count)
        text, used, cut = generate(text, limit, encoding)
        for _ in range(n):
            choices.append(
                {
                    "text": text,
                    "index": len(choices),
                    "logprobs": None,
                    "finish_reason": "length" if cut else "stop",
                }
            )
            completion_tokens += used
    return {
        "id": "cmpl-" + base62(digest("completions", body), 29),
        "object": "text_completion",
        "created": request.now,
        "model": info.snapshot,
        "choices": choices,
        "usage": chat_usage(sum(counts), completion_tokens),
        "system_fingerprint": None,
    }


def prompt_count(value: object) -> int:
    """How many prompts a ``prompt`` holds (one string or one token array is one)."""
    if isinstance(value, list) and value and not all(is_int(v) for v in value):
        return len(value)
    return 1


def _answers(body: Mapping[str, Any]) -> int:
    """``n`` answers per prompt, or ``best_of`` when more: they are generated to pick from."""
    best_of = body.get("best_of")
    per_prompt = answers_asked(body)
    if isinstance(best_of, int) and not isinstance(best_of, bool):
        per_prompt = max(per_prompt, best_of)
    return per_prompt * prompt_count(body.get("prompt"))


def _wrong_model(model: str, info: ModelInfo) -> APIError:
    if info.kind in ("chat", "responses"):
        return errors.chat_model_in_completions()
    return errors.endpoint_unsupported(model, URL)


ENDPOINT: Endpoint = Endpoint(
    url=URL,
    label="Completions",
    required="prompt",
    model_kinds=("completion",),
    input_tokens=input_tokens,
    answer=answer,
    output=OutputLimit(fields=("max_tokens",), answers=_answers, default=DEFAULT_MAX_TOKENS),
    wrong_model=_wrong_model,
)
