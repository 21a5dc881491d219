"""The local responder answers like the real endpoints, deterministically and honestly."""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
from typing import Any

import bpe_openai
import httpx
import numpy as np
import openai
import pytest
from openai.types import Completion, CreateEmbeddingResponse, ModerationCreateResponse
from openai.types.chat import ChatCompletion
from openai.types.moderation import Categories, CategoryAppliedInputTypes, CategoryScores
from openai.types.responses import Response
from pydantic import BaseModel

from batch_api_local import tokens
from batch_api_local.responder import MODERATION_CATEGORIES, LocalResponder

NOW = 1_700_000_000
O200K = bpe_openai.get_encoding("o200k_base")
CL100K = bpe_openai.get_encoding("cl100k_base")

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
RESPONSES = "/v1/responses"
EMBEDDINGS = "/v1/embeddings"
MODERATIONS = "/v1/moderations"

PENGUINS = "Give me three paragraphs on the penguin lifecycle."


def n_o200k(text: str) -> int:
    return len(O200K.encode(text))


def n_cl100k(text: str) -> int:
    return len(CL100K.encode(text))


@pytest.fixture
def responder() -> LocalResponder:
    return LocalResponder(now=lambda: NOW)


def chat_body(content: str = PENGUINS, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}


# ---------------------------------------------------------------------------
# Checking bodies against the SDK's own types
# ---------------------------------------------------------------------------


