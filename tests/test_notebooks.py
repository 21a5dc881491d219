"""Checks on the notebooks themselves (nbval compares their outputs; see `make test-notebooks`).

- every notebook ships outputs from one clean run and opens and ends the shared way;
- the README's table of notebooks is in sync;
- every call of the walkthrough the project grew from appears as plain SDK code;
- nbval really compares: a notebook whose saved output was changed by hand fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from support import free_port

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
sys.path.insert(0, str(ROOT / "scripts"))

import check_notebooks  # noqa: E402
import readme_table  # noqa: E402


def code_of_all_notebooks() -> str:
    return "\n".join(
        cell.source
        for path in NOTEBOOKS
        for cell in nbformat.read(path, as_version=4).cells
        if cell.cell_type == "code"
    )


def test_there_are_seven_notebooks_in_reading_order():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 7
    assert [n[:3] for n in names[:7]] == [f"0{i}_" for i in range(1, 8)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_fit_to_ship(path: Path):
    assert check_notebooks.problems(path) == []


def _tiny_notebook(tmp_path: Path, printed: str, *, tags: list[str] | None = None, **meta) -> Path:
    """A notebook that passes every check, printing ``printed`` in its one code cell."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(check_notebooks.KERNELSPEC)
    nb.metadata.update(meta)
    cell = nbformat.v4.new_code_cell("print(x)", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    if tags:
        cell.metadata["tags"] = tags
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A title\n\nIn this notebook you will\n\n## Setup"),
        cell,
        nbformat.v4.new_markdown_cell("## Next steps"),
    ]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_notebook_check_refuses_a_long_output_line_unless_the_cell_is_tagged(tmp_path):
    limit = check_notebooks.MAX_OUTPUT_LINE
    assert check_notebooks.problems(_tiny_notebook(tmp_path, "x" * limit + "\n")) == []
    found = check_notebooks.problems(_tiny_notebook(tmp_path, "short\n" + "x" * (limit + 1)))
    assert len(found) == 1 and f"{limit + 1} characters" in found[0]
    tagged = _tiny_notebook(tmp_path, "x" * 1000, tags=[check_notebooks.LONG_OUTPUT_TAG])
    assert check_notebooks.problems(tagged) == []


def test_the_notebook_check_refuses_a_kernelspec_jupyterlab_would_rewrite(tmp_path):
    kernelspec = {**check_notebooks.KERNELSPEC, "display_name": "Python 3"}
    found = check_notebooks.problems(_tiny_notebook(tmp_path, "ok", kernelspec=kernelspec))
    assert len(found) == 1 and "Python 3 (ipykernel)" in found[0]


def _notebook_of_cells(tmp_path: Path, *cells: tuple[str, list[str]]) -> Path:
    """A notebook that passes every check but the one under test: code cells of (source, tags)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(check_notebooks.KERNELSPEC)
    code = []
    for count, (source, tags) in enumerate(cells, start=1):
        cell = nbformat.v4.new_code_cell(source, execution_count=count)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ok\n")]
        if tags:
            cell.metadata["tags"] = tags
        code.append(cell)
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A title\n\nIn this notebook you will\n\n## Setup"),
        *code,
        nbformat.v4.new_markdown_cell("## Next steps"),
    ]
    path = tmp_path / "cells.ipynb"
    nbformat.write(nb, path)
    return path


def _notebook_with_cells(tmp_path: Path, cells: list) -> Path:
    """A notebook that passes every check, with ``cells`` between its opening and its ending."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(check_notebooks.KERNELSPEC)
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A title\n\nIn this notebook you will\n\n## Setup"),
        *cells,
        nbformat.v4.new_markdown_cell("## Next steps"),
    ]
    for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ok\n")]
    path = tmp_path / "cells.ipynb"
    nbformat.write(nb, path)
    return path


def _hidden(cell):
    cell.metadata["jupyter"] = {"source_hidden": True}
    return cell


def test_the_notebook_check_allows_a_hidden_solution_only_in_an_exercise(tmp_path):
    code, markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    exercise = markdown("## Exercise\n\nPrint ok.")
    solution = _notebook_with_cells(tmp_path, [code("x = 1"), exercise, _hidden(code("print(1)"))])
    assert check_notebooks.problems(solution) == []

    # hidden teaching code, before any exercise
    found = check_notebooks.problems(_notebook_with_cells(tmp_path, [_hidden(code("x = 1"))]))
    assert len(found) == 1 and "source hidden" in found[0]
    # a hidden cell after the exercise's section has ended
    after = [exercise, code("print(1)"), markdown("## More"), _hidden(code("print(2)"))]
    found = check_notebooks.problems(_notebook_with_cells(tmp_path, after))
    assert len(found) == 1 and "cell 4" in found[0]
    # the task itself (markdown) is not hidden
    found = check_notebooks.problems(
        _notebook_with_cells(tmp_path, [_hidden(exercise), code("print(1)")])
    )
    assert len(found) == 1 and "'## Exercise'" in found[0]


SETUP = "import batch_api_local\nimport helpers\n\nhelpers.setup(pace='instant')"


