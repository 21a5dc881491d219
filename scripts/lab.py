"""What ``make lab`` does before it starts JupyterLab: the notebooks' server, and a word on it.

    python scripts/lab.py

In local mode (the default) it starts the local Batch API server unless one is running, as the
notebooks' first cell would, and says what the address it prints is: the API the notebooks
talk to, not a page to open (JupyterLab's own address comes next). In classroom mode it starts
nothing on this machine: it checks the class server and the key as the notebooks' first cell
does, and prints the class server's address, or what to fix. In live mode it starts nothing
either. It never stops ``make lab``: a problem is said, and JupyterLab starts all the same, so
that the first cell of a notebook can say it again.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import helpers  # noqa: E402  (this checkout's helpers)


def main() -> int:
    try:
        mode = helpers.setup()  # prints where the notebooks' requests go
    except helpers.SetupError as problem:
        print(f"Before you run a notebook: {problem}")
        print("JupyterLab starts all the same; each notebook's first cell checks again.")
        return 0
    if mode.name == "local":
        print(
            "That address is the API the notebooks talk to, not a page to open. The server keeps"
            " running when JupyterLab stops; `make stop` stops it."
        )
    else:
        print("No local server is started on this machine.")
    print("JupyterLab starts now: open the address it prints below (http://localhost:8888/...).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
