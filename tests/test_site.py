"""The course site's make-up (``website/hooks.py``), checked without building it.

``make site`` (part of ``make test``) builds it and fails on a broken link; the browser test
(``tests/browser/test_site_in_browser.py``) opens every page. Here: every notebook and every
guide is in the navigation, in course order, so that a new one cannot be left out of the site
unnoticed, and the pages are gathered from the repository and nowhere else.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("site_hooks", ROOT / "website" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = load_hooks()


def test_the_navigation_holds_every_notebook_in_order_and_every_guide() -> None:
    nav = hooks.on_config({})["nav"]
    sections = {title: pages for entry in nav for title, pages in entry.items()}
    assert sections["Home"] == "README.md"
    notebooks = [f"notebooks/{p.name}" for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))]
    assert sections["The walkthrough"] + sections["Going further"] == notebooks
    walkthrough = [p.split("/")[1][:2] for p in sections["The walkthrough"]]
    assert walkthrough == [f"{n:02d}" for n in range(1, 8)]
    guides = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    assert set(sections["Guides"]) == guides, "a guide in docs/ is missing from hooks.GUIDES"


def test_the_pages_are_the_repositorys_files_and_what_they_link_to() -> None:
    found = hooks.site_files()
    assert found[0] == "README.md"
    assert {"CHANGELOG.md", "batch-api-local/README.md", "benchmarks/README.md"} <= set(found)
    for path in found:
        assert (ROOT / path).is_file(), path
        assert not path.startswith(("..", "/", ".venv")), path


def test_a_link_to_a_folder_is_its_readme_and_one_outside_the_repository_is_none() -> None:
    assert hooks._resolve("README.md", "batch-api-local/") == "batch-api-local/README.md"
    assert hooks._resolve("docs/classroom.md", "../README.md#two-commands") == "README.md"
    assert hooks._resolve("docs/classroom.md", "../../elsewhere.md") is None
    assert hooks._resolve("README.md", "no-such-file.md") is None
