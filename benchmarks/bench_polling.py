"""Status polling: latency of ``client.batches.retrieve`` with 1 and with 20 concurrent pollers.

Each poller is a thread with its own SDK client, retrieving the same running batch in a loop.
Prints p50 and p99 latency per setting, and requests per second overall.

    python benchmarks/bench_polling.py [--requests 300]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from _common import client_for, machine, private_server, workdir, write_chat_file


def poll(info, batch_id: str, n: int, out: list[float]) -> None:
    client = client_for(info, timeout=30)
    client.batches.retrieve(batch_id)  # connect first
    for _ in range(n):
        start = time.perf_counter()
        client.batches.retrieve(batch_id)
        out.append(time.perf_counter() - start)


def run(info, batch_id: str, pollers: int, per_poller: int) -> tuple[list[float], float]:
    results: list[list[float]] = [[] for _ in range(pollers)]
    threads = [
        threading.Thread(target=poll, args=(info, batch_id, per_poller, results[i]))
        for i in range(pollers)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [x for r in results for x in r], time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="retrieves per poller")
    args = parser.parse_args()
    with workdir("bench-poll-") as work:
        path = write_chat_file(work / "input.jsonl", 1000)
        with private_server(work / "state", pace="slow") as info:
            client = client_for(info)
            file = client.files.create(file=open(path, "rb"), purpose="batch")
            batch = client.batches.create(
                input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
            )
            print(f"machine: {machine()}")
            print("polling a running 1,000-request batch (server pace: slow)")
            for pollers in (1, 20):
                latencies, wall = run(info, batch.id, pollers, args.requests)
                print(
                    f"{pollers:2} poller(s): p50 {pct(latencies, 50):6.2f} ms, "
                    f"p99 {pct(latencies, 99):6.2f} ms, "
                    f"{len(latencies) / wall:7.0f} retrieves/s over {len(latencies):,}"
                )
            client.batches.cancel(batch.id)


if __name__ == "__main__":
    main()
