"""Deterministic answers for the local Batch API server.

The local server never calls a model. For every batch line (and every direct
request) it asks :class:`LocalResponder` for the reply the real endpoint would
send, and this module builds one with the exact shape of OpenAI's JSON:

* chat completions, legacy completions and Responses get a short placeholder
  text that says plainly it was written by the local server, quotes the prompt
  and reports how many tokens the prompt was;
* embeddings are unit vectors derived from a hash of the model and the input;
* moderations never flag anything and report tiny, stable scores.

The same request always gets the same reply (apart from the ``created``
timestamp), token counts in ``usage`` are real counts from the model's
tokenizer, and the limits the real API enforces (context window, maximum output
tokens, required parameters, unknown models) produce the real error envelopes.
None of this says anything about what a model would answer: switch to live mode
for that.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import errors, formats, tokens
from .errors import APIError, empty_array, invalid_type, missing_parameter
from .models import ModelInfo, resolve_model, stand_in

__all__ = ["MODERATION_CATEGORIES", "LocalResponder"]

# The categories of openai.types.moderation.Categories (by their wire names).
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
# Categories whose score may also come from an image (omni-moderation).
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

DEFAULT_MODERATION_MODEL = "omni-moderation-latest"
QUOTE_CHARS = 200
RESPONSES_MIN_OUTPUT_TOKENS = 16
MAX_N = 128
#: what a local reasoning model spends thinking before each answer
REASONING_TOKENS = 64
MAX_INPUTS_PER_EMBEDDING_REQUEST = 2048
MAX_EMBEDDING_TOKENS_PER_REQUEST = 300_000
CHAT_ROLES = ("system", "assistant", "user", "function", "tool", "developer")
_ROLES_NEEDING_CONTENT = frozenset({"system", "user", "developer", "tool"})
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


#: the content part types each chat role may send (UNCONFIRMED beyond text and image_url)
_CHAT_PART_TYPES: dict[str, tuple[str, ...]] = {
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
}
_RESPONSES_PART_TYPES = (
    "input_text",
    "input_image",
    "input_file",
    "input_audio",
    "output_text",
    "refusal",
)


def _check_parts(where: str, parts: list[Any], supported: tuple[str, ...]) -> None:
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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _optional_int(
    body: dict[str, Any], name: str, minimum: int, maximum: int | None = None
) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not _is_int(value):
        raise invalid_type(name, "an integer", value)
    if value < minimum:
        raise errors.integer_out_of_range(name, value, minimum, above=False)
    if maximum is not None and value > maximum:
        raise errors.integer_out_of_range(name, value, maximum, above=True)
    return value


def _optional_number(body: dict[str, Any], name: str, minimum: float, maximum: float) -> float:
    """Validate a sampling parameter and return it (1.0 when absent)."""
    value = body.get(name)
    if value is None:
        return 1.0
    if not _is_number(value):
        raise invalid_type(name, "a decimal", value)
    if math.isnan(value):
        raise errors.nan_value(name)
    if value < minimum:
        raise errors.decimal_out_of_range(name, value, minimum, above=False)
    if value > maximum:
        raise errors.decimal_out_of_range(name, value, maximum, above=True)
    return float(value)


def _digest(*parts: object) -> bytes:
    """A stable sha256 of JSON-able values (anything else is hashed by its repr)."""
    payload = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(payload.encode("utf-8")).digest()


def _base62(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    chars: list[str] = []
    while len(chars) < length:
        number, rest = divmod(number, 62)
        chars.append(_BASE62[rest])
    return "".join(chars)


def _quote(text: str) -> str:
    """Whitespace-collapsed text, cut to about QUOTE_CHARS characters."""
    flat = " ".join(text.split())
    if len(flat) <= QUOTE_CHARS:
        return flat
    return flat[:QUOTE_CHARS].rstrip() + "…"


def _content_text(content: object) -> str | None:
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


def _last_message_text(messages: list[Any]) -> str | None:
    """The last user message's text, else the last message with any text."""
    dicts = [m for m in messages if isinstance(m, dict)]
    for wanted_user in (True, False):
        for message in reversed(dicts):
            if wanted_user and message.get("role") != "user":
                continue
            text = _content_text(message.get("content"))
            if text is not None and text.strip():
                return text
    return None


