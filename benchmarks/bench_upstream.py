"""A 5,000-request chat batch through ``--upstream``, against the same requests sent directly.

Both paths talk to the same fast local OpenAI-compatible server (a bare ASGI app on uvicorn,
started here, that answers each chat request at once) with the same concurrency:

- through the local server: upload the file, create the batch with ``serve --upstream URL
  --upstream-concurrency N``, wait until it completes, download the output file;
- directly: ``openai.AsyncOpenAI`` sends the same 5,000 bodies, ``N`` at a time.

Prints both times and their ratio (goal: at most 1.3x), and asserts nothing about time.

    python benchmarks/bench_upstream.py [--requests 5000] [--concurrency 8] [--upstream URL]

``--upstream URL`` uses a server of yours instead of the bare app (LLMock, say:
``llmock serve --port 8000 --response-style echo``, then ``--upstream http://127.0.0.1:8000/v1``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    ROOT,
    chat_line,
    client_for,
    free_port,
    machine,
    private_server,
    run_phases,
    timed,
    workdir,
    write_chat_file,
)

# -- the upstream: a bare ASGI app that answers every chat request at once ----------------------

#: mean seconds the bare app takes per request (``--latency``; 0: none)
LATENCY = float(os.environ.get("BENCH_UPSTREAM_LATENCY", "0"))


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An OpenAI-compatible chat endpoint with nothing in the way (no framework, no checks)."""
    if scope["type"] != "http":
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    request = json.loads(b"".join(chunks) or b"{}")
    if LATENCY > 0:  # a model takes time: uniformly 0 to twice the mean
        await asyncio.sleep(random.uniform(0, 2 * LATENCY))
    messages = request.get("messages") or [{"content": ""}]
    reply = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "bench"),
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": f"Answer to: {messages[-1]['content']}",
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28},
    }
    body = json.dumps(reply).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def start_upstream(port: int, latency: float) -> subprocess.Popen:
    code = (
        "import sys, uvicorn\n"
        f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
        "from bench_upstream import app\n"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning', access_log=False)\n"
    )
    env = dict(os.environ, BENCH_UPSTREAM_LATENCY=str(latency))
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    import httpx2

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx2.post(f"http://127.0.0.1:{port}/v1/chat/completions", json={}, trust_env=False)
            return process
        except httpx2.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the bench upstream did not start")


# -- the two paths ----------------------------------------------------------------------------


async def direct(base_url: str, bodies: list[dict[str, Any]], concurrency: int) -> float:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0, timeout=120)
    gate = asyncio.Semaphore(concurrency)

    async def one(body: dict[str, Any]) -> None:
        async with gate:
            await client.chat.completions.create(**body)

    await one(bodies[0])  # connect once, as the batch path's client has
    start = time.perf_counter()
    await asyncio.gather(*(one(body) for body in bodies))
    elapsed = time.perf_counter() - start
    await client.close()
    return elapsed


async def direct_http(base_url: str, bodies: list[dict[str, Any]], concurrency: int) -> float:
    """The same requests with a bare ``httpx2.AsyncClient``: what HTTP alone costs, without
    the SDK's models (for reference; the goal compares with the SDK)."""
    import httpx2

    limits = httpx2.Limits(max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(trust_env=False, timeout=120, limits=limits) as client:
        gate = asyncio.Semaphore(concurrency)
        url = base_url + "/chat/completions"

        async def one(body: dict[str, Any]) -> None:
            async with gate:
                response = await client.post(url, json=body)
                response.raise_for_status()
                response.json()

        await one(bodies[0])
        start = time.perf_counter()
        await asyncio.gather(*(one(body) for body in bodies))
        return time.perf_counter() - start


def through_batch(
    upstream: str, path: Path, state_dir: Path, concurrency: int, n: int
) -> dict[str, float]:
    phases: dict[str, float] = {}
    args = ["--upstream", upstream, "--upstream-concurrency", str(concurrency)]
    with private_server(state_dir, extra_args=args) as info:
        client = client_for(info, timeout=600)
        batch = run_phases(client, path, n, phases)
        with timed(phases, "download"):
            text = client.files.content(batch.output_file_id).text
        assert len(text.splitlines()) == n
    return phases


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--upstream", default=None, help="an OpenAI-compatible .../v1 to use")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="mean seconds the bare app takes per request"
    )
    args = parser.parse_args()
    n, concurrency = args.requests, args.concurrency

    process = None
    upstream = args.upstream
    if upstream is None:
        port = free_port()
        process = start_upstream(port, args.latency)
        upstream = f"http://127.0.0.1:{port}/v1"
    try:
        with workdir("bench-upstream-") as work:
            path = write_chat_file(work / "input.jsonl", n)
            bodies = [chat_line(i)["body"] for i in range(1, n + 1)]
            direct_s = asyncio.run(direct(upstream, bodies, concurrency))
            http_s = asyncio.run(direct_http(upstream, bodies, concurrency))
            phases = through_batch(upstream, path, work / "state", concurrency, n)
    finally:
        if process is not None:
            process.terminate()
            process.wait()

    total = sum(phases.values())
    print(f"machine: {machine()}")
    print(
        f"{n:,} chat requests, concurrency {concurrency}, upstream {args.upstream or 'bare ASGI app on uvicorn'}"
    )
    print(f"directly, openai.AsyncOpenAI: {direct_s:6.2f} s ({n / direct_s:,.0f} requests/s)")
    print(
        f"(for reference, bare httpx2.AsyncClient: {http_s:6.2f} s, {n / http_s:,.0f} requests/s)"
    )
    print("through serve --upstream:")
    for name in ("upload", "validate", "run", "finalize", "download"):
        print(f"  {name:9} {phases[name]:6.2f} s")
    print(f"  end to end {total:6.2f} s ({n / total:,.0f} requests/s)")
    print(f"ratio: {total / direct_s:.2f}x (goal: at most 1.3x)")
    print(f"ratio to bare httpx2: {total / http_s:.2f}x (reported)")


if __name__ == "__main__":
    main()
