"""A class on one server: 30 students at once, each running the whole walkthrough.

Writes a keys file with the server's own ``keys`` command (30 labelled student keys and an admin
key) and starts one server on it at the default pace ("normal"), so that every batch takes the
time it takes in the notebooks. Then every student starts at the same moment, with a key and an
SDK client of their own, and makes the walkthrough's calls:

1. upload a small JSONL file (3 chat requests);
2. create a batch on it;
3. poll ``batches.retrieve`` every 0.25 s (``helpers.waiting.LOCAL_POLL_INTERVAL``, what
   ``wait_for_batch`` uses locally) until the batch ends;
4. list batches;
5. create a second batch and cancel it (polling, at the same interval, until ``cancelled``);
6. download the first batch's output file.

Students are threads of this process by default, each with its own client (``--mode processes``
runs one process per student instead; ``--processes N`` splits the students over N processes,
each running its share as threads: with hundreds of students, one client process's interpreter
lock, not the server, sets the latency). The server has the machine's cores to share with them.

Prints: errors (goal 0), wrong results (statuses, counts, output lines; goal 0), cross-namespace
effects (goal 0: once everyone is done, each student lists exactly their own two batches and
their own files, the output holds only their own requests, and the instructor's class view shows
the same counts), ``batches.retrieve`` latency p50/p99 over every poll, wall time, and the
server process's CPU time (user + system, from /proc) over the run, also as a share of one core,
and the CPU the rest of the machine used meanwhile (other work on a shared machine shows in the
latency tail). Asserts nothing about time.

    python benchmarks/bench_classroom.py [--students 30] [--mode threads|processes]
                                         [--processes N] [--stagger SECONDS]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import statistics
import time
import traceback
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from _common import MODEL, class_keys, machine, private_server, workdir

# helpers is imported inside the functions, after _common has put this checkout on the path

CHAT = "/v1/chat/completions"
#: a student whose batch has not ended after this long is counted as an error (a bound only)
GIVE_UP = 300.0
QUESTIONS = (
    "How many species of penguin are there?",
    "Which penguin is the largest?",
    "Where do penguins live?",
)


@dataclass
class Student:
    label: str
    key: str


@dataclass
class Outcome:
    """What one student saw: every retrieve's latency, and anything that went wrong."""

    label: str
    retrieves: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    crossed: list[str] = field(default_factory=list)
    calls: int = 0
    batch_seconds: float = float("nan")
    #: the same, as the server stamped it: completed_at - created_at (whole seconds)
    stamped_seconds: float = float("nan")
    walkthrough_seconds: float = float("nan")
    ended_at: float = 0.0
    #: the ids this student created: input file, first and second batch, result files
    own_files: set[str] = field(default_factory=set)
    own_batches: set[str] = field(default_factory=set)


def request_lines(label: str) -> bytes:
    lines = [
        {
            "custom_id": f"{label}-q{i}",
            "method": "POST",
            "url": CHAT,
            "body": {
                "model": MODEL,
                "messages": [{"role": "user", "content": f"{question} (asked by {label})"}],
                "max_completion_tokens": 100,
            },
        }
        for i, question in enumerate(QUESTIONS)
    ]
    return "".join(json.dumps(x) + "\n" for x in lines).encode()