def _placeholder(model: str, label: str, quoted: str | None, prompt_tokens: int) -> str:
    head = (
        "[local server] This is a placeholder reply generated by the local Batch API server, "
        f"not by {model}."
    )
    if quoted is None:
        middle = f"Your request had no text to quote ({prompt_tokens} prompt tokens)."
    else:
        middle = f'{label} "{_quote(quoted)}" ({prompt_tokens} prompt tokens).'
    return f"{head} {middle} Switch to live mode for real answers."


def _generate(text: str, limit: int | None, encoding: str) -> tuple[str, int, bool]:
    """Apply an output-token limit: (text, completion tokens, was it cut)."""
    count = tokens.count_tokens(text, encoding)
    if limit is not None and count > limit:
        return tokens.truncate_to_tokens(text, limit, encoding), limit, True
    return text, count, False


def _chat_usage(
    prompt_tokens: int, completion_tokens: int, reasoning_tokens: int = 0
) -> dict[str, Any]:
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


def _check_chat_limits(
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


def _reasoning_rules(info: ModelInfo, body: dict[str, Any], *, chat: bool) -> None:
    """What a reasoning model refuses: ``max_tokens`` (chat), and sampling other than the
    default, in the words of the endpoint."""
    if not info.reasoning:
        return
    if chat and body.get("max_tokens") is not None:
        raise errors.unsupported_parameter("max_tokens", "Use 'max_completion_tokens' instead.")
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is None or value == 1:
            continue
        if chat:
            raise errors.unsupported_value(name, value)
        raise errors.unsupported_parameter(name)


def _echo_bool(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    return value if isinstance(value, bool) else default


def _echo_verbosity(body: dict[str, Any]) -> str:
    text = body.get("text")
    verbosity = text.get("verbosity") if isinstance(text, dict) else None
    return verbosity if verbosity in ("low", "medium", "high") else "medium"


def _echo_reasoning(info: ModelInfo, body: dict[str, Any]) -> dict[str, Any]:
    """The ``reasoning`` a Responses reply carries: what was asked, or the model's default."""
    asked: dict[str, Any] = body["reasoning"] if isinstance(body.get("reasoning"), dict) else {}
    effort = asked.get("effort") or ("medium" if info.reasoning else None)
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


def _reasoning_item(info: ModelInfo, digest: bytes) -> list[dict[str, Any]]:
    """A reasoning model's Responses output starts with a reasoning item (no summary)."""
    if not info.reasoning:
        return []
    return [{"type": "reasoning", "id": "rs_" + digest.hex()[:48], "summary": []}]


def _reasoning_spent(info: ModelInfo, limit: int | None) -> int:
    """Tokens a reasoning model thinks before it answers (a fixed share, never past the limit)."""
    if not info.reasoning:
        return 0
    return REASONING_TOKENS if limit is None else min(REASONING_TOKENS, limit)


def _text_or_token_inputs(value: object, param: str) -> list[str | list[int]]:
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
        raise empty_array(param)
    if all(_is_int(v) for v in value):
        return [list(value)]
    units: list[str | list[int]] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            units.append(item)
        elif isinstance(item, list) and item and all(_is_int(v) for v in item):
            units.append(list(item))
        else:
            raise invalid_type(f"{param}[{index}]", "a string or an array of integers", item)
    return units


def _unit_vector(seed: bytes, native: int, dimensions: int) -> np.ndarray:
    """A stable unit vector; shorter ones are the normalised prefix of the full one."""
    rng = np.random.default_rng(int.from_bytes(seed, "big"))
    vector = rng.standard_normal(native)[:dimensions]
    vector /= np.linalg.norm(vector)
    return vector.astype("<f4")


# ---------------------------------------------------------------------------
# The responder
# ---------------------------------------------------------------------------


_Handler = Callable[[ModelInfo, str, dict[str, Any], "int | None", int], dict[str, Any]]


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
        self._handlers: dict[str, _Handler] = {
            "/v1/chat/completions": self._chat,
            "/v1/completions": self._completions,
            "/v1/responses": self._responses,
            "/v1/embeddings": self._embeddings,
            "/v1/moderations": self._moderations,
        }

    def respond(
        self,
        url: str,
        body: dict[str, Any],
        *,
        input_tokens: int | None = None,
        now: int | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request as the real endpoint would: (HTTP status, JSON body).

        ``input_tokens``, when the caller has already counted the request's input tokens (a
        batch counts them once, at validation), saves counting them again. ``now`` is the time
        to stamp the reply with (the caller's clock); by default the responder's own.
        """
        try:
            stamp = now if now is not None else self._now()
            return 200, self._dispatch(url, body, input_tokens, stamp)
        except APIError as error:
            return error.status_code, error.body()
        except Exception:  # a bug here must not take a whole batch down
            return 500, errors.server_error().body()

    # -- routing and checks shared by every endpoint -------------------------

    def _dispatch(
        self, url: str, body: object, input_tokens: int | None, now: int
    ) -> dict[str, Any]:
        path = url.strip().rstrip("/") if isinstance(url, str) else ""
        handler = self._handlers.get(path)
        if handler is None:
            raise errors.invalid_url("POST", str(url))
        if not isinstance(body, dict):
            raise errors.invalid_json_body()
        if body.get("stream") is True:
            raise errors.streaming_unsupported()
        model = body.get("model")
        if model is None and path == "/v1/moderations":
            model = DEFAULT_MODERATION_MODEL
        if model is None:
            raise errors.model_required()
        if not isinstance(model, str):
            raise invalid_type("model", "a string", model)
        info = resolve_model(model)
        if info is None and self.any_model:
            info = stand_in(model)
        if info is None:
            raise errors.model_not_found(model)
        self._check_endpoint(info, model, path)
        return handler(info, model, body, input_tokens, now)

    @staticmethod
    def _check_endpoint(info: ModelInfo, model: str, path: str) -> None:
        if info.supports(path):
            return
        if path == "/v1/chat/completions":
            raise errors.not_a_chat_model()
        if path == "/v1/completions" and info.kind == "chat":
            raise errors.chat_model_in_completions()
        raise errors.endpoint_unsupported(model, path)

    # -- /v1/chat/completions ----------------------------------------------

    @staticmethod
    def _validate_messages(messages: object) -> list[dict[str, Any]]:
        if messages is None:
            raise missing_parameter("messages")
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
                raise invalid_type(
                    f"{where}.content", "one of a string or array of objects", content
                )
            if isinstance(content, list):
                _check_parts(f"{where}.content", content, _CHAT_PART_TYPES.get(role, ("text",)))
        return messages

    def _chat(
        self, info: ModelInfo, model: str, body: dict[str, Any], counted: int | None, now: int
    ) -> dict[str, Any]:
        messages = self._validate_messages(body.get("messages"))
        _reasoning_rules(info, body, chat=True)
        limit_param = "max_tokens" if body.get("max_tokens") is not None else None
        if limit_param is None and body.get("max_completion_tokens") is not None:
            limit_param = "max_completion_tokens"
        limit = _optional_int(body, limit_param, 1) if limit_param else None
        n = _optional_int(body, "n", 1, MAX_N) or 1
        _optional_number(body, "temperature", 0, 2)
        _optional_number(body, "top_p", 0, 1)
        texts = [t for m in messages if (t := _content_text(m.get("content"))) is not None]
        fmt = formats.chat_format(body, texts)
        tool = formats.forced_tool(body, chat=True)

        encoding = info.encoding
        prompt_tokens = (
            counted if counted is not None else tokens.chat_prompt_tokens(messages, encoding)
        )
        _check_chat_limits(info, prompt_tokens, limit, limit_param or "max_tokens", "messages")

        quoted = _last_message_text(messages)
        reasoning = _reasoning_spent(info, limit)
        budget = None if limit is None else limit - reasoning
        digest = _digest("chat", body)
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if tool is not None:
            arguments = formats.tool_arguments(tool)
            used = tokens.count_tokens(tool.name, encoding) + tokens.count_tokens(
                arguments, encoding
            )
            message["tool_calls"] = [
                {
                    "id": "call_" + _base62(digest, 24),
                    "type": "function",
                    "function": {"name": tool.name, "arguments": arguments},
                }
            ]
            # a named function ends "stop", "required" ends "tool_calls" (vllm-project/vllm#25054)
            finish_reason, cut = ("stop" if tool.named else "tool_calls"), False
        else:
            text = formats.json_content(fmt, model=model, quoted=quoted) or _placeholder(
                model, "Your last message was:", quoted, prompt_tokens
            )
            content, used, cut = _generate(text, budget, encoding)
            message["content"] = content
            finish_reason = "length" if cut else "stop"
        message["annotations"] = []
        choices: list[dict[str, Any]] = [
            {
                "index": index,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason,
            }
            for index in range(n)
        ]
        return {
            "id": "chatcmpl-" + _base62(digest, 29),
            "object": "chat.completion",
            "created": now,
            "model": info.snapshot,
            "choices": choices,
            "usage": _chat_usage(prompt_tokens, (used + reasoning) * n, reasoning * n),
            "service_tier": "default",
            "system_fingerprint": None,
        }

    # -- /v1/completions -----------------------------------------------------

    def _completions(
        self, info: ModelInfo, model: str, body: dict[str, Any], counted: int | None, now: int
    ) -> dict[str, Any]:
        if body.get("prompt") is None:
            raise missing_parameter("prompt")
        prompts = _text_or_token_inputs(body.get("prompt"), "prompt")
        limit = _optional_int(body, "max_tokens", 0)
        n = _optional_int(body, "n", 1, MAX_N) or 1
        _optional_number(body, "temperature", 0, 2)
        _optional_number(body, "top_p", 0, 1)

        encoding = info.encoding
        counts = [
            len(p) if isinstance(p, list) else tokens.count_tokens(p, encoding) for p in prompts
        ]
        requested = limit or 0
        for count in counts:
            if count + requested > info.context_window:
                raise errors.legacy_context_exceeded(info.context_window, count, requested)
        if requested > info.max_output_tokens:
            raise errors.output_limit_exceeded("max_tokens", requested, info.max_output_tokens)

        choices: list[dict[str, Any]] = []
        completion_tokens = 0
        for prompt, count in zip(prompts, counts, strict=True):
            quoted = prompt if isinstance(prompt, str) else tokens.decode(prompt, encoding)
            if quoted is not None and not quoted.strip():
                quoted = None
            text = _placeholder(model, "Your prompt was:", quoted, count)
            text, used, cut = _generate(text, limit, encoding)
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
        prompt_tokens = sum(counts)
        return {
            "id": "cmpl-" + _base62(_digest("completions", body), 29),
            "object": "text_completion",
            "created": now,
            "model": info.snapshot,
            "choices": choices,
            "usage": _chat_usage(prompt_tokens, completion_tokens),
            "system_fingerprint": None,
        }

    # -- /v1/responses -------------------------------------------------------

    def _responses(
        self, info: ModelInfo, model: str, body: dict[str, Any], counted: int | None, now: int
    ) -> dict[str, Any]:
        value = body.get("input")
        if value is None:
            raise missing_parameter("input")
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
                    _check_parts(f"input[{index}].content", content, _RESPONSES_PART_TYPES)
        elif not isinstance(value, str):
            raise invalid_type("input", "one of a string or array of input items", value)
        instructions = body.get("instructions")
        if instructions is not None and not isinstance(instructions, str):
            raise invalid_type("instructions", "a string", instructions)
        previous = body.get("previous_response_id")
        if previous is not None:
            raise errors.previous_response_not_found(previous)
        _reasoning_rules(info, body, chat=False)
        limit = _optional_int(body, "max_output_tokens", RESPONSES_MIN_OUTPUT_TOKENS)
        temperature = _optional_number(body, "temperature", 0, 2)
        top_p = _optional_number(body, "top_p", 0, 1)
        input_texts = [
            t
            for item in ([{"content": value}] if isinstance(value, str) else value)
            if (t := _content_text(item.get("content"))) is not None
        ]
        fmt = formats.responses_format(body, input_texts)
        tool = formats.forced_tool(body, chat=False)

        encoding = info.encoding
        messages = tokens.responses_input_messages(body)
        input_tokens = (
            counted if counted is not None else tokens.chat_prompt_tokens(messages, encoding)
        )
        if limit is None and input_tokens > info.context_window:
            raise errors.responses_context_exceeded()
        _check_chat_limits(info, input_tokens, limit, "max_output_tokens", "input")

        quoted = value if isinstance(value, str) else _last_message_text(value)
        if quoted is not None and not quoted.strip():
            quoted = None
        reasoning = _reasoning_spent(info, limit)
        budget = None if limit is None else limit - reasoning
        created = now
        digest = _digest("responses", body)
        if tool is not None:
            arguments = formats.tool_arguments(tool)
            output_tokens = tokens.count_tokens(arguments, encoding)
            cut = False
            reply: dict[str, Any] = {
                "type": "function_call",
                "id": "fc_" + digest.hex()[16:64],
                "call_id": "call_" + _base62(digest, 24),
                "name": tool.name,
                "arguments": arguments,
                "status": "completed",
            }
        else:
            text = formats.json_content(fmt, model=model, quoted=quoted) or _placeholder(
                model, "Your last message was:", quoted, input_tokens
            )
            text, output_tokens, cut = _generate(text, budget, encoding)
            reply = {
                "type": "message",
                "id": "msg_" + digest.hex()[16:64],
                "status": "incomplete" if cut else "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
                ],
            }
        output_tokens += reasoning
        status = "incomplete" if cut else "completed"
        metadata = body.get("metadata")
        if not (
            isinstance(metadata, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
        ):
            metadata = {}

        def echo(name: str) -> str | None:
            item = body.get(name)
            return item if isinstance(item, str) else None

        store = body.get("store")
        return {
            "id": "resp_" + digest.hex()[:48],
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
            "output": [*_reasoning_item(info, digest), reply],
            "parallel_tool_calls": _echo_bool(body, "parallel_tool_calls", True),
            "previous_response_id": None,
            "prompt_cache_key": echo("prompt_cache_key"),
            "reasoning": _echo_reasoning(info, body),
            "safety_identifier": echo("safety_identifier"),
            "service_tier": "default",
            "store": store if isinstance(store, bool) else True,
            "temperature": temperature,
            "text": {"format": fmt.echo, "verbosity": _echo_verbosity(body)},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": _echo_tools(body),
            "top_logprobs": 0,
            "top_p": top_p,
            "truncation": "disabled",
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": reasoning},
                "total_tokens": input_tokens + output_tokens,
            },
            "user": echo("user"),
            "metadata": metadata,
        }

    # -- /v1/embeddings ------------------------------------------------------

    def _embeddings(
        self, info: ModelInfo, model: str, body: dict[str, Any], counted: int | None, now: int
    ) -> dict[str, Any]:
        value = body.get("input")
        if value is None:
            raise missing_parameter("input")
        invalid_input = errors.invalid_embedding_input()
        if value == "" or value == []:
            raise invalid_input
        units = _text_or_token_inputs(value, "input")
        if len(units) > MAX_INPUTS_PER_EMBEDDING_REQUEST or any(u == "" for u in units):
            raise invalid_input

        native = info.dimensions or 0
        dimensions = native
        requested = body.get("dimensions")
        if requested is not None:
            if info.id == "text-embedding-ada-002":
                raise errors.dimensions_unsupported()
            if not _is_int(requested):
                raise invalid_type("dimensions", "an integer", requested)
            if requested < 1 or requested > native:
                raise errors.dimensions_out_of_range(requested, native)
            dimensions = requested
        encoding_format = body.get("encoding_format")
        if encoding_format is not None and encoding_format not in ("float", "base64"):
            raise errors.invalid_choice("encoding_format", encoding_format, ["float", "base64"])

        token_lists = [tokens.encode(u, info.encoding) if isinstance(u, str) else u for u in units]
        for ids in token_lists:
            if len(ids) > info.context_window:
                raise errors.legacy_context_exceeded(info.context_window, len(ids), 0)
        total = sum(len(ids) for ids in token_lists)
        if total > MAX_EMBEDDING_TOKENS_PER_REQUEST:
            raise errors.too_many_embedding_tokens(total, MAX_EMBEDDING_TOKENS_PER_REQUEST)

        data: list[dict[str, Any]] = []
        for index, ids in enumerate(token_lists):
            # Seeded by the tokens, so a string and its token array get the same vector.
            vector = _unit_vector(_digest("embedding", info.snapshot, ids), native, dimensions)
            embedding: str | list[float]
            if encoding_format == "base64":
                embedding = base64.b64encode(vector.tobytes()).decode("ascii")
            else:
                embedding = vector.astype(float).tolist()
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        return {
            "object": "list",
            "data": data,
            "model": info.id,
            "usage": {"prompt_tokens": total, "total_tokens": total},
        }

    # -- /v1/moderations -----------------------------------------------------

    def _moderations(
        self, info: ModelInfo, model: str, body: dict[str, Any], counted: int | None, now: int
    ) -> dict[str, Any]:
        value = body.get("input")
        if value is None:
            raise missing_parameter("input")
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
                inputs = [self._multimodal_input(info, value)]
            else:
                raise invalid_type(
                    "input", "one of a string, array of strings, or array of objects", value
                )
        else:
            raise invalid_type(
                "input", "one of a string, array of strings, or array of objects", value
            )

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
                    int.from_bytes(_digest("moderation", info.snapshot, text, category)[:8], "big")
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
            "id": "modr-" + _digest("moderations", info.snapshot, value).hex()[:32],
            "model": info.snapshot,
            "results": results,
        }

    @staticmethod
    def _multimodal_input(info: ModelInfo, parts: list[dict[str, Any]]) -> tuple[str, bool]:
        if info.id != "omni-moderation-latest":
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
