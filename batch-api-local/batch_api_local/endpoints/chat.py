"""``/v1/chat/completions``: its registry entry, the checks of its body, and its local answer.

A chat request needs ``messages``, is served by chat models, counts its prompt by the cookbook
rule (:func:`..tokens.chat_prompt_tokens`) and is answered with a ``chat.completion``: the
placeholder text (or the JSON the request's ``response_format`` asks for, or a forced tool call)
in ``n`` identical choices, cut by ``max_completion_tokens`` or ``max_tokens`` (after what a
reasoning model spent thinking, :mod:`.reasoning`), with log probabilities when it asks for them
(:mod:`.logprobs`). A request may set one of those two limits, not both: the real API refuses
the pair with a 400, and so does this one. The body's other parameters are checked from a table
(:data:`PARAMETERS`, :mod:`.parameters`) and by what the model is (:mod:`.reasoning`).
"""

from __future__ import annotations

from typing import Any

from .. import errors, formats, tokens
from ..errors import APIError, empty_array, invalid_type, missing_parameter
from ..models import ModelInfo
from . import Endpoint, OutputLimit, Request, parameters, reasoning
from .common import (
    MAX_N,
    answer_budget,
    answers_asked,
    base62,
    chat_usage,
    check_chat_limits,
    check_parts,
    content_text,
    digest,
    generate,
    last_message_text,
    optional_int,
    optional_number,
    placeholder,
)
from .image_inputs import chat_images, check_chat, check_chat_shape
from .logprobs import MAX_TOP_LOGPROBS, token_logprobs
from .parameters import Parameter

URL = "/v1/chat/completions"
CHAT_ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_ROLES_NEEDING_CONTENT = frozenset({"system", "user", "developer", "tool"})
#: the content part types each chat role may send (UNCONFIRMED beyond text and image_url)
CHAT_PART_TYPES: dict[str, tuple[str, ...]] = {
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
}
#: the body fields that limit one answer's output tokens. A request may set one of them: the
#: real API refuses both at once with a 400 (``invalid_parameter_combination``, observed:
#: langchain-ai/langgraph#5943, CherryHQ/cherry-studio#6051), and so does the local server; a
#: cost estimate bounds such a request by the smaller
LIMIT_FIELDS = ("max_completion_tokens", "max_tokens")
#: ``service_tier`` (spec and SDK; the [3P] captures of 2026-08-30 list all but ``scale``)
SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority", "fast")
VERBOSITIES = ("low", "medium", "high")
CACHE_RETENTIONS = ("in_memory", "24h")
#: the body parameters checked from the spec (``CreateChatCompletionRequest``), in order;
#: ``messages``, the output limits, ``n``, ``temperature``, ``top_p``, ``reasoning_effort``,
#: ``response_format``, ``tools`` and ``tool_choice`` are checked in :func:`answer`
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("frequency_penalty", "decimal", minimum=-2, maximum=2),
    Parameter("presence_penalty", "decimal", minimum=-2, maximum=2),
    Parameter("logit_bias", "logit_bias"),
    Parameter("logprobs", "boolean"),
    Parameter("top_logprobs", "integer", minimum=0, maximum=MAX_TOP_LOGPROBS),
    Parameter("seed", "integer", minimum=-(2**63), maximum=2**63 - 1),
    Parameter("stop", "stop", maximum=4),
    Parameter("service_tier", "enum", SERVICE_TIERS),
    Parameter("verbosity", "enum", VERBOSITIES),
    Parameter("modalities", "enum_list", ("text", "audio")),
    Parameter("audio", "object", ("voice", "format")),
    Parameter("audio.voice", "string_or_object"),
    Parameter("audio.format", "enum", ("wav", "aac", "mp3", "flac", "opus", "pcm16")),
    Parameter("prediction", "object", ("type", "content")),
    Parameter("prediction.type", "enum", ("content",)),
    Parameter("web_search_options", "object"),
    Parameter("web_search_options.search_context_size", "enum", ("low", "medium", "high")),
    Parameter(
        "prompt_cache_retention",
        "enum",
        CACHE_RETENTIONS,
        invalid=errors.chat_cache_retention,
    ),
    Parameter("prompt_cache_options", "object"),
    Parameter("prompt_cache_options.ttl", "enum", ("30m",)),
    Parameter("prompt_cache_options.mode", "enum", ("implicit", "explicit")),
    Parameter("prompt_cache_key", "string"),
    Parameter("safety_identifier", "string", maximum=64),
    Parameter("user", "string"),
    Parameter("metadata", "metadata"),
    Parameter("store", "boolean"),
    Parameter("parallel_tool_calls", "boolean"),
)


def input_tokens(body: dict[str, Any], encoding: str) -> int:
    """Prompt tokens of the text of ``messages`` (cookbook rule); its images are counted apart
    (:func:`.image_inputs.image_tokens`)."""
    return tokens.chat_prompt_tokens(body.get("messages"), encoding)