def walkthrough(base_url: str, student: Student, start_at: float) -> Outcome:
    """One student's calls, from upload to download (run in a thread or a process)."""
    from openai import OpenAI

    from helpers.waiting import LOCAL_POLL_INTERVAL, TERMINAL_STATUSES

    out = Outcome(student.label)
    client = OpenAI(base_url=base_url, api_key=student.key, max_retries=0, timeout=60)

    def retrieve(batch_id: str):
        begin = time.perf_counter()
        batch = client.batches.retrieve(batch_id)
        out.retrieves.append(time.perf_counter() - begin)
        out.calls += 1
        return batch

    def wait(batch_id: str):
        deadline = time.monotonic() + GIVE_UP
        batch = retrieve(batch_id)
        while batch.status not in TERMINAL_STATUSES:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{batch_id} still {batch.status} after {GIVE_UP:g} s")
            time.sleep(LOCAL_POLL_INTERVAL)
            batch = retrieve(batch_id)
        return batch

    time.sleep(max(0.0, start_at - time.time()))
    begin = time.perf_counter()
    step = "upload"
    try:
        data = request_lines(student.label)
        file = client.files.create(file=("goodbatchinput.jsonl", data), purpose="batch")
        out.calls += 1
        out.own_files.add(file.id)

        step = "create"
        created = time.perf_counter()
        first = client.batches.create(
            input_file_id=file.id,
            endpoint=CHAT,
            completion_window="24h",
            metadata={"description": f"good batch of {student.label}"},
        )
        out.calls += 1
        out.own_batches.add(first.id)

        step = "poll"
        first = wait(first.id)
        out.batch_seconds = time.perf_counter() - created
        if first.completed_at is not None:
            out.stamped_seconds = first.completed_at - first.created_at
        counts = first.request_counts
        if (
            first.status != "completed"
            or counts is None
            or (
                counts.total,
                counts.completed,
                counts.failed,
            )
            != (3, 3, 0)
        ):
            out.wrong.append(f"first batch: {first.status}, {counts}")
        if first.output_file_id:
            out.own_files.add(first.output_file_id)
        if first.error_file_id:
            out.wrong.append(f"first batch has an error file {first.error_file_id}")

        step = "list"
        listed = [b.id for b in client.batches.list(limit=20).data]
        out.calls += 1
        if listed != [first.id]:
            out.crossed.append(f"batches.list while running: {listed} instead of [{first.id}]")

        step = "cancel"
        second = client.batches.create(
            input_file_id=file.id, endpoint=CHAT, completion_window="24h"
        )
        out.calls += 1
        out.own_batches.add(second.id)
        client.batches.cancel(second.id)
        out.calls += 1
        second = wait(second.id)
        if second.status != "cancelled":
            out.wrong.append(f"second batch: {second.status} instead of cancelled")
        out.own_files.update(filter(None, (second.output_file_id, second.error_file_id)))

        step = "fetch"
        text = client.files.content(first.output_file_id or "").text
        out.calls += 1
        ids = sorted(json.loads(line)["custom_id"] for line in text.splitlines() if line)
        if ids != [f"{student.label}-q{i}" for i in range(3)]:
            out.crossed.append(f"output file holds {ids}")
    except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the class
        out.errors.append(f"{step}: {type(exc).__name__}: {exc}")
        if os.environ.get("BENCH_TRACEBACKS"):
            traceback.print_exc()
    out.walkthrough_seconds = time.perf_counter() - begin
    out.ended_at = time.time()
    return out


def probe(base_url: str, key: str, batch_id: str, done: Any, results: Any) -> None:
    """One quiet client in a process of its own: ``batches.retrieve`` of one batch every 0.1 s
    over plain HTTP until ``done`` is set, each latency sent to ``results``. Its process has
    nothing else to do, so what it measures is the server's latency, without the students'
    own processes' share (their interpreters, busy with hundreds of threads, add to theirs)."""
    import httpx2

    latencies = []
    with httpx2.Client(trust_env=False, timeout=60) as http:
        url = f"{base_url}/batches/{batch_id}"
        headers = {"Authorization": f"Bearer {key}"}
        while not done.is_set():
            begin = time.perf_counter()
            http.get(url, headers=headers).raise_for_status()
            latencies.append(time.perf_counter() - begin)
            time.sleep(0.1)
    results.put(latencies)


def group(base_url: str, students: list[Student], starts: list[float]) -> list[Outcome]:
    """A share of the class in one process, each student a thread of it (``--processes``)."""
    with ThreadPoolExecutor(len(students)) as pool:
        return list(pool.map(walkthrough, [base_url] * len(students), students, starts))


