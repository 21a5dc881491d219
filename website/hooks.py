"""MkDocs hooks that make the course site (``make site``) from the repository as it is.

The site's pages are files that live elsewhere in the repository, under their own paths: the
README (the home page), every notebook in ``notebooks/`` (with its saved outputs, never run),
the guides in ``docs/``, and whatever those link to, followed link by link (a Markdown file
becomes a page, a folder its README, any other file is copied as it is). So every relative link
that works on GitHub works on the site too, and ``mkdocs build --strict`` fails on one that
does not.

Here too: the navigation (the notebooks in course order, then the guides), the links inside
notebooks (which MkDocs does not rewrite: ``02_upload_files.ipynb`` becomes the page
``02_upload_files.html``), and no script that a notebook page would load from the internet
(nbconvert's MathJax and Mermaid loaders: no notebook uses them, and the site works offline).
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.course_site")

ROOT = Path(__file__).resolve().parents[1]
#: the home page
HOME = "README.md"
#: the guides, in the order the navigation shows them
GUIDES = ("docs/classroom.md", "docs/local-server.md", "docs/batch-api-facts.md")
#: the last notebook of the walkthrough (1 to 7); the ones after it go further
WALKTHROUGH_LAST = 7

#: a Markdown link's target: ``[text](target)`` or ``[text](target "title")``
MD_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: an HTML link's target in a notebook page
HREF = re.compile(r'href="([^"]*)"')
#: a heading of a notebook page, with its id and its content
HEADING = re.compile(r'<h([1-6])[^>]*?\sid="([^"]+)"[^>]*>(.*?)</h\1>', re.DOTALL)
#: a script a notebook page would load from elsewhere (or from nowhere: ``src=""``)
REMOTE_SCRIPT = re.compile(
    r"<script[^>]*>(?:(?!</script>).)*?(?:mathjax|mermaid|MathJax)(?:(?!</script>).)*?</script>"
    r'|<script src="">\s*</script>',
    re.DOTALL,
)


def notebooks() -> list[str]:
    """Every notebook, in course order (their names sort into reading order)."""
    return [f"notebooks/{p.name}" for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))]


def _number(path: str) -> int:
    digits = re.match(r"\d+", posixpath.basename(path))
    return int(digits.group()) if digits else 0


def on_config(config: Any) -> Any:
    """The navigation: home, the walkthrough, going further, the guides."""
    course = notebooks()
    config["nav"] = [
        {"Home": HOME},
        {"The walkthrough": [p for p in course if _number(p) <= WALKTHROUGH_LAST]},
        {"Going further": [p for p in course if _number(p) > WALKTHROUGH_LAST]},
        {"Guides": list(GUIDES)},
    ]
    return config


def _is_relative(target: str) -> bool:
    return not (
        target.startswith(("#", "/", "data:", "mailto:"))
        or re.match(r"^[a-z][a-z0-9+.-]*:", target)
    )


def _resolve(source: str, target: str) -> str | None:
    """The repository path a relative link of ``source`` points to (a folder: its README), or
    None when it leaves the repository or points to nothing."""
    path = target.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
    if joined.startswith("../") or joined == "..":
        return None
    full = ROOT / joined
    if full.is_dir():
        joined = posixpath.join(joined, "README.md")
        full = ROOT / joined
    return joined if full.is_file() else None


def _links(path: str) -> list[str]:
    """The relative link targets in a Markdown file or a notebook's Markdown cells."""
    text = (ROOT / path).read_text(encoding="utf-8")
    if path.endswith(".ipynb"):
        cells = json.loads(text)["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c.get("cell_type") == "markdown")
    return [t for t in MD_LINK.findall(text) if _is_relative(t)]


def site_files() -> list[str]:
    """Every repository file the site holds: the pages of the navigation and all they link to,
    followed from page to page."""
    todo = [HOME, *notebooks(), *GUIDES]
    seen: list[str] = []
    while todo:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.append(path)
        if path.endswith((".md", ".ipynb")):
            for target in _links(path):
                found = _resolve(path, target)
                if found is not None and found not in seen:
                    todo.append(found)
    return seen


@event_priority(100)  # before mkdocs-jupyter, which turns notebook files into pages
def on_files(files: Files, config: Any) -> Files:
    for path in site_files():
        if files.get_file_from_path(path) is None:
            # a file of the repository, under its own path (src_dir: the repository itself)
            files.append(
                File(
                    path,
                    src_dir=str(ROOT),
                    dest_dir=config["site_dir"],
                    use_directory_urls=config["use_directory_urls"],
                )
            )
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """A link to a folder (``batch-api-local/``) points to its README on the site."""

    def to_readme(match: re.Match[str]) -> str:
        target = match.group(1)
        if _is_relative(target) and target.split("#", 1)[0].endswith("/"):
            found = _resolve(page.file.src_uri, target)
            if found is not None:
                relative = posixpath.relpath(found, posixpath.dirname(page.file.src_uri))
                return match.group(0).replace(target, relative)
        return match.group(0)

    return MD_LINK.sub(to_readme, markdown)


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """Notebook pages: links to other pages rewritten as MkDocs does for Markdown ones, and no
    script from elsewhere."""
    source = page.file.src_uri
    if not source.endswith(".ipynb"):
        return html
    html = REMOTE_SCRIPT.sub("", html)

    def rewrite(match: re.Match[str]) -> str:
        target = match.group(1)
        if not _is_relative(target):
            return match.group(0)
        found = _resolve(source, target)
        linked = files.get_file_from_path(found) if found else None
        if linked is None:
            log.warning(
                "Notebook '%s' contains a link '%s' to nothing on the site.", source, target
            )
            return match.group(0)
        fragment = "#" + target.split("#", 1)[1] if "#" in target else ""
        return f'href="{linked.url_relative_to(page.file)}{fragment}"'

    html = HREF.sub(rewrite, html)
    _match_toc(page, html)
    return html


def _match_toc(page: Any, html: str) -> None:
    """Give the notebook page's table of contents the ids and titles of its headings.

    mkdocs-jupyter makes the table from the notebook's Markdown and the headings from its HTML,
    and the two disagree on a heading that holds code: "What `create` refuses at once" is
    ``#what-create-refuses-at-once`` on the page but ``#what-refuses-at-once``, titled without
    the code, in the table. Both list the same headings in the same order.
    """
    items: list[Any] = []

    def walk(entries: Any) -> None:
        for entry in entries:
            items.append(entry)
            walk(entry.children)

    walk(page.toc)
    headings = HEADING.findall(html)
    if len(items) != len(headings):
        log.warning(
            "Notebook '%s': its table of contents does not match its headings.", page.file.src_uri
        )
        return
    for item, (_, anchor, content) in zip(items, headings, strict=True):
        item.id = anchor
        text = re.sub(r"<a class=\"anchor-link\".*?</a>", "", content, flags=re.DOTALL)
        item.title = re.sub(r"<[^>]+>", "", text).strip()


def on_page_context(context: dict[str, Any], page: Any, config: Any, nav: Any) -> dict[str, Any]:
    """A notebook page names its notebook file, which the page's template links to."""
    source = page.file.src_uri
    context["notebook_file"] = posixpath.basename(source) if source.endswith(".ipynb") else None
    return context
