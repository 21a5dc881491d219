"""``make lab`` and ``make help``, as a newcomer and a student meet them.

``make lab`` runs ``scripts/lab.py`` before JupyterLab. In local mode it starts the notebooks'
server and says that its address is an API, not a page to open. In classroom mode it starts no
server on the student's machine and prints the class server's address (or what to fix, without
stopping JupyterLab from starting). JupyterLab's news pop-up is off through a setting kept in
the repository (``jupyter-config/``), which ``make lab`` adds to Jupyter's configuration path.
``make help`` names every target of the Makefile.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from batch_api_local import find_server, stop_server

from support import WAIT, free_port, start_class_server

ROOT = Path(__file__).resolve().parents[1]
STUDENT = ("sk-class-lab-student-000000000001", "student-01")
ADMIN = "sk-class-lab-admin-0000000000001"


def run_lab_script(env_changes: dict[str, str | None]) -> str:
    env = dict(os.environ)
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lab.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=2 * WAIT,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_in_local_mode_it_starts_the_server_and_says_what_its_address_is(tmp_path: Path) -> None:
    state = tmp_path / "state"
    port = free_port()
    try:
        out = run_lab_script(
            {
                "BATCH_TUTORIAL_MODE": None,
                "BATCH_LOCAL_STATE_DIR": str(state),
                "BATCH_LOCAL_PORT": str(port),
            }
        )
        assert find_server(state) is not None
    finally:
        stop_server(state)
    lines = out.splitlines()
    assert lines[0].startswith("Local mode: requests go to the local Batch API server at ")
    assert f"http://127.0.0.1:{port}/v1" in lines[0]
    assert lines[1].startswith("That address is the API the notebooks talk to, not a page")
    assert lines[-1].startswith("JupyterLab starts now")


def test_in_classroom_mode_it_starts_no_server_and_names_the_class_server(tmp_path: Path) -> None:
    (tmp_path / "class").mkdir()
    info = start_class_server(tmp_path / "class", [STUDENT], ADMIN)
    mine = tmp_path / "mine"
    try:
        out = run_lab_script(
            {
                "BATCH_TUTORIAL_MODE": "classroom",
                "OPENAI_BASE_URL": info.base_url,
                "OPENAI_API_KEY": STUDENT[0],
                "BATCH_LOCAL_STATE_DIR": str(mine),
            }
        )
    finally:
        stop_server(tmp_path / "class" / "state")
    assert out.splitlines()[0] == (
        "Classroom mode: requests go to the class's local Batch API server at "
        f"{info.base_url} as student-01 (no cost)."
    )
    assert "No local server is started on this machine." in out
    assert not mine.exists(), "a local server was started for the student"


def test_in_classroom_mode_a_problem_is_said_and_jupyterlab_starts_anyway(tmp_path: Path) -> None:
    out = run_lab_script(
        {
            "BATCH_TUTORIAL_MODE": "classroom",
            "OPENAI_BASE_URL": None,
            "OPENAI_API_KEY": "sk-class-x",
            "BATCH_LOCAL_STATE_DIR": str(tmp_path / "mine"),
        }
    )
    assert out.startswith(
        "Before you run a notebook: BATCH_TUTORIAL_MODE=classroom needs OPENAI_BASE_URL: "
    )
    assert not (tmp_path / "mine").exists()


def test_the_news_pop_up_is_off_for_this_repository(tmp_path: Path) -> None:
    """The page configuration JupyterLab builds, with ``jupyter-config/`` on the path as
    ``make lab`` puts it, disables the plugin that asks about news and updates."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert 'JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter-config' in makefile
    code = (
        "import json; from jupyterlab_server.config import get_page_config; "
        "print(json.dumps(get_page_config([], None).get('disabledExtensions')))"
    )
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter-config")}
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "home-config")  # not the user's own settings
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT,
        check=True,
    ).stdout
    assert "@jupyterlab/apputils-extension:announcements" in json.loads(out)


def test_make_help_names_every_target() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make on this machine")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):(?!=)", makefile, re.MULTILINE)) - {"help"}
    shown = subprocess.run(
        [make, "-s", "help"], capture_output=True, text=True, cwd=ROOT, timeout=WAIT, check=True
    ).stdout
    named = set(re.findall(r"^make ([a-z][a-z-]*)", shown, re.MULTILINE))
    assert targets <= named, sorted(targets - named)
    assert named <= targets, sorted(named - targets)
