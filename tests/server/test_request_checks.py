"""Request bodies of chat completions and Responses are checked as the real API checks them.

The efforts a model takes, what a reasoning model refuses while it reasons, ``top_logprobs``,
and every parameter of the endpoints' tables (``PARAMETERS`` in ``endpoints/chat.py`` and
``endpoints/responses.py``): each kind of value is tried against every entry, so an entry added
to a table is tested without a new test. Most tests call the responder directly; the last ones
go through the real SDK against a server, and a batch.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

from batch_api_local.endpoints import chat, reasoning, responses
from batch_api_local.endpoints.parameters import Parameter
from batch_api_local.models import MODELS, list_models
from batch_api_local.responder import LocalResponder

from support import chat_line, file_lines, run_batch

NOW = 1_788_220_800  # 2026-09-01, the tests' clock
CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "local-server.md"


@pytest.fixture
def responder() -> LocalResponder:
    return LocalResponder(now=lambda: NOW)


def body_for(url: str, model: str = "gpt-4o-mini", **extra: Any) -> dict[str, Any]:
    if url == CHAT:
        return {"model": model, "messages": [{"role": "user", "content": "Hi"}], **extra}
    return {"model": model, "input": "Hi", **extra}


def refused(
    responder: LocalResponder, url: str, body: dict[str, Any], code: str | None, param: str | None
) -> str:
    """The message of the 400 ``body`` gets, after checking its code and param."""
    status, reply = responder.respond(url, body)
    assert status == 400, reply
    error = reply["error"]
    assert error["type"] == "invalid_request_error"
    assert (error["code"], error["param"]) == (code, param), error
    return str(error["message"])


def accepted(responder: LocalResponder, url: str, body: dict[str, Any]) -> dict[str, Any]:
    status, reply = responder.respond(url, body)
    assert status == 200, reply
    return reply


def quoted(values: tuple[str, ...]) -> str:
    items = [f"'{v}'" for v in values]
    return " and ".join(items) if len(items) <= 2 else ", ".join(items[:-1]) + ", and " + items[-1]


# -- reasoning efforts ----------------------------------------------------------------------

REASONING_MODELS = [m for m in list_models(NOW) if m.reasoning]


def test_the_catalog_has_reasoning_models_of_each_kind() -> None:
    defaults = {m.default_effort for m in REASONING_MODELS}
    assert {"none", "medium"} <= defaults
    assert any("none" not in m.efforts for m in REASONING_MODELS)
    assert any(m.kind == "responses" for m in REASONING_MODELS)


@pytest.mark.parametrize("info", REASONING_MODELS, ids=lambda m: m.id)
def test_each_reasoning_model_takes_its_efforts_and_refuses_the_others(
    responder: LocalResponder, info: Any
) -> None:
    urls = (CHAT, RESPONSES) if info.kind == "chat" else (RESPONSES,)
    for effort in reasoning.EFFORTS:
        for url in urls:
            extra = (
                {"reasoning_effort": effort} if url == CHAT else {"reasoning": {"effort": effort}}
            )
            body = body_for(url, info.id, **extra)
            if effort in info.efforts:
                accepted(responder, url, body)
                continue
            if url == CHAT:
                message = refused(responder, url, body, "unsupported_value", "reasoning_effort")
                assert message == (
                    f"Unsupported value: 'reasoning_effort' does not support '{effort}' with "
                    f"this model. Supported values are: {quoted(info.efforts)}."
                )
            else:
                message = refused(responder, url, body, "unsupported_value", "reasoning.effort")
                assert message == (
                    f"Unsupported value: '{effort}' is not supported with the '{info.id}' model. "
                    f"Supported values are: {quoted(info.efforts)}."
                )


def test_the_observed_effort_refusals_are_reproduced(responder: LocalResponder) -> None:
    # gpt-5-mini and 'xhigh' on chat (kaitranntt/ccs#344)
    message = refused(
        responder,
        CHAT,
        body_for(CHAT, "gpt-5-mini", reasoning_effort="xhigh"),
        "unsupported_value",
        "reasoning_effort",
    )
    assert message == (
        "Unsupported value: 'reasoning_effort' does not support 'xhigh' with this model. "
        "Supported values are: 'minimal', 'low', 'medium', and 'high'."
    )
    # gpt-6.2-sol rejects 'none' (its model page)
    message = refused(
        responder,
        RESPONSES,
        body_for(RESPONSES, "gpt-6.2-sol", reasoning={"effort": "none"}),
        "unsupported_value",
        "reasoning.effort",
    )
    assert message.startswith("Unsupported value: 'none' is not supported with the 'gpt-6.2-sol'")


def test_an_effort_that_is_no_effort_at_all(responder: LocalResponder) -> None:
    # chat names the model's values only, whatever it was given
    message = refused(
        responder,
        CHAT,
        body_for(CHAT, "o3", reasoning_effort="bogus"),
        "unsupported_value",
        "reasoning_effort",
    )
    assert "does not support 'bogus' with this model" in message
    message = refused(
        responder,
        CHAT,
        body_for(CHAT, "o3", reasoning_effort={"a": 1}),
        "unsupported_value",
        "reasoning_effort",
    )
    assert "does not support {'a': 1} with this model" in message
    # Responses checks the spec's enum first, for every model
    for model in ("o3", "gpt-4o-mini"):
        message = refused(
            responder,
            RESPONSES,
            body_for(RESPONSES, model, reasoning={"effort": "ultra"}),
            "invalid_value",
            "reasoning.effort",
        )
        assert message == (
            "Invalid value: 'ultra'. Supported values are: 'none', 'minimal', 'low', 'medium', "
            "'high', 'xhigh', and 'max'."
        )
    refused(
        responder,
        RESPONSES,
        body_for(RESPONSES, "o3", reasoning={"effort": ["low"]}),
        "invalid_type",
        "reasoning.effort",
    )


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4.1", "gpt-audio-mini"])
def test_a_model_that_does_not_reason_takes_no_effort(
    responder: LocalResponder, model: str
) -> None:
    message = refused(
        responder,
        CHAT,
        body_for(CHAT, model, reasoning_effort="low"),
        "unsupported_parameter",
        "reasoning_effort",
    )
    assert message == "Unsupported parameter: 'reasoning_effort' is not supported with this model."
    message = refused(
        responder,
        RESPONSES,
        body_for(RESPONSES, model, reasoning={"effort": "none"}),
        "unsupported_parameter",
        "reasoning.effort",
    )
    assert message == "Unsupported parameter: 'reasoning.effort' is not supported with this model."
    # a summary alone is not an effort
    accepted(responder, RESPONSES, body_for(RESPONSES, model, reasoning={"summary": "auto"}))


def test_a_null_effort_is_no_effort(responder: LocalResponder) -> None:
    accepted(responder, CHAT, body_for(CHAT, "gpt-4o-mini", reasoning_effort=None))
    reply = accepted(responder, RESPONSES, body_for(RESPONSES, "o3", reasoning={"effort": None}))
    assert reply["reasoning"]["effort"] == "medium"


def test_a_model_the_catalog_does_not_know_takes_any_of_the_spec_efforts() -> None:
    responder = LocalResponder(now=lambda: NOW, any_model=True)
    for effort in reasoning.EFFORTS:
        accepted(responder, CHAT, body_for(CHAT, "my-model", reasoning_effort=effort))
    refused(
        responder,
        CHAT,
        body_for(CHAT, "my-model", reasoning_effort="ultra"),
        "unsupported_value",
        "reasoning_effort",
    )


def test_responses_echoes_the_effort_used(responder: LocalResponder) -> None:
    for model in ("gpt-6-luna", "gpt-5.4-mini", "gpt-6.2-sol", "gpt-4o-mini"):
        reply = accepted(responder, RESPONSES, body_for(RESPONSES, model))
        assert reply["reasoning"]["effort"] == MODELS[model].default_effort
    reply = accepted(responder, RESPONSES, body_for(RESPONSES, "o3", reasoning={"effort": "low"}))
    assert reply["reasoning"]["effort"] == "low"


# -- what a reasoning model refuses while it reasons -----------------------------------------

#: (parameter, a value other than its default, code, message) of chat's refusals
CHAT_SAMPLING = [
    (
        "temperature",
        0.2,
        "unsupported_value",
        "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default "
        "(1) value is supported.",
    ),
    (
        "top_p",
        0.5,
        "unsupported_value",
        "Unsupported value: 'top_p' does not support 0.5 with this model. Only the default (1) "
        "value is supported.",
    ),
    (
        "logprobs",
        True,
        "unsupported_parameter",
        "Unsupported parameter: 'logprobs' is not supported with this model.",
    ),
    (
        "presence_penalty",
        0.5,
        "unsupported_parameter",
        "Unsupported parameter: 'presence_penalty' is not supported with this model.",
    ),
    (
        "frequency_penalty",
        -1,
        "unsupported_parameter",
        "Unsupported parameter: 'frequency_penalty' is not supported with this model.",
    ),
    (
        "logit_bias",
        {"50256": -100},
        "unsupported_parameter",
        "Unsupported parameter: 'logit_bias' is not supported with this model.",
    ),
]


@pytest.mark.parametrize(("name", "value", "code", "message"), CHAT_SAMPLING)
def test_chat_sampling_is_refused_while_the_model_reasons(
    responder: LocalResponder, name: str, value: Any, code: str, message: str
) -> None:
    extra = {name: value, "top_logprobs": 2} if name == "logprobs" else {name: value}
    # gpt-6-luna reasons by default (medium); gpt-5.4-mini at any effort but its default none
    for body in (
        body_for(CHAT, "gpt-6-luna", **extra),
        body_for(CHAT, "gpt-6-luna", reasoning_effort="high", **extra),
        body_for(CHAT, "gpt-5.4-mini", reasoning_effort="low", **extra),
        body_for(CHAT, "gpt-6.2-sol", **extra),
    ):
        assert refused(responder, CHAT, body, code, name) == message
    # at effort none it is a model that does not reason
    accepted(responder, CHAT, body_for(CHAT, "gpt-6-luna", reasoning_effort="none", **extra))
    accepted(responder, CHAT, body_for(CHAT, "gpt-5.4-mini", **extra))
    accepted(responder, CHAT, body_for(CHAT, "gpt-4o-mini", **extra))


def test_the_defaults_are_always_fine(responder: LocalResponder) -> None:
    defaults = {
        "temperature": 1,
        "top_p": 1.0,
        "logprobs": False,
        "presence_penalty": 0,
        "frequency_penalty": 0.0,
        "logit_bias": {},
    }
    accepted(responder, CHAT, body_for(CHAT, "gpt-6-luna", **defaults))
    accepted(responder, RESPONSES, body_for(RESPONSES, "o3", temperature=1, top_logprobs=0))


def test_max_tokens_is_refused_by_a_reasoning_model_whatever_its_effort(
    responder: LocalResponder,
) -> None:
    for model, effort in (("gpt-5.4-mini", None), ("gpt-6-luna", "none"), ("o3", "low")):
        body = body_for(CHAT, model, max_tokens=50)
        if effort is not None:
            body["reasoning_effort"] = effort
        message = refused(responder, CHAT, body, "unsupported_parameter", "max_tokens")
        assert message.endswith("Use 'max_completion_tokens' instead.")


def test_responses_refuses_sampling_and_logprobs_while_the_model_reasons(
    responder: LocalResponder,
) -> None:
    for name, value in (("temperature", 0.3), ("top_p", 0.9)):
        message = refused(
            responder,
            RESPONSES,
            body_for(RESPONSES, "gpt-6-luna", **{name: value}),
            "unsupported_parameter",
            name,
        )
        assert message == f"Unsupported parameter: '{name}' is not supported with this model."
    include = {"include": [reasoning.LOGPROBS_INCLUDE]}
    for extra, param in ((include, "include"), ({"top_logprobs": 3}, "top_logprobs")):
        body = body_for(RESPONSES, "o3", **extra)
        message = refused(responder, RESPONSES, body, "unsupported_parameter", param)
        assert message == "logprobs are not supported with reasoning models."
        none = body_for(RESPONSES, "gpt-6-luna", reasoning={"effort": "none"}, **extra)
        accepted(responder, RESPONSES, none)
    accepted(responder, RESPONSES, body_for(RESPONSES, "gpt-5.4-mini", temperature=0.3, top_p=0.9))


# -- top_logprobs --------------------------------------------------------------------------


def test_top_logprobs_is_an_integer_from_0_to_20(responder: LocalResponder) -> None:
    for url in (CHAT, RESPONSES):
        extra: dict[str, Any] = {"logprobs": True} if url == CHAT else {}
        message = refused(
            responder,
            url,
            body_for(url, top_logprobs=21, **extra),
            "integer_above_max_value",
            "top_logprobs",
        )
        assert message == (
            "Invalid 'top_logprobs': integer above maximum value. Expected a value <= 20, but "
            "got 21 instead."
        )
        refused(
            responder,
            url,
            body_for(url, top_logprobs=-1, **extra),
            "integer_below_min_value",
            "top_logprobs",
        )
        refused(
            responder, url, body_for(url, top_logprobs=2.5, **extra), "invalid_type", "top_logprobs"
        )
        for top in (0, 20):
            accepted(responder, url, body_for(url, top_logprobs=top, **extra))


def test_chat_top_logprobs_needs_logprobs(responder: LocalResponder) -> None:
    for extra in ({}, {"logprobs": False}):
        message = refused(
            responder, CHAT, body_for(CHAT, top_logprobs=3, **extra), None, "top_logprobs"
        )
        assert message == "The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled."
    refused(responder, CHAT, body_for(CHAT, logprobs="yes"), "invalid_type", "logprobs")


# -- every entry of the tables ---------------------------------------------------------------

TABLES = {CHAT: chat.PARAMETERS, RESPONSES: responses.PARAMETERS}
#: what a body needs beside a parameter for the parameter to be taken (chat's top_logprobs)
NEEDS: dict[tuple[str, str], dict[str, Any]] = {(CHAT, "top_logprobs"): {"logprobs": True}}
#: a valid value of the objects whose members are entries of their own
OBJECTS: dict[str, dict[str, Any]] = {
    "audio": {"voice": "alloy", "format": "wav"},
    "prediction": {"type": "content", "content": "Hi"},
}


def with_value(url: str, spec: Parameter, value: Any) -> dict[str, Any]:
    """A valid body (gpt-4o-mini) with ``spec``'s field set to ``value``."""
    body = {**body_for(url), **NEEDS.get((url, spec.path), {})}
    holder = body
    *parents, name = spec.path.split(".")
    for parent in parents:
        holder[parent] = dict(OBJECTS.get(parent, {}))
        holder = holder[parent]
    holder[name] = value
    return body


