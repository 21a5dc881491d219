"""A class on one server: three students run notebooks 04, 06 and 07 at the same time.

One local server with a keys file of three students and an instructor's (admin) key, as
``docs/classroom.md`` sets it up. Each student has a checkout of their own (a copy of
``notebooks/`` and ``artifacts/``) and runs the three notebooks one after another, each in a
fresh kernel whose environment is what the student would set: ``BATCH_TUTORIAL_MODE=classroom``,
``OPENAI_BASE_URL`` and their own ``OPENAI_API_KEY``. The students start at the same moment, each
with another notebook first, so that one student's lowered token limit (04), cancel (06) and
expiry (07) overlap the others' batches.

Every cell must run without an error. Afterwards, through the SDK with each key, every student
sees exactly the batches their own notebooks made and none of the others'; their pace and token
limit are back to the server's; and the instructor's class view shows each student with
notebooks 04, 06 and 07.

And a student who stops one of those cells halfway (the kernel's stop button, an interrupt,
while its ``temporarily()`` block is in force) finds their pace and token limit as they were
before the cell, while nobody else's changed. Run with ``make test-slow``.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import openai
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from batch_api_local import (
    PACES,
    ServerInfo,
    class_view,
    ensure_server,
    state,
    stop_server,
)
from batch_api_local.constants import DEFAULT_TOKEN_LIMIT
from batch_api_local.keys import class_keys

from support import assert_clean_log, free_port, log_since, notebook_env, sdk_client

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: the notebooks that act on a student's own batches or settings, and the batches each one makes
BATCHES_MADE = {"04": 3, "06": 4, "07": 4}
STUDENTS = 3


@dataclass
class ClassRoom:
    info: ServerInfo
    state_dir: Path
    admin: str
    keys: dict[str, str]  # label: key


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[ClassRoom]:
    """A class server (its default pace, as in class) with three students and an admin key."""
    admin, pairs = class_keys(STUDENTS)
    keys_file = tmp_path / "class-keys.txt"
    keys_file.write_text("".join(f"{key} {label}\n" for key, label in pairs), encoding="utf-8")
    state_dir = tmp_path / "state"
    info = ensure_server(
        state_dir,
        port=free_port(),
        extra_args=["--keys-file", str(keys_file), "--admin-key", admin],
    )
    try:
        yield ClassRoom(info, state_dir, admin, {label: key for key, label in pairs})
    finally:
        stop_server(state_dir)


@dataclass
class Run:
    """One student's run: when each notebook started and ended, and any error."""

    label: str
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def student_checkout(root: Path) -> Path:
    """A student's own copy of the notebooks and the input files they read."""
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "artifacts", root / "artifacts")
    return root / "notebooks"


def kernel_env(base_url: str, key: str) -> dict[str, str]:
    """What a student sets for classroom mode, on top of this process's environment."""
    return notebook_env(
        "classroom", base_url, key, mpl_backend="module://matplotlib_inline.backend_inline"
    )


async def run_student(run: Run, folder: Path, order: list[str], env: dict[str, str]) -> None:
    """Run the notebooks in ``order``, one after another, each in a fresh kernel."""
    for number in order:
        path = next(folder.glob(f"{number}_*.ipynb"))
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(folder)}},
            record_timing=False,
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        started = time.monotonic()
        try:
            await client.async_execute(env=env)
        except CellExecutionError as exc:
            text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()  # no terminal colours
            run.errors.append(f"{run.label} {path.name}: {text[-2000:]}")
        run.spans[number] = (started, time.monotonic())
        said = "".join(o.get("text", "") for o in nb.cells[1].get("outputs", []))
        if f"as {run.label} (no cost)." not in said:  # the setup cell names the student
            run.errors.append(f"{run.label} {path.name}: the setup cell said {said!r}")


async def run_class(runs: list[tuple[Run, Path, list[str], dict[str, str]]]) -> None:
    await asyncio.gather(*(run_student(*args) for args in runs))


