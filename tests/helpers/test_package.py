"""``import helpers`` is cheap, every public name still imports as before, and the local server
is a package of its own that never loads the notebooks' libraries.

The names of ``helpers`` that need pandas, the ``openai`` SDK, tqdm or matplotlib load their
module on first use. The server (``batch_api_local``) imports none of them, nor ``helpers``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import helpers

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_ONLY = {"pandas", "matplotlib", "tqdm", "openai"}
PRINT_MODULES = "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"


def _modules_after(code: str) -> set[str]:
    """Top-level names of the modules a fresh interpreter holds after running ``code``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, "-c", f"import json, sys\n{code}\n{PRINT_MODULES}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_import_helpers_loads_no_notebook_library() -> None:
    modules = _modules_after("import helpers\nfrom helpers import Mode, is_local, setup")

    assert "helpers" in modules
    assert not modules & NOTEBOOK_ONLY, sorted(modules & NOTEBOOK_ONLY)


def test_the_server_package_loads_neither_helpers_nor_a_notebook_library() -> None:
    modules = _modules_after(
        "import batch_api_local\n"
        "from batch_api_local.app import create_app\n"
        "from batch_api_local.pytest_plugin import LocalBatchAPI"
    )

    assert {"batch_api_local", "fastapi"} <= modules
    assert not modules & (NOTEBOOK_ONLY | {"helpers"}), sorted(modules & NOTEBOOK_ONLY)


def test_a_helper_loads_its_libraries_on_first_use() -> None:
    modules = _modules_after("from helpers import batches_table")

    assert {"pandas", "openai"} <= modules


def test_every_public_name_imports_and_is_listed() -> None:
    namespace: dict[str, object] = {}
    exec(f"from helpers import {', '.join(helpers.__all__)}", namespace)

    for name in helpers.__all__:
        assert getattr(helpers, name) is namespace[name], name
        assert name in dir(helpers), name


def test_setup_stays_the_function_after_its_module_is_imported() -> None:
    import helpers.setup  # noqa: F401 - the submodule has the function's name
    from helpers import setup

    assert setup is helpers.setup
    assert callable(setup) and setup.__module__ == "helpers.setup"


def test_submodules_are_attributes_of_the_package() -> None:
    for name in ("batch_files", "cost", "results", "tables", "timeline", "waiting"):
        assert getattr(helpers, name).__name__ == f"helpers.{name}"
        assert name in dir(helpers)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_helper"):
        helpers.no_such_helper  # noqa: B018
