"""Generate the README's table of notebooks from their file names and opening cells.

    python scripts/readme_table.py --check   # fail when README.md is out of date
    python scripts/readme_table.py --write   # rewrite the table in README.md

The table sits between `<!-- notebooks:start -->` and `<!-- notebooks:end -->`. Each row links
the notebook and shows its H1 title and the outcomes listed under "In this notebook you will".
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- notebooks:start -->", "<!-- notebooks:end -->"


def row(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    source = nb.cells[0].source
    title = source.splitlines()[0].lstrip("# ").strip()
    outcomes = []
    text = "\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown")
    if "In this notebook you will" in text:
        after = text.split("In this notebook you will", 1)[1]
        for line in after.splitlines()[1:]:
            if re.match(r"^\s*[-*] ", line):
                outcomes.append(re.sub(r"^\s*[-*] ", "", line).strip().rstrip("."))
            elif outcomes and not line.strip():
                break
    link = f"[{path.name}](notebooks/{path.name})"
    return f"| {link} | {title} | {'; '.join(outcomes)} |"


def table() -> str:
    rows = [row(p) for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))]
    return "\n".join(["| notebook | title | you will |", "|---|---|---|", *rows])


def main() -> int:
    parser = argparse.ArgumentParser()
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true")
    group.add_argument("--write", action="store_true")
    args = parser.parse_args()
    readme = README.read_text(encoding="utf-8")
    if START not in readme or END not in readme:
        print(f"README.md has no {START} ... {END} block")
        return 1
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    wanted = f"{head}{START}\n{table()}\n{END}{tail}"
    if args.write:
        README.write_text(wanted, encoding="utf-8")
        return 0
    if wanted != readme:
        print("README.md's notebook table is out of date: run `make readme-table`")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
