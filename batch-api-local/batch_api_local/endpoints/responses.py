"""``/v1/responses``: its registry entry, the checks of its body, and its local answer.

A Responses request needs ``input``, is served by chat models, counts ``instructions`` as a
developer message and a string ``input`` as a user message (so a conversation costs the same
through either chat endpoint), and is answered with a ``response`` object: a reasoning item for
a model that reasons (with a placeholder summary when one is asked for, :mod:`.reasoning`), then
a message (the placeholder, or the JSON ``text.format`` asks for; with log probabilities when
``include`` asks for them, :mod:`.logprobs`) or a forced function call, cut by
``max_output_tokens`` (``status: "incomplete"``). The body's other parameters are checked from a
table (:data:`PARAMETERS`, :mod:`.parameters`) and by what the model is (:mod:`.reasoning`). The
reply echoes what the request asked for (format, tools, sampling, reasoning, metadata).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import errors, formats, tokens
from ..errors import empty_array, invalid_type
from ..models import ModelInfo
from . import Endpoint, OutputLimit, Request, parameters, reasoning
from .common import (
    answer_budget,
    base62,
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
from .image_inputs import check_responses, responses_images
from .logprobs import MAX_TOP_LOGPROBS, token_logprobs
from .parameters import Parameter

URL = "/v1/responses"
#: the body field that limits the answer's output tokens, and the smallest value it may take
LIMIT_FIELD = "max_output_tokens"
MIN_OUTPUT_TOKENS = 16
PART_TYPES = (
    "input_text",
    "input_image",
    "input_file",
    "input_audio",
    "output_text",
    "refusal",
)
#: ``service_tier`` (spec; the SDK's ``responses/service_tier.py``)
SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority", "fast", "ultrafast")
#: what ``include`` may ask for (``ResponseIncludable`` in the SDK, the spec's enum)
INCLUDABLE = (
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    reasoning.LOGPROBS_INCLUDE,
)
#: the body parameters checked from the spec (``CreateResponse``), in order. Chat's own
#: parameters are not Responses' ([3P] captures of 2026-08-30: ``Unknown parameter: 'n'.``),
#: and three of them have moved (observed). ``input``, ``instructions``,
#: ``previous_response_id``, ``max_output_tokens``, ``temperature``, ``top_p``,
#: ``reasoning.effort``, ``text.format``, ``tools`` and ``tool_choice`` are checked in
#: :func:`answer`
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("messages", "moved", ("input",)),
    Parameter("response_format", "moved", ("text.format",)),
    Parameter("reasoning_effort", "moved", ("reasoning.effort",)),
    Parameter("n", "unknown"),
    Parameter("stop", "unknown"),
    Parameter("seed", "unknown"),
    Parameter("logprobs", "unknown"),
    Parameter("max_tokens", "unknown"),
    Parameter("max_completion_tokens", "unknown"),
    Parameter("include", "enum_list", INCLUDABLE),
    Parameter("metadata", "metadata"),
    Parameter("text", "object"),
    Parameter("text.verbosity", "enum", ("low", "medium", "high")),
    Parameter("parallel_tool_calls", "boolean"),
    Parameter("background", "boolean"),
    Parameter("max_tool_calls", "integer", minimum=1),
    Parameter("reasoning", "object"),
    Parameter("reasoning.summary", "enum", reasoning.SUMMARIES),
    Parameter("reasoning.generate_summary", "enum", reasoning.SUMMARIES),
    Parameter("reasoning.context", "enum", ("auto", "current_turn", "all_turns")),
    Parameter("reasoning.mode", "string"),
    Parameter("user", "string"),
    Parameter("safety_identifier", "string", maximum=64),
    Parameter("prompt_cache_options", "object"),
    Parameter("prompt_cache_options.ttl", "enum", ("30m", "12h")),
    Parameter("prompt_cache_options.mode", "enum", ("implicit", "explicit")),
    Parameter("prompt_cache_key", "string"),
    Parameter("prompt_cache_retention", "enum", ("in_memory", "24h")),
    Parameter("truncation", "enum", ("auto", "disabled")),
    Parameter("store", "boolean"),
    Parameter("service_tier", "enum", SERVICE_TIERS),
    Parameter("top_logprobs", "integer", minimum=0, maximum=MAX_TOP_LOGPROBS),
)


def input_tokens(body: dict[str, Any], encoding: str) -> int:
    """Tokens of the text of ``instructions`` and ``input``, framed as chat messages; images are
    counted apart (:func:`.image_inputs.image_tokens`)."""
    return tokens.chat_prompt_tokens(tokens.responses_input_messages(body), encoding)


def _check_input(value: object) -> None:
    if isinstance(value, list):
        if not value:
            raise empty_array("input")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise invalid_type(f"input[{index}]", "an object", item)
            kind = item.get("type")
            if kind is not None and not isinstance(kind, str):
                raise invalid_type(f"input[{index}].type", "a string", kind)
            content = item.get("content")
            if isinstance(content, list):
                check_parts(f"input[{index}].content", content, PART_TYPES)
    elif not isinstance(value, str):
        raise invalid_type("input", "one of a string or array of input items", value)


def _echo_bool(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    return value if isinstance(value, bool) else default


def _echo_verbosity(body: dict[str, Any]) -> str:
    text = body.get("text")
    verbosity = text.get("verbosity") if isinstance(text, dict) else None
    return verbosity if isinstance(verbosity, str) else "medium"


def _echo_reasoning(body: dict[str, Any], effort: str | None) -> dict[str, Any]:
    """The ``reasoning`` a Responses reply carries: the effort used (the one asked, or the
    model's default) and the summary asked for."""
    asked: dict[str, Any] = body["reasoning"] if isinstance(body.get("reasoning"), dict) else {}
    return {"effort": effort, "summary": asked.get("summary")}


def _echo_tools(body: dict[str, Any]) -> list[Any]:
    """The tools as sent, function tools with the fields the real API fills in."""
    tools = body.get("tools")
    if not isinstance(tools, list):
        return []
    echoed = []
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type") == "function":
            tool = {"description": None, "strict": True, "parameters": None, **tool}
        echoed.append(tool)
    return echoed


def _reasoning_item(
    info: ModelInfo, body: dict[str, Any], code: bytes, effort: str | None, spent: int
) -> list[dict[str, Any]]:
    """A reasoning model's output starts with a reasoning item, unless it did not reason
    (effort ``none``); its summary is a placeholder when one is asked for, else empty."""
    if not info.reasoning or effort in (None, "none"):
        return []
    summary = reasoning.summary(reasoning.asked_summary(body), effort, spent)
    return [{"type": "reasoning", "id": "rs_" + code.hex()[:48], "summary": summary}]


def _wants_logprobs(body: dict[str, Any]) -> bool:
    include = body.get("include")
    return isinstance(include, list) and reasoning.LOGPROBS_INCLUDE in include


def answer(request: Request) -> dict[str, Any]:
    """A ``response``; raises :class:`..errors.APIError` for a body the API refuses."""
    info, model, body = request.info, request.model, request.body
    value = body.get("input")
    _check_input(value)
    images = responses_images(body)
    image_tokens = check_responses(info, images, request.files)
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise invalid_type("instructions", "a string", instructions)
    previous = body.get("previous_response_id")
    if previous is not None:
        raise errors.previous_response_not_found(previous)
    parameters.check(body, PARAMETERS)
    effort = reasoning.effort(info, model, body, chat=False)
    reasoning.refuse_sampling(info, body, effort, chat=False)
    limit = optional_int(body, LIMIT_FIELD, MIN_OUTPUT_TOKENS)
    temperature = optional_number(body, "temperature", 0, 2)
    top_p = optional_number(body, "top_p", 0, 1)
    top_logprobs = int(body.get("top_logprobs") or 0)
    items: list[Any] = value if isinstance(value, list) else [{"content": value}]
    input_texts = [t for item in items if (t := content_text(item.get("content"))) is not None]
    fmt = formats.responses_format(body, input_texts)
    tool = formats.forced_tool(body, chat=False)

    encoding = info.encoding
    # an image given by a file was counted unseen at validation: now that it has been read,
    # the request is counted again
    read_files = request.files is not None and any(ref.file_id is not None for ref in images)
    counted = (
        request.input_tokens
        if request.input_tokens is not None and not read_files
        else input_tokens(body, encoding) + image_tokens
    )
    if limit is None and counted > info.context_window:
        raise errors.responses_context_exceeded()
    check_chat_limits(info, counted, limit, LIMIT_FIELD, "input")

    quoted = value if isinstance(value, str) else last_message_text(items)
    if quoted is not None and not quoted.strip():
        quoted = None
    thought = reasoning.reasoning_tokens(info, effort, counted, limit)
    budget = answer_budget(info, limit, thought)
    created = request.now
    code = digest("responses", body)
    if tool is not None:
        # the call is cut off where the limit falls, as a text answer would be
        arguments, output_tokens, cut = generate(formats.tool_arguments(tool), budget, encoding)
        reply: dict[str, Any] = {
            "type": "function_call",
            "id": "fc_" + code.hex()[16:64],
            "call_id": "call_" + base62(code, 24),
            "name": tool.name,
            "arguments": arguments,
            "status": "incomplete" if cut else "completed",
        }
    else:
        prompt_texts = [instructions, *input_texts] if instructions else input_texts
        text = formats.json_content(
            fmt, model=model, quoted=quoted, texts=prompt_texts
        ) or placeholder(model, "Your last message was:", quoted, counted)
        text, output_tokens, cut = generate(text, budget, encoding)
        logprobs = (
            token_logprobs(text, encoding, top_logprobs, code) if _wants_logprobs(body) else []
        )
        reply = {
            "type": "message",
            "id": "msg_" + code.hex()[16:64],
            "status": "incomplete" if cut else "completed",
            "role": "assistant",
            "content": [
                {"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs}
            ],
        }
    output_tokens += thought
    status = "incomplete" if cut else "completed"
    metadata = body.get("metadata") or {}  # checked with the other parameters

    def echo(name: str) -> str | None:
        item = body.get(name)
        return item if isinstance(item, str) else None

    store = body.get("store")
    return {
        "id": "resp_" + code.hex()[:48],
        "object": "response",
        "created_at": created,
        "status": status,
        "background": False,
        "completed_at": None if cut else created,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
        "instructions": instructions,
        "max_output_tokens": limit,
        "max_tool_calls": None,
        "model": info.snapshot,
        "output": [*_reasoning_item(info, body, code, effort, thought), reply],
        "parallel_tool_calls": _echo_bool(body, "parallel_tool_calls", True),
        "previous_response_id": None,
        "prompt_cache_key": echo("prompt_cache_key"),
        "reasoning": _echo_reasoning(body, effort),
        "safety_identifier": echo("safety_identifier"),
        "service_tier": "default",
        "store": store if isinstance(store, bool) else True,
        "temperature": temperature,
        "text": {"format": fmt.echo, "verbosity": _echo_verbosity(body)},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": _echo_tools(body),
        "top_logprobs": top_logprobs,
        "top_p": top_p,
        "truncation": echo("truncation") or "disabled",
        "usage": {
            "input_tokens": counted,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": thought},
            "total_tokens": counted + output_tokens,
        },
        "user": echo("user"),
        "metadata": metadata,
    }


def _one_answer(body: Mapping[str, Any]) -> int:
    return 1  # Responses has no ``n``


ENDPOINT: Endpoint = Endpoint(
    url=URL,
    label="Responses",
    required="input",
    model_kinds=("chat", "responses"),
    input_tokens=input_tokens,
    answer=answer,
    output=OutputLimit(fields=(LIMIT_FIELD,), answers=_one_answer),
    images=responses_images,
)