def valid_values(spec: Parameter) -> list[Any]:
    kind = spec.kind
    if kind == "boolean":
        return [True, False]
    if kind in ("integer", "decimal"):
        values = [v for v in (spec.minimum, spec.maximum) if v is not None] or [1]
        return [int(v) for v in values] if kind == "integer" else [*values, 0.5]
    if kind == "string":
        return ["user-1234", "x" * int(spec.maximum or 100)]
    if kind == "enum":
        return list(spec.values)
    if kind == "enum_list":
        return [list(spec.values), []]
    if kind == "object":
        return [OBJECTS.get(spec.path, {name: "x" for name in spec.values})]
    if kind == "string_or_object":
        return ["alloy", {"id": "voice_1234"}]
    if kind == "stop":
        return ["\n", ["a", "b", "c", "d"]]
    if kind == "metadata":
        return [{"k": "v"}, {f"k{i}": "v" * 512 for i in range(16)}]
    if kind == "logit_bias":
        return [{"50256": -100, "1": 100}, {}]
    return []


def invalid_values(spec: Parameter) -> list[tuple[Any, str | None, str | None]]:
    """(value, code, param) of what each kind refuses."""
    path, kind = spec.path, spec.kind
    if kind == "unknown":
        return [(1, "unknown_parameter", path)]
    if kind == "moved":
        return [({"a": 1}, "unsupported_parameter", None)]
    takes_objects = kind in ("object", "metadata", "logit_bias", "string_or_object")
    wrong: Any = ["x"] if takes_objects else {"x": [1]}
    found: list[tuple[Any, str | None, str | None]] = [(wrong, "invalid_type", path)]
    if kind == "object" and spec.values:  # the first member it requires is reported
        found.append(({}, "missing_required_parameter", f"{path}.{spec.values[0]}"))
    if kind == "integer":
        found.append((1.5, "invalid_type", path))
    for bound, side in ((spec.minimum, "below_min"), (spec.maximum, "above_max")):
        if bound is not None and kind in ("integer", "decimal"):
            step = -1 if side == "below_min" else 1
            found.append((int(bound) + step, f"{kind}_{side}_value", path))
    if kind == "string" and spec.maximum is not None:
        found.append(("x" * (int(spec.maximum) + 1), "string_above_max_length", path))
    if kind == "enum":
        code = None if spec.invalid is not None else "invalid_value"
        found.append(("bogus", code, path))
    if kind == "enum_list":
        found += [(["bogus"], "invalid_value", f"{path}[0]"), ([7], "invalid_type", f"{path}[0]")]
    if kind == "stop":
        found += [
            ([], "empty_array", path),
            (["a"] * 5, "array_above_max_length", path),
            ([1], "invalid_type", f"{path}[0]"),
        ]
    if kind == "metadata":
        found += [
            ({f"k{i}": "v" for i in range(17)}, "object_above_max_properties", path),
            ({"k" * 65: "v"}, "string_above_max_length", f"{path}.{'k' * 65}"),
            ({"k": 7}, "invalid_type", f"{path}.k"),
            ({"k": "v" * 513}, "string_above_max_length", f"{path}.k"),
        ]
    if kind == "logit_bias":
        found += [
            ({"abc": 1}, None, path),
            ({"-1": 1}, None, path),
            ({"1": 101}, "decimal_above_max_value", f"{path}.1"),
            ({"1": -101}, "decimal_below_min_value", f"{path}.1"),
            ({"1": "x"}, "invalid_type", f"{path}.1"),
        ]
    if kind == "string_or_object":
        found.append(({}, "missing_required_parameter", f"{path}.id"))
    return found


