"""Local answers behave like a model's where a program looks: reasoning tokens that grow with the
effort and the prompt, log probabilities in the real shape, placeholder reasoning summaries, and
JSON mode that follows the keys a prompt shows.

Replies are parsed with the pinned SDK's own types; a few tests go through the SDK against a
server.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai import OpenAI
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from batch_api_local import tokens
from batch_api_local.endpoints import output_bound, reasoning
from batch_api_local.models import MODELS
from batch_api_local.responder import LocalResponder

NOW = 1_788_220_800  # 2026-09-01, the tests' clock
CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
PROMPT = "Describe the penguin lifecycle in three paragraphs."


@pytest.fixture
def responder() -> LocalResponder:
    return LocalResponder(now=lambda: NOW)


def chat(responder: LocalResponder, content: str = PROMPT, **body: Any) -> dict[str, Any]:
    request = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **body}
    status, reply = responder.respond(CHAT, request)
    assert status == 200, reply
    ChatCompletion.model_validate(reply)
    return reply


def respond(responder: LocalResponder, prompt: str = PROMPT, **body: Any) -> dict[str, Any]:
    status, reply = responder.respond(RESPONSES, {"model": "gpt-4o-mini", "input": prompt, **body})
    assert status == 200, reply
    Response.model_validate(reply)
    return reply


def thought(reply: dict[str, Any]) -> int:
    usage = reply["usage"]
    if "completion_tokens_details" in usage:
        return int(usage["completion_tokens_details"]["reasoning_tokens"])
    return int(usage["output_tokens_details"]["reasoning_tokens"])


# -- reasoning tokens ------------------------------------------------------------------------


def test_reasoning_tokens_grow_with_the_effort(responder: LocalResponder) -> None:
    spent = []
    for effort in MODELS["gpt-6-luna"].efforts:
        reply = chat(responder, model="gpt-6-luna", reasoning_effort=effort)
        spent.append(thought(reply))
    assert spent[0] == 0  # none
    assert spent == sorted(spent) and len(set(spent)) == len(spent)


def test_reasoning_tokens_grow_with_the_prompt(responder: LocalResponder) -> None:
    short = chat(responder, "Hi", model="o3")
    long = chat(responder, "Hi " * 5_000, model="o3")
    assert 0 < thought(short) < thought(long)


def test_the_formula(responder: LocalResponder) -> None:
    reply = chat(responder, model="o3", reasoning_effort="high")
    prompt = reply["usage"]["prompt_tokens"]
    assert thought(reply) == 256 + 256 * prompt // 1280
    # at most 32 times the base, whatever the prompt
    reply = chat(responder, "penguin " * 200_000, model="gpt-6-luna", reasoning_effort="low")
    assert thought(reply) == 32 * reasoning.THINKING["low"]


def test_effort_none_and_models_that_do_not_reason_think_nothing(responder: LocalResponder) -> None:
    assert thought(chat(responder)) == 0
    assert thought(chat(responder, model="gpt-5.4-mini")) == 0  # its default is none
    assert thought(chat(responder, model="gpt-6-luna", reasoning_effort="none")) == 0
    reply = respond(responder, model="gpt-6-luna", reasoning={"effort": "none"})
    assert thought(reply) == 0
    assert [item["type"] for item in reply["output"]] == ["message"]


def test_usage_adds_up(responder: LocalResponder) -> None:
    reply = chat(responder, model="gpt-6-luna", reasoning_effort="xhigh", n=3)
    visible = tokens.count_tokens(reply["choices"][0]["message"]["content"])
    usage = reply["usage"]
    spent = usage["completion_tokens_details"]["reasoning_tokens"]
    assert spent > 0 and spent % 3 == 0  # each choice thought the same
    assert usage["completion_tokens"] == 3 * visible + spent
    reply = respond(responder, model="gpt-6-luna", reasoning={"effort": "max"})
    text = reply["output"][1]["content"][0]["text"]
    usage = reply["usage"]
    assert usage["output_tokens"] == tokens.count_tokens(text) + thought(reply)


def test_a_limit_below_the_thinking_leaves_no_answer(responder: LocalResponder) -> None:
    reply = chat(responder, model="o3", reasoning_effort="high", max_completion_tokens=100)
    (choice,) = reply["choices"]
    assert (thought(reply), reply["usage"]["completion_tokens"]) == (100, 100)
    assert (choice["message"]["content"], choice["finish_reason"]) == ("", "length")
    reply = respond(responder, model="o3", max_output_tokens=100)
    assert (thought(reply), reply["status"]) == (100, "incomplete")


REASONING = ("o3", "gpt-5-mini", "gpt-6-luna", "gpt-5.4-mini", "gpt-6.2-sol", "gpt-4o-mini")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_thinking_stays_within_the_limit_and_the_bound(data: st.DataObject) -> None:
    model = data.draw(st.sampled_from(REASONING), label="model")
    info = MODELS[model]
    responses = data.draw(st.booleans(), label="responses")
    prompt = data.draw(st.text(max_size=300) | st.just("long prompt " * 3_000), label="prompt")
    limit = data.draw(st.none() | st.integers(16, 3_000), label="limit")
    effort = data.draw(st.none() | st.sampled_from(info.efforts or ("none",)), label="effort")
    if responses:
        url, body = RESPONSES, {"model": model, "input": prompt or "Hi"}
        if effort is not None and info.reasoning:
            body["reasoning"] = {"effort": effort}
        if limit is not None:
            body["max_output_tokens"] = limit
    else:
        url = CHAT
        body = {"model": model, "messages": [{"role": "user", "content": prompt}]}
        if effort is not None and info.reasoning:
            body["reasoning_effort"] = effort
        if limit is not None:
            body["max_completion_tokens"] = limit
    status, reply = LocalResponder(now=lambda: NOW).respond(url, body)
    assert status == 200, reply
    spent = thought(reply)
    used = reply["usage"]["output_tokens" if responses else "completion_tokens"]
    bound, _ = output_bound(url, body, model)
    assert spent <= used <= bound
    assert spent <= (limit if limit is not None else info.max_output_tokens)
    if effort == "none" or not info.reasoning:
        assert spent == 0


# -- log probabilities -----------------------------------------------------------------------


def check_entries(entries: list[dict[str, Any]], text: str, top: int) -> None:
    """The entries cover ``text`` token by token, with ``top`` sorted alternatives each."""
    assert b"".join(bytes(entry["bytes"]) for entry in entries) == text.encode("utf-8")
    assert len(entries) == len(tokens.encode(text))
    for entry in entries:
        assert entry["logprob"] < 0
        alternatives = entry["top_logprobs"]
        assert len(alternatives) == top
        logprobs = [item["logprob"] for item in alternatives]
        assert logprobs == sorted(logprobs, reverse=True)
        assert sum(math.exp(value) for value in logprobs) < 1
        assert len({item["token"] for item in alternatives}) == top
        if top:
            assert alternatives[0] == {k: entry[k] for k in ("token", "bytes", "logprob")}
        for item in alternatives:
            if not item["token"].startswith("bytes:"):
                assert bytes(item["bytes"]) == item["token"].encode("utf-8")


@pytest.mark.parametrize("top", [0, 1, 5, 20])
def test_chat_logprobs_cover_every_token(responder: LocalResponder, top: int) -> None:
    reply = chat(responder, "Héllo 🐧, 日本語も", logprobs=True, top_logprobs=top)
    completion = ChatCompletion.model_validate(reply)
    (choice,) = reply["choices"]
    assert choice["logprobs"]["refusal"] is None
    check_entries(choice["logprobs"]["content"], choice["message"]["content"], top)
    parsed = completion.choices[0].logprobs
    assert parsed is not None and parsed.content is not None
    assert parsed.content[0].token == choice["logprobs"]["content"][0]["token"]


def test_a_token_that_splits_a_character_is_written_as_bytes(responder: LocalResponder) -> None:
    reply = chat(responder, "🐧🐧🐧", logprobs=True)
    entries = reply["choices"][0]["logprobs"]["content"]
    split = [entry for entry in entries if entry["token"].startswith("bytes:")]
    assert split, "the quoted penguins split into partial characters"
    for entry in split:
        assert entry["token"] == "bytes:" + "".join(f"\\x{b:02x}" for b in entry["bytes"])


def test_logprobs_are_deterministic_and_differ_between_requests(
    responder: LocalResponder,
) -> None:
    first = chat(responder, logprobs=True, top_logprobs=3)["choices"][0]["logprobs"]
    again = chat(responder, logprobs=True, top_logprobs=3)["choices"][0]["logprobs"]
    other = chat(responder, "Another prompt", logprobs=True, top_logprobs=3)
    assert first == again
    assert first["content"][0] != other["choices"][0]["logprobs"]["content"][0]


def test_logprobs_only_when_asked_and_for_every_choice(responder: LocalResponder) -> None:
    assert chat(responder)["choices"][0]["logprobs"] is None
    assert chat(responder, logprobs=False)["choices"][0]["logprobs"] is None
    reply = chat(responder, logprobs=True, n=2, max_completion_tokens=5)
    first, second = reply["choices"]
    assert first["logprobs"] == second["logprobs"] and len(first["logprobs"]["content"]) <= 5


def test_a_tool_call_has_no_content_logprobs(responder: LocalResponder) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    reply = chat(responder, tools=[tool], tool_choice="required", logprobs=True)
    assert reply["choices"][0]["logprobs"] == {"content": [], "refusal": None}


def test_responses_logprobs_come_with_the_include(responder: LocalResponder) -> None:
    include = ["message.output_text.logprobs"]
    reply = respond(responder, include=include, top_logprobs=4)
    part = reply["output"][0]["content"][0]
    check_entries(part["logprobs"], part["text"], 4)
    assert reply["top_logprobs"] == 4
    parsed = Response.model_validate(reply).output[0]
    assert parsed.type == "message" and parsed.content[0].type == "output_text"
    assert parsed.content[0].logprobs is not None and len(parsed.content[0].logprobs) > 0
    # without the include, none; top_logprobs alone is only echoed
    reply = respond(responder, top_logprobs=4)
    assert reply["output"][0]["content"][0]["logprobs"] == []
    reply = respond(responder, include=include, model="gpt-5.4-mini")  # at its default, none
    check_entries(
        reply["output"][0]["content"][0]["logprobs"], reply["output"][0]["content"][0]["text"], 0
    )


def test_classifying_with_one_token_and_its_alternatives(client: OpenAI) -> None:
    """The usual recipe: ask for one token and its top 5, turn them into probabilities."""
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Is this review positive? 'Loved it.' Yes or No."}],
        max_completion_tokens=1,
        logprobs=True,
        top_logprobs=5,
    )
    logprobs = reply.choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    (first,) = logprobs.content
    probabilities = {item.token: math.exp(item.logprob) for item in first.top_logprobs}
    assert len(probabilities) == 5 and 0 < sum(probabilities.values()) < 1
    assert max(probabilities, key=probabilities.__getitem__) == first.token
    assert reply.choices[0].message.content == first.token


# -- reasoning summaries ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", reasoning.SUMMARIES)
def test_a_summary_asked_for_is_a_plain_placeholder(responder: LocalResponder, kind: str) -> None:
    reply = respond(responder, model="o3", reasoning={"effort": "low", "summary": kind})
    item = reply["output"][0]
    assert item["type"] == "reasoning"
    (summary,) = item["summary"]
    assert summary["type"] == "summary_text"
    assert summary["text"].startswith("[local server]") and "placeholder" in summary["text"]
    assert reply["reasoning"] == {"effort": "low", "summary": kind}
    if kind == "detailed":
        assert f"{thought(reply)} reasoning tokens" in summary["text"]


def test_no_summary_unless_asked(responder: LocalResponder) -> None:
    reply = respond(responder, model="o3")
    assert reply["output"][0]["summary"] == []
    reply = respond(responder, model="o3", reasoning={"generate_summary": "concise"})
    assert len(reply["output"][0]["summary"]) == 1  # the deprecated name still asks


def test_the_sdk_reads_the_summary(client: OpenAI) -> None:
    reply = client.responses.create(
        model="gpt-6-luna", input="Hi", reasoning={"effort": "high", "summary": "auto"}
    )
    item = reply.output[0]
    assert item.type == "reasoning"
    assert item.summary[0].text.startswith("[local server]")
    assert reply.usage is not None and reply.usage.output_tokens_details.reasoning_tokens > 0


# -- JSON mode follows the keys the prompt shows ---------------------------------------------

SENTIMENT = (
    'Classify the review. Answer as JSON like {"sentiment": "positive|negative", "score": 0.5}. '
    "Review: I loved it."
)


def test_json_mode_uses_the_keys_of_the_example(responder: LocalResponder) -> None:
    reply = chat(responder, SENTIMENT, response_format={"type": "json_object"})
    content = json.loads(reply["choices"][0]["message"]["content"])
    assert content == {"sentiment": "positive", "score": 0.0}


def test_placeholders_keep_each_json_type(responder: LocalResponder) -> None:
    example = {
        "label": "spam | ham | unsure",
        "reason": "why you think so",
        "count": 3,
        "ok": True,
        "tags": ["a"],
        "nested": {"id": 1, "none": None, "list": []},
    }
    messages = [
        {"role": "system", "content": "Reply in JSON with this shape: " + json.dumps(example)},
        {"role": "user", "content": "Is this spam? {not json} 'Win a prize!'"},
    ]
    reply = chat(responder, messages=messages, response_format={"type": "json_object"})
    content = json.loads(reply["choices"][0]["message"]["content"])
    assert content == {
        "label": "spam",
        "reason": "[local] placeholder reason",
        "count": 0,
        "ok": False,
        "tags": ["[local] placeholder tags"],
        "nested": {"id": 0, "none": None, "list": []},
    }


def test_json_mode_without_an_example_keeps_its_note(responder: LocalResponder) -> None:
    reply = chat(
        responder, "Describe penguins as json {like this}.", response_format={"type": "json_object"}
    )
    content = json.loads(reply["choices"][0]["message"]["content"])
    assert "[local server]" in content["note"]


def test_responses_json_mode_reads_the_instructions_too(responder: LocalResponder) -> None:
    reply = respond(
        responder,
        "Review: I loved it. Answer in JSON.",
        instructions='Use the format {"sentiment": "positive|negative"}.',
        text={"format": {"type": "json_object"}},
    )
    text = reply["output"][0]["content"][0]["text"]
    assert json.loads(text) == {"sentiment": "positive"}


def test_the_sdk_reads_the_keys(client: OpenAI) -> None:
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": SENTIMENT}],
        response_format={"type": "json_object"},
    )
    assert json.loads(reply.choices[0].message.content or "")["sentiment"] == "positive"
