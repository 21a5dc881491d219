"""An upstream that fails: retries, Retry-After, timeouts, odd replies, a restart.

The upstream is LLMock, a third-party OpenAI-compatible mock server (support.MockUpstream) that
fails on cue and keeps a journal of the requests it got: every test counts attempts there, and
none measures time. Replies LLMock cannot make (not JSON, odd usage, JSON that is not an
object, odd headers, a reply written byte by byte) come from a small fake of our own
(:class:`ScriptedUpstream`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

from batch_api_local import ensure_server, stop_server
from batch_api_local.errors import LineError
from batch_api_local.upstream import UpstreamResponder, retry_after

from support import (
    CHAT,
    HELD,
    Gate,
    MockUpstream,
    RawApi,
    chat_line,
    file_lines,
    free_port,
    poll,
    run_batch,
    sdk_client,
    start_batch,
    start_gated_server,
    wait_until,
)

#: a reply larger than the most the server keeps of one (upstream.MAX_REPLY_BYTES, 16 MiB)
HUGE = 17 * 1024 * 1024


@pytest.fixture(scope="module")
def mock() -> Iterator[MockUpstream]:
    upstream = MockUpstream()
    try:
        yield upstream
    finally:
        upstream.stop()


@pytest.fixture
def upstream(mock: MockUpstream) -> MockUpstream:
    mock.reset()
    return mock


@contextmanager
def forwarding(state_dir: Path, base_url: str, *flags: str) -> Iterator[OpenAI]:
    """A local server (pace instant) sending its batch lines to ``base_url``."""
    args = ["--upstream", base_url, "--upstream-concurrency", "2", *flags]
    info = ensure_server(state_dir, port=free_port(), pace="instant", extra_args=args)
    try:
        yield sdk_client(info.base_url)
    finally:
        stop_server(state_dir)


def _content(line: dict[str, Any]) -> str:
    return line["response"]["body"]["choices"][0]["message"]["content"]


def _attempts(upstream: MockUpstream) -> Counter[str]:
    """How many requests the upstream got for each prompt."""
    return Counter(upstream.prompts())


#: writes one reply: (the request handler, the last message's content, how many requests with
#: that content came so far, 1 for the first)
Answer = Callable[[BaseHTTPRequestHandler, str, int], None]


class ScriptedUpstream:
    """An OpenAI-compatible fake whose every reply a test writes itself, byte for byte if it
    likes (headers LLMock cannot send, JSON it would not write, a reply written slowly).

    It keeps the last message of every request (:attr:`seen`) and the ``Authorization`` header
    it came with. :meth:`shutdown` sets :attr:`stopping`: a reply that writes slowly stops.
    """

    def __init__(self, answer: Answer) -> None:
        self.seen: list[str] = []
        self.authorization: list[str] = []
        self.stopping = threading.Event()
        lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][-1]["content"]
                with lock:
                    fake.seen.append(prompt)
                    fake.authorization.append(self.headers.get("Authorization", ""))
                    attempt = fake.seen.count(prompt)
                try:
                    answer(self, prompt, attempt)
                except OSError:  # the local server hung up
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def attempts(self) -> Counter[str]:
        return Counter(self.seen)

    def shutdown(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def scripted(answer: Answer) -> Iterator[ScriptedUpstream]:
    fake = ScriptedUpstream(answer)
    try:
        yield fake
    finally:
        fake.shutdown()


def completion(text: str) -> dict[str, Any]:
    """A chat completion as an upstream would send it."""
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    data: bytes | dict[str, Any],
    headers: dict[str, str] | None = None,
    kind: str = "application/json",
) -> None:
    """One whole reply: ``data`` as it is (bytes) or as JSON (a dict)."""
    if isinstance(data, dict):
        data = json.dumps(data).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


# -- tried again ------------------------------------------------------------------------------


def test_a_line_is_tried_again_until_the_upstream_answers(upstream, tmp_path):
    upstream.script({"type": "fail", "status": 503, "retry_after": 0.01, "times": 2})
    with forwarding(tmp_path / "state", upstream.base_url) as client:
        batch = run_batch(client, [chat_line("r0", "Is anyone there?")])
        [line] = file_lines(client, batch.output_file_id)
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.failed) == (1, 0)
    assert line["response"]["status_code"] == 200
    assert "Is anyone there?" in _content(line)
    assert [r["status"] for r in upstream.requests()] == [503, 503, 200]


@pytest.mark.parametrize("status", [429, 500])
def test_when_every_try_fails_the_line_has_the_last_status(upstream, tmp_path, status):
    upstream.script({"type": "fail", "status": status, "retry_after": 0.01, "times": None})
    with forwarding(tmp_path / "state", upstream.base_url, "--upstream-retries", "2") as client:
        batch = run_batch(client, [chat_line("r0", "first"), chat_line("r1", "second")])
        lines = file_lines(client, batch.error_file_id)
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.failed) == (0, 2)
    assert batch.output_file_id is None
    assert sorted(x["custom_id"] for x in lines) == ["r0", "r1"]
    for line in lines:
        assert line["error"] is None
        assert line["response"]["status_code"] == status
        assert set(line["response"]["body"]["error"]) >= {"message", "type", "code"}
    assert _attempts(upstream) == {"first": 3, "second": 3}  # one try and two more, each


def test_a_connection_that_is_refused_is_tried_again_then_a_500_line(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with forwarding(tmp_path / "state", dead, "--upstream-retries", "1") as client:
        batch = run_batch(client, [chat_line("r0")])
        [line] = file_lines(client, batch.error_file_id)
    assert batch.status == "completed" and batch.request_counts.failed == 1
    assert line["response"]["status_code"] == 500
    error = line["response"]["body"]["error"]
    assert error["type"] == "server_error"
    assert "tried 2 times" in error["message"] and "127.0.0.1" not in error["message"]


# -- Retry-After --------------------------------------------------------------------------------


def test_the_wait_the_upstream_asks_for_is_the_wait_taken(upstream):
    """In process, with the responder's sleep replaced: the waits it asks for are recorded."""
    upstream.script({"type": "fail", "status": 429, "retry_after": 2.5, "times": 2})
    waits: list[float] = []
    responder = UpstreamResponder(upstream.base_url, retries=4, sleep=waits.append)
    try:
        status, body = responder.respond(CHAT, chat_line("r0", "patience")["body"])
    finally:
        responder.close()
    assert status == 200 and "patience" in body["choices"][0]["message"]["content"]
    assert waits == [2.5, 2.5]
    assert _attempts(upstream) == {"patience": 3}


