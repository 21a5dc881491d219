"""A setup cell that refuses a student's settings shows one line: what to fix.

In Jupyter, through nbclient and a real kernel, as JupyterLab receives it: notebook 1's own
setup cell, run with classroom settings that are wrong, ends with an error output whose
traceback is that one sentence, and nothing of ``helpers/setup.py``. In a plain Python
traceback, as little as the language allows: the caller's line, the ``raise`` in ``setup()``,
and the sentence; no frame of the checks it came through, no chained exception.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from support import free_port

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def student_env(**settings: str) -> dict[str, str]:
    """The environment a student's kernel would have: classroom mode and ``settings``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "BATCH_TUTORIAL_MODE")
    }
    env.update(
        BATCH_TUTORIAL_MODE="classroom",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        **settings,
    )
    return env


def run_setup_cell(env: dict[str, str], tmp_path: Path) -> list[dict]:
    """The outputs of notebook 1's setup cell (its first code cell) run in a fresh kernel."""
    source = nbformat.read(ROOT / "notebooks" / "01_prepare_batch_file.ipynb", as_version=4)
    cell = next(c for c in source.cells if c.cell_type == "code")
    assert "helpers.setup()" in cell.source
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell.source)])
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    client.execute(env=env)
    return nb.cells[0].outputs


@pytest.mark.parametrize(
    ("settings", "sentence"),
    [
        (
            {"OPENAI_API_KEY": "sk-class-abc"},
            "BATCH_TUTORIAL_MODE=classroom needs OPENAI_BASE_URL: set it to the class server's "
            "address your instructor gave you, such as http://192.168.1.20:8765/v1.",
        ),
        (
            {"OPENAI_BASE_URL": "http://127.0.0.1:{port}/v1", "OPENAI_API_KEY": "sk-class-abc"},
            "Cannot reach the class server at http://127.0.0.1:{port} (OPENAI_BASE_URL is "
            "'http://127.0.0.1:{port}/v1'): the connection was refused (no server listens on "
            "that port). Check the address with your instructor, and that you are on the "
            "class's network.",
        ),
    ],
    ids=["no-address", "nothing-there"],
)
def test_jupyter_shows_only_what_to_fix(
    settings: dict[str, str], sentence: str, tmp_path: Path
) -> None:
    port = str(free_port())
    env = student_env(**{k: v.format(port=port) for k, v in settings.items()})
    outputs = run_setup_cell(env, tmp_path)

    assert [o["output_type"] for o in outputs] == ["error"]
    error = outputs[0]
    assert error["ename"] == "SetupError"
    shown = [ANSI.sub("", line) for line in error["traceback"]]
    assert shown == [sentence.format(port=port)]


def test_a_plain_traceback_shows_the_callers_line_and_the_sentence(tmp_path: Path) -> None:
    script = tmp_path / "start.py"
    script.write_text("import helpers\n\nhelpers.setup()\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        env=student_env(OPENAI_API_KEY="sk-class-abc"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1].startswith(
        "helpers.SetupError: BATCH_TUTORIAL_MODE=classroom needs OPENAI_BASE_URL: "
    )
    frames = [line.strip() for line in lines if line.lstrip().startswith("File ")]
    assert len(frames) == 2, done.stderr  # the caller's line, and setup()'s raise
    assert "start.py" in frames[0] and ", in setup" in frames[1]
    assert "During handling" not in done.stderr
    assert "check_class_server" not in done.stderr
