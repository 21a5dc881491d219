"""What the classroom guide writes in the repository's folder is never committed.

``docs/classroom.md`` has the instructor run ``batch-api-local keys`` and ``serve`` from the
repository: the keys file, the handouts and the class server's state would land beside the
notebooks, and a ``git add -A`` would commit every student's key. ``.gitignore`` ignores them,
and any ``*keys*.txt``; the package's own ``keys.py`` stays tracked.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IGNORED = [
    "class-keys.txt",
    "class-state/state.sqlite3",
    "class-state/files/file-abc",
    "class-handouts/student-07.txt",
    "my-class-keys.txt",
    "keys.txt",
    "docs/spring-keys.txt",
]
KEPT = [
    "batch-api-local/batch_api_local/keys.py",
    "notebooks/01_prepare_batch_file.ipynb",
    "docs/classroom.md",
]


def ignored(path: str) -> bool:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(
        [git, "check-ignore", "--no-index", "--quiet", path], cwd=ROOT, timeout=30
    )
    assert done.returncode in (0, 1), f"git check-ignore failed for {path}"
    return done.returncode == 0


@pytest.mark.parametrize("path", IGNORED)
def test_a_classes_keys_and_state_are_ignored(path: str) -> None:
    assert ignored(path)


@pytest.mark.parametrize("path", KEPT)
def test_the_repositorys_own_files_are_not(path: str) -> None:
    assert not ignored(path)