def test_a_wait_longer_than_the_line_may_take_ends_the_line_with_the_upstream_answer(
    upstream, tmp_path
):
    upstream.script({"type": "fail", "status": 429, "retry_after": 3600, "times": 1})
    with forwarding(tmp_path / "state", upstream.base_url, "--upstream-timeout", "30") as client:
        batch = run_batch(client, [chat_line("r0", "come back in an hour")])
        [line] = file_lines(client, batch.error_file_id)
    assert line["response"]["status_code"] == 429
    # no second try: the upstream asked for an hour, and the line may take 30 seconds
    assert _attempts(upstream) == {"come back in an hour": 1}


def test_retry_after_is_read_as_seconds_as_an_http_date_or_in_milliseconds():
    now = 1_800_000_000.0
    date = format_datetime(datetime.fromtimestamp(now + 30, UTC), usegmt=True)
    assert retry_after({"retry-after": date}, now=lambda: now) == pytest.approx(30.0)
    assert retry_after({"retry-after": "7"}) == 7.0
    assert retry_after({"retry-after": "0.5"}) == 0.5
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    past = format_datetime(datetime.fromtimestamp(now - 30, UTC), usegmt=True)
    assert retry_after({"retry-after": past}, now=lambda: now) == 0.0
    for odd in ("soon", "-3", "nan", "inf", ""):
        assert retry_after({"retry-after": odd}) is None
    assert retry_after({}) is None


#: a date whose hour does not fit in a C long (datetime arithmetic overflows on it)
OVERFLOWING_DATE = "Mon, 01 Jan 2024 99999999999999999999:00:00 GMT"


@pytest.mark.parametrize(
    "odd",
    [
        OVERFLOWING_DATE,
        "Mon, 01 Jan 99999 00:00:00 GMT",
        "Mon, 01 Jan 2024 25:61:00 GMT",
        "Mon, 01 Jan 2024 00:00:00 +99999999999999999999",
        "Mon, 99999999999999999999 Jan 2024 00:00:00 GMT",
    ],
)
def test_a_retry_after_that_cannot_be_a_time_is_ignored(odd):
    assert retry_after({"retry-after": odd}, now=lambda: 1_800_000_000.0) is None