CASES = [(url, spec) for url, table in TABLES.items() for spec in table]


@pytest.mark.parametrize(("url", "spec"), CASES, ids=[f"{u[4:]}:{s.path}" for u, s in CASES])
def test_every_table_entry_takes_what_it_may_and_refuses_the_rest(
    responder: LocalResponder, url: str, spec: Parameter
) -> None:
    for value in valid_values(spec):
        accepted(responder, url, with_value(url, spec, value))
    parent, _, name = spec.path.rpartition(".")
    required = any(p.path == parent and name in p.values for p in TABLES[url])
    if spec.kind not in ("unknown", "moved") and not required:
        accepted(responder, url, with_value(url, spec, None))  # null is no value
    cases = invalid_values(spec)
    assert cases, spec
    for value, code, param in cases:
        refused(responder, url, with_value(url, spec, value), code, param)


def test_the_wordings_of_the_table_checks(responder: LocalResponder) -> None:
    def message(url: str, **extra: Any) -> str:
        status, reply = responder.respond(url, body_for(url, **extra))
        assert status == 400, reply
        return str(reply["error"]["message"])

    assert message(RESPONSES, truncation="bogus") == (
        "Invalid value: 'bogus'. Supported values are: 'auto' and 'disabled'."
    )
    assert message(RESPONSES, truncation={"a": 1}) == (
        "Invalid type for 'truncation': expected one of 'auto' or 'disabled', but got an object "
        "instead."
    )
    assert message(CHAT, verbosity="bogus") == (
        "Invalid value: 'bogus'. Supported values are: 'low', 'medium', and 'high'."
    )
    assert message(CHAT, frequency_penalty=3) == (
        "Invalid 'frequency_penalty': decimal above maximum value. Expected a value <= 2, but got "
        "3 instead."
    )
    assert message(CHAT, presence_penalty=-3) == (
        "Invalid 'presence_penalty': decimal below minimum value. Expected a value >= -2, but got "
        "-3 instead."
    )
    assert message(CHAT, prompt_cache_retention="x") == "Invalid prompt_cache_retention argument"
    assert message(RESPONSES, prompt_cache_retention="x") == (
        "Invalid value: 'x'. Supported values are: 'in_memory' and '24h'."
    )
    assert message(CHAT, metadata="x") == (
        "Invalid type for 'metadata': expected a metadata object, but got a string instead."
    )
    assert message(CHAT, logit_bias={"AI": 10}) == (
        "Invalid key in 'logit_bias': AI. You should only be submitting non-negative integers."
    )
    assert message(RESPONSES, n=2) == "Unknown parameter: 'n'."
    assert message(RESPONSES, reasoning_effort="low") == (
        "Unsupported parameter: 'reasoning_effort'. In the Responses API, this parameter has "
        "moved to 'reasoning.effort'. Try again with the new parameter. See the API "
        "documentation for more information: "
        "https://platform.openai.com/docs/api-reference/responses/create."
    )
    assert message(CHAT, safety_identifier="x" * 65) == (
        "Invalid 'safety_identifier': string too long. Expected a string with maximum length 64, "
        "but got a string with length 65 instead."
    )
    assert message(CHAT, stop=["a"] * 5) == (
        "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an "
        "array with length 5 instead."
    )


