"""Check that every notebook is fit to ship (run by `make lint`).

- saved outputs come from one clean top-to-bottom run: execution counts are exactly 1..n;
- there are saved outputs at all (a notebook without outputs passes nbval trivially);
- no output without an execution count, no error outputs;
- the shared opening and ending: an H1 title, "In this notebook you will", a "## Setup"
  section, and "## Next steps" at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def problems(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    found = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.get("execution_count") for c in code]
    if counts != list(range(1, len(code) + 1)):
        found.append(f"execution counts are {counts}, not 1..{len(code)}: run `make record`")
    if not any(c.get("outputs") for c in code):
        found.append("no saved outputs: nbval would compare nothing")
    for c in code:
        for out in c.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"an error output is saved: {out.get('ename')}")
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    first = nb.cells[0].source if nb.cells else ""
    if not first.startswith("# "):
        found.append("the first cell is not an H1 title")
    for needle in ("In this notebook you will", "## Setup", "## Next steps"):
        if needle not in markdown:
            found.append(f"missing {needle!r}")
    return found


def main() -> int:
    bad = 0
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for problem in problems(path):
            print(f"{path.relative_to(ROOT)}: {problem}")
            bad += 1
    if bad:
        print(f"{bad} notebook problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