def _rate_limited_once(handler: BaseHTTPRequestHandler, prompt: str, attempt: int) -> None:
    """A 429 whose Retry-After overflows, then the answer."""
    if attempt == 1:
        error = {"error": {"message": "Slow down.", "type": "requests", "code": "rate_limit"}}
        send(handler, 429, error, {"Retry-After": OVERFLOWING_DATE})
    else:
        send(handler, 200, completion(f"answer to {prompt}"))


def test_an_overflowing_retry_after_gets_the_normal_backoff():
    waits: list[float] = []
    with scripted(_rate_limited_once) as fake:
        responder = UpstreamResponder(fake.base_url, sleep=waits.append)
        try:
            status, body = responder.respond(CHAT, chat_line("r0", "patience")["body"])
        finally:
            responder.close()
    assert status == 200 and body["choices"][0]["message"]["content"] == "answer to patience"
    assert fake.attempts() == {"patience": 2}
    [wait] = waits  # the first step of the backoff (0.5 s, half of it random)
    assert 0.25 <= wait <= 0.5


def test_an_overflowing_retry_after_is_tried_again_in_a_batch_and_a_direct_call(tmp_path):
    with scripted(_rate_limited_once) as fake:
        with forwarding(tmp_path / "state", fake.base_url) as client:
            batch = run_batch(client, [chat_line("r0", "in a batch")])
            [line] = file_lines(client, batch.output_file_id)
            direct = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "direct"}]
            )
    assert batch.request_counts.completed == 1
    assert _content(line) == "answer to in a batch"
    assert direct.choices[0].message.content == "answer to direct"
    assert fake.attempts() == {"in a batch": 2, "direct": 2}


def test_backoff_grows_with_jitter_and_stays_bounded():
    responder = UpstreamResponder("http://127.0.0.1:9/v1")
    try:
        for attempt, step in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
            waits = {responder._backoff(attempt) for _ in range(50)}
            assert all(step / 2 <= w <= step for w in waits), (attempt, waits)
            assert len(waits) > 1  # jitter: not the same wait every time
    finally:
        responder.close()


# -- a per-line deadline ------------------------------------------------------------------------


def test_a_line_past_its_timeout_is_an_error_line_and_the_batch_goes_on(upstream, tmp_path):
    upstream.script({"type": "delay", "seconds": 4, "times": 1})
    flags = ("--upstream-timeout", "2")
    with forwarding(tmp_path / "state", upstream.base_url, *flags) as client:
        lines = [chat_line(f"r{i}", f"question {i}") for i in range(3)]
        batch = run_batch(client, lines)
        errors = file_lines(client, batch.error_file_id)
        output = file_lines(client, batch.output_file_id)
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.failed) == (2, 1)
    [late] = errors
    assert late["response"] is None
    assert late["error"]["code"] == "request_timeout"
    assert "within 2 seconds" in late["error"]["message"]
    assert len(output) == 2
    # the late request was sent once: a timeout is not tried again
    poll(lambda: len(upstream.requests()) == 3, what="the delayed request to end")
    assert sorted(_attempts(upstream).values()) == [1, 1, 1]


def test_a_direct_call_past_its_timeout_is_a_504(upstream, tmp_path):
    upstream.script({"type": "delay", "seconds": 2.5, "times": 1})
    with forwarding(tmp_path / "state", upstream.base_url, "--upstream-timeout", "1") as client:
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hello?"}]
            )
    assert caught.value.status_code == 504
    assert caught.value.code == "request_timeout"


def test_the_responder_raises_a_line_error_when_time_runs_out(upstream):
    upstream.script({"type": "delay", "seconds": 3, "times": 1})
    responder = UpstreamResponder(upstream.base_url, timeout=0.5)
    try:
        with pytest.raises(LineError) as caught:
            responder.respond(CHAT, chat_line("r0")["body"])
    finally:
        responder.close()
    assert caught.value.line_error()["code"] == "request_timeout"