def test_responses_echoes_what_it_now_checks(responder: LocalResponder) -> None:
    body = body_for(RESPONSES, truncation="auto", metadata={"run": "7"}, top_logprobs=4)
    reply = accepted(responder, RESPONSES, body)
    assert (reply["truncation"], reply["metadata"], reply["top_logprobs"]) == (
        "auto",
        {"run": "7"},
        4,
    )


def test_the_docs_list_every_checked_parameter() -> None:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("### Request parameters checked")
    section = text[start : text.index("\n### ", start + 1)]
    named = set(re.findall(r"`([a-z_.]+)`", section))
    missing = [spec.path for table in TABLES.values() for spec in table if spec.path not in named]
    assert missing == []


# -- through the SDK, against a server -------------------------------------------------------


def test_the_sdk_sees_the_refusals(client: OpenAI) -> None:
    messages: Any = [{"role": "user", "content": "Hi"}]
    with pytest.raises(openai.BadRequestError) as effort:
        client.chat.completions.create(model="o3", messages=messages, reasoning_effort="minimal")
    assert (effort.value.code, effort.value.param) == ("unsupported_value", "reasoning_effort")
    with pytest.raises(openai.BadRequestError) as top:
        client.chat.completions.create(model="gpt-4o-mini", messages=messages, top_logprobs=2)
    assert (top.value.code, top.value.param) == (None, "top_logprobs")
    with pytest.raises(openai.BadRequestError) as tier:
        client.responses.create(
            model="gpt-4o-mini", input="Hi", extra_body={"truncation": "sometimes"}
        )
    assert (tier.value.code, tier.value.param) == ("invalid_value", "truncation")
    # a model that does not reason by default takes sampling
    reply = client.chat.completions.create(
        model="gpt-5.4-mini", messages=messages, temperature=0.2, logprobs=True, top_logprobs=2
    )
    assert reply.choices[0].logprobs is not None


def test_a_refused_body_is_an_error_line_of_its_batch(client: OpenAI) -> None:
    lines = [
        chat_line("ok", model="o3", reasoning_effort="high"),
        chat_line("effort", model="o3", reasoning_effort="none"),
        chat_line("sampling", model="o3", temperature=0.5),
    ]
    batch = run_batch(client, lines)
    assert batch.status == "completed", batch.errors
    assert (batch.request_counts.completed, batch.request_counts.failed) == (1, 2)
    params = {
        line["custom_id"]: line["response"]["body"]["error"]["param"]
        for line in file_lines(client, batch.error_file_id)
    }
    assert params == {"effort": "reasoning_effort", "sampling": "temperature"}
