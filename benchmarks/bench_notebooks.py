"""The nbval run over all notebooks: total wall time and the slowest notebook.

Runs exactly what `make test-notebooks` runs (a fresh local server, every notebook in order,
outputs compared with nbval) with a JUnit report, and sums the cell times per notebook.

    python benchmarks/bench_notebooks.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from _common import ROOT, machine


def main() -> int:
    report = Path(tempfile.mkdtemp(prefix="bench-nbval-")) / "junit.xml"
    args = [
        "--nbval", "--nbval-current-env", "--nbval-cell-timeout=180",
        "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
        "-q", f"--junitxml={report}",
    ]  # fmt: skip
    start = time.perf_counter()
    code = subprocess.call(
        [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "--nbval", "--", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    per_notebook: dict[str, float] = defaultdict(float)
    for case in ET.parse(report).iter("testcase"):
        # nbval cells are reported with classname "notebooks.<name>.ipynb"
        name = case.get("classname", "?").removeprefix("notebooks.")
        per_notebook[name] += float(case.get("time", 0))
    print(f"machine: {machine()}")
    print(f"nbval over {len(per_notebook)} notebooks: {'passed' if code == 0 else 'FAILED'}")
    for name, seconds in sorted(per_notebook.items()):
        print(f"  {name:45} {seconds:6.1f} s")
    slowest = max(per_notebook, key=per_notebook.get)
    print(f"total wall time (with server start and kernel starts): {wall:.1f} s")
    print(f"slowest notebook: {slowest} ({per_notebook[slowest]:.1f} s)")
    return code


if __name__ == "__main__":
    sys.exit(main())