def check_namespaces(base_url: str, admin: str, students: list[Student], outcomes: dict) -> list:
    """Once everyone is done: each key lists exactly its own objects; the class view agrees."""
    from openai import OpenAI

    from batch_api_local import class_view

    crossed: list[str] = []
    everyone_files = set().union(*(o.own_files for o in outcomes.values()))
    for student in students:
        mine = outcomes[student.label]
        client = OpenAI(base_url=base_url, api_key=student.key, max_retries=0, timeout=60)
        files = {f.id for f in client.files.list()}
        batches = {b.id for b in client.batches.list()}
        if files != mine.own_files:
            foreign = sorted(files & (everyone_files - mine.own_files))
            crossed.append(
                f"{student.label}: files {sorted(files)} instead of {sorted(mine.own_files)}"
                + (f" (another student's: {foreign})" if foreign else "")
            )
        if batches != mine.own_batches:
            crossed.append(f"{student.label}: batches {sorted(batches)}")
    rows = {r["label"]: r for r in class_view(base_url=base_url, api_key=admin)["data"]}
    if sorted(rows) != sorted(s.label for s in students):
        crossed.append(f"class view rows: {sorted(rows)}")
    for student in students:
        row = rows.get(student.label)
        wanted = (len(outcomes[student.label].own_files), {"completed": 1, "cancelled": 1})
        if row is None or (row["files"], row["batches"]) != wanted:
            crossed.append(f"class view of {student.label}: {row} instead of {wanted}")
    return crossed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), in seconds."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time every process of the machine has used so far, all cores (Linux /proc/stat)."""
    with open("/proc/stat") as fh:
        ticks = [int(x) for x in fh.readline().split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--mode", choices=("threads", "processes"), default="threads")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="with --mode threads: split the students over this many processes (default 1)",
    )
    parser.add_argument(
        "--stagger",
        type=float,
        default=0.0,
        help="spread the students' starts evenly over this many seconds (default 0: all at once)",
    )
    args = parser.parse_args()
    from batch_api_local import state
    from helpers.waiting import LOCAL_POLL_INTERVAL

    with workdir("bench-class-") as work:
        admin, pairs = class_keys(work, args.students)
        students = [Student(label, key) for label, key in pairs]
        extra = ["--keys-file", str(work / "class-keys.txt"), "--admin-key", admin]
        with private_server(work / "state", pace="normal", extra_args=extra) as info:
            pace = state(base_url=info.base_url, api_key=students[0].key)["pace"]
            # before the clock runs: the server loads its tokenizer's tables (on the first call
            # that counts tokens), and this process imports what the SDK imports on first use
            # (the students' threads, or processes forked from this one, then find it done)
            from openai import OpenAI

            warm = OpenAI(base_url=info.base_url, api_key=admin, max_retries=0)
            warm.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hello"}]
            )
            warm.files.list()
            warm.batches.list()
            idle_start, idle_cpu = time.perf_counter(), cpu_seconds(info.pid)
            time.sleep(3)
            idle = (cpu_seconds(info.pid) - idle_cpu) / (time.perf_counter() - idle_start)
            # the quiet client's batch: the instructor's own, in a namespace of its own
            probed = warm.batches.create(
                input_file_id=warm.files.create(
                    file=("probe.jsonl", request_lines("probe")), purpose="batch"
                ).id,
                endpoint=CHAT,
                completion_window="24h",
            )
            probe_done, probe_results = multiprocessing.Event(), multiprocessing.Queue()
            prober = multiprocessing.Process(
                target=probe, args=(info.base_url, admin, probed.id, probe_done, probe_results)
            )
            prober.start()

            start_at = time.time() + 1.0 + (2.0 if args.processes > 1 else 0.0)
            step = args.stagger / args.students
            starts = [start_at + n * step for n in range(args.students)]
            if args.mode == "threads" and args.processes > 1:
                shares = [
                    list(range(args.students))[k :: args.processes] for k in range(args.processes)
                ]
                with ProcessPoolExecutor(args.processes) as groups:
                    futures = [
                        groups.submit(
                            group,
                            info.base_url,
                            [students[n] for n in share],
                            [starts[n] for n in share],
                        )
                        for share in shares
                    ]
                    time.sleep(max(0.0, start_at - time.time()))
                    cpu_before, client_before = cpu_seconds(info.pid), os.times()
                    busy_before = machine_busy_seconds()
                    outcomes = {o.label: o for f in futures for o in f.result()}
            else:
                pool: Executor = (
                    ThreadPoolExecutor(args.students)
                    if args.mode == "threads"
                    else ProcessPoolExecutor(args.students)
                )
                with pool:
                    if args.mode == "processes":  # start every worker before the clock runs
                        list(pool.map(time.sleep, [0.0] * args.students))
                        start_at = time.time() + 1.0
                        starts = [start_at + n * step for n in range(args.students)]
                    futures = [
                        pool.submit(walkthrough, info.base_url, s, starts[n])
                        for n, s in enumerate(students)
                    ]
                    time.sleep(max(0.0, start_at - time.time()))
                    cpu_before, client_before = cpu_seconds(info.pid), os.times()
                    busy_before = machine_busy_seconds()
                    outcomes = {o.label: o for o in (f.result() for f in futures)}
            end = max(o.ended_at for o in outcomes.values())
            probe_done.set()
            quiet = probe_results.get(timeout=60)
            prober.join(60)
            cpu = cpu_seconds(info.pid) - cpu_before
            busy = machine_busy_seconds() - busy_before
            client_after = os.times()
            wall = end - start_at
            crossed = [x for o in outcomes.values() for x in o.crossed]
            crossed += check_namespaces(info.base_url, admin, students, outcomes)

    errors = [f"{o.label}: {e}" for o in outcomes.values() for e in o.errors]
    wrong = [f"{o.label}: {w}" for o in outcomes.values() for w in o.wrong]
    retrieves = [x for o in outcomes.values() for x in o.retrieves]
    calls = sum(o.calls for o in outcomes.values())
    batch_times = [o.batch_seconds for o in outcomes.values() if not math.isnan(o.batch_seconds)]
    walks = [o.walkthrough_seconds for o in outcomes.values()]
    client_cpu = sum(
        after - before for after, before in zip(client_after[:4], client_before[:4], strict=True)
    )

    print(f"machine: {machine()}")
    print(
        f"{args.students} students at once ({args.mode}"
        + (f" in {args.processes} processes" if args.processes > 1 else "")
        + f"), one keys-file server, a student's "
        f"pace {pace}, polling every {LOCAL_POLL_INTERVAL} s"
    )
    if args.stagger:
        print(f"starts spread over {args.stagger:g} s")
    print(f"errors: {len(errors)} (goal 0)")
    for line in errors[:10]:
        print(f"  {line}")
    print(f"wrong results: {len(wrong)} (goal 0)")
    for line in wrong[:10]:
        print(f"  {line}")
    print(f"cross-namespace effects: {len(crossed)} (goal 0)")
    for line in crossed[:10]:
        print(f"  {line}")
    print(
        f"batches.retrieve: {len(retrieves):,} calls, p50 {pct(retrieves, 50):.2f} ms, "
        f"p99 {pct(retrieves, 99):.2f} ms, max {max(retrieves) * 1000:.2f} ms"
    )
    print(
        f"batches.retrieve as one quiet client sees it (a process of its own, every 0.1 s): "
        f"{len(quiet):,} calls, p50 {pct(quiet, 50):.2f} ms, p99 {pct(quiet, 99):.2f} ms, "
        f"max {max(quiet) * 1000:.2f} ms"
    )
    print(f"API calls in all: {calls:,} ({calls / wall:.0f}/s)")
    paced = pace["validating"] + len(QUESTIONS) * pace["per_request"] + pace["finalizing"]
    kept = sum(1 for t in batch_times if t <= 1.2 * paced)
    stamped = [o.stamped_seconds for o in outcomes.values() if not math.isnan(o.stamped_seconds)]
    print(
        f"first batch, create to completed as polled: median {statistics.median(batch_times):.2f}"
        f" s, max {max(batch_times):.2f} s (the pace alone: {paced:g} s); within 20% of the "
        f"pace: {kept} of {len(batch_times)} (goal: all)"
    )
    print(
        f"first batch as the server stamped it (completed_at - created_at, whole seconds): "
        f"median {statistics.median(stamped):g} s, max {max(stamped):g} s; within 20% of the "
        f"pace: {sum(1 for t in stamped if t <= 1.2 * paced)} of {len(stamped)}"
    )
    print(
        f"one student's walkthrough: median {statistics.median(walks):.2f} s, "
        f"max {max(walks):.2f} s"
    )
    print(f"wall time, first call to last student done: {wall:.2f} s")
    print(
        f"server CPU (user+system) over the run: {cpu:.2f} s, {100 * cpu / wall:.1f}% of one "
        f"core (idle before the run: {100 * idle:.1f}% of one core)"
    )
    where = (
        f"this process, {args.students} threads"
        if args.mode == "threads" and args.processes == 1
        else f"{args.processes} processes of {args.students // args.processes}+ threads"
        if args.mode == "threads"
        else f"{args.students} processes"
    )
    print(
        f"client CPU (the students: {where}): {client_cpu:.2f} s, "
        f"{100 * client_cpu / wall:.1f}% of one core"
    )
    other = max(0.0, busy - cpu - client_cpu)
    print(
        f"the whole machine over the run: {busy:.2f} s of CPU, {100 * busy / wall:.1f}% of one "
        f"core, of which other processes (not this benchmark) {other:.2f} s, "
        f"{100 * other / wall:.1f}% of one core"
    )


if __name__ == "__main__":
    main()
