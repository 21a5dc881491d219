"""Recorded answers: ``--record`` writes a cassette, ``--replay`` answers from it.

The recording is made against LLMock (support.MockUpstream), which is then stopped: the replay
runs with no upstream at all, and must give the recorded texts back, with fresh ids and
timestamps. A cassette that is not valid keeps the server from starting, naming its line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

import helpers
from batch_api_local import advance_clock, ensure_server, state, stop_server
from batch_api_local.cassette import (
    CASSETTE_VERSION,
    Cassette,
    CassetteError,
    Recorder,
    ReplayResponder,
    canonical,
    fresh_id,
    freshen,
)
from batch_api_local.upstream import UpstreamResponder

from support import (
    CHAT,
    MockUpstream,
    chat_line,
    conn,
    file_lines,
    free_port,
    run_batch,
    sdk_client,
)
from support import (
    server_env as subprocess_env,
)

RESPONSES = "/v1/responses"


@contextmanager
def serving(state_dir: Path, *flags: str) -> Iterator[OpenAI]:
    info = ensure_server(state_dir, port=free_port(), pace="instant", extra_args=list(flags))
    try:
        yield sdk_client(info.base_url)
    finally:
        stop_server(state_dir)


def _exchange(**fields: Any) -> dict[str, Any]:
    base = {
        "version": CASSETTE_VERSION,
        "endpoint": CHAT,
        "request": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        "status": 200,
        "response": {"id": "chatcmpl-abc", "object": "chat.completion", "created": 1},
    }
    return base | fields


def _write(path: Path, *lines: dict[str, Any] | str) -> Path:
    path.write_text(
        "".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines),
        encoding="utf-8",
    )
    return path


def _content(line: dict[str, Any]) -> str:
    return line["response"]["body"]["choices"][0]["message"]["content"]


def _responses_line(custom_id: str, text: str) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": RESPONSES,
        "body": {"model": "gpt-4o-mini", "input": text},
    }


# -- the format -------------------------------------------------------------------------------


def test_a_request_matches_whatever_its_key_order_and_the_last_recording_wins(tmp_path):
    body = {"model": "gpt-4o-mini", "messages": [{"content": "hi", "role": "user"}]}
    older = _exchange(response={"answer": "old"})
    newer = _exchange(response={"answer": "new"})
    cassette = Cassette.load(_write(tmp_path / "c.jsonl", older, "", newer))
    assert len(cassette) == 1
    assert cassette.lookup(CHAT, body) == (200, {"answer": "new"})
    assert cassette.lookup(RESPONSES, body) is None  # another endpoint
    assert cassette.lookup(CHAT, body | {"temperature": 0}) is None  # another body
    first = cassette.lookup(CHAT, body)
    first[1]["answer"] = "changed"  # type: ignore[index]
    assert cassette.lookup(CHAT, body) == (200, {"answer": "new"})  # each answer is a copy


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ('{"version": 1, "endpoint": ', "line 2: not JSON"),
        ("[1, 2]", "line 2: not a JSON object"),
        (
            json.dumps({"version": 1, "endpoint": CHAT}),
            "line 2: missing fields request, status, response",
        ),
        (json.dumps(_exchange(version=2)), "line 2: version 2 is not supported"),
        (json.dumps(_exchange(version="1")), 'line 2: version "1" is not supported'),
        (json.dumps(_exchange(endpoint="/v1/images")), 'line 2: endpoint "/v1/images" is not one'),
        (json.dumps(_exchange(status=700)), "line 2: status 700 is not an HTTP status"),
        (json.dumps(_exchange(request="hi")), "line 2: request is not a JSON object"),
        (json.dumps(_exchange(response=None)), "line 2: response is not a JSON object"),
        (json.dumps(_exchange(response={"x": float("nan")})), "line 2: NaN"),
        (
            json.dumps(_exchange(request={"model": "m", "input": "\ud800"})),
            "line 2: a string holds a lone surrogate",
        ),
        (
            json.dumps(_exchange(response={"text": "half \udfff"})),
            "line 2: a string holds a lone surrogate",
        ),
    ],
)
def test_a_bad_line_is_named_by_its_number(tmp_path, bad, why):
    path = _write(tmp_path / "c.jsonl", _exchange(), bad, _exchange())
    with pytest.raises(CassetteError) as caught:
        Cassette.load(path)
    assert why in str(caught.value) and str(path) in str(caught.value)


def test_a_cassette_that_is_not_text_or_not_there_is_refused(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(json.dumps(_exchange()).encode() + b"\n\xff\xfe\n")
    with pytest.raises(CassetteError, match="line 2: not UTF-8"):
        Cassette.load(path)
    with pytest.raises(CassetteError, match="Cannot read the cassette"):
        Cassette.load(tmp_path / "missing.jsonl")


def test_the_recorder_writes_canonical_lines_and_nothing_else(tmp_path):
    path = tmp_path / "c.jsonl"
    recorder = Recorder(path)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "héllo"}]}
    recorder.record(CHAT, body, 200, {"id": "chatcmpl-1", "usage": {"total_tokens": 3}})
    recorder.record(CHAT, body, 200, {"bad": float("nan")})  # not JSON: skipped
    recorder.close()
    [line] = path.read_text(encoding="utf-8").splitlines()
    exchange = json.loads(line)
    assert line == canonical(exchange)  # sorted keys, no spaces, UTF-8 kept
    assert "héllo" in line
    assert set(exchange) == {"version", "endpoint", "request", "status", "response", "recorded_at"}
    assert exchange["request"] == body and exchange["version"] == CASSETTE_VERSION
    assert Cassette.load(path).lookup(CHAT, body) == (200, exchange["response"])


def test_the_recorder_skips_an_exchange_that_is_not_text_and_says_so(tmp_path, caplog):
    path = tmp_path / "c.jsonl"
    recorder = Recorder(path)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    recorder.record(CHAT, body, 200, {"id": "chatcmpl-1", "text": "half: \ud800"})
    recorder.record(CHAT, body | {"n": 1}, 200, {"id": "chatcmpl-2"})
    recorder.close()
    [line] = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["response"] == {"id": "chatcmpl-2"}
    assert "was not recorded" in caplog.text and "surrogate" in caplog.text


def test_a_recording_that_fails_never_keeps_the_answer_from_its_caller(caplog):
    def broken(endpoint: str, body: Any, status: int, response: Any) -> None:
        raise RuntimeError("the recorder broke")

    mock = MockUpstream()
    responder = UpstreamResponder(mock.base_url, on_answer=broken)
    try:
        status, body = responder.respond(CHAT, chat_line("r0", "Still there?")["body"])
    finally:
        responder.close()
        mock.stop()
    assert status == 200 and "Still there?" in body["choices"][0]["message"]["content"]
    assert "was not recorded" in caplog.text


def test_the_recorder_appends_after_a_last_line_with_no_newline_and_refuses_a_bad_cassette(
    tmp_path,
):
    path = tmp_path / "c.jsonl"
    torn = '{"version": 1, "endpo'
    path.write_text(f"{json.dumps(_exchange())}\n{torn}\n{json.dumps(_exchange())}\n")
    with pytest.raises(CassetteError, match="line 2"):
        Recorder(path)  # a recording is only appended to a valid cassette
    path.write_text(f"{json.dumps(_exchange())}\n{torn}\n", encoding="utf-8")
    with pytest.raises(CassetteError, match="line 2"):
        Recorder(path)  # a whole line (it ends with a newline): written so, not torn
    path.write_text(json.dumps(_exchange()) + "\n" + json.dumps(_exchange()), encoding="utf-8")
    recorder = Recorder(path)  # the last line has no newline: the next one starts its own
    recorder.record(RESPONSES, {"model": "m", "input": "x"}, 200, {"id": "resp_1"})
    recorder.close()
    assert len(path.read_text().splitlines()) == 3
    assert len(Cassette.load(path)) == 2


def test_a_torn_last_line_is_dropped_when_recording_goes_on(tmp_path, caplog):
    """A crash while recording cuts the last line short: the recorder drops it, and appends."""
    path = tmp_path / "c.jsonl"
    whole = json.dumps(_exchange())
    path.write_text(f"{whole}\n{whole[:40]}", encoding="utf-8")
    recorder = Recorder(path)
    recorder.record(RESPONSES, {"model": "m", "input": "x"}, 200, {"id": "resp_1"})
    recorder.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and lines[0] == whole
    assert json.loads(lines[1])["response"] == {"id": "resp_1"}
    assert len(Cassette.load(path)) == 2
    assert f"The cassette {path} ended in a torn line" in caplog.text
    # nothing but the torn line: the file is empty, then recorded to
    path.write_text(whole[:40], encoding="utf-8")
    Recorder(path).close()
    assert path.read_bytes() == b""


def test_a_torn_last_line_is_refused_in_a_cassette_that_is_only_replayed(tmp_path):
    path = tmp_path / "c.jsonl"
    whole = json.dumps(_exchange())
    path.write_text(f"{whole}\n{whole[:40]}", encoding="utf-8")
    with pytest.raises(CassetteError) as caught:
        Cassette.load(path)
    message = str(caught.value)
    assert f"The cassette {path} is not valid: line 2: not JSON" in message
    assert "no newline" in message and "--record" in message


def test_a_replayed_answer_gets_fresh_ids_and_timestamps_and_keeps_the_rest():
    chat = {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hello!",
                    "tool_calls": [{"id": "call_abc123", "type": "function"}],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
    }
    now = 1_800_000_000
    fresh = freshen(json.loads(json.dumps(chat)), now)
    assert fresh["id"] != chat["id"] and fresh["id"].startswith("chatcmpl-")
    assert len(fresh["id"]) == len(chat["id"])
    assert fresh["created"] == now
    assert fresh["choices"] == chat["choices"]  # text, finish reason, tool call ids
    assert fresh["usage"] == chat["usage"]

    response = {
        "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
        "created_at": 1_700_000_000,
        "completed_at": 1_700_000_003,
        "output": [
            {"type": "reasoning", "id": "rs_67ccd2bf17f0819081ff3bb2cf6508e6", "summary": []},
            {"type": "function_call", "id": "fc_12345xyz", "call_id": "call_12345xyz"},
        ],
        "usage": {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
    }
    fresh = freshen(json.loads(json.dumps(response)), now)
    assert fresh["id"].startswith("resp_") and fresh["id"] != response["id"]
    assert all(c in "0123456789abcdef" for c in fresh["id"][5:])  # hex stays hex
    assert (fresh["created_at"], fresh["completed_at"]) == (now, now + 3)
    assert [x["id"][:3] for x in fresh["output"]] == ["rs_", "fc_"]
    assert fresh["output"][0]["id"] != response["output"][0]["id"]
    assert fresh["output"][1]["call_id"] == "call_12345xyz"
    assert fresh["usage"] == response["usage"]
    assert fresh_id("no separators here!") == "no separators here!"


def test_a_request_the_cassette_lacks_goes_to_the_fallback_or_is_refused(tmp_path):
    cassette = Cassette.load(_write(tmp_path / "c.jsonl", _exchange()))

    class Fallback:
        def respond(self, url, body, *, input_tokens=None, now=None):
            return 200, {"from": "fallback"}

    other = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "bye"}]}
    assert ReplayResponder(cassette, Fallback()).respond(CHAT, other) == (200, {"from": "fallback"})
    status, body = ReplayResponder(cassette, None).respond(CHAT, other)
    assert status == 404 and body["error"]["code"] == "not_recorded"
    assert "--replay-strict" in body["error"]["message"]


# -- record, then replay with no upstream -------------------------------------------------------


def test_record_then_replay_with_no_upstream_running(tmp_path):
    cassette = tmp_path / "class.jsonl"
    questions = ["What is a penguin?", "Where do penguins live?", "What do penguins eat?"]
    chat_lines = [chat_line(f"q{i}", q) for i, q in enumerate(questions)]
    responses_lines = [_responses_line("r0", "Name a penguin species.")]
    direct = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}]}

    mock = MockUpstream()
    try:
        flags = ("--upstream", mock.base_url, "--record", str(cassette))
        with serving(tmp_path / "recording", *flags) as client:
            assert state(**conn(client))["responder"] == "upstream"
            recorded = run_batch(client, chat_lines)
            recorded_lines = file_lines(client, recorded.output_file_id)
            recorded_responses = file_lines(
                client, run_batch(client, responses_lines, endpoint=RESPONSES).output_file_id
            )
            recorded_direct = client.chat.completions.create(**direct)
        assert len(mock.requests()) == 5
    finally:
        mock.stop()  # from here on, no upstream exists

    text = cassette.read_text(encoding="utf-8")
    assert len(text.splitlines()) == 5
    assert "Bearer" not in text and "uthorization" not in text
    assert {json.loads(x)["endpoint"] for x in text.splitlines()} == {CHAT, RESPONSES}

    with serving(tmp_path / "class", "--replay", str(cassette)) as client:
        assert state(**conn(client))["responder"] == "replay"
        assert helpers.answer_kind(**conn(client)) == "replay"
        advance_clock(hours=24, **conn(client))  # replayed answers are stamped with this clock
        later = state(**conn(client))["now"]
        replayed = run_batch(client, chat_lines + [chat_line("new", "Never asked before")])
        lines = {x["custom_id"]: x for x in file_lines(client, replayed.output_file_id)}
        responses = file_lines(
            client, run_batch(client, responses_lines, endpoint=RESPONSES).output_file_id
        )
        again = client.chat.completions.create(**direct)

    assert replayed.status == "completed" and replayed.request_counts.completed == 4
    for old in recorded_lines:
        new = lines[old["custom_id"]]
        assert _content(new) == _content(old)  # the text the upstream wrote
        assert "Hello! You said:" in _content(new)
        old_body, new_body = old["response"]["body"], new["response"]["body"]
        assert new_body["usage"] == old_body["usage"]
        assert new_body["choices"][0]["finish_reason"] == old_body["choices"][0]["finish_reason"]
        assert new_body["id"] != old_body["id"] and new_body["id"].startswith("chatcmpl-")
        # stamped with the replaying server's (moved) clock, not the recording's time
        assert (
            later <= new_body["created"] <= later + 60
            and new_body["created"] != old_body["created"]
        )
    # a question never recorded gets the local placeholder
    assert _content(lines["new"]).startswith("[local server]")

    [old_r], [new_r] = recorded_responses, responses
    old_body, new_body = old_r["response"]["body"], new_r["response"]["body"]
    assert new_body["output"][0]["content"] == old_body["output"][0]["content"]
    assert new_body["id"] != old_body["id"] and new_body["created_at"] >= later
    assert new_body["output"][0]["id"] != old_body["output"][0]["id"]

    assert again.choices[0].message.content == recorded_direct.choices[0].message.content
    assert again.id != recorded_direct.id


def test_a_server_records_after_a_torn_line_and_replays_what_came_before(tmp_path):
    known = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "known"}]}
    whole = json.dumps(_exchange(request=known, response={"id": "chatcmpl-1", "object": "x"}))
    cassette = tmp_path / "class.jsonl"
    cassette.write_text(f"{whole}\n{whole[:50]}", encoding="utf-8")  # a crash while recording
    mock = MockUpstream()
    try:
        flags = ("--replay", str(cassette), "--upstream", mock.base_url, "--record", str(cassette))
        with serving(tmp_path / "state", *flags) as client:
            raw = client.chat.completions.with_raw_response.create(**known)
            assert raw.http_response.json()["object"] == "x"  # replayed, not sent upstream
            new = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "new"}]
            )
            assert "new" in (new.choices[0].message.content or "")
        assert len(mock.requests()) == 1
    finally:
        mock.stop()
    lines = cassette.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and lines[0] == whole
    assert len(Cassette.load(cassette)) == 2


def test_strict_replay_refuses_what_was_never_recorded(tmp_path):
    recorded = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    answer = {
        "id": "chatcmpl-x1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi! (recorded)", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 8, "completion_tokens": 4, "total_tokens": 12},
    }
    cassette = _write(tmp_path / "c.jsonl", _exchange(request=recorded, response=answer))
    flags = ("--replay", str(cassette), "--replay-strict")
    with serving(tmp_path / "state", *flags) as client:
        batch = run_batch(client, [chat_line("known", "hi"), chat_line("unknown", "bye")])
        [ok] = file_lines(client, batch.output_file_id)
        [refused] = file_lines(client, batch.error_file_id)
        assert client.chat.completions.create(**recorded).choices[0].message.content == (
            "Hi! (recorded)"
        )
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "bye"}]
            )
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.failed) == (1, 1)
    assert ok["custom_id"] == "known" and _content(ok) == "Hi! (recorded)"
    assert batch.usage.input_tokens == 8  # the recorded usage counts
    assert refused["custom_id"] == "unknown"
    assert refused["response"]["status_code"] == 404
    assert refused["response"]["body"]["error"]["code"] == "not_recorded"
    assert caught.value.code == "not_recorded"


def test_a_model_outside_the_catalog_passes_validation_when_replayed(tmp_path):
    body = {"model": "my-llama", "messages": [{"role": "user", "content": "hi"}]}
    cassette = _write(tmp_path / "c.jsonl", _exchange(request=body))
    with serving(tmp_path / "state", "--replay", str(cassette)) as client:
        batch = run_batch(client, [chat_line("r0", "hi", model="my-llama")])
    assert batch.status == "completed" and batch.request_counts.completed == 1


# -- refusing to start --------------------------------------------------------------------------


def _serve(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "batch_api_local", "serve", "--port", str(free_port())]
    command += ["--state-dir", str(tmp_path / "state"), *flags]
    return subprocess.run(
        command, capture_output=True, text=True, env=subprocess_env(), timeout=60, check=False
    )


def test_the_server_refuses_to_start_on_a_cassette_with_a_bad_line(tmp_path):
    cassette = _write(tmp_path / "c.jsonl", _exchange(), _exchange(), "{not json}")
    result = _serve(tmp_path, "--replay", str(cassette))
    assert result.returncode == 2
    assert f"The cassette {cassette} is not valid: line 3: not JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_server_names_the_line_of_a_cassette_holding_a_lone_surrogate(tmp_path):
    bad = _exchange(request={"model": "gpt-4o-mini", "input": "\ud800"})
    cassette = _write(tmp_path / "c.jsonl", _exchange(), bad)
    result = _serve(tmp_path, "--replay", str(cassette))
    assert result.returncode == 2
    assert f"The cassette {cassette} is not valid: line 2: a string holds a lone" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--record", "x.jsonl"), "--record needs --upstream"),
        (("--replay-strict",), "--replay-strict needs --replay FILE"),
    ],
)
def test_flags_that_do_not_fit_are_refused(tmp_path, flags, message):
    result = _serve(tmp_path, *flags)
    assert result.returncode == 2 and message in result.stderr


def test_answer_kind_is_local_by_default_and_live_in_live_mode(server_env, monkeypatch):
    assert helpers.answer_kind() == "local"
    assert "placeholder" in helpers.ANSWER_KINDS["local"]
    monkeypatch.setenv("BATCH_TUTORIAL_MODE", "live")
    assert helpers.answer_kind() == "live"