class Drip:
    """A reply whose status line and headers come one byte every half second: each byte well
    within any read timeout, the whole of them (80 bytes) in 40 seconds. :attr:`done` is set
    once the headers are all written."""

    HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"y" * 21 + b"\r\n"

    def __init__(self) -> None:
        self.done = threading.Event()
        self.stopping = threading.Event()

    def __call__(self, handler: BaseHTTPRequestHandler, prompt: str, attempt: int) -> None:
        for byte in self.HEAD:
            if self.stopping.wait(0.5):
                return
            handler.wfile.write(bytes([byte]))
        data = json.dumps(completion("at last")).encode()
        handler.wfile.write(b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
        self.done.set()


@pytest.fixture
def drip() -> Iterator[tuple[Drip, ScriptedUpstream]]:
    reply = Drip()
    with scripted(reply) as fake:
        try:
            yield reply, fake
        finally:
            reply.stopping.set()


def test_headers_that_drip_are_cut_off_at_the_line_deadline(drip):
    """Each byte comes within the read timeout: only a deadline for the whole call ends it."""
    reply, fake = drip
    outcome: list[Any] = []
    responder = UpstreamResponder(fake.base_url, timeout=2)

    def call() -> None:
        try:
            outcome.append(responder.respond(CHAT, chat_line("r0", "slowly")["body"]))
        except LineError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    caller.join(timeout=30)  # a bound for the test, so that a regression fails, not hangs
    try:
        assert not caller.is_alive(), "the call went on past its deadline"
        [error] = outcome
        assert isinstance(error, LineError), error
        assert error.line_error()["code"] == "request_timeout"
        assert not reply.done.is_set()  # it ended while the upstream was still dripping
        assert fake.attempts() == {"slowly": 1}  # a timeout is not tried again
    finally:
        responder.close()


def test_a_line_and_a_direct_call_end_at_the_deadline_while_headers_drip(drip, tmp_path):
    reply, fake = drip
    flags = ("--upstream-timeout", "3")
    with forwarding(tmp_path / "state", fake.base_url, *flags) as client:
        batch = run_batch(client, [chat_line("r0", "in a batch")], timeout=30)
        [line] = file_lines(client, batch.error_file_id)
        with pytest.raises(openai.APIStatusError) as caught:
            client.with_options(timeout=30).chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "direct"}]
            )
        assert not reply.done.is_set()  # both ended while the upstream was still dripping
    assert batch.status == "completed" and batch.request_counts.failed == 1
    assert line["response"] is None
    assert line["error"]["code"] == "request_timeout"
    assert "within 3 seconds" in line["error"]["message"]
    assert caught.value.status_code == 504 and caught.value.code == "request_timeout"


# -- replies that cannot be kept as they are ----------------------------------------------------


def odd_reply(handler: BaseHTTPRequestHandler, prompt: str, attempt: int) -> None:
    """Replies LLMock cannot make, chosen by a tag in the last message (``[html]`` ...)."""
    tag = re.sub(r"^\[(.*)\]$", r"\1", prompt)
    if tag == "huge-stream":  # no Content-Length: the body ends when the connection does
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        block = b" " * (1024 * 1024)
        handler.close_connection = True
        handler.wfile.write(b'{"padding": "')
        for _ in range(HUGE // len(block)):
            handler.wfile.write(block)  # until the reader stops at its limit and hangs up
        handler.wfile.write(b'"}')
    elif tag == "html":
        send(handler, 200, b"<html><body>502 Bad Gateway</body></html>", kind="text/html")
    elif tag == "empty":
        send(handler, 200, b"")
    elif tag == "list":
        send(handler, 200, b"[1, 2, 3]")
    elif tag == "huge":
        send(handler, 200, b'{"padding": "' + b" " * HUGE + b'"}')
    else:
        answer = completion(f"answer to {tag}")
        if tag == "odd-usage":
            answer["usage"] = "lots"
        elif tag == "no-usage":
            del answer["usage"]
        send(handler, 200, answer)


@pytest.fixture
def odd() -> Iterator[ScriptedUpstream]:
    with scripted(odd_reply) as fake:
        yield fake


def test_odd_replies_become_result_lines_and_the_batch_completes(odd, tmp_path):
    good = ["fine", "odd-usage", "no-usage"]
    bad = ["html", "empty", "list", "huge", "huge-stream"]
    with forwarding(tmp_path / "state", odd.base_url, "--upstream-retries", "0") as client:
        batch = run_batch(client, [chat_line(tag, f"[{tag}]") for tag in good + bad])
        output = file_lines(client, batch.output_file_id)
        errors = file_lines(client, batch.error_file_id)
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.failed) == (3, 5)
    assert sorted(x["custom_id"] for x in output) == sorted(good)
    assert {x["custom_id"]: _content(x) for x in output}["odd-usage"] == "answer to odd-usage"
    # only the well-formed usage counts: 5 + 3 tokens, once
    assert (batch.usage.input_tokens, batch.usage.output_tokens) == (5, 3)
    why = {x["custom_id"]: x["response"]["body"]["error"]["message"] for x in errors}
    assert sorted(why) == sorted(bad)
    for line in errors:
        assert line["response"]["status_code"] == 502
        assert line["response"]["body"]["error"]["code"] == "upstream_bad_reply"
    assert "502 Bad Gateway" in why["html"] and "not JSON" in why["html"]
    assert "empty" in why["empty"]
    assert "not an object" in why["list"]
    assert "16,777,216 bytes" in why["huge"] and "16,777,216 bytes" in why["huge-stream"]
    # each sent once: none is worth a retry
    assert sorted(odd.seen) == sorted(f"[{tag}]" for tag in good + bad)


