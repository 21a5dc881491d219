"""Check that every notebook is fit to ship (run by `make lint`).

- saved outputs come from one clean top-to-bottom run: execution counts are exactly 1..n;
- there are saved outputs at all (a notebook without outputs passes nbval trivially);
- no output without an execution count, no error outputs;
- the kernelspec is the one JupyterLab writes (display name "Python 3 (ipykernel)"), so that
  opening a notebook does not change it and leave the learner's git tree modified;
- outputs stay readable: no line of printed text (or of a plain-text result) is longer than
  MAX_OUTPUT_LINE characters, except in a cell tagged "long-output", where a notebook shows a
  whole object on purpose (in JupyterLab: the cell's property inspector, "Cell Tags");
- the shared opening and ending: an H1 title, "In this notebook you will", a "## Setup"
  section, and "## Next steps" at the end;
- code is hidden only where a reader is meant to try first: a cell whose source is collapsed
  (cell metadata ``"jupyter": {"source_hidden": true}``, JupyterLab's "Collapse Selected Code")
  must be a code cell in an "## Exercise" section, the solution of its task. nbval runs and
  checks it like any other cell;
- a reader can copy any teaching cell into a project of their own: only the setup cell (the
  first code cell) and cells tagged "local-only" may use the local server's controls (the
  ``batch_api_local`` package, ``helpers.is_local()``, ``/_local`` routes, the mode that
  ``helpers.setup()`` returns).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]

#: what JupyterLab writes into a notebook it saves with the default Python kernel
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: the longest line of output a reader should have to scroll through
MAX_OUTPUT_LINE = 300
#: the cell tag that allows longer lines, for a cell that shows a whole object on purpose
LONG_OUTPUT_TAG = "long-output"
#: the heading of the section whose solution cells may have their source collapsed
EXERCISE_HEADING = "## Exercise"
#: the cell tag of a cell that only makes sense against the local server (it says, in live
#: mode, what the real service would show instead)
LOCAL_ONLY_TAG = "local-only"
#: what in a cell's code uses the local server's controls: its package (control calls, the
#: launcher, its tokenizer), the mode checks, the control routes, the mode setup() returned
LOCAL_CONTROLS = re.compile(
    r"\bbatch_api_local\b|\bis_local\s*\(|/_local\b|\blocal_server\b|\btemporarily\s*\("
    r"|\bmode\.name\b"
)
#: rich representations a notebook shows instead of the plain text
_RICH = ("text/html", "image/png", "image/svg+xml", "application/vnd.jupyter.widget-view+json")


def output_texts(output: Any) -> list[str]:
    """The text a reader sees of one output: a stream's text, or a result's plain text when
    nothing richer (HTML, an image) is shown instead of it."""
    if output.get("output_type") == "stream":
        return [output.get("text", "")]
    data = output.get("data", {})
    if "text/plain" in data and not any(kind in data for kind in _RICH):
        return [data["text/plain"]]
    return []


def long_lines(cell: Any) -> list[int]:
    """Lengths of the output lines over MAX_OUTPUT_LINE in a cell not tagged long-output."""
    if LONG_OUTPUT_TAG in cell.get("metadata", {}).get("tags", []):
        return []
    return [
        len(line)
        for output in cell.get("outputs", [])
        for text in output_texts(output)
        for line in text.splitlines()
        if len(line) > MAX_OUTPUT_LINE
    ]


def source_hidden(cell: Any) -> bool:
    """Whether JupyterLab shows the cell with its source collapsed."""
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))


def misplaced_hidden_cells(cells: list[Any]) -> list[str]:
    """Cells whose source is collapsed outside an exercise's solution: only a code cell under an
    "## Exercise" heading (and before the next "## " heading) may be hidden."""
    found = []
    in_exercise = False
    for number, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            headings = [line.strip() for line in cell.source.splitlines() if line.startswith("## ")]
            if headings:
                in_exercise = headings[-1] == EXERCISE_HEADING
        if source_hidden(cell) and not (cell.cell_type == "code" and in_exercise):
            found.append(
                f"cell {number} has its source hidden outside an {EXERCISE_HEADING!r} section: "
                "only an exercise's solution (a code cell) is hidden"
            )
    return found


def local_glue(cell: Any) -> list[str]:
    """What a code cell not tagged local-only uses of the local server's controls."""
    if LOCAL_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
        return []
    return sorted({m.group(0).strip() for m in LOCAL_CONTROLS.finditer(cell.get("source", ""))})


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
    kernelspec = dict(nb.metadata.get("kernelspec", {}))
    if kernelspec != KERNELSPEC:
        wrong = {k: kernelspec.get(k) for k, v in KERNELSPEC.items() if kernelspec.get(k) != v}
        found.append(
            f"kernelspec has {wrong}, not what JupyterLab writes ({KERNELSPEC['display_name']!r} "
            "for python3): run `make record`"
        )
    for number, c in enumerate(code, start=1):
        lengths = long_lines(c)
        if lengths:
            found.append(
                f"code cell {number} prints a line of {max(lengths)} characters (at most "
                f"{MAX_OUTPUT_LINE}): print the fields that matter, or tag the cell "
                f"{LONG_OUTPUT_TAG!r} if it shows a whole object on purpose"
            )
    found += misplaced_hidden_cells(nb.cells)
    for number, c in enumerate(code[1:], start=2):  # the first code cell is the setup cell
        glue = local_glue(c)
        if glue:
            found.append(
                f"code cell {number} uses the local server's controls ({', '.join(glue)}): move "
                f"that into the setup cell, or into a cell tagged {LOCAL_ONLY_TAG!r} that says, "
                "in live mode, what the real service would show instead"
            )
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
