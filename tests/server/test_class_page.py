"""The instructor's class page as a file: served without a key and never cached, self-contained,
its one script allowed by hash, and no way for a value to enter the page as HTML.

What the page does in a browser is tested in ``tests/browser`` (``make test-browser``).
"""

from __future__ import annotations

import base64
import hashlib
import re

from batch_api_local import ServerInfo
from batch_api_local.routes.control import CLASS_PAGE

from support import raw

PAGE = "/_local/class/page"


def page_text() -> str:
    return CLASS_PAGE.read_text(encoding="utf-8")


def test_page_is_served_without_a_key_and_never_cached(local_server: ServerInfo) -> None:
    response = raw(local_server.root_url, "GET", PAGE, key=None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers
    assert response.headers["cache-control"] == "no-store", response.headers
    assert response.text == page_text()


def test_the_script_is_allowed_by_its_hash() -> None:
    text = page_text()
    scripts = re.findall(r"<script>(.*?)</script>", text, re.S)
    assert len(scripts) == 1, "the page has exactly one inline script"
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode()
    [policy] = re.findall(r'http-equiv="Content-Security-Policy"\s+content="([^"]*)"', text)
    wanted = f"script-src 'sha256-{digest}'"
    assert wanted in policy, (
        f"the script changed: put {wanted} in the page's Content-Security-Policy"
    )
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    for directive in ("default-src 'none'", "connect-src 'self'", "form-action 'none'"):
        assert directive in policy


def test_page_loads_nothing_from_elsewhere() -> None:
    text = page_text()
    assert not re.search(r"\b(src|href|action)\s*=", text, re.I), "no attribute loads anything"
    assert not re.search(r"https?:|@import|url\(", text, re.I), "no URL in the page"


def test_values_never_enter_the_page_as_html() -> None:
    text = page_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in text, sink
    # the admin key lives in this tab's session storage only
    assert "localStorage" not in text
    assert "sessionStorage" in text