def test_a_huge_reply_from_the_mock_is_not_kept(upstream, tmp_path):
    upstream.script({"type": "reply", "text": "x" * HUGE, "times": 1})
    with forwarding(tmp_path / "state", upstream.base_url) as client:
        batch = run_batch(client, [chat_line("r0", "tell me everything")])
        [line] = file_lines(client, batch.error_file_id)
    assert batch.status == "completed" and batch.request_counts.failed == 1
    assert line["response"]["status_code"] == 502
    assert line["response"]["body"]["error"]["code"] == "upstream_bad_reply"


def _not_finite(handler: BaseHTTPRequestHandler, prompt: str, attempt: int) -> None:
    """A 200 whose JSON holds the number named in the prompt (NaN, Infinity ...)."""
    text = json.dumps(completion("almost")).replace('"created": 1', f'"created": {prompt}')
    send(handler, 200, text.encode())


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_reply_holding_nan_or_infinity_cannot_be_kept(number):
    with scripted(_not_finite) as fake:
        responder = UpstreamResponder(fake.base_url)
        try:
            status, body = responder.respond(CHAT, chat_line("r0", number)["body"])
        finally:
            responder.close()
    assert status == 502
    assert body["error"]["code"] == "upstream_bad_reply"
    assert number in body["error"]["message"]
    assert fake.attempts() == {number: 1}  # not worth a retry


def test_a_reply_holding_nan_is_a_502_for_a_direct_call_and_a_batch_line(tmp_path):
    with scripted(_not_finite) as fake:
        with forwarding(tmp_path / "state", fake.base_url) as client:
            with pytest.raises(openai.APIStatusError) as caught:
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "NaN"}]
                )
            batch = run_batch(client, [chat_line("r0", "NaN")])
            [line] = file_lines(client, batch.error_file_id)
    assert caught.value.status_code == 502 and caught.value.code == "upstream_bad_reply"
    assert batch.status == "completed" and batch.request_counts.failed == 1
    assert line["response"]["status_code"] == 502
    assert line["response"]["body"]["error"]["code"] == "upstream_bad_reply"


# -- recording ----------------------------------------------------------------------------------


def _surrogate(handler: BaseHTTPRequestHandler, prompt: str, attempt: int) -> None:
    """An answer holding a lone surrogate (valid JSON syntax, not text) when the prompt asks."""
    text = "half a character: \ud800" if "surrogate" in prompt else f"answer to {prompt}"
    send(handler, 200, completion(text))  # json.dumps writes it as the escape \ud800


def test_an_answer_with_a_lone_surrogate_is_delivered_and_not_recorded(tmp_path):
    cassette = tmp_path / "c.jsonl"
    state_dir = tmp_path / "state"
    with scripted(_surrogate) as fake:
        with forwarding(state_dir, fake.base_url, "--record", str(cassette)) as client:
            direct = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "a surrogate"}]
            )
            batch = run_batch(client, [chat_line("r0", "surrogate"), chat_line("r1", "plain")])
            lines = {x["custom_id"]: x for x in file_lines(client, batch.output_file_id)}
    assert direct.choices[0].message.content == "half a character: \ud800"
    assert batch.request_counts.completed == 2
    assert _content(lines["r0"]) == "half a character: \ud800"
    # only the exchange that can be written as UTF-8 is in the cassette
    [recorded] = [json.loads(x) for x in cassette.read_text(encoding="utf-8").splitlines()]
    assert recorded["request"]["messages"][0]["content"] == "plain"
    log = (state_dir / "server.log").read_text(encoding="utf-8", errors="replace")
    assert log.count("was not recorded") == 2
    assert "Traceback" not in log


