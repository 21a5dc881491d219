"""``batch-api-local keys``: the keys file, the command that starts the class server, and the
lines students paste.

The start command it prints is the one ``docs/classroom.md`` gives in step 2, word for word
(with the admin key filled in), so that copying either starts the same server: on port 8765,
with the class's own state directory. The lines for a student set the three variables of
classroom mode when pasted into bash or zsh (run here in bash) and into PowerShell (checked for
its syntax: ``$env:NAME="value"`` statements separated by ``;``). With ``--handouts`` each
student also gets a file of their own, readable by its owner only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import WAIT, server_env

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "classroom.md"
ADDRESS = "192.168.1.20"
BASE_URL = f"http://{ADDRESS}:8765/v1"
POWERSHELL = re.compile(r'^\$env:(\w+)="([^"]*)"$')


def guide_start_command() -> str:
    """Step 2's command in docs/classroom.md."""
    blocks = re.findall(r"```bash\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
    starts = [b.strip() for b in blocks if b.strip().startswith("batch-api-local serve --host")]
    return starts[0]


def run_keys(folder: Path, *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "batch_api_local", "keys", "--students", "3"]
        + ["--out", "class-keys.txt", *args],
        capture_output=True,
        text=True,
        env=server_env(),
        cwd=folder,
        timeout=WAIT,
        check=True,
    )
    return done.stdout.splitlines()


@pytest.fixture
def printed(tmp_path: Path) -> list[str]:
    return run_keys(tmp_path, "--address", ADDRESS, "--handouts", "class-handouts")


def admin_key(printed: list[str]) -> str:
    return printed[printed.index("Your instructor (admin) key; keep it to yourself:") + 1].strip()


def student_keys(folder: Path) -> dict[str, str]:
    lines = (folder / "class-keys.txt").read_text(encoding="utf-8").splitlines()
    pairs = [line.split() for line in lines if line and not line.startswith("#")]
    return {label: key for key, label in pairs}


def test_the_start_command_is_the_guides(printed: list[str]) -> None:
    command = printed[printed.index("Start the class server with:") + 1].strip()
    admin = admin_key(printed)
    assert command == guide_start_command().replace("sk-class-...", admin)
    assert "--port 8765" in command and "--state-dir class-state" in command


def test_each_student_gets_lines_for_bash_and_powershell(
    printed: list[str], tmp_path: Path
) -> None:
    keys = student_keys(tmp_path)
    assert list(keys) == ["student-01", "student-02", "student-03"]
    for label, key in keys.items():
        at = printed.index(label)
        posix, powershell = printed[at + 1].strip(), printed[at + 2].strip()
        wanted = {
            "BATCH_TUTORIAL_MODE": "classroom",
            "OPENAI_BASE_URL": BASE_URL,
            "OPENAI_API_KEY": key,
        }
        assert pasted_in_bash(posix) == wanted
        statements = [POWERSHELL.match(part.strip()) for part in powershell.split(";")]
        assert all(statements), powershell
        assert {m.group(1): m.group(2) for m in statements if m} == wanted


def pasted_in_bash(line: str) -> dict[str, str]:
    """The three variables after ``line`` is run by bash, as a pasted line would be."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on this machine")
    names = ("BATCH_TUTORIAL_MODE", "OPENAI_BASE_URL", "OPENAI_API_KEY")
    show = "; ".join(f'printf "%s\\n" "${name}"' for name in names)
    env = {k: v for k, v in os.environ.items() if k not in names}
    out = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", f"{line}\n{show}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT,
        check=True,
    ).stdout.splitlines()
    return dict(zip(names, out, strict=True))


def test_each_student_gets_a_file_of_their_own(printed: list[str], tmp_path: Path) -> None:
    for label, key in student_keys(tmp_path).items():
        handout = tmp_path / "class-handouts" / f"{label}.txt"
        text = handout.read_text(encoding="utf-8")
        assert text.startswith(f"{label}: ")
        assert f"OPENAI_API_KEY={key}" in text and f'$env:OPENAI_API_KEY="{key}"' in text
        assert f"OPENAI_BASE_URL={BASE_URL}" in text
        other = [k for name, k in student_keys(tmp_path).items() if name != label]
        assert not any(k in text for k in other)
        if os.name == "posix":
            assert handout.stat().st_mode & 0o077 == 0
    if os.name == "posix":
        assert (tmp_path / "class-keys.txt").stat().st_mode & 0o077 == 0


def test_without_an_address_it_says_which_one_it_used_or_asks_for_one(tmp_path: Path) -> None:
    printed = run_keys(tmp_path)
    text = "\n".join(printed)
    assert (
        "is this machine's on its network as far as it can" in text
        or "Give this machine's address on the class network with --address" in text
    )
