"""Answers shaped like the request, through the real SDK: JSON mode, structured outputs (and the
SDK's parse helpers), forced tool calls, reasoning models, and ``--any-model``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

import openai
import pytest
from jsonschema import Draft202012Validator
from openai import OpenAI
from openai.lib._pydantic import to_strict_json_schema
from pydantic import BaseModel, Field

from batch_api_local import ServerInfo, ensure_server, stop_server

from support import chat_line, free_port, run_batch, sdk_client
from test_schemas import CORPUS, Node, Person, Review


class Extraction(BaseModel):
    sentiment: Literal["positive", "neutral", "negative"]
    category: str
    summary: str
    score: float = Field(ge=0, le=1)


def ask(content: str = "Describe penguins as json.", **body: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **body}


# -- JSON mode -------------------------------------------------------------------------------


def test_json_mode_answers_a_json_object(client: OpenAI):
    reply = client.chat.completions.create(**ask(response_format={"type": "json_object"}))
    content = json.loads(reply.choices[0].message.content)
    assert isinstance(content, dict) and "[local server]" in content["note"]
    assert reply.choices[0].finish_reason == "stop"


def test_json_mode_without_the_word_json_is_refused(client: OpenAI):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            **ask("Describe penguins.", response_format={"type": "json_object"})
        )
    assert refused.value.body["message"] == (
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
        "'json_object'."
    )
    assert refused.value.param == "messages"


def test_responses_json_mode_needs_json_in_the_input_not_the_instructions(client: OpenAI):
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(
            model="gpt-4o-mini",
            instructions="Answer in JSON.",
            input="Describe penguins.",
            text={"format": {"type": "json_object"}},
        )
    assert refused.value.body["message"].startswith("Response input messages must contain the word")
    reply = client.responses.create(
        model="gpt-4o-mini", input="Penguins, in json.", text={"format": {"type": "json_object"}}
    )
    assert isinstance(json.loads(reply.output_text), dict)
    assert reply.text.format.type == "json_object"


# -- structured outputs ----------------------------------------------------------------------


def test_the_sdks_parse_helper_works_for_chat(client: OpenAI):
    reply = client.chat.completions.parse(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "A review."}],
        response_format=Extraction,
    )
    parsed = reply.choices[0].message.parsed
    assert isinstance(parsed, Extraction) and 0 <= parsed.score <= 1


def test_the_sdks_parse_helper_works_for_responses(client: OpenAI):
    reply = client.responses.parse(model="gpt-4o-mini", input="A review.", text_format=Extraction)
    assert isinstance(reply.output_parsed, Extraction)
    # the reply echoes the format it was asked for
    assert reply.text.format.type == "json_schema" and reply.text.format.name == "Extraction"
    assert reply.text.format.strict is True


def test_a_strict_schema_outside_the_subset_is_refused(client: OpenAI):
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            **ask(
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "thing", "schema": schema, "strict": True},
                }
            )
        )
    assert refused.value.code == "invalid_json_schema"
    assert refused.value.body["message"] == (
        "Invalid schema for response_format 'thing': In context=(), 'additionalProperties' is "
        "required to be supplied and to be false."
    )
    # the same schema without strict is answered
    reply = client.chat.completions.create(
        **ask(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "thing", "schema": schema},
            }
        )
    )
    assert set(json.loads(reply.choices[0].message.content)) == {"a"}


def test_a_strict_batch_over_twenty_schemas_parses_line_by_line(client: OpenAI):
    """Every output line of a batch of strict structured-output requests parses with
    json.loads, validates with jsonschema, and (for pydantic schemas) with the model."""
    strict = {
        n: s
        for n, s in CORPUS.items()
        if n.startswith(
            (
                "pydantic",
                "flat",
                "nested",
                "defs",
                "recursion",
                "enum",
                "array-of",
                "nullable",
                "any-of",
                "number",
                "string-formats",
                "pattern",
            )
        )
    }
    strict["extraction"] = to_strict_json_schema(Extraction)
    names = sorted(strict)
    lines = []
    for i in range(20):
        name = names[i % len(names)]
        fmt = {
            "type": "json_schema",
            "json_schema": {"name": name.replace("-", "_"), "schema": strict[name], "strict": True},
        }
        lines.append(chat_line(f"r{i}-{name}", f"Item {i}.", response_format=fmt))
    batch = run_batch(client, lines)
    assert batch.status == "completed" and batch.request_counts.completed == 20, batch
    models = {
        "pydantic-review": Review,
        "pydantic-recursive": Node,
        "pydantic-person": Person,
        "extraction": Extraction,
    }
    for raw in client.files.content(batch.output_file_id).text.splitlines():
        line = json.loads(raw)
        name = line["custom_id"].split("-", 1)[1]
        content = line["response"]["body"]["choices"][0]["message"]["content"]
        value = json.loads(content)
        assert list(Draft202012Validator(strict[name]).iter_errors(value)) == []
        if name in models:
            models[name].model_validate_json(content)


# -- tools -----------------------------------------------------------------------------------

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"enum": ["c", "f"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit", "days"],
            "additionalProperties": False,
        },
    },
}


@pytest.mark.parametrize(
    ("choice", "finish"),
    [
        ({"type": "function", "function": {"name": "get_weather"}}, "stop"),
        ("required", "tool_calls"),
    ],
)
def test_a_forced_tool_call_has_arguments_that_fit(client: OpenAI, choice: Any, finish: str):
    reply = client.chat.completions.create(
        **ask("Weather in Oslo?", tools=[WEATHER], tool_choice=choice)
    )
    [call] = reply.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and call.id.startswith("call_")
    arguments = json.loads(call.function.arguments)
    assert (
        list(Draft202012Validator(WEATHER["function"]["parameters"]).iter_errors(arguments)) == []
    )
    assert reply.choices[0].finish_reason == finish
    assert reply.choices[0].message.content is None


def test_auto_tools_answer_text(client: OpenAI):
    reply = client.chat.completions.create(**ask("Weather in Oslo?", tools=[WEATHER]))
    assert reply.choices[0].message.tool_calls is None
    assert "[local server]" in reply.choices[0].message.content


def test_responses_forced_function_call_and_echo(client: OpenAI):
    tool = {"type": "function", **WEATHER["function"]}
    reply = client.responses.create(
        model="gpt-4o-mini",
        input="Weather?",
        tools=[tool],
        tool_choice={"type": "function", "name": "get_weather"},
        temperature=0.3,
        top_p=0.9,
        max_output_tokens=500,
    )
    [call] = [item for item in reply.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments)["unit"] in ("c", "f")
    assert (reply.temperature, reply.top_p, reply.max_output_tokens) == (0.3, 0.9, 500)
    assert reply.tools[0].name == "get_weather"
    assert reply.tool_choice.name == "get_weather"


def test_a_named_tool_that_is_not_in_tools_is_refused(client: OpenAI):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            **ask(tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "nope"}})
        )
    assert refused.value.param == "tool_choice"


# -- reasoning models ------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["o1", "o3", "o3-mini", "o4-mini", "gpt-5-mini"])
def test_reasoning_models_think_and_report_it(client: OpenAI, model: str):
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}], max_completion_tokens=2000
    )
    usage = reply.usage
    assert usage.completion_tokens_details.reasoning_tokens > 0
    assert usage.completion_tokens > usage.completion_tokens_details.reasoning_tokens


def test_reasoning_models_refuse_max_tokens(client: OpenAI):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="gpt-5-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=100
        )
    assert (refused.value.code, refused.value.param) == ("unsupported_parameter", "max_tokens")
    assert refused.value.body["message"] == (
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
        "'max_completion_tokens' instead."
    )


def test_reasoning_models_refuse_a_temperature_other_than_one(client: OpenAI):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="o4-mini", messages=[{"role": "user", "content": "hi"}], temperature=0.2
        )
    assert (refused.value.code, refused.value.param) == ("unsupported_value", "temperature")
    assert refused.value.body["message"] == (
        "Unsupported value: 'temperature' does not support 0.2 with this model. Only the "
        "default (1) value is supported."
    )
    with pytest.raises(openai.BadRequestError) as responses:
        client.responses.create(model="o3", input="hi", top_p=0.5)
    assert responses.value.code == "unsupported_parameter"
    # the default is fine
    client.chat.completions.create(
        model="o4-mini", messages=[{"role": "user", "content": "hi"}], temperature=1
    )


def test_reasoning_models_run_in_a_batch_and_their_refusals_are_error_lines(client: OpenAI):
    lines = [
        chat_line("ok", model="o3-mini", max_completion_tokens=500),
        chat_line("bad", model="o3-mini", max_tokens=500),
    ]
    batch = run_batch(client, lines)
    assert batch.status == "completed", batch.errors
    assert (batch.request_counts.completed, batch.request_counts.failed) == (1, 1)
    assert batch.usage.output_tokens_details.reasoning_tokens > 0


# -- --any-model -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def any_model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    state = tmp_path_factory.mktemp("any-model")
    info = ensure_server(state, port=free_port(), pace="instant", extra_args=["--any-model"])
    yield info
    stop_server(state)


def test_any_model_accepts_a_name_the_catalog_lacks(client: OpenAI, any_model_server: ServerInfo):
    with pytest.raises(openai.NotFoundError):  # the default server still refuses it
        client.chat.completions.create(
            model="my-fine-tune", messages=[{"role": "user", "content": "hi"}]
        )
    other = sdk_client(any_model_server.base_url)
    reply = other.chat.completions.create(
        model="my-fine-tune", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.model == "my-fine-tune"
    batch = run_batch(other, [chat_line("a", model="my-fine-tune")])
    assert batch.status == "completed" and batch.model == "my-fine-tune"


def test_tools_of_an_unknown_type_or_missing_a_field_are_refused(client: OpenAI):
    with pytest.raises(openai.BadRequestError) as chat:
        client.chat.completions.create(**ask(tools=[{"type": "no_such_tool"}]))
    assert (chat.value.param, chat.value.code) == ("tools[0].type", "invalid_value")
    with pytest.raises(openai.BadRequestError) as responses:
        client.responses.create(model="gpt-4o-mini", input="hi", tools=[{"type": "file_search"}])
    assert responses.value.param == "tools[0].vector_store_ids"


def test_a_hosted_tool_choice_is_accepted_and_answered_with_text(client: OpenAI):
    reply = client.responses.create(
        model="gpt-4o-mini",
        input="Find it.",
        tools=[{"type": "file_search", "vector_store_ids": ["vs_1"]}],
        tool_choice={"type": "file_search"},
    )
    assert "[local server]" in reply.output_text