# -- the operator's key ---------------------------------------------------------------------------

#: the key the operator gives the server for its upstream ($UPSTREAM_API_KEY)
UPSTREAM_KEY = "sk-upstream-0123456789abcdefOPERATOR"


def _tattletale(handler: BaseHTTPRequestHandler, prompt: str, attempt: int) -> None:
    """An upstream that quotes the Authorization header it got, in every way the prompt names."""
    quoted = handler.headers.get("Authorization", "")
    if prompt == "401":
        error = {"message": f"Invalid header: Authorization: {quoted}", "type": "auth"}
        send(handler, 401, {"error": error | {"code": "invalid_api_key", "param": None}})
    elif prompt == "403-html":
        page = f"<h1>403 Forbidden</h1><pre>Authorization: {quoted}</pre>".encode()
        send(handler, 403, page, kind="text/html")
    elif prompt == "200-text":
        # the key straddles the 1,000th character, where the excerpt in the error is cut
        send(handler, 200, f"{'.' * 960}Authorization: {quoted}".encode(), kind="text/plain")
    elif prompt == "200-list":
        send(handler, 200, json.dumps(["you sent", quoted]).encode())
    else:  # an answer that echoes it, in a value and in a key (and escaped, as some servers do)
        answer = completion(f"You sent {quoted}.")
        answer["echo"] = {quoted: True}
        text = json.dumps(answer).replace(UPSTREAM_KEY[:2], "\\u0073\\u006b")
        send(handler, 200, text.encode())


TATTLES = ["401", "403-html", "200-text", "200-list", "200-json"]


def test_the_upstream_key_never_reaches_a_student_a_cassette_or_the_log(tmp_path, monkeypatch):
    monkeypatch.setenv("UPSTREAM_API_KEY", UPSTREAM_KEY)
    state_dir = tmp_path / "state"
    cassette = tmp_path / "c.jsonl"
    seen: list[str] = []
    with scripted(_tattletale) as fake:
        flags = ("--upstream-retries", "0", "--record", str(cassette))
        with forwarding(state_dir, fake.base_url, *flags) as client:
            batch = run_batch(client, [chat_line(tag, tag) for tag in TATTLES])
            for kind in ("output_file_id", "error_file_id"):
                seen.append(client.files.content(getattr(batch, kind)).text)
            with RawApi(client) as api:  # direct calls, their error statuses too
                for tag in TATTLES:
                    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": tag}]}
                    seen.append(api.post("/chat/completions", json=body).text)
    assert set(fake.authorization) == {f"Bearer {UPSTREAM_KEY}"}  # the key was sent
    assert batch.request_counts.completed == 1 and batch.request_counts.failed == 4
    lines = [json.loads(x) for x in "".join(seen[:2]).splitlines()]
    bodies = {x["custom_id"]: x["response"]["body"] for x in lines}
    # what each one said is still there, with the key replaced
    assert bodies["401"]["error"]["message"] == "Invalid header: Authorization: Bearer [redacted]"
    assert "Bearer [redacted]" in bodies["403-html"]["error"]["message"]
    assert "Bearer [redacted]" in bodies["200-text"]["error"]["message"]
    assert "Bearer [redacted]" in bodies["200-list"]["error"]["message"]
    assert bodies["200-json"]["choices"][0]["message"]["content"] == "You sent Bearer [redacted]."
    assert bodies["200-json"]["echo"] == {"Bearer [redacted]": True}
    for text in (*seen, cassette.read_text(encoding="utf-8"), _log(state_dir)):
        assert UPSTREAM_KEY not in text and UPSTREAM_KEY[3:20] not in text
    assert len(cassette.read_text(encoding="utf-8").splitlines()) == 4  # the 401 and the 200s


