"""Direct calls with large answers are bounded, and the server answers everyone meanwhile.

The review's case: four ``/v1/embeddings`` requests at once, ``text-embedding-3-large``,
2,048 inputs each: four answers of 130 MB were built and rendered at once, each rendering one
call of Python's JSON encoder that held the interpreter's lock for seconds, so health waited
26.8 s, and the server grew to 1.8 GB. Now at most :data:`HEAVY_SLOTS` such answers are made at
once (the others wait their turn, or get a 429 past the limits), each is rendered in pieces as
it is sent, and other clients are answered while they run.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx2
import pytest

from batch_api_local import ServerInfo
from batch_api_local.errors import TooManyRequests
from batch_api_local.jsontext import pieces
from batch_api_local.responder import LocalResponder
from batch_api_local.routes.direct import (
    HEAVY_NUMBERS,
    HEAVY_PER_KEY,
    HEAVY_SLOTS,
    HeavyCalls,
    answer_numbers,
)

from support import TEST_KEY, WAIT, assert_healthy, chat_line

EMBEDDINGS = "/v1/embeddings"


def _embeddings(inputs: int, dimensions: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "text-embedding-3-large",
        "input": [f"input {i} about penguins" for i in range(inputs)],
    }
    if dimensions is not None:
        body["dimensions"] = dimensions
    return body


def test_which_calls_are_heavy():
    assert answer_numbers(EMBEDDINGS, _embeddings(2048)) == 2048 * 3072
    assert answer_numbers(EMBEDDINGS, _embeddings(2048, 256)) == 2048 * 256
    assert answer_numbers(EMBEDDINGS, _embeddings(16)) <= HEAVY_NUMBERS
    assert answer_numbers("/v1/chat/completions", chat_line("a")["body"]) == 0
    assert answer_numbers(EMBEDDINGS, {"model": 7, "input": None}) == 0


def test_a_large_answer_is_rendered_in_small_pieces():
    # each piece is one call of the JSON encoder, which holds the interpreter's lock: none may
    # be more than one vector, so every other thread (the event loop too) runs between them
    status, body = LocalResponder().respond(EMBEDDINGS, _embeddings(64))
    assert status == 200
    parts = list(pieces(body))
    assert "".join(parts) == json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    longest = max(len(json.dumps(d["embedding"], separators=(",", ":"))) for d in body["data"])
    assert len(parts) > 64
    assert max(len(p) for p in parts) <= longest


def test_heavy_calls_wait_their_turn_and_a_key_past_its_share_gets_a_429():
    async def scenario() -> None:
        heavy = HeavyCalls(wait=WAIT)
        running = [asyncio.create_task(heavy.acquire("a", "m")) for _ in range(HEAVY_PER_KEY)]
        for _ in range(100):  # let every task reach its slot, or its wait for one
            await asyncio.sleep(0)
        done = [t for t in running if t.done()]
        assert len(done) == HEAVY_SLOTS  # the others wait for a slot
        assert heavy.waiting == HEAVY_PER_KEY - HEAVY_SLOTS
        with pytest.raises(TooManyRequests) as refused:
            await heavy.acquire("a", "m")  # one more of the same key
        assert refused.value.status_code == 429
        assert refused.value.headers()["Retry-After"] == "1"
        other = asyncio.create_task(heavy.acquire("b", "m"))  # another key may still wait
        for _ in range(HEAVY_SLOTS):
            heavy.release("a")
        await asyncio.wait_for(asyncio.gather(*running), WAIT)
        for _ in range(HEAVY_PER_KEY - HEAVY_SLOTS):
            heavy.release("a")
        await asyncio.wait_for(other, WAIT)
        heavy.release("b")
        assert not heavy.holding and heavy.waiting == 0

        slow = HeavyCalls(slots=1, wait=0.05)
        await slow.acquire("a", "m")
        with pytest.raises(TooManyRequests):
            await slow.acquire("b", "m")  # waited too long for the slot
        assert dict(slow.holding) == {"a": 1}

    asyncio.run(scenario())


def test_four_heavy_calls_at_once_are_answered_in_turn_while_others_are_answered(
    local_server: ServerInfo,
):
    """Four heavy calls of one key: two are answered while two wait for a slot (a client that
    has not read its answer yet keeps its slot), a fifth gets a 429, and health and a small
    call are answered meanwhile; then all four get their whole answers."""
    body = _embeddings(512, 1024)  # half a million numbers each: heavy
    headers = {"Authorization": f"Bearer {TEST_KEY}"}
    started: list[int] = []
    answers: dict[int, Any] = {}
    read = threading.Event()

    def heavy(n: int) -> None:
        with httpx2.Client(trust_env=False, timeout=WAIT) as http:
            with http.stream(
                "POST", local_server.base_url + "/embeddings", json=body, headers=headers
            ) as response:
                started.append(n)
                read.wait(WAIT)  # keep the slot: the answer is not read yet
                answers[n] = (response.status_code, response.read())

    threads = [threading.Thread(target=heavy, args=(n,)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + WAIT
        while len(started) < HEAVY_SLOTS:
            assert time.monotonic() < deadline, "no heavy call was answered"
            time.sleep(0.02)

        with httpx2.Client(trust_env=False, timeout=WAIT, headers=headers) as http:
            fifth = http.post(local_server.base_url + "/embeddings", json=body)
            assert fifth.status_code == 429, fifth.text[:300]
            assert fifth.headers["retry-after"] == "1"
            assert fifth.json()["error"]["code"] == "rate_limit_exceeded"
            # everyone else is answered while the heavy calls hold their slots
            assert_healthy(local_server.root_url)
            small = http.post(
                local_server.base_url + "/chat/completions", json=chat_line("x")["body"]
            )
            assert small.status_code == 200
            assert len(started) == HEAVY_SLOTS  # the other two still wait for a slot
    finally:
        read.set()
        for thread in threads:
            thread.join(WAIT)

    assert sorted(answers) == [0, 1, 2, 3]
    for status, raw in answers.values():
        assert status == 200
        data = json.loads(raw)["data"]
        assert len(data) == 512 and all(len(d["embedding"]) == 1024 for d in data)
