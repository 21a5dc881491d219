"""Upload a 200 MB batch input file (the API's limit) and validate it, watching server memory.

Prints the server's resident memory before, its peak during the upload and during validation,
and the growth over the idle figure. Goal: it grows by less than 100 MB (the upload is streamed
to disk and validated line by line, never held whole).

    python benchmarks/bench_upload_200mb.py [--megabytes 200]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

from _common import MODEL, chat_line, client_for, machine, private_server, rss_mb, workdir


class Sampler:
    """Samples a process's RSS every 20 ms; ``mark`` starts a new named phase."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.phase = "idle"
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            value = rss_mb(self.pid)
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), value)
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def mark(self, phase: str) -> None:
        self.phase = phase


def write_file(path: Path, megabytes: int) -> int:
    limit = megabytes * 1024 * 1024 - 1024  # stay just under the limit
    padding = "penguin " * (megabytes * 1024 * 1024 // 50_000 // 8)  # 50,000 long lines
    size = n = 0
    with open(path, "w", encoding="utf-8") as fh:
        while True:
            line = chat_line(n + 1)
            line["body"]["messages"][1]["content"] += " " + padding
            data = json.dumps(line) + "\n"
            if size + len(data) > limit or n >= 50_000:
                break
            fh.write(data)
            size += len(data)
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    with workdir("bench-upload-") as work:
        path = work / "big.jsonl"
        lines = write_file(path, args.megabytes)
        size = path.stat().st_size
        with private_server(work / "state") as info:
            client = client_for(info, timeout=900)
            # warm up: the first request loads the tokenizer's tables (a one-off cost that has
            # nothing to do with the file's size)
            client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "warm up"}]
            )
            with Sampler(info.pid) as sampler:
                sampler.mark("upload")
                t0 = time.perf_counter()
                file = client.files.create(file=open(path, "rb"), purpose="batch")
                t_upload = time.perf_counter() - t0
                sampler.mark("validation")
                # the token limit would fail this batch: lift it, so validation reads every line
                from batch_api_local import set_pace, set_token_limit

                conn = {"base_url": info.base_url, "api_key": "sk-bench"}
                set_token_limit(None, **conn)
                set_pace(validating=0, per_request=3600, **conn)  # measure validation alone
                t0 = time.perf_counter()
                batch = client.batches.create(
                    input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
                )
                while batch.status == "validating":
                    time.sleep(0.05)
                    batch = client.batches.retrieve(batch.id)
                t_validate = time.perf_counter() - t0
                sampler.mark("after")
                client.batches.cancel(batch.id)
            peaks = sampler.peaks
        idle = peaks.get("idle", float("nan"))
        print(f"machine: {machine()}")
        print(f"file: {size / 1e6:.1f} MB ({size:,} bytes), {lines:,} requests")
        print(f"upload: {t_upload:.1f} s; validation: {t_validate:.1f} s (then {batch.status})")
        print(f"server RSS idle:            {idle:7.1f} MB")
        for phase in ("upload", "validation"):
            print(
                f"server RSS peak, {phase:10} {peaks[phase]:7.1f} MB  (+{peaks[phase] - idle:.1f} MB)"
            )
        growth = max(peaks["upload"], peaks["validation"]) - idle
        print(f"largest growth: {growth:.1f} MB (goal: under 100 MB)")


if __name__ == "__main__":
    main()