def _check_messages(messages: object) -> list[dict[str, Any]]:
    if not isinstance(messages, list):
        raise invalid_type("messages", "an array of objects", messages)
    if not messages:
        raise empty_array("messages")
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise invalid_type(where, "an object", message)
        role = message.get("role")
        if role is None:
            raise missing_parameter(f"{where}.role")
        if role not in CHAT_ROLES:
            raise errors.invalid_choice(f"{where}.role", role, list(CHAT_ROLES))
        content = message.get("content")
        if content is None and role in _ROLES_NEEDING_CONTENT:
            raise missing_parameter(f"{where}.content")
        if content is not None and not isinstance(content, str | list):
            raise invalid_type(f"{where}.content", "one of a string or array of objects", content)
        if isinstance(content, list):
            check_parts(f"{where}.content", content, CHAT_PART_TYPES.get(role, ("text",)))
            check_chat_shape(content, f"{where}.content")
    return messages


def _output_limit(body: dict[str, Any]) -> tuple[str | None, int | None]:
    """The field that limits the answer and its value (None, None when neither is set).

    Each field set is checked first (an integer, at least 1); then setting both is refused.
    """
    given = [name for name in LIMIT_FIELDS if body.get(name) is not None]
    limits = [optional_int(body, name, 1) for name in given]
    if len(given) > 1:
        raise errors.output_limits_combined()
    if not given:
        return None, None
    return given[0], limits[0]


def _check_logprobs(body: dict[str, Any]) -> int | None:
    """How many alternatives each token's log probabilities list (0 or more), or None when the
    request asks for none; ``top_logprobs`` needs ``logprobs: true``."""
    top = body.get("top_logprobs")
    if top is not None and body.get("logprobs") is not True:
        raise errors.top_logprobs_without_logprobs()
    if body.get("logprobs") is not True:
        return None
    return int(top or 0)


def answer(request: Request) -> dict[str, Any]:
    """A ``chat.completion``; raises :class:`..errors.APIError` for a body the API refuses."""
    info, model, body = request.info, request.model, request.body
    messages = _check_messages(body.get("messages"))
    image_tokens = check_chat(info, chat_images(body))
    effort = reasoning.effort(info, model, body, chat=True)
    parameters.check(body, PARAMETERS)
    top_logprobs = _check_logprobs(body)
    reasoning.refuse_sampling(info, body, effort, chat=True)
    limit_param, limit = _output_limit(body)
    n = optional_int(body, "n", 1, MAX_N) or 1
    optional_number(body, "temperature", 0, 2)
    optional_number(body, "top_p", 0, 1)
    texts = [t for m in messages if (t := content_text(m.get("content"))) is not None]
    fmt = formats.chat_format(body, texts)
    tool = formats.forced_tool(body, chat=True)

    encoding = info.encoding
    prompt_tokens = (
        request.input_tokens
        if request.input_tokens is not None
        else input_tokens(body, encoding) + image_tokens
    )
    check_chat_limits(info, prompt_tokens, limit, limit_param or "max_tokens", "messages")

    quoted = last_message_text(messages)
    thought = reasoning.reasoning_tokens(info, effort, prompt_tokens, limit)
    budget = answer_budget(info, limit, thought)
    code = digest("chat", body)
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    if tool is not None:
        arguments = formats.tool_arguments(tool)
        name_tokens = tokens.count_tokens(tool.name, encoding)
        used = name_tokens + tokens.count_tokens(arguments, encoding)
        cut = used > budget
        if cut:  # the call is cut off where the limit falls, as a text answer would be
            arguments = tokens.truncate_to_tokens(arguments, max(budget - name_tokens, 0), encoding)
            used = budget
        message["tool_calls"] = [
            {
                "id": "call_" + base62(code, 24),
                "type": "function",
                "function": {"name": tool.name, "arguments": arguments},
            }
        ]
        # a named function ends "stop", "required" ends "tool_calls" (vllm-project/vllm#25054)
        finish_reason = "length" if cut else ("stop" if tool.named else "tool_calls")
    else:
        text = formats.json_content(fmt, model=model, quoted=quoted, texts=texts) or placeholder(
            model, "Your last message was:", quoted, prompt_tokens
        )
        content, used, cut = generate(text, budget, encoding)
        message["content"] = content
        finish_reason = "length" if cut else "stop"
    message["annotations"] = []
    logprobs: dict[str, Any] | None = None
    if top_logprobs is not None:
        content_logprobs = token_logprobs(message["content"] or "", encoding, top_logprobs, code)
        logprobs = {"content": content_logprobs, "refusal": None}
    choices: list[dict[str, Any]] = [
        {
            "index": index,
            "message": message,
            "logprobs": logprobs,
            "finish_reason": finish_reason,
        }
        for index in range(n)
    ]
    return {
        "id": "chatcmpl-" + base62(code, 29),
        "object": "chat.completion",
        "created": request.now,
        "model": info.snapshot,
        "choices": choices,
        "usage": chat_usage(prompt_tokens, (used + thought) * n, thought * n),
        "service_tier": "default",
        "system_fingerprint": None,
    }


def _wrong_model(model: str, info: ModelInfo) -> APIError:
    return errors.not_a_chat_model()


ENDPOINT: Endpoint = Endpoint(
    url=URL,
    label="Chat Completions",
    required="messages",
    model_kinds=("chat",),
    input_tokens=input_tokens,
    answer=answer,
    output=OutputLimit(fields=LIMIT_FIELDS, answers=answers_asked),
    images=chat_images,
    wrong_model=_wrong_model,
)
