"""The local server as a product of its own: it installs alone, and meets other projects in their
own test runner.

- ``pip install ./batch-api-local`` into a fresh virtual environment installs what the server
  needs and nothing of the notebooks' stack, and gives the ``batch-api-local`` command, which
  serves;
- a project outside this repository (a temporary folder with one test file, no conftest) gets
  the ``local_batch_api`` fixture from the package's pytest plugin and runs a whole batch with it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from support import free_port, wait_for_models

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "batch-api-local"
#: what the server must not pull in: the notebooks' stack and the SDK it is a stand-in for
NOT_NEEDED = {
    "pandas",
    "matplotlib",
    "tqdm",
    "jupyter",
    "jupyterlab",
    "notebook",
    "ipykernel",
    "ipywidgets",
    "openai",
    "nbval",
    "batch-api-step-by-step",
}


def _env() -> dict[str, str]:
    """The environment of a process that must not see this checkout's packages."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with only ``pip install ./batch-api-local`` in it."""
    where = tmp_path_factory.mktemp("venv") / "env"
    venv.create(where, with_pip=True)
    # a copy, so that building it writes nothing into this checkout
    source = shutil.copytree(
        PACKAGE,
        where.parent / "batch-api-local",
        ignore=shutil.ignore_patterns("build", "*.egg-info"),
    )
    python = where / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(source),
        ],
        check=True,
        env=_env(),
        timeout=600,
        cwd=where,
        capture_output=True,
    )
    return python


def test_the_server_installs_alone_without_the_notebooks_stack(fresh_venv: Path) -> None:
    listed = subprocess.run(
        [str(fresh_venv), "-m", "pip", "list", "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}

    assert {"batch-api-local", "fastapi", "uvicorn", "bpe-openai", "httpx2"} <= installed
    assert not installed & NOT_NEEDED, sorted(installed & NOT_NEEDED)


def test_its_command_serves_the_api(fresh_venv: Path, tmp_path: Path) -> None:
    command = fresh_venv.parent / (
        "batch-api-local.exe" if sys.platform == "win32" else "batch-api-local"
    )
    port = free_port()
    process = subprocess.Popen(
        [str(command), "serve", "--port", str(port), "--state-dir", str(tmp_path / "state")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=tmp_path,
    )
    try:
        wait_for_models(process, port)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert (tmp_path / "state" / "state.sqlite3").exists()


OUTSIDE_TEST = """
import json


def test_a_whole_batch(local_batch_api, tmp_path):
    client = local_batch_api.client()
    lines = [
        {"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Hi {n}"}]}}
        for n in range(3)
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(line) + "\\n" for line in lines))
    local_batch_api.force_line("r2", status_code=500)

    upload = client.files.create(file=path.open("rb"), purpose="batch")
    batch = client.batches.create(
        input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    while batch.status not in ("completed", "failed", "expired", "cancelled"):
        batch = client.batches.retrieve(batch.id)

    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.failed) == (2, 1)
    output = client.files.content(batch.output_file_id).text.splitlines()
    assert sorted(json.loads(line)["custom_id"] for line in output) == ["r0", "r1"]
    errors = [json.loads(line) for line in client.files.content(batch.error_file_id).text.splitlines()]
    assert errors[0]["response"]["status_code"] == 500


def test_each_test_starts_clean(local_batch_api):
    client = local_batch_api.client()
    assert client.batches.list().data == []
    assert local_batch_api.state()["pace"]["per_request"] == 0
    now = local_batch_api.advance_clock(3600)
    assert now >= local_batch_api.state()["now"] - 1
"""


def test_a_project_elsewhere_runs_a_batch_with_the_fixture(tmp_path: Path) -> None:
    project = tmp_path / "elsewhere"
    project.mkdir()
    (project / "test_pipeline.py").write_text(textwrap.dedent(OUTSIDE_TEST), encoding="utf-8")

    # no conftest, nothing of this repository on the path: the fixture comes from the package's
    # pytest11 entry point, installed with it
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--rootdir",
            str(project),
            str(project),
        ],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=project,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout


LIKE_LIVE_TEST = """
def test_the_fixture_runs_like_live(local_batch_api):
    assert local_batch_api.state()["like_live"] is True
    assert local_batch_api.set_tier(1) == 1
    assert local_batch_api.state()["tier"] == 1
    upload = local_batch_api.client().files.create(file=("a.jsonl", b"{}\\\\n"), purpose="user_data")
    assert upload.expires_at is None
"""


def test_the_fixture_takes_like_live_from_an_ini_option(tmp_path: Path) -> None:
    project = tmp_path / "rehearsal"
    project.mkdir()
    (project / "test_rehearsal.py").write_text(textwrap.dedent(LIKE_LIVE_TEST), encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\nlocal_batch_api_like_live = true\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=project,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
