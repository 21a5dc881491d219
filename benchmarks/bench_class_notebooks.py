"""How long the walkthrough's notebooks take in a class: N students at once on one class server.

    python benchmarks/bench_class_notebooks.py [--students 5] [--notebooks 01 02 ... 07]

One class server (a keys file written by ``batch-api-local keys``, the default pace "normal",
on a free port with a temporary state directory), and N students, each with a copy of the
notebooks and their input files, each running the notebooks in course order, every notebook in
a fresh kernel, in classroom mode with their own key: what a class does when everyone runs the
same notebook at the same moment. Prints, for each notebook, its run time top to bottom for
every student (the fastest, the median, the slowest), and the machine's load. ``--students 1``
gives a notebook's run time alone, as ``make run`` does but through a class server.

docs/classroom.md's table of run times comes from this script. It asserts nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from batch_api_local import ensure_server, stop_server

from _common import ROOT, class_keys, free_port

WALKTHROUGH = ["01", "02", "03", "04", "05", "06", "07"]


def student_folder(work: Path, label: str) -> Path:
    """A checkout of a student's own: the notebooks and the input files they read."""
    folder = work / label
    shutil.copytree(ROOT / "notebooks", folder / "notebooks")
    (folder / "artifacts").mkdir()
    for name in ("goodbatchinput.jsonl", "badbatchinput.jsonl", "reviews.csv"):
        shutil.copy(ROOT / "artifacts" / name, folder / "artifacts" / name)
    return folder


def student_env(base_url: str, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BATCH_"))}
    env.update(
        BATCH_TUTORIAL_MODE="classroom",
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY=key,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    return env


async def run_student(
    folder: Path, numbers: list[str], env: dict[str, str], times: dict[str, list[float]]
) -> list[str]:
    """Run the notebooks in order, each in a fresh kernel; the errors, if any."""
    errors = []
    for number in numbers:
        path = next((folder / "notebooks").glob(f"{number}_*.ipynb"))
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            record_timing=False,
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        started = time.monotonic()
        try:
            await client.async_execute(env=env)
        except Exception as exc:  # a benchmark reports, and goes on
            errors.append(f"{folder.name} {path.name}: {str(exc).strip()[-300:]}")
        times[number].append(time.monotonic() - started)
    return errors


async def run_class(runs: list[tuple[Path, dict[str, str]]], numbers: list[str]) -> tuple:
    times: dict[str, list[float]] = {n: [] for n in numbers}
    started = time.monotonic()
    results = await asyncio.gather(*(run_student(f, numbers, env, times) for f, env in runs))
    return times, [e for errors in results for e in errors], time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=5)
    parser.add_argument("--notebooks", nargs="+", default=WALKTHROUGH, metavar="NN")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-class-notebooks-"))
    state = work / "class-state"
    try:
        admin, pairs = class_keys(work, args.students)
        info = ensure_server(
            state,
            port=free_port(),
            extra_args=["--keys-file", str(work / "class-keys.txt"), "--admin-key", admin],
        )
        runs = [
            (student_folder(work, label), student_env(info.base_url, key)) for label, key in pairs
        ]
        load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        times, errors, wall = asyncio.run(run_class(runs, args.notebooks))
        load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    finally:
        stop_server(state)
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"{args.students} student(s) at once on one class server, pace normal, "
        f"{os.cpu_count()} cores; load average {load_before:.1f} before, {load_after:.1f} after"
    )
    print(f"{'notebook':10} {'fastest':>8} {'median':>8} {'slowest':>8}  (seconds, top to bottom)")
    for number in args.notebooks:
        spans = sorted(times[number])
        print(f"{number:10} {spans[0]:8.1f} {statistics.median(spans):8.1f} {spans[-1]:8.1f}")
    print(f"all of them: {wall:.1f} s; errors: {len(errors)}")
    for error in errors:
        print("  " + error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