def _missing_required(instance: BaseModel, raw: Any, path: str) -> list[str]:
    """Required fields of every (nested) SDK model that the raw JSON leaves out."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        return problems
    for name, field in type(instance).model_fields.items():
        key = field.alias or name
        if field.is_required() and key not in raw:
            problems.append(f"{path}.{key}")
        value = getattr(instance, name, None)
        if isinstance(value, BaseModel):
            problems += _missing_required(value, raw.get(key), f"{path}.{key}")
        elif isinstance(value, list) and isinstance(raw.get(key), list):
            for index, (item, raw_item) in enumerate(zip(value, raw[key], strict=False)):
                if isinstance(item, BaseModel):
                    problems += _missing_required(item, raw_item, f"{path}.{key}[{index}]")
    return problems


def _unknown_keys(instance: BaseModel, path: str) -> list[str]:
    """Keys the SDK type does not declare (a typo would land here)."""
    found = [f"{path}.{key}" for key in (instance.model_extra or {})]
    for name in type(instance).model_fields:
        value = getattr(instance, name, None)
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if isinstance(item, BaseModel):
                found += _unknown_keys(item, f"{path}.{name}[{index}]")
    return found


def parse(model: type[BaseModel], body: dict[str, Any], extra_ok: tuple[str, ...] = ()) -> Any:
    """Validate ``body`` with an SDK type, as the SDK would, and check it is complete."""
    json.dumps(body, allow_nan=False)  # must be plain JSON
    instance = model.model_validate(body)
    model.model_validate(body, strict=False)
    assert _missing_required(instance, body, "$") == []
    assert sorted(set(_unknown_keys(instance, "$")) - set(extra_ok)) == []
    return instance


def assert_error(
    result: tuple[int, dict[str, Any]],
    status: int,
    code: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    got_status, body = result
    assert got_status == status, body
    assert list(body) == ["error"]
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == code
    assert error["param"] == param
    return error


# ---------------------------------------------------------------------------
# /v1/chat/completions
# ---------------------------------------------------------------------------


def test_chat_completion_shape(responder: LocalResponder) -> None:
    status, body = responder.respond(CHAT, chat_body())
    assert status == 200
    completion = parse(ChatCompletion, body)
    assert re.fullmatch(r"chatcmpl-[0-9A-Za-z]{29}", completion.id)
    assert completion.object == "chat.completion"
    assert completion.created == NOW
    assert completion.model == "gpt-4o-mini-2024-07-18"
    assert completion.service_tier == "default"
    assert body["system_fingerprint"] is None
    assert list(body) == [
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "service_tier",
        "system_fingerprint",
    ]
    (choice,) = body["choices"]
    assert choice == {
        "index": 0,
        "message": {
            "role": "assistant",
            "content": choice["message"]["content"],
            "refusal": None,
            "annotations": [],
        },
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert body["usage"]["prompt_tokens_details"] == {"cached_tokens": 0, "audio_tokens": 0}
    assert body["usage"]["completion_tokens_details"] == {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    }


def test_chat_text_is_honest_and_quotes_the_prompt(responder: LocalResponder) -> None:
    _, body = responder.respond(CHAT, chat_body())
    text = body["choices"][0]["message"]["content"]
    assert text.startswith("[local server]")
    assert "local Batch API server" in text
    assert "not by gpt-4o-mini" in text
    assert f'"{PENGUINS}"' in text
    prompt_tokens = 3 + n_o200k("user") + n_o200k(PENGUINS) + 3
    assert f"({prompt_tokens} prompt tokens)" in text
    assert "live mode" in text


def test_chat_usage_is_real_token_counts(responder: LocalResponder) -> None:
    messages = [
        {"role": "system", "content": "You are a marine biologist."},
        {"role": "user", "content": PENGUINS, "name": "sam"},
    ]
    _, body = responder.respond(CHAT, {"model": "gpt-4o", "messages": messages})
    expected_prompt = (
        (3 + n_o200k("system") + n_o200k("You are a marine biologist."))
        + (3 + n_o200k("user") + n_o200k(PENGUINS) + n_o200k("sam") + 1)
        + 3
    )
    usage = body["usage"]
    text = body["choices"][0]["message"]["content"]
    assert usage["prompt_tokens"] == expected_prompt
    assert usage["completion_tokens"] == n_o200k(text)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_chat_usage_follows_the_model_tokenizer(responder: LocalResponder) -> None:
    prompt = "日本語でペンギンについて教えてください。"
    _, body = responder.respond(
        CHAT, {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": prompt}]}
    )
    assert body["model"] == "gpt-3.5-turbo-0125"
    assert body["usage"]["prompt_tokens"] == 3 + n_cl100k("user") + n_cl100k(prompt) + 3
    text = body["choices"][0]["message"]["content"]
    assert body["usage"]["completion_tokens"] == n_cl100k(text)


def test_chat_quotes_the_last_user_message_and_cuts_long_ones(
    responder: LocalResponder,
) -> None:
    long_prompt = "word " * 300
    messages = [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": [{"type": "text", "text": long_prompt}]},
    ]
    _, body = responder.respond(CHAT, {"model": "gpt-4o", "messages": messages})
    text = body["choices"][0]["message"]["content"]
    assert "first question" not in text
    quoted = re.search(r'"(.*)"', text)
    assert quoted is not None
    assert quoted.group(1).endswith("…")
    assert 150 <= len(quoted.group(1)) <= 210
    assert long_prompt.strip() not in text


def test_chat_is_deterministic(responder: LocalResponder) -> None:
    first = responder.respond(CHAT, chat_body())
    second = LocalResponder(now=lambda: NOW).respond(CHAT, chat_body())
    assert first == second
    other = responder.respond(CHAT, chat_body("Tell me about puffins instead."))
    assert other[1]["id"] != first[1]["id"]
    assert (
        other[1]["choices"][0]["message"]["content"] != first[1]["choices"][0]["message"]["content"]
    )


def test_created_comes_from_the_clock() -> None:
    ticks = iter([100, 200])
    responder = LocalResponder(now=lambda: next(ticks))
    assert responder.respond(CHAT, chat_body())[1]["created"] == 100
    assert responder.respond(CHAT, chat_body())[1]["created"] == 200


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_chat_small_max_tokens_cuts_with_finish_reason_length(
    responder: LocalResponder, param: str
) -> None:
    _, full = responder.respond(CHAT, chat_body())
    full_text = full["choices"][0]["message"]["content"]
    status, body = responder.respond(CHAT, chat_body(**{param: 5}))
    assert status == 200
    parse(ChatCompletion, body)
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5
    assert choice["message"]["content"] == O200K.decode(O200K.encode(full_text)[:5])
    assert choice["message"]["content"].startswith("[local server]")


def test_chat_max_tokens_large_enough_keeps_stop(responder: LocalResponder) -> None:
    _, body = responder.respond(CHAT, chat_body(max_tokens=500))
    assert body["choices"][0]["finish_reason"] == "stop"


def test_chat_refuses_max_tokens_and_max_completion_tokens_together(
    responder: LocalResponder,
) -> None:
    both = chat_body(max_tokens=50, max_completion_tokens=20)
    error = assert_error(
        responder.respond(CHAT, both), 400, "invalid_parameter_combination", "max_tokens"
    )
    assert error["message"] == (
        "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported."
    )
    # a reasoning model refuses max_tokens on its own first
    reasoning = {**both, "model": "gpt-5-mini"}
    assert_error(responder.respond(CHAT, reasoning), 400, "unsupported_parameter", "max_tokens")
    # a null one is not set
    _, reply = responder.respond(CHAT, chat_body(max_tokens=None, max_completion_tokens=5))
    assert reply["usage"]["completion_tokens"] == 5


def test_chat_n_gives_identical_choices(responder: LocalResponder) -> None:
    _, body = responder.respond(CHAT, chat_body(n=3))
    parse(ChatCompletion, body)
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    texts = {c["message"]["content"] for c in body["choices"]}
    assert len(texts) == 1
    assert body["usage"]["completion_tokens"] == 3 * n_o200k(texts.pop())


def test_chat_context_length_exceeded(responder: LocalResponder) -> None:
    # a prompt that fits, and an output that fits the model's limit, but not both together
    huge = "penguin " * 12_000  # about 12k tokens
    body = {
        "model": "gpt-3.5-turbo",
        "messages": [{"role": "user", "content": huge}],
        "max_tokens": 4_096,
    }
    prompt_tokens = 3 + 1 + len(tokens.encode(huge, "cl100k_base")) + 3
    error = assert_error(responder.respond(CHAT, body), 400, "context_length_exceeded", "messages")
    assert error["message"] == (
        "This model's maximum context length is 16385 tokens. However, you requested "
        f"{prompt_tokens + 4_096} tokens ({prompt_tokens} in the messages, 4096 in the "
        "completion). Please reduce the length of the messages or completion."
    )


def test_the_output_limit_is_checked_before_the_context_window(responder: LocalResponder) -> None:
    # notebook 07's example: both limits are passed, and the real API names the output limit
    error = assert_error(
        responder.respond(CHAT, chat_body(max_tokens=1_000_000)), 400, "invalid_value", "max_tokens"
    )
    assert error["message"] == (
        "max_tokens is too large: 1000000. This model supports at most 16384 completion tokens, "
        "whereas you provided 1000000."
    )


def test_chat_prompt_alone_too_long(responder: LocalResponder) -> None:
    huge = "penguin " * 17_000  # 17k tokens > gpt-3.5-turbo's 16385
    body = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": huge}]}
    error = assert_error(responder.respond(CHAT, body), 400, "context_length_exceeded", "messages")
    assert error["message"].startswith("This model's maximum context length is 16385 tokens.")


def test_chat_max_tokens_above_model_output_limit(responder: LocalResponder) -> None:
    error = assert_error(
        responder.respond(CHAT, chat_body(max_tokens=100_000)), 400, "invalid_value", "max_tokens"
    )
    assert error["message"] == (
        "max_tokens is too large: 100000. This model supports at most 16384 completion tokens, "
        "whereas you provided 100000."
    )


def test_unknown_model_is_404(responder: LocalResponder) -> None:
    result = responder.respond(CHAT, {"model": "xyz", "messages": [{"role": "user"}]})
    assert result == (
        404,
        {
            "error": {
                "message": "The model `xyz` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "param": None,
                "code": "model_not_found",
            }
        },
    )


def test_missing_messages(responder: LocalResponder) -> None:
    error = assert_error(
        responder.respond(CHAT, {"model": "gpt-4o"}), 400, "missing_required_parameter", "messages"
    )
    assert error["message"] == "Missing required parameter: 'messages'."


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"model": "gpt-4o", "messages": "hello"}, "invalid_type", "messages"),
        ({"model": "gpt-4o", "messages": {"role": "user"}}, "invalid_type", "messages"),
        ({"model": "gpt-4o", "messages": []}, "empty_array", "messages"),
        ({"model": "gpt-4o", "messages": [1, 2]}, "invalid_type", "messages[0]"),
        ({"model": "gpt-4o", "messages": ["hi"]}, "invalid_type", "messages[0]"),
        (
            {"model": "gpt-4o", "messages": [{"content": "hi"}]},
            "missing_required_parameter",
            "messages[0].role",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "robot", "content": "hi"}]},
            "invalid_value",
            "messages[0].role",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user"}]},
            "missing_required_parameter",
            "messages[0].content",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": 42}]},
            "invalid_type",
            "messages[0].content",
        ),
        ({"model": 42, "messages": [{"role": "user", "content": "hi"}]}, "invalid_type", "model"),
        (chat_body(max_tokens="ten"), "invalid_type", "max_tokens"),
        (chat_body(max_tokens=0), "integer_below_min_value", "max_tokens"),
        (chat_body(max_tokens=True), "invalid_type", "max_tokens"),
        (chat_body(n=0), "integer_below_min_value", "n"),
        (chat_body(n=1000), "integer_above_max_value", "n"),
        (chat_body(temperature=3), "decimal_above_max_value", "temperature"),
        (chat_body(top_p="high"), "invalid_type", "top_p"),
        (chat_body(stream=True), "unsupported_value", "stream"),
    ],
)
def test_chat_malformed_bodies_get_error_envelopes(
    responder: LocalResponder, body: dict[str, Any], code: str, param: str
) -> None:
    assert_error(responder.respond(CHAT, body), 400, code, param)


def test_model_missing_and_body_not_an_object(responder: LocalResponder) -> None:
    error = assert_error(responder.respond(CHAT, {"messages": []}), 400)
    assert error["message"] == "you must provide a model parameter"
    for junk in (None, [], [1, 2], "text", 12, 3.5):
        error = assert_error(responder.respond(CHAT, junk), 400)  # type: ignore[arg-type]
        assert "JSON body" in error["message"]


def test_unknown_url(responder: LocalResponder) -> None:
    error = assert_error(responder.respond("/v1/videos", {"model": "gpt-4o"}), 404)
    assert error["message"] == "Invalid URL (POST /v1/videos)"


@pytest.mark.parametrize(
    ("url", "model", "status"),
    [
        (CHAT, "text-embedding-3-small", 404),
        (CHAT, "gpt-3.5-turbo-instruct", 404),
        (COMPLETIONS, "gpt-4o", 404),
        (RESPONSES, "text-embedding-3-small", 400),
        (EMBEDDINGS, "gpt-4o", 400),
        (MODERATIONS, "gpt-4o", 400),
    ],
)
def test_model_used_on_the_wrong_endpoint(
    responder: LocalResponder, url: str, model: str, status: int
) -> None:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "hi"}],
        "prompt": "hi",
        "input": "hi",
    }
    assert_error(responder.respond(url, body), status, None, "model")


# ---------------------------------------------------------------------------
# /v1/completions
# ---------------------------------------------------------------------------


def test_completion_shape_and_usage(responder: LocalResponder) -> None:
    prompt = "Once upon a time, a penguin"
    status, body = responder.respond(
        COMPLETIONS, {"model": "gpt-3.5-turbo-instruct", "prompt": prompt, "max_tokens": 200}
    )
    assert status == 200
    completion = parse(Completion, body)
    assert re.fullmatch(r"cmpl-[0-9A-Za-z]{29}", completion.id)
    assert completion.object == "text_completion"
    assert completion.created == NOW
    (choice,) = body["choices"]
    assert set(choice) == {"text", "index", "logprobs", "finish_reason"}
    assert choice["finish_reason"] == "stop"
    assert "local server" in choice["text"]
    assert f'"{prompt}"' in choice["text"]
    assert body["usage"]["prompt_tokens"] == n_cl100k(prompt)
    assert body["usage"]["completion_tokens"] == n_cl100k(choice["text"])


def test_completion_without_max_tokens_stops_at_16_tokens(responder: LocalResponder) -> None:
    # the real API's default (OpenAI's spec: CreateCompletionRequest.max_tokens, default 16)
    status, body = responder.respond(
        COMPLETIONS, {"model": "gpt-3.5-turbo-instruct", "prompt": "Once upon a time", "n": 2}
    )
    assert status == 200
    parse(Completion, body)
    assert [c["finish_reason"] for c in body["choices"]] == ["length", "length"]
    assert all(n_cl100k(c["text"]) <= 16 for c in body["choices"])
    assert body["choices"][0]["text"].startswith("[local server]")
    assert body["usage"]["completion_tokens"] == 16 * 2


def test_completion_several_prompts_and_n(responder: LocalResponder) -> None:
    body = {
        "model": "gpt-3.5-turbo-instruct",
        "prompt": ["alpha", "beta"],
        "n": 2,
        "max_tokens": 200,
    }
    _, reply = responder.respond(COMPLETIONS, body)
    parse(Completion, reply)
    choices = reply["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2, 3]
    assert '"alpha"' in choices[0]["text"] and '"alpha"' in choices[1]["text"]
    assert '"beta"' in choices[2]["text"] and '"beta"' in choices[3]["text"]
    assert reply["usage"]["prompt_tokens"] == n_cl100k("alpha") + n_cl100k("beta")
    assert reply["usage"]["completion_tokens"] == sum(n_cl100k(c["text"]) for c in choices)


def test_completion_token_prompt_and_length(responder: LocalResponder) -> None:
    ids = CL100K.encode("Penguins")
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": ids, "max_tokens": 7}
    _, reply = responder.respond(COMPLETIONS, body)
    parse(Completion, reply)
    assert reply["usage"]["prompt_tokens"] == len(ids)
    assert reply["usage"]["completion_tokens"] == 7
    assert reply["choices"][0]["finish_reason"] == "length"


def test_completion_reuses_the_count_made_at_validation_for_one_prompt(
    responder: LocalResponder,
) -> None:
    model = "gpt-3.5-turbo-instruct"
    for prompt in ("Once upon a time", ["Once upon a time"], CL100K.encode("Once upon a time")):
        body = {"model": model, "prompt": prompt, "max_tokens": 200}
        assert tokens.request_input_tokens(COMPLETIONS, body) == n_cl100k("Once upon a time")
        _, reply = responder.respond(COMPLETIONS, body, input_tokens=99)
        assert reply["usage"]["prompt_tokens"] == 99
        assert "(99 prompt tokens)" in reply["choices"][0]["text"]
    # a list of prompts: each is counted again, to check it against the context window alone
    body = {"model": model, "prompt": ["alpha", "beta"], "max_tokens": 200}
    _, reply = responder.respond(COMPLETIONS, body, input_tokens=99)
    assert reply["usage"]["prompt_tokens"] == n_cl100k("alpha") + n_cl100k("beta")


def test_completion_errors(responder: LocalResponder) -> None:
    model = "gpt-3.5-turbo-instruct"
    assert_error(
        responder.respond(COMPLETIONS, {"model": model}),
        400,
        "missing_required_parameter",
        "prompt",
    )
    assert_error(
        responder.respond(COMPLETIONS, {"model": model, "prompt": 3}), 400, "invalid_type", "prompt"
    )
    assert_error(
        responder.respond(COMPLETIONS, {"model": model, "prompt": ["a", {}]}),
        400,
        "invalid_type",
        "prompt[1]",
    )
    error = assert_error(
        responder.respond(COMPLETIONS, {"model": model, "prompt": "hi", "max_tokens": 5000}), 400
    )
    assert error["message"].startswith("This model's maximum context length is 4096 tokens")
    # without max_tokens the default 16 must fit in the context window too
    prompt = list(range(4_090))
    error = assert_error(responder.respond(COMPLETIONS, {"model": model, "prompt": prompt}), 400)
    assert "(4090 in your prompt; 16 for the completion)" in error["message"]


# ---------------------------------------------------------------------------
# /v1/responses
# ---------------------------------------------------------------------------


def test_response_shape(responder: LocalResponder) -> None:
    body = {"model": "gpt-4.1-mini", "input": PENGUINS, "instructions": "Be brief."}
    status, reply = responder.respond(RESPONSES, body)
    assert status == 200
    response = parse(Response, reply, extra_ok=("$.store",))
    assert "output_text" not in reply
    assert re.fullmatch(r"resp_[0-9a-f]{48}", response.id)
    assert response.object == "response"
    assert response.created_at == NOW
    assert response.status == "completed"
    assert response.model == "gpt-4.1-mini-2025-04-14"
    assert response.instructions == "Be brief."
    assert response.error is None and response.incomplete_details is None
    assert response.parallel_tool_calls is True
    assert response.tool_choice == "auto" and response.tools == []
    assert response.temperature == 1.0 and response.top_p == 1.0
    assert response.truncation == "disabled"
    assert reply["reasoning"] == {"effort": None, "summary": None}
    assert reply["text"]["format"] == {"type": "text"}
    assert reply["previous_response_id"] is None
    assert reply["metadata"] == {}

    (item,) = reply["output"]
    assert item["type"] == "message" and item["role"] == "assistant"
    assert item["status"] == "completed"
    assert re.fullmatch(r"msg_[0-9a-f]+", item["id"])
    (part,) = item["content"]
    assert part == {
        "type": "output_text",
        "text": part["text"],
        "annotations": [],
        "logprobs": [],
    }
    assert response.output_text == part["text"]
    assert "local server" in response.output_text
    assert f'"{PENGUINS}"' in response.output_text


def test_response_usage_is_real_token_counts(responder: LocalResponder) -> None:
    body = {"model": "gpt-4o", "input": PENGUINS, "instructions": "Be brief."}
    _, reply = responder.respond(RESPONSES, body)
    usage = reply["usage"]
    expected_input = (
        (3 + n_o200k("developer") + n_o200k("Be brief."))
        + (3 + n_o200k("user") + n_o200k(PENGUINS))
        + 3
    )
    text = reply["output"][0]["content"][0]["text"]
    assert usage == {
        "input_tokens": expected_input,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": n_o200k(text),
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": expected_input + n_o200k(text),
    }


def test_response_with_message_items_quotes_last_user_text(responder: LocalResponder) -> None:
    items = [
        {"role": "user", "content": [{"type": "input_text", "text": "What is krill?"}]},
        {"role": "assistant", "content": "Small crustaceans."},
        {"role": "user", "content": [{"type": "input_text", "text": "Do penguins eat it?"}]},
    ]
    _, reply = responder.respond(RESPONSES, {"model": "gpt-5-nano", "input": items})
    response = parse(Response, reply, extra_ok=("$.store",))
    assert '"Do penguins eat it?"' in response.output_text


def test_response_incomplete_on_max_output_tokens(responder: LocalResponder) -> None:
    body = {"model": "gpt-4o-mini", "input": PENGUINS, "max_output_tokens": 16}
    _, reply = responder.respond(RESPONSES, body)
    response = parse(Response, reply, extra_ok=("$.store",))
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.max_output_tokens == 16
    assert reply["usage"]["output_tokens"] == 16
    assert n_o200k(response.output_text) <= 16
    assert response.output_text.startswith("[local server]")


def test_response_echoes_sampling_parameters(responder: LocalResponder) -> None:
    body = {"model": "gpt-4o", "input": "hi", "temperature": 0.2, "top_p": 0.5}
    _, reply = responder.respond(RESPONSES, body)
    response = parse(Response, reply, extra_ok=("$.store",))
    assert (response.temperature, response.top_p) == (0.2, 0.5)


def test_response_errors(responder: LocalResponder) -> None:
    model = "gpt-4o"
    assert_error(
        responder.respond(RESPONSES, {"model": model}), 400, "missing_required_parameter", "input"
    )
    assert_error(
        responder.respond(RESPONSES, {"model": model, "input": 5}), 400, "invalid_type", "input"
    )
    assert_error(
        responder.respond(RESPONSES, {"model": model, "input": ["hi"]}),
        400,
        "invalid_type",
        "input[0]",
    )
    assert_error(
        responder.respond(RESPONSES, {"model": model, "input": "hi", "max_output_tokens": 5}),
        400,
        "integer_below_min_value",
        "max_output_tokens",
    )
    assert_error(
        responder.respond(RESPONSES, {"model": model, "input": "hi", "max_output_tokens": 10**6}),
        400,
        "invalid_value",
        "max_output_tokens",
    )
    assert_error(
        responder.respond(RESPONSES, {"model": model, "input": "hi", "max_output_tokens": 20_000}),
        400,
        "invalid_value",
        "max_output_tokens",
    )
    assert_error(
        responder.respond(RESPONSES, {"model": model, "input": "hi", "instructions": 3}),
        400,
        "invalid_type",
        "instructions",
    )


# ---------------------------------------------------------------------------
# /v1/embeddings
# ---------------------------------------------------------------------------


def embed(responder: LocalResponder, **body: Any) -> dict[str, Any]:
    status, reply = responder.respond(EMBEDDINGS, {"model": "text-embedding-3-small", **body})
    assert status == 200, reply
    parse(CreateEmbeddingResponse, reply)
    return reply


def test_embedding_shape_norm_and_usage(responder: LocalResponder) -> None:
    texts = ["Emperor penguins", "Adélie penguins", "krill"]
    reply = embed(responder, input=texts)
    assert reply["object"] == "list"
    assert reply["model"] == "text-embedding-3-small"
    assert [d["index"] for d in reply["data"]] == [0, 1, 2]
    for item in reply["data"]:
        assert item["object"] == "embedding"
        assert len(item["embedding"]) == 1536
        assert math.isclose(float(np.linalg.norm(item["embedding"])), 1.0, abs_tol=1e-5)
    expected = sum(n_cl100k(t) for t in texts)
    assert reply["usage"] == {"prompt_tokens": expected, "total_tokens": expected}


def test_embedding_is_deterministic_and_input_sensitive(responder: LocalResponder) -> None:
    first = embed(responder, input="penguin")["data"][0]["embedding"]
    again = embed(LocalResponder(now=lambda: 1), input="penguin")["data"][0]["embedding"]
    other = embed(responder, input="puffin")["data"][0]["embedding"]
    assert first == again
    assert first != other
    # Unrelated texts get nearly orthogonal vectors.
    assert abs(float(np.dot(first, other))) < 0.2
    # Another model gives another vector.
    _, large = responder.respond(
        EMBEDDINGS, {"model": "text-embedding-3-large", "input": "penguin"}
    )
    assert len(large["data"][0]["embedding"]) == 3072


def test_embedding_token_array_matches_the_string(responder: LocalResponder) -> None:
    as_text = embed(responder, input="penguin colony")["data"][0]["embedding"]
    ids = CL100K.encode("penguin colony")
    as_ids = embed(responder, input=ids)
    assert as_ids["data"][0]["embedding"] == as_text
    assert as_ids["usage"]["prompt_tokens"] == len(ids)
    nested = embed(responder, input=[ids, [1, 2, 3]])
    assert nested["usage"]["prompt_tokens"] == len(ids) + 3


def test_embedding_dimensions(responder: LocalResponder) -> None:
    full = np.array(embed(responder, input="penguin")["data"][0]["embedding"])
    short = np.array(embed(responder, input="penguin", dimensions=256)["data"][0]["embedding"])
    assert short.shape == (256,)
    assert math.isclose(float(np.linalg.norm(short)), 1.0, abs_tol=1e-5)
    # Like the real text-embedding-3 models: the short vector is the normalised prefix.
    prefix = full[:256] / np.linalg.norm(full[:256])
    assert np.allclose(short, prefix, atol=1e-5)


@pytest.mark.parametrize(
    ("model", "dimensions", "code"),
    [
        ("text-embedding-ada-002", 256, "invalid_value"),
        ("text-embedding-3-small", 0, "invalid_value"),
        ("text-embedding-3-small", 2000, "invalid_value"),
        ("text-embedding-3-large", 4000, "invalid_value"),
        ("text-embedding-3-small", "256", "invalid_type"),
    ],
)
def test_embedding_bad_dimensions(
    responder: LocalResponder, model: str, dimensions: object, code: str
) -> None:
    body = {"model": model, "input": "x", "dimensions": dimensions}
    assert_error(responder.respond(EMBEDDINGS, body), 400, code, "dimensions")


def test_embedding_base64_is_little_endian_float32(responder: LocalResponder) -> None:
    floats = embed(responder, input="penguin")["data"][0]["embedding"]
    # The SDK type declares list[float]; the SDK decodes base64 before validating,
    # so the raw base64 body is checked after the same decoding.
    status, reply = responder.respond(
        EMBEDDINGS,
        {"model": "text-embedding-3-small", "input": "penguin", "encoding_format": "base64"},
    )
    assert status == 200
    encoded = reply["data"][0]["embedding"]
    assert isinstance(encoded, str)
    decoded = np.frombuffer(base64.b64decode(encoded), dtype="<f4")
    assert decoded.tolist() == floats
    reply["data"][0]["embedding"] = decoded.tolist()
    parse(CreateEmbeddingResponse, reply)
    assert_error(
        responder.respond(
            EMBEDDINGS,
            {"model": "text-embedding-3-small", "input": "x", "encoding_format": "hex"},
        ),
        400,
        "invalid_value",
        "encoding_format",
    )


@pytest.mark.parametrize("value", ["", [], [""], ["ok", ""]])
def test_embedding_empty_input(responder: LocalResponder, value: object) -> None:
    body = {"model": "text-embedding-3-small", "input": value}
    error = assert_error(responder.respond(EMBEDDINGS, body), 400)
    assert "'$.input' is invalid" in error["message"]


def test_embedding_input_errors(responder: LocalResponder) -> None:
    model = "text-embedding-3-small"
    assert_error(
        responder.respond(EMBEDDINGS, {"model": model}), 400, "missing_required_parameter", "input"
    )
    assert_error(
        responder.respond(EMBEDDINGS, {"model": model, "input": {"text": "x"}}),
        400,
        "invalid_type",
        "input",
    )
    too_long = "penguin " * 9000
    error = assert_error(responder.respond(EMBEDDINGS, {"model": model, "input": too_long}), 400)
    assert error["message"].startswith("This model's maximum context length is 8191 tokens")


# ---------------------------------------------------------------------------
# /v1/moderations
# ---------------------------------------------------------------------------


def sdk_category_names() -> set[str]:
    return {field.alias or name for name, field in Categories.model_fields.items()}


def test_moderation_categories_match_the_sdk() -> None:
    assert set(MODERATION_CATEGORIES) == sdk_category_names()
    for model in (CategoryScores, CategoryAppliedInputTypes):
        assert {f.alias or n for n, f in model.model_fields.items()} == sdk_category_names()


def test_moderation_shape(responder: LocalResponder) -> None:
    status, reply = responder.respond(
        MODERATIONS, {"model": "omni-moderation-latest", "input": ["I like penguins", "and krill"]}
    )
    assert status == 200
    moderation = parse(ModerationCreateResponse, reply)
    assert re.fullmatch(r"modr-[0-9a-f]+", moderation.id)
    assert moderation.model == "omni-moderation-2024-09-26"
    assert len(reply["results"]) == 2
    for result in reply["results"]:
        assert result["flagged"] is False
        assert set(result["categories"]) == sdk_category_names()
        assert not any(result["categories"].values())
        assert all(0 < s < 0.01 for s in result["category_scores"].values())
        assert all(v == ["text"] for v in result["category_applied_input_types"].values())
    assert reply["results"][0]["category_scores"] != reply["results"][1]["category_scores"]


def test_moderation_is_deterministic_and_model_defaults(responder: LocalResponder) -> None:
    first = responder.respond(MODERATIONS, {"input": "hello"})
    second = responder.respond(MODERATIONS, {"input": "hello", "model": "omni-moderation-latest"})
    assert first == second
    assert first[1]["model"] == "omni-moderation-2024-09-26"
    _, legacy = responder.respond(
        MODERATIONS, {"input": "hello", "model": "text-moderation-latest"}
    )
    parse(ModerationCreateResponse, legacy)


def test_moderation_multimodal(responder: LocalResponder) -> None:
    parts = [
        {"type": "text", "text": "a photo"},
        {"type": "image_url", "image_url": {"url": "https://example.com/p.png"}},
    ]
    _, reply = responder.respond(MODERATIONS, {"input": parts})
    parse(ModerationCreateResponse, reply)
    (result,) = reply["results"]
    assert result["category_applied_input_types"]["violence"] == ["text", "image"]
    assert result["category_applied_input_types"]["hate"] == ["text"]
    assert_error(
        responder.respond(MODERATIONS, {"model": "text-moderation-latest", "input": parts}),
        400,
        "invalid_value",
        "input",
    )


def test_moderation_errors(responder: LocalResponder) -> None:
    assert_error(responder.respond(MODERATIONS, {}), 400, "missing_required_parameter", "input")
    assert_error(responder.respond(MODERATIONS, {"input": []}), 400, "empty_array", "input")
    assert_error(responder.respond(MODERATIONS, {"input": 3}), 400, "invalid_type", "input")
    assert_error(responder.respond(MODERATIONS, {"input": ["a", 1]}), 400, "invalid_type", "input")


# ---------------------------------------------------------------------------
# Never raise, whatever the body
# ---------------------------------------------------------------------------

JUNK: list[Any] = [
    None,
    0,
    -1,
    1.5,
    True,
    "",
    "x",
    [],
    [None],
    [1, "a"],
    [[]],
    [{}],
    {},
    {"a": 1},
    [{"role": "user"}],
    [{"role": "user", "content": None}],
    [{"type": "text"}],
    float("inf"),
    float("nan"),
]
SDK_TYPES: dict[str, type[BaseModel]] = {
    CHAT: ChatCompletion,
    COMPLETIONS: Completion,
    RESPONSES: Response,
    EMBEDDINGS: CreateEmbeddingResponse,
    MODERATIONS: ModerationCreateResponse,
}
VALID: dict[str, dict[str, Any]] = {
    CHAT: chat_body(),
    COMPLETIONS: {"model": "gpt-3.5-turbo-instruct", "prompt": "hi"},
    RESPONSES: {"model": "gpt-4o", "input": "hi"},
    EMBEDDINGS: {"model": "text-embedding-3-small", "input": "hi"},
    MODERATIONS: {"model": "omni-moderation-latest", "input": "hi"},
}
KEYS = [
    "model",
    "messages",
    "prompt",
    "input",
    "instructions",
    "max_tokens",
    "max_completion_tokens",
    "max_output_tokens",
    "n",
    "temperature",
    "top_p",
    "dimensions",
    "encoding_format",
    "metadata",
    "stream",
    "previous_response_id",
]


@pytest.mark.parametrize("url", list(VALID))
def test_no_junk_value_makes_the_responder_fail(responder: LocalResponder, url: str) -> None:
    for key, value in itertools.product(KEYS, JUNK):
        body = {**VALID[url], key: value}
        status, reply = responder.respond(url, body)
        assert status in (200, 400, 404), (key, value, reply)
        if status == 200:
            parse(SDK_TYPES[url], reply, extra_ok=("$.store",))
        else:
            assert set(reply["error"]) == {"message", "type", "param", "code"}


# ---------------------------------------------------------------------------
# Through the real SDK client (no server: an httpx transport calls the responder)
# ---------------------------------------------------------------------------


@pytest.fixture
def client(responder: LocalResponder) -> openai.OpenAI:
    def handle(request: httpx.Request) -> httpx.Response:
        status, payload = responder.respond(request.url.path, json.loads(request.content))
        return httpx.Response(status, json=payload)

    return openai.OpenAI(
        api_key="local",
        base_url="http://local.test/v1",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(handle)),
    )


def test_sdk_chat_and_responses(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": PENGUINS}]
    )
    assert "local server" in (completion.choices[0].message.content or "")
    response = client.responses.create(model="gpt-4o-mini", input=PENGUINS)
    assert PENGUINS in response.output_text


def test_sdk_embeddings_decode_the_default_base64(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    vectors = [d.embedding for d in result.data]
    assert [len(v) for v in vectors] == [1536, 1536]
    assert math.isclose(float(np.linalg.norm(vectors[0])), 1.0, abs_tol=1e-5)


def test_sdk_moderations_and_completions(client: openai.OpenAI) -> None:
    moderation = client.moderations.create(input="penguins")
    assert moderation.results[0].flagged is False
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi")
    assert "local server" in completion.choices[0].text


def test_sdk_raises_the_matching_exceptions(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as not_found:
        client.chat.completions.create(model="xyz", messages=[{"role": "user", "content": "hi"}])
    assert not_found.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as too_long:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            max_tokens=1_000_000,
        )
    assert too_long.value.code == "invalid_value"
    assert too_long.value.param == "max_tokens"
