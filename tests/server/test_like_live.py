"""``serve --like-live``: answers like the real service where the SDK's types allow, for
rehearsals, and nothing of it without the switch. Every difference is seen through the SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from openai import OpenAI
from openai.lib._pydantic import to_strict_json_schema
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from pydantic import BaseModel

from batch_api_local import ServerInfo, ensure_server, reset, state, stop_server
from batch_api_local.cli import main
from batch_api_local.like_live import LIKE_LIVE_ENV, REFUSAL, REFUSE_ONE_IN, body_key, refuses

from support import (
    chat_line,
    conn,
    file_lines,
    free_port,
    run_batch,
    sdk_client,
    server_env,
    upload,
    wait_until,
)

RESPONSES = "/v1/responses"


class Verdict(BaseModel):
    sentiment: Literal["positive", "neutral", "negative"]
    summary: str


SCHEMA = to_strict_json_schema(Verdict)
CHAT_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "Verdict", "schema": SCHEMA, "strict": True},
}
RESPONSES_FORMAT = {"type": "json_schema", "name": "Verdict", "schema": SCHEMA, "strict": True}
#: custom ids of which :func:`refuses` picks some and not others (checked in each test)
IDS = [f"review-{i}" for i in range(12)]


@pytest.fixture(scope="module")
def like_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    state_dir = tmp_path_factory.mktemp("like-live")
    info = ensure_server(state_dir, port=free_port(), pace="instant", like_live=True)
    try:
        yield info
    finally:
        stop_server(state_dir)


@pytest.fixture
def live_client(like_live_server: ServerInfo) -> OpenAI:
    client = sdk_client(like_live_server.base_url)
    reset(**conn(client))
    return client


def structured_lines(url: str = "/v1/chat/completions") -> list[dict[str, Any]]:
    if url == RESPONSES:
        return [
            {
                "custom_id": custom_id,
                "method": "POST",
                "url": RESPONSES,
                "body": {
                    "model": "gpt-4o-mini",
                    "input": f"Review {custom_id}: fine.",
                    "text": {"format": RESPONSES_FORMAT},
                },
            }
            for custom_id in IDS
        ]
    return [
        chat_line(custom_id, f"Review {custom_id}: fine.", response_format=CHAT_FORMAT)
        for custom_id in IDS
    ]


def test_the_refusal_rule_picks_some_of_the_test_ids() -> None:
    picked = [custom_id for custom_id in IDS if refuses(custom_id)]
    assert 0 < len(picked) < len(IDS), picked
    assert REFUSE_ONE_IN == 4


def test_state_says_like_live(live_client: OpenAI, client: OpenAI) -> None:
    assert state(**conn(live_client))["like_live"] is True
    assert state(**conn(client))["like_live"] is False


def test_a_file_without_expires_after_has_no_expires_at(live_client: OpenAI, client: OpenAI):
    lines = [chat_line("a")]
    file = upload(live_client, lines)
    assert file.expires_at is None
    assert live_client.files.retrieve(file.id).expires_at is None
    listed = {f.id: f for f in live_client.files.list().data}
    assert listed[file.id].expires_at is None
    # with expires_after it has one, as without the switch
    given = live_client.files.create(
        file=("in.jsonl", b'{"a": 1}\n'),
        purpose="user_data",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert given.expires_at == given.created_at + 3600
    # the ordinary server shows the 30 days
    ordinary = upload(client, lines)
    assert ordinary.expires_at == ordinary.created_at + 30 * 86_400


def test_a_batch_has_no_usage(live_client: OpenAI, client: OpenAI) -> None:
    created = live_client.batches.create(
        input_file_id=upload(live_client, [chat_line("a"), chat_line("b")]).id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
    )
    assert created.usage is None
    done = wait_until(live_client, created.id)
    assert done.status == "completed" and done.usage is None
    assert done.request_counts is not None and done.request_counts.completed == 2
    assert live_client.batches.list().data[0].usage is None
    # its result file has no expires_at either (the batch gave no output_expires_after)
    assert done.output_file_id is not None
    assert live_client.files.retrieve(done.output_file_id).expires_at is None
    # the ordinary server fills usage in
    ordinary = run_batch(client, [chat_line("a")])
    assert ordinary.usage is not None and ordinary.usage.input_tokens > 0


def test_some_structured_chat_answers_are_refusals(live_client: OpenAI) -> None:
    done = run_batch(live_client, structured_lines())
    assert done.status == "completed"
    answers = {line["custom_id"]: line for line in file_lines(live_client, done.output_file_id)}
    assert set(answers) == set(IDS)  # a refusal is a 200 answer, in the output file
    for custom_id, line in answers.items():
        reply = ChatCompletion.model_validate(line["response"]["body"])
        message = reply.choices[0].message
        if refuses(custom_id):
            assert message.content is None, custom_id
            assert message.refusal == REFUSAL
            assert reply.choices[0].finish_reason == "stop"
            assert reply.usage is not None and reply.usage.completion_tokens > 0
        else:
            assert message.refusal is None
            assert Verdict.model_validate_json(message.content or "")


def test_chat_without_a_schema_is_never_refused(live_client: OpenAI) -> None:
    done = run_batch(live_client, [chat_line(custom_id) for custom_id in IDS])
    for line in file_lines(live_client, done.output_file_id):
        message = line["response"]["body"]["choices"][0]["message"]
        assert message["refusal"] is None and message["content"]


def test_some_structured_responses_answers_are_refusals(live_client: OpenAI) -> None:
    done = run_batch(live_client, structured_lines(RESPONSES), endpoint=RESPONSES)
    assert done.status == "completed"
    for line in file_lines(live_client, done.output_file_id):
        reply = Response.model_validate(line["response"]["body"])
        [message] = [item for item in reply.output if item.type == "message"]
        [part] = message.content
        if refuses(line["custom_id"]):
            assert part.type == "refusal" and part.refusal == REFUSAL
            assert reply.output_text == ""
        else:
            assert part.type == "output_text"
            assert Verdict.model_validate_json(reply.output_text)


def test_a_direct_structured_call_is_refused_when_its_body_is_picked(live_client: OpenAI):
    bodies = [
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": f"Review {i}: fine."}],
            "response_format": CHAT_FORMAT,
        }
        for i in range(12)
    ]
    picked = [refuses(body_key(body)) for body in bodies]
    assert any(picked) and not all(picked), picked
    for body, refused in zip(bodies, picked, strict=True):
        message = live_client.chat.completions.create(**body).choices[0].message  # type: ignore[call-overload]
        if refused:
            assert (message.content, message.refusal) == (None, REFUSAL)
        else:
            assert message.refusal is None and Verdict.model_validate_json(message.content or "")


def test_parse_sees_refusals(live_client: OpenAI) -> None:
    """``chat.completions.parse``: a refusal has ``parsed`` None and ``refusal`` set."""
    seen = {True: 0, False: 0}
    for i in range(64):
        parsed = live_client.chat.completions.parse(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"Review {i}: fine."}],
            response_format=Verdict,
        )
        message = parsed.choices[0].message
        refused = message.refusal is not None
        seen[refused] += 1
        if refused:
            assert message.content is None and message.parsed is None
        else:
            assert isinstance(message.parsed, Verdict)
    assert seen[True] and seen[False], seen


def test_the_direct_rule_is_the_body_key() -> None:
    body = {"model": "gpt-4o-mini", "messages": [], "response_format": CHAT_FORMAT}
    assert body_key(body) == json.dumps(body, sort_keys=True, ensure_ascii=False)


def test_ensure_server_will_not_reuse_an_ordinary_server(local_server: ServerInfo) -> None:
    with pytest.raises(RuntimeError, match="without --like-live"):
        ensure_server(local_server.state_dir, like_live=True)


def test_the_environment_variable_switches_it_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LIKE_LIVE_ENV, "1")
    info = ensure_server(tmp_path / "state", port=free_port(), pace="instant")
    try:
        assert state(base_url=info.base_url, api_key="sk-x")["like_live"] is True
    finally:
        stop_server(tmp_path / "state")


def test_a_value_of_the_variable_that_is_no_switch_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(LIKE_LIVE_ENV, "perhaps")
    assert main(["serve", "--state-dir", str(tmp_path / "state"), "--port", "0"]) == 2
    assert f"${LIKE_LIVE_ENV} is 'perhaps': set it to 1 (on) or 0 (off)" in capsys.readouterr().err
    assert not (tmp_path / "state").exists()


def test_the_ensure_command_starts_a_like_live_server(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    command = [sys.executable, "-m", "batch_api_local", "ensure", "--state-dir", str(state_dir)]
    try:
        run = subprocess.run(
            [*command, "--port", str(free_port()), "--like-live", "--tier", "2"],
            capture_output=True,
            text=True,
            env=server_env(),
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        base_url = run.stdout.strip()
        now = state(base_url=base_url, api_key="sk-x")
        assert (now["like_live"], now["tier"]) == (True, 2)
    finally:
        stop_server(state_dir)
