"""A 50,000-request chat batch (the API's maximum), end to end through the SDK.

Prints the wall time of each phase (upload, validate, run, finalize, download) and the ratio of
the whole to a baseline measured in the same run: one plain Python pass over the same file
doing the irreducible per-line work (read the line, parse the JSON, build the response with the
same local responder, serialise the result line, write it). Goal: at most 1.5 times the
baseline (the server counts each prompt's tokens once, at validation).

    python benchmarks/bench_50k_batch.py [--requests 50000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from batch_api_local.responder import LocalResponder

from _common import (
    MODEL,
    client_for,
    machine,
    private_server,
    run_phases,
    timed,
    workdir,
    write_chat_file,
)


def baseline(path: Path, out: Path) -> float:
    responder = LocalResponder()
    start = time.perf_counter()
    with open(path, "rb") as src, open(out, "w", encoding="utf-8") as dst:
        for raw in src:
            request = json.loads(raw)
            status, body = responder.respond(request["url"], request["body"])
            line = {
                "id": "batch_req_0",
                "custom_id": request["custom_id"],
                "response": {"status_code": status, "request_id": "0", "body": body},
                "error": None,
            }
            dst.write(json.dumps(line) + "\n")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50_000)
    args = parser.parse_args()
    with workdir("bench-50k-") as work:
        path = write_chat_file(work / "input.jsonl", args.requests)
        size_mb = path.stat().st_size / 1e6

        base = baseline(path, work / "baseline-output.jsonl")

        phases: dict[str, float] = {}
        with private_server(work / "state") as info:
            client = client_for(info, timeout=600)
            # the server loads its tokenizer's tables on the first count (half a second, once):
            # one small request first, so the figures below are the steady state
            warm = time.perf_counter()
            client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "warm up"}]
            )
            phases_warm = time.perf_counter() - warm
            batch = run_phases(client, path, args.requests, phases)
            with timed(phases, "download"):
                client.files.content(batch.output_file_id).write_to_file(work / "output.jsonl")
                if batch.error_file_id:
                    client.files.content(batch.error_file_id).write_to_file(work / "errors.jsonl")
            lines = sum(1 for _ in open(work / "output.jsonl", "rb"))
            assert lines == args.requests, lines

        total = sum(phases.values())
        print(f"machine: {machine()}")
        print(f"input: {args.requests:,} chat requests, {size_mb:.1f} MB")
        print(f"baseline (plain Python pass, same responder): {base:6.2f} s")
        for name in ("upload", "validate", "run", "finalize", "download"):
            print(f"  {name:9} {phases[name]:6.2f} s")
        print(f"end to end through the SDK: {total:6.2f} s")
        print(f"(before it: the first request, loading the tokenizer, {phases_warm:.2f} s)")
        print(f"ratio to baseline: {total / base:.2f}x (goal: at most 1.5x)")


if __name__ == "__main__":
    main()