def _log(state_dir: Path) -> str:
    return (state_dir / "server.log").read_text(encoding="utf-8", errors="replace")


# -- a restart ----------------------------------------------------------------------------------


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _written(state_dir: Path, batch_id: str) -> set[str]:
    ids = set()
    for suffix in ("output", "errors"):
        path = state_dir / "work" / f"{batch_id}.{suffix}.jsonl"
        if path.exists():
            ids |= {json.loads(x)["custom_id"] for x in path.read_bytes().splitlines()}
    return ids


def test_after_a_restart_no_written_line_is_sent_again(tmp_path):
    """A gate in front of LLMock counts what the server sends; LLMock counts what arrives."""
    upstream = MockUpstream()  # of its own: the requests held at the gate never reach another
    gate = Gate(upstream.root_url)
    sent: list[str] = []
    phase = {"held": True}
    lock = threading.Lock()

    def holds(body: bytes) -> bool:
        prompt = json.loads(body)["messages"][-1]["content"]
        with lock:
            sent.append(prompt)
        return phase["held"] and HELD in prompt

    gate.holds = holds
    gate.close()
    state_dir = tmp_path / "state"
    args = ["--upstream", gate.base_url, "--upstream-concurrency", "2"]
    try:
        info = ensure_server(state_dir, port=free_port(), pace="instant", extra_args=args)
        client = sdk_client(info.base_url)
        lines = [
            chat_line(f"r{i:02d}", f"Q{i:02d}" + (f" {HELD}" if i >= 4 else "")) for i in range(12)
        ]
        batch = start_batch(client, lines)
        gate.wait_for_held()  # r00-r03 are written; r04 and r05 are held; the rest wait
        _kill(info.pid)
        assert _written(state_dir, batch.id) == {"r00", "r01", "r02", "r03"}

        phase["held"] = False  # the restarted server gets through
        info = ensure_server(state_dir, port=free_port(), pace="instant", extra_args=args)
        client = sdk_client(info.base_url)
        final = wait_until(client, batch.id)
        assert final.status == "completed"
        assert (final.request_counts.completed, final.request_counts.failed) == (12, 0)
        out = file_lines(client, final.output_file_id)
        assert sorted(x["custom_id"] for x in out) == [f"r{i:02d}" for i in range(12)]

        at_gate = Counter(p.split()[0] for p in sent)
        at_mock = Counter(p.split()[0] for p in upstream.prompts())
        assert sorted(at_mock) == [f"Q{i:02d}" for i in range(12)]
        assert set(at_mock.values()) == {1}  # every request reached the upstream once
        for i in range(4):  # written before the kill: never sent again
            assert at_gate[f"Q{i:02d}"] == 1
        # in flight at the kill (held at the gate): sent again after the restart, so the
        # upstream may see a request twice when a crash lands while it is being answered
        assert at_gate["Q04"] == 2
        assert all(at_gate[f"Q{i:02d}"] in (1, 2) for i in range(4, 12))
    finally:
        stop_server(state_dir)
        upstream.stop()
        gate.shutdown()


# -- every worker busy --------------------------------------------------------------------------


def test_a_slow_line_holds_up_no_other_line(local_server, tmp_path):
    """One request is held upstream for as long as the test likes: the other workers go on
    through the rest of the batch meanwhile, and their answers are counted as they come."""
    gate = Gate(local_server.root_url)
    gate.close()
    state_dir = tmp_path / "state"
    try:
        info = start_gated_server(gate, state_dir)
        client = sdk_client(info.base_url)
        lines = [
            chat_line(f"r{i:02d}", f"Q{i}" + (f" {HELD}" if i == 1 else "")) for i in range(20)
        ]
        batch = start_batch(client, lines)
        running = wait_until(client, batch.id, lambda b: b.request_counts.completed == 19)
        assert running.status == "in_progress"  # r01 is still held at the gate
        gate.open()
        done = wait_until(client, batch.id)
        assert done.status == "completed" and done.request_counts.completed == 20
    finally:
        gate.open()
        stop_server(state_dir)
        gate.shutdown()


def test_a_streaming_request_is_refused_before_it_reaches_the_upstream(upstream, tmp_path):
    with forwarding(tmp_path / "state", upstream.base_url) as client:
        with pytest.raises(openai.BadRequestError, match="Streaming is not supported"):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
            )
    assert upstream.requests() == []