@pytest.mark.parametrize(
    "source",
    [
        "with batch_api_local.temporarily(pace='instant'):\n    pass",
        "from batch_api_local import control",
        "if helpers.is_local():\n    print('local')",
        "import urllib.request\nurllib.request.urlopen(base + '/_local/state')",
        "helpers.local_server.temporarily(pace='instant')",
        "if mode.name == 'local':\n    print('local')",
    ],
)
def test_the_notebook_check_keeps_the_local_servers_controls_out_of_teaching_cells(
    tmp_path, source
):
    local = _notebook_of_cells(tmp_path, (SETUP, []), (source, []), ("print(1)", []))
    found = check_notebooks.problems(local)
    assert len(found) == 1, found
    assert found[0].startswith("code cell 2 uses the local server's controls")
    assert check_notebooks.LOCAL_ONLY_TAG in found[0]

    tagged = _notebook_of_cells(tmp_path, (SETUP, []), (source, ["local-only"]))
    assert check_notebooks.problems(tagged) == []


def test_the_notebook_check_lets_plain_sdk_and_helpers_cells_through(tmp_path):
    plain = (
        "batch = client.batches.create(input_file_id=f.id, endpoint='/v1/chat/completions',"
        " completion_window='24h')\nbatch = helpers.wait_for_batch(client, batch.id)"
        "\nprint(batch.status)  # a local_ name and a local-only word in prose do not count"
    )
    path = _notebook_of_cells(tmp_path, (SETUP, []), (plain, ["long-output"]))
    assert check_notebooks.problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_links_resolve(path: Path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if target.startswith("http"):
            continue
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_readme_table_is_in_sync():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_table.table() in readme


#: the calls of the walkthrough the project grew from (see tests/test_source_walkthrough.py),
#: as the notebooks make them; they print the fields that matter rather than whole objects
WALKTHROUGH_CALLS = [
    'client.files.create(\n    file=open("../artifacts/badbatchinput.jsonl", "rb")',
    'client.files.create(\n    file=open("../artifacts/goodbatchinput.jsonl", "rb")',
    'purpose="batch"',
    "bad_batch_input_file_id = bad_batch_input_file.id",
    "bad_batch = client.batches.create(\n    input_file_id=bad_batch_input_file_id,",
    "good_batch = client.batches.create(\n    input_file_id=good_batch_input_file_id,",
    'endpoint="/v1/chat/completions"',
    'completion_window="24h"',
    'metadata={"description": "bad nightly penguin job", "notebook": "03"}',
    'metadata={"description": "good nightly penguin job", "notebook": "03"}',
    "client.batches.retrieve(bad_batch.id)",
    "client.batches.retrieve(good_batch.id)",
    "client.batches.list(limit=1)",
    "batches = list(client.batches.list())",
    '(batch.metadata or {}).get("description", "").startswith("good")',
    "dead_batch_walking = client.batches.create(",
    "client.batches.retrieve(dead_batch_walking.id)",
    "client.batches.cancel(dead_batch_walking.id)",
    "time.sleep(5)",
    "content = client.files.content(client.batches.retrieve(good_batch.id).output_file_id)",
    'content.write_to_file("../artifacts/goodbatchoutput.jsonl")',
]


@pytest.mark.parametrize("call", WALKTHROUGH_CALLS)
def test_walkthrough_call_appears_as_plain_sdk_code(call: str):
    assert call in code_of_all_notebooks()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_batch_says_which_notebook_made_it(path: Path):
    """The instructor's class view reads metadata["notebook"] to show each student's progress."""
    code = "\n".join(
        c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
    )
    labels = [line for line in code.splitlines() if 'metadata={"description"' in line]
    assert all(f'"notebook": "{path.name[:2]}"}}' in line for line in labels), labels


def test_notebooks_never_hold_a_key():
    code = code_of_all_notebooks()
    assert not re.search(r"sk-[A-Za-z0-9_-]{20,}", code)
    assert "api_key=" not in code


def _nbval(notebook: Path, state_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(
        BATCH_LOCAL_STATE_DIR=str(state_dir),
        BATCH_LOCAL_PORT=str(free_port()),
        NO_PROXY="127.0.0.1,localhost",
        # the kernel imports `helpers` from this checkout, not from wherever the environment's
        # editable install points (another worktree, say)
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    env.pop("BATCH_TUTORIAL_MODE", None)
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(notebook),
        "--nbval",
        "--nbval-current-env",
        "--nbval-cell-timeout=120",
        "--nbval-sanitize-with",
        str(ROOT / "tests" / "nbval_sanitize.cfg"),
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(notebook.parent),
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_nbval_fails_when_a_saved_output_is_changed_by_hand(tmp_path: Path):
    from batch_api_local import stop_server

    # a copy of notebook 1 next to the real artifacts folder, so its relative paths work
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "artifacts").mkdir()
    for name in ("goodbatchinput.jsonl", "badbatchinput.jsonl"):
        shutil.copy(ROOT / "artifacts" / name, tmp_path / "artifacts" / name)
    source = ROOT / "notebooks" / "01_prepare_batch_file.ipynb"
    untouched = tmp_path / "notebooks" / source.name
    shutil.copy(source, untouched)
    tampered = tmp_path / "notebooks" / "01_tampered.ipynb"
    nb = json.loads(source.read_text(encoding="utf-8"))
    changed = False
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", []))
            if "2 lines" in text:
                out["text"] = text.replace("2 lines", "20 lines")
                changed = True
    assert changed, "notebook 1 no longer prints the split file sizes"
    tampered.write_text(json.dumps(nb), encoding="utf-8")

    state_dir = tmp_path / "state"
    try:
        good = _nbval(untouched, state_dir)
        bad = _nbval(tampered, state_dir)
    finally:
        stop_server(state_dir)
    assert good.returncode == 0, good.stdout[-3000:]
    assert bad.returncode != 0
    assert "20 lines" in bad.stdout
