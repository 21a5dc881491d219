"""The endpoint registry: one entry per endpoint, read alike by validation, the local responder,
token counting and the cost estimate, so that what one says the others do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai import OpenAI

from batch_api_local import BATCH_ENDPOINTS, BatchError, output_bound
from batch_api_local.endpoints import ENDPOINTS, lookup, rules
from batch_api_local.models import MODELS, ModelInfo, list_models, resolve_model
from batch_api_local.responder import LocalResponder
from batch_api_local.validation import check_line

from support import ROOT, run_batch

NOW = 1_700_000_000
CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
COMPLETIONS = "/v1/completions"
EMBEDDINGS = "/v1/embeddings"
MODERATIONS = "/v1/moderations"
GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"

#: the endpoints each kind of model serves, as OpenAI's model pages list them
SERVED = {
    "chat": {CHAT, RESPONSES},
    "responses": {RESPONSES},
    "completion": {COMPLETIONS},
    "embedding": {EMBEDDINGS},
    "moderation": {MODERATIONS},
    "image": {GENERATIONS, EDITS},
}
#: the smallest body each endpoint answers, less its model
MINIMAL: dict[str, dict[str, Any]] = {
    CHAT: {"messages": [{"role": "user", "content": "Name a colour."}]},
    RESPONSES: {"input": "Name a colour."},
    COMPLETIONS: {"prompt": "Name a colour."},
    EMBEDDINGS: {"input": "Name a colour."},
    MODERATIONS: {"input": "Name a colour."},
    GENERATIONS: {"prompt": "A red bicycle.", "quality": "low"},
    EDITS: {
        "prompt": "Make it blue.",
        "images": [{"image_url": "https://example.com/bicycle.png"}],
        "quality": "low",
    },
}
MODEL = {
    CHAT: "gpt-4o-mini",
    RESPONSES: "gpt-4o-mini",
    COMPLETIONS: "gpt-3.5-turbo-instruct",
    EMBEDDINGS: "text-embedding-3-small",
    MODERATIONS: "omni-moderation-latest",
    GENERATIONS: "gpt-image-2",
    EDITS: "gpt-image-2",
}


@pytest.fixture
def responder() -> LocalResponder:
    return LocalResponder(now=lambda: NOW)


def request_line(url: str, body: dict[str, Any], custom_id: str = "r") -> str:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body})


def batch_problem(url: str, body: dict[str, Any], line: int = 7) -> BatchError | None:
    """What validation reports for a batch line to ``url`` with ``body``."""
    problem, _ = check_line(
        request_line(url, body), line, url, first_model=None, seen_ids=set(), now=NOW
    )
    return problem


def output_tokens(url: str, reply: dict[str, Any]) -> int:
    """The output tokens a local answer bills."""
    if url in (CHAT, COMPLETIONS):
        return int(reply["usage"]["completion_tokens"])
    if url in (RESPONSES, GENERATIONS, EDITS):
        return int(reply["usage"]["output_tokens"])
    if url == EMBEDDINGS:
        assert reply["usage"]["total_tokens"] == reply["usage"]["prompt_tokens"]
        return 0
    assert "usage" not in reply  # moderations
    return 0


# -- the registry is complete --------------------------------------------------------------------


def test_every_batch_endpoint_has_one_entry_in_the_apis_order() -> None:
    assert (
        tuple(ENDPOINTS)
        == BATCH_ENDPOINTS
        == (
            RESPONSES,
            CHAT,
            EMBEDDINGS,
            COMPLETIONS,
            MODERATIONS,
            GENERATIONS,
            EDITS,
        )
    )
    for url, entry in ENDPOINTS.items():
        assert entry.url == url
        assert lookup(url) is entry
        assert lookup(f" {url}/") is entry
        assert entry.label and entry.required in MINIMAL[url]
    assert lookup("/v1/videos") is None
    assert lookup(None) is None


def test_every_kind_of_model_in_the_catalog_serves_some_endpoint() -> None:
    assert {info.kind for info in list_models()} == set(SERVED)
    assert {kind for entry in ENDPOINTS.values() for kind in entry.model_kinds} == set(SERVED)


@pytest.mark.parametrize("info", list_models(), ids=lambda info: info.id)
def test_each_model_is_accepted_by_exactly_the_endpoints_of_its_kind(
    responder: LocalResponder, info: ModelInfo
) -> None:
    assert set(info.endpoints) == SERVED[info.kind]
    for url in ENDPOINTS:
        body = {"model": info.id, **MINIMAL[url]}
        status, reply = responder.respond(url, body)
        problem = batch_problem(url, body)
        if url in SERVED[info.kind]:
            assert info.supports(url)
            assert (status, problem) == (200, None), reply
        else:
            assert not info.supports(url)
            assert status in (400, 404) and reply["error"]["param"] == "model"
            assert problem is not None and problem.code == "model_not_found"


# -- one rule, two renderings --------------------------------------------------------------------

#: (rule, a change to a valid body, the batch error's code, param and message, the HTTP status,
#: code, param and message); "{label}" and "{required}" stand for the endpoint's
RULE_CASES = [
    (
        "stream",
        {"stream": True},
        (
            "streaming_unsupported",
            "body.stream",
            "{label}: Streaming is not supported in the Batch API.",
        ),
        (400, "unsupported_value", "stream", "Streaming is not supported by the local server."),
    ),
    (
        "model_missing",
        {"model": None},
        ("invalid_request", "body.model", "Model parameter is required."),
        (400, None, None, "you must provide a model parameter"),
    ),
    (
        "model_empty",
        {"model": ""},
        ("invalid_request", "body.model", "Model parameter is required."),
        (
            404,
            "model_not_found",
            None,
            "The model `` does not exist or you do not have access to it.",
        ),
    ),
    (
        "model_type",
        {"model": 4},
        (
            "invalid_type",
            "body.model",
            "Invalid type for 'body.model': expected a string, but got an integer instead.",
        ),
        (
            400,
            "invalid_type",
            "model",
            "Invalid type for 'model': expected a string, but got an integer instead.",
        ),
    ),
    (
        "model_unknown",
        {"model": "gpt-9"},
        (
            "model_not_found",
            "body.model",
            "The provided model 'gpt-9' is not supported by the Batch API.",
        ),
        (
            404,
            "model_not_found",
            None,
            "The model `gpt-9` does not exist or you do not have access to it.",
        ),
    ),
    (
        "parameter_missing",
        {"{required}": None},
        ("invalid_request", "body.{required}", "{Required} parameter is required."),
        (
            400,
            "missing_required_parameter",
            "{required}",
            "Missing required parameter: '{required}'.",
        ),
    ),
]


def _fill(value: Any, url: str) -> Any:
    entry = ENDPOINTS[url]
    if not isinstance(value, str):
        return value
    return (
        value.replace("{label}", entry.label)
        .replace("{required}", entry.required)
        .replace("{Required}", entry.required.title())
    )


def _changed(url: str, change: dict[str, Any]) -> dict[str, Any]:
    body = {"model": MODEL[url], **MINIMAL[url]}
    for key, value in change.items():
        key = _fill(key, url)
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    return body


def _find(rule: str, url: str, body: dict[str, Any]) -> rules.Problem | None:
    """The problem the rule functions of the registry find (the one of ``rule``)."""
    found: list[rules.Problem | None] = [
        rules.streaming(url, body),
        rules.required_parameter(url, body),
    ]
    model = rules.model_name(url, body)
    if isinstance(model, rules.Problem):
        found.append(model)
    else:
        served = rules.served_model(url, model, resolve_model(model))
        found.append(served if isinstance(served, rules.Problem) else None)
    matching = [p for p in found if p is not None and p.rule == rule]
    return matching[0] if matching else None


@pytest.mark.parametrize("url", list(ENDPOINTS))
@pytest.mark.parametrize(
    ("rule", "change", "as_batch", "as_http"), RULE_CASES, ids=[case[0] for case in RULE_CASES]
)
def test_one_rule_gives_the_batch_error_and_the_http_error(
    responder: LocalResponder,
    url: str,
    rule: str,
    change: dict[str, Any],
    as_batch: tuple[str, str, str],
    as_http: tuple[int, str | None, str | None, str],
) -> None:
    body = _changed(url, change)
    problem = _find(rule, url, body)
    assert problem is not None

    code, param, message = (_fill(x, url) for x in as_batch)
    expected = BatchError(code, message, param, 7)
    assert batch_problem(url, body) == problem.batch_error(7) == expected

    status, reply = responder.respond(url, body)
    if rule == "model_missing" and url == MODERATIONS:  # a direct call gets the default model
        assert status == 200 and reply["model"] == "omni-moderation-2024-09-26"
        return
    http_status, http_code, http_param, http_message = (_fill(x, url) for x in as_http)
    assert status == http_status == problem.api_error().status_code
    assert reply == problem.api_error().body()
    assert reply["error"] == {
        "message": http_message,
        "type": "invalid_request_error",
        "param": http_param,
        "code": http_code,
    }


def test_a_model_of_another_kind_gets_the_endpoints_own_http_error(
    responder: LocalResponder,
) -> None:
    expected = {
        CHAT: "This is not a chat model and thus not supported in the v1/chat/completions endpoint.",
        COMPLETIONS: "This is a chat model and not supported in the v1/completions endpoint.",
        RESPONSES: "The model `text-embedding-3-small` does not support the /v1/responses endpoint.",
        EMBEDDINGS: "The model `gpt-4o-mini` does not support the /v1/embeddings endpoint.",
        MODERATIONS: "The model `gpt-4o-mini` does not support the /v1/moderations endpoint.",
        GENERATIONS: "The model `gpt-4o-mini` does not support the /v1/images/generations",
        EDITS: "The model `gpt-4o-mini` does not support the /v1/images/edits endpoint.",
    }
    for url, start in expected.items():
        model = "text-embedding-3-small" if url in (CHAT, RESPONSES) else "gpt-4o-mini"
        body = {"model": model, **MINIMAL[url]}
        served = rules.served_model(url, model, resolve_model(model))
        assert isinstance(served, rules.Problem) and served.rule == "model_unserved"
        status, reply = responder.respond(url, body)
        assert status == served.api_error().status_code
        assert reply == served.api_error().body()
        assert reply["error"]["message"].startswith(start)
        assert batch_problem(url, body) == served.batch_error(7)
        assert served.batch_error(7).message == (
            f"The provided model '{model}' is not supported by the Batch API."
        )


def test_a_streaming_line_fails_its_batch_and_a_streaming_call_gets_a_400(client: OpenAI) -> None:
    body = {"model": "gpt-4o-mini", **MINIMAL[CHAT], "stream": True}
    line = {"custom_id": "s", "method": "POST", "url": CHAT, "body": body}

    batch = run_batch(client, [line])
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Name a colour."}],
            stream=True,
        )

    assert batch.status == "failed"
    assert batch.errors is not None and batch.errors.data is not None
    rule = rules.streaming(CHAT, body)
    assert rule is not None
    assert [e.model_dump() for e in batch.errors.data] == [rule.batch_error(1).as_dict()]
    assert refused.value.body == rule.api_error().body()["error"]


# -- the output bound of a cost estimate is never below what an answer bills --------------------

REASONING = ("gpt-5-mini", "o3-mini")
PLAIN = ("gpt-4o-mini", "gpt-4.1-nano", "gpt-3.5-turbo")
PARAMETERS = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer", "minimum": 1},
        "units": {"enum": ["metric", "imperial"]},
    },
    "required": ["city", "days", "units"],
    "additionalProperties": False,
}
SCHEMA = {
    "type": "object",
    "properties": {
        "sentiment": {"enum": ["positive", "neutral", "negative"]},
        "summary": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["sentiment", "summary", "tags"],
    "additionalProperties": False,
}
PROMPTS = st.one_of(
    st.sampled_from(["", "Hi", "Describe a penguin in one sentence.", "Héllo 🐧 " * 40]),
    st.text(max_size=120),
)


@st.composite
def chat_bodies(draw: st.DrawFn) -> dict[str, Any]:
    model = draw(st.sampled_from(PLAIN + REASONING))
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": draw(PROMPTS) + " Reply in JSON."}],
    }
    limits = draw(st.sampled_from(["none", "max_tokens", "max_completion_tokens", "both"]))
    if limits in ("max_tokens", "both") and model not in REASONING:
        body["max_tokens"] = draw(st.integers(1, 200))
    if limits in ("max_completion_tokens", "both"):
        body["max_completion_tokens"] = draw(st.integers(1, 200))
    if model in REASONING and draw(st.booleans()):
        body["reasoning_effort"] = draw(st.sampled_from(MODELS[model].efforts))
    if draw(st.booleans()):
        body["n"] = draw(st.integers(1, 4))
    shape = draw(st.sampled_from(["text", "json_object", "json_schema", "named_tool", "required"]))
    if shape == "json_object":
        body["response_format"] = {"type": "json_object"}
    elif shape == "json_schema":
        spec = {"name": "review", "schema": SCHEMA, "strict": True}
        body["response_format"] = {"type": "json_schema", "json_schema": spec}
    elif shape != "text":
        function = {"name": "get_weather", "parameters": PARAMETERS, "strict": True}
        body["tools"] = [{"type": "function", "function": function}]
        body["tool_choice"] = (
            {"type": "function", "function": {"name": "get_weather"}}
            if shape == "named_tool"
            else "required"
        )
    return body


@st.composite
def responses_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(PLAIN + REASONING)),
        "input": draw(PROMPTS) + " Reply in JSON.",
    }
    if draw(st.booleans()):
        body["instructions"] = draw(PROMPTS)
    if draw(st.booleans()):
        body["max_output_tokens"] = draw(st.integers(16, 200))
    if body["model"] in REASONING and draw(st.booleans()):
        body["reasoning"] = {"effort": draw(st.sampled_from(MODELS[body["model"]].efforts))}
    shape = draw(st.sampled_from(["text", "json_object", "json_schema", "named_tool", "required"]))
    if shape == "json_object":
        body["text"] = {"format": {"type": "json_object"}}
    elif shape == "json_schema":
        body["text"] = {"format": {"type": "json_schema", "name": "review", "schema": SCHEMA}}
    elif shape != "text":
        tool = {"type": "function", "name": "get_weather", "parameters": PARAMETERS}
        body["tools"] = [tool]
        named = {"type": "function", "name": "get_weather"}
        body["tool_choice"] = named if shape == "named_tool" else "required"
    return body


@st.composite
def completions_bodies(draw: st.DrawFn) -> dict[str, Any]:
    prompt = draw(
        st.one_of(
            PROMPTS,
            st.lists(PROMPTS, min_size=1, max_size=3),
            st.lists(st.integers(0, 50_000), min_size=1, max_size=20),
        )
    )
    body: dict[str, Any] = {"model": "gpt-3.5-turbo-instruct", "prompt": prompt}
    if draw(st.booleans()):
        body["max_tokens"] = draw(st.integers(0, 120))
    if draw(st.booleans()):
        body["n"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        body["best_of"] = draw(st.integers(body.get("n", 1), 5))
    return body


@st.composite
def embeddings_bodies(draw: st.DrawFn) -> dict[str, Any]:
    text = st.text(min_size=1, max_size=80)
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(["text-embedding-3-small", "text-embedding-3-large"])),
        "input": draw(st.one_of(text, st.lists(text, min_size=1, max_size=3))),
    }
    if draw(st.booleans()):
        body["dimensions"] = draw(st.integers(1, 256))
    return body


@st.composite
def moderations_bodies(draw: st.DrawFn) -> dict[str, Any]:
    inputs = st.one_of(PROMPTS, st.lists(PROMPTS, min_size=1, max_size=3))
    body: dict[str, Any] = {"input": draw(inputs)}
    model = draw(st.sampled_from([None, "omni-moderation-latest", "text-moderation-latest"]))
    if model is not None:
        body["model"] = model
    return body


IMAGE_MODELS = ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2")


@st.composite
def image_bodies(draw: st.DrawFn, *, edit: bool) -> dict[str, Any]:
    model = draw(st.sampled_from((*IMAGE_MODELS, "gpt-image-2.5-flare")))
    info = MODELS[model]
    assert info.image is not None
    body: dict[str, Any] = {"model": model, "prompt": draw(PROMPTS) or "A lighthouse."}
    if draw(st.booleans()):
        body["quality"] = draw(st.sampled_from((*info.image.qualities, "auto")))
    sizes = ["1024x1024", "1024x1536", "1536x1024", "auto"]
    if info.image.flexible:
        sizes += ["1024x640", "1536x864", "2048x1152"]
    if draw(st.booleans()):
        body["size"] = draw(st.sampled_from(sizes))
    if draw(st.booleans()):
        body["n"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        body["output_format"] = draw(st.sampled_from(["png", "jpeg", "webp"]))
    if edit:
        image = {"image_url": "https://example.com/a.png"}
        body["images"] = [image] * draw(st.integers(1, 3))
    return body


BODIES = {
    GENERATIONS: image_bodies(edit=False),
    EDITS: image_bodies(edit=True),
    CHAT: chat_bodies(),
    RESPONSES: responses_bodies(),
    COMPLETIONS: completions_bodies(),
    EMBEDDINGS: embeddings_bodies(),
    MODERATIONS: moderations_bodies(),
}


def test_every_endpoint_has_bodies_for_the_bound_property() -> None:
    assert set(BODIES) == set(ENDPOINTS)


@pytest.mark.parametrize("url", list(ENDPOINTS))
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_output_bound_is_never_below_what_the_answer_bills(
    url: str, data: st.DataObject
) -> None:
    body = data.draw(BODIES[url], label="body")
    responder = LocalResponder(now=lambda: NOW)

    status, reply = responder.respond(url, body)
    bound, source = output_bound(url, body, str(body.get("model", "omni-moderation-latest")))

    if url == CHAT and {"max_tokens", "max_completion_tokens"} <= set(body):
        assert status == 400 and reply["error"]["code"] == "invalid_parameter_combination"
        assert source == min(("max_completion_tokens", "max_tokens"), key=lambda f: body[f])
        return
    assert status == 200, reply  # the strategies build valid requests
    assert output_tokens(url, reply) <= bound
    assert (source is None) == (url in (EMBEDDINGS, MODERATIONS))


# cases the property may not draw: each kind of answer, cut by a short limit or not
BOUND_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("chat, no limit", CHAT, {"model": "gpt-4o-mini"}),
    ("chat, short limit cuts", CHAT, {"model": "gpt-4o-mini", "max_tokens": 3}),
    (
        "chat, n and max_completion_tokens",
        CHAT,
        {"model": "gpt-4.1", "max_completion_tokens": 5, "n": 3},
    ),
    ("chat, reasoning, no limit", CHAT, {"model": "o4-mini"}),
    (
        "chat, reasoning, limit below its thinking",
        CHAT,
        {"model": "gpt-5", "max_completion_tokens": 10},
    ),
    (
        "chat, tool call cut by the limit",
        CHAT,
        {
            "model": "gpt-4o-mini",
            "max_tokens": 4,
            "tools": [
                {"type": "function", "function": {"name": "get_weather", "parameters": PARAMETERS}}
            ],
            "tool_choice": "required",
        },
    ),
    (
        "chat, reasoning tool call cut by the limit",
        CHAT,
        {
            "model": "o3",
            "max_completion_tokens": 66,
            "n": 2,
            "tools": [
                {"type": "function", "function": {"name": "get_weather", "parameters": PARAMETERS}}
            ],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
    ),
    (
        "chat, JSON schema cut by the limit",
        CHAT,
        {
            "model": "gpt-4o",
            "max_completion_tokens": 7,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "r", "schema": SCHEMA},
            },
        },
    ),
    ("responses, no limit", RESPONSES, {"model": "gpt-4o-mini"}),
    (
        "responses, reasoning at the smallest limit",
        RESPONSES,
        {"model": "o3-mini", "max_output_tokens": 16},
    ),
    (
        "responses, tool call cut by the limit",
        RESPONSES,
        {
            "model": "gpt-5-nano",
            "max_output_tokens": 70,
            "tools": [{"type": "function", "name": "get_weather", "parameters": PARAMETERS}],
            "tool_choice": "required",
        },
    ),
    ("completions, no max_tokens", COMPLETIONS, {"model": "gpt-3.5-turbo-instruct", "n": 2}),
    (
        "completions, prompts, n and best_of",
        COMPLETIONS,
        {
            "model": "gpt-3.5-turbo-instruct",
            "prompt": ["a", "b"],
            "n": 2,
            "best_of": 3,
            "max_tokens": 9,
        },
    ),
    ("embeddings", EMBEDDINGS, {"model": "text-embedding-3-large", "input": ["a", "b"]}),
    ("moderations", MODERATIONS, {}),
]


@pytest.mark.parametrize(("case", "url", "change"), BOUND_CASES, ids=[c[0] for c in BOUND_CASES])
def test_the_output_bound_holds_for_each_kind_of_answer(
    responder: LocalResponder, case: str, url: str, change: dict[str, Any]
) -> None:
    body = {**MINIMAL[url], **change}
    status, reply = responder.respond(url, body)
    bound, _ = output_bound(url, body, str(body.get("model", "omni-moderation-latest")))

    assert status == 200, reply
    assert output_tokens(url, reply) <= bound
    if "cut" in case:
        assert output_tokens(url, reply) == bound  # cut where the limit falls


def test_a_tool_call_cut_by_the_limit_says_so(responder: LocalResponder) -> None:
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": PARAMETERS}}
    body = {**MINIMAL[CHAT], "model": "gpt-4o-mini", "max_tokens": 4, "tools": [tool]}
    _, reply = responder.respond(CHAT, {**body, "tool_choice": "required"})
    (choice,) = reply["choices"]
    assert choice["finish_reason"] == "length"
    assert choice["message"]["tool_calls"][0]["function"]["name"] == "get_weather"

    tool = {"type": "function", "name": "get_weather", "parameters": PARAMETERS}
    # a reasoning model thinks first (128 tokens and more at its default effort, medium): the
    # limit leaves no room for the call, which is cut where the limit falls
    body = {"model": "gpt-5-nano", "input": "Hi", "max_output_tokens": 70, "tools": [tool]}
    _, reply = responder.respond(RESPONSES, {**body, "tool_choice": "required"})
    assert reply["status"] == "incomplete"
    assert reply["incomplete_details"] == {"reason": "max_output_tokens"}
    assert [item["type"] for item in reply["output"]] == ["reasoning", "function_call"]
    assert reply["output"][1]["status"] == "incomplete"
    assert reply["usage"]["output_tokens"] == 70


def test_completions_without_max_tokens_stop_at_16_and_are_bounded_at_16_each(
    responder: LocalResponder,
) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "Once upon a time", "n": 3}

    _, reply = responder.respond(COMPLETIONS, body)

    assert [c["finish_reason"] for c in reply["choices"]] == ["length"] * 3
    assert reply["usage"]["completion_tokens"] == 16 * 3
    assert output_bound(COMPLETIONS, body, "gpt-3.5-turbo-instruct") == (
        16 * 3,
        "default max_tokens",
    )


@pytest.mark.parametrize(("max_tokens", "max_completion_tokens"), [(30, 50), (50, 30), (40, 40)])
def test_both_chat_limits_are_refused_by_the_responder_and_bounded_by_the_smaller(
    responder: LocalResponder, max_tokens: int, max_completion_tokens: int
) -> None:
    body = {
        **MINIMAL[CHAT],
        "model": "gpt-4o-mini",
        "max_tokens": max_tokens,
        "max_completion_tokens": max_completion_tokens,
        "n": 2,
    }

    status, reply = responder.respond(CHAT, body)
    bound, source = output_bound(CHAT, body, "gpt-4o-mini")

    assert status == 400
    assert reply["error"] == {
        "message": "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not "
        "supported.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "invalid_parameter_combination",
    }
    assert bound == 2 * min(max_tokens, max_completion_tokens)
    assert source is not None and body[source] == min(max_tokens, max_completion_tokens)
    # either one alone is answered, and bounded by itself
    for field in ("max_tokens", "max_completion_tokens"):
        alone = {k: v for k, v in body.items() if k != field}
        status, reply = responder.respond(CHAT, alone)
        assert status == 200
        assert output_tokens(CHAT, reply) <= output_bound(CHAT, alone, "gpt-4o-mini")[0]


def test_output_bound_without_a_limit_needs_a_known_model() -> None:
    body = {**MINIMAL[CHAT], "model": "my-model"}
    with pytest.raises(ValueError, match="its output has no bound"):
        output_bound(CHAT, body, "my-model")
    assert output_bound(CHAT, {**body, "max_tokens": 5}, "my-model") == (5, "max_tokens")
    assert output_bound(CHAT, body, "gpt-4o") == (16_384, "model maximum")
    assert output_bound(EMBEDDINGS, MINIMAL[EMBEDDINGS], "my-model") == (0, None)
    assert output_bound("/v1/videos", {}, "my-model") == (0, None)
    with pytest.raises(ValueError, match="its output has no bound"):
        output_bound(GENERATIONS, MINIMAL[GENERATIONS], "my-model")


# -- importing the registry stays light ---------------------------------------------------------


def test_importing_the_package_and_its_registry_loads_no_server_numpy_or_tokenizer() -> None:
    code = (
        "import json, sys\n"
        "import batch_api_local\n"
        "from batch_api_local.endpoints import ENDPOINTS, output_bound\n"
        "output_bound('/v1/chat/completions', {'max_tokens': 5}, 'gpt-4o-mini')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    modules = set(json.loads(result.stdout))

    assert "batch_api_local" in modules
    assert not modules & {"fastapi", "starlette", "numpy", "bpe_openai"}