def test_three_students_run_notebooks_04_06_07_at_once(classroom: ClassRoom, tmp_path: Path):
    labels = sorted(classroom.keys)
    numbers = list(BATCHES_MADE)
    runs = []
    for i, label in enumerate(labels):
        order = numbers[i:] + numbers[:i]  # 04 06 07, 06 07 04, 07 04 06
        folder = student_checkout(tmp_path / label)
        env = kernel_env(classroom.info.base_url, classroom.keys[label])
        runs.append((Run(label), folder, order, env))

    asyncio.run(run_class(runs))

    errors = [error for run, *_ in runs for error in run.errors]
    assert not errors, "\n\n".join(errors)
    # they really ran at the same time: every student's first notebook overlapped the others'
    firsts = [run.spans[order[0]] for run, _, order, _ in runs]
    assert max(start for start, _ in firsts) < min(end for _, end in firsts)

    # through the SDK, with each key: exactly the batches (and files) of the student's own
    # notebooks, and none of anyone else's
    seen: dict[str, set[str]] = {}
    files: dict[str, set[str]] = {}
    for label in labels:
        client = sdk_client(classroom.info.base_url, classroom.keys[label])
        batches = list(client.batches.list())
        made = [(b.metadata or {}).get("notebook") for b in batches]
        assert sorted(made) == sorted(n for n, count in BATCHES_MADE.items() for _ in range(count))
        seen[label] = {b.id for b in batches}
        files[label] = {f.id for f in client.files.list()}
    for label in labels:
        client = sdk_client(classroom.info.base_url, classroom.keys[label])
        for other in labels:
            if other == label:
                continue
            assert not seen[label] & seen[other]
            assert not files[label] & files[other]
            with pytest.raises(openai.NotFoundError):
                client.batches.retrieve(next(iter(seen[other])))

    # every setting a notebook changed for a while is back to the server's; the pace is the one
    # the student's last notebook asked for in its setup cell (07: instant; the others: the
    # server's), and no other student's notebooks changed it
    last = {run.label: order[-1] for run, _, order, _ in runs}
    for label in labels:
        mine = state(base_url=classroom.info.base_url, api_key=classroom.keys[label])
        pace = "instant" if last[label] == "07" else "normal"
        assert mine["pace"] == PACES[pace].as_dict(), (label, last[label])
        assert mine["token_limit"] == DEFAULT_TOKEN_LIMIT, label

    # the instructor's view: each student, with the notebooks their batches came from
    view = class_view(base_url=classroom.info.base_url, api_key=classroom.admin)
    rows = {row["label"]: row for row in view["data"]}
    assert set(rows) == set(labels)
    for label in labels:
        assert rows[label]["notebooks"] == ["04", "06", "07"], rows[label]
        assert rows[label]["furthest_notebook"] == "07"
        assert sum(rows[label]["batches"].values()) == sum(BATCHES_MADE.values())

    assert_clean_log(log_since(classroom.state_dir, 0))


# -- a student stops a cell halfway -------------------------------------------------------------

#: what each notebook's temporarily() block changes, as state() shows it: 04 lowers its token
#: limit; 07, whose batches run at the instant pace, slows to the default pace for the batch it
#: expires; 06 cancels at the default pace and needs no block
CHANGED = {
    "04": lambda now: now["token_limit"] == 50,
    "07": lambda now: now["pace"] == PACES["normal"].as_dict(),
}
#: a pace that keeps a new batch in ``validating``: notebook 04's block then waits until stopped
STUCK_IN_VALIDATING = {**PACES["normal"].as_dict(), "validating": 3600.0}


def test_every_walkthrough_notebook_that_slows_or_limits_a_student_is_stopped_halfway_below():
    """Every temporarily() block of notebooks 1 to 7 is in CHANGED, so the next test stops each
    halfway (a block that only speeds the pace up, ``pace="instant"``, would be over before it
    could be stopped, and restores the pace the same way)."""
    uses = set()
    for path in (ROOT / "notebooks").glob("0[1-7]_*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for args in re.findall(r"temporarily\(([^)]*)\)", cell.source):
                if args.strip() != 'pace="instant"':
                    uses.add(path.name[:2])
    assert uses == set(CHANGED)


def run_code(kc, code: str, what: str) -> None:
    reply = kc.execute_interactive(code, timeout=300, output_hook=lambda msg: None)
    content = reply["content"]
    assert content["status"] == "ok", f"{what}: {content.get('ename')}: {content.get('evalue')}"


@pytest.mark.parametrize("number", list(CHANGED))
def test_stopping_a_cell_halfway_puts_the_students_setting_back(
    classroom: ClassRoom, tmp_path: Path, number: str
):
    """The kernel's stop button (an interrupt) in the middle of a notebook's temporarily()
    block: the student's pace and token limit are what they were before the cell, and nobody
    else's changed."""
    from jupyter_client.manager import start_new_kernel

    me, other = sorted(classroom.keys)[:2]
    mine = {"base_url": classroom.info.base_url, "api_key": classroom.keys[me]}
    theirs = {"base_url": classroom.info.base_url, "api_key": classroom.keys[other]}
    folder = student_checkout(tmp_path / me)
    nb = nbformat.read(next(folder.glob(f"{number}_*.ipynb")), as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    at = next(i for i, source in enumerate(code) if "temporarily(" in source)

    km, kc = start_new_kernel(
        kernel_name="python3",
        env=kernel_env(classroom.info.base_url, classroom.keys[me]),
        cwd=str(folder),
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    try:
        for i, source in enumerate(code[:at]):
            run_code(kc, source, f"{number} code cell {i + 1}")
        if number == "04":  # its block is over in a second: keep the batch validating instead
            run_code(kc, f"batch_api_local.set_pace(**{STUCK_IN_VALIDATING!r})", "pace")
        before = state(**mine)
        others_before = state(**theirs)

        msg_id = kc.execute(code[at])
        deadline = time.monotonic() + 60
        while not CHANGED[number](state(**mine)):
            assert time.monotonic() < deadline, "the cell never changed the setting"
            time.sleep(0.05)
        km.interrupt_kernel()
        while True:
            reply = kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"

        after = state(**mine)
        assert (after["pace"], after["token_limit"]) == (before["pace"], before["token_limit"])
        assert state(**theirs)["pace"] == others_before["pace"]
        assert state(**theirs)["token_limit"] == others_before["token_limit"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
