"""The instructor's class page in a real browser, against a classroom server of its own.

The browser is the system's Chromium, driven by Playwright (a pip package, pinned in
requirements.txt): nothing is downloaded at run time. ``chromium.find_chromium`` finds it;
without one the tests skip and say how to install it. They carry the ``browser`` marker and
run with ``make test-browser``, not with ``make test``.

The server has three students, one of them labelled with HTML and a script in it, and an
instructor's (admin) key. The page must refuse a wrong key and a student's key with a message,
show the class with the admin key, print every label as text, refresh itself, keep the key in
the tab's session storage only, and forget it on request.

Every wait is bounded (``support.WAIT``) and none asserts speed: Playwright's ``expect`` retries
until the page shows what is expected, and the page refreshes every few seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from openai import OpenAI

from batch_api_local import ServerInfo, stop_server

from chromium import launch
from support import WAIT, chat_line, sdk_client, start_batch, start_class_server, wait_until

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright

pytestmark = pytest.mark.browser

# -- the browser ---------------------------------------------------------------------------------


@pytest.fixture
def context(
    driver: Playwright, chromium: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    """A fresh headless browser with its own temporary profile (so an empty session storage)."""
    ctx = launch(driver, chromium, tmp_path_factory.mktemp("chromium-profile"), timeout=WAIT)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.pages[0] if context.pages else context.new_page()


@pytest.fixture(scope="session")
def expect() -> Any:
    """Playwright's retrying assertions, bounded by the tests' usual wait."""
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=WAIT * 1000)
    return sync_api.expect


# -- the classroom -----------------------------------------------------------------------------

ADMIN_KEY = "sk-admin-test-0123456789"
HOSTILE = "<img src=x onerror=alert(1)>"
STUDENTS = {
    "sk-student-aaaa-0123456789": "student-01",
    "sk-student-bbbb-0123456789": HOSTILE,
    "sk-student-cccc-0123456789": "student-02",
}
STUDENT_KEY = {label: key for key, label in STUDENTS.items()}
#: the rows in the page's order: by label (punctuation before letters)
LABELS = [HOSTILE, "student-01", "student-02"]
PAGE = "/_local/class/page"
RELATIVE = re.compile(r"^(just now|\d+ s ago|\d+ min ago|\d+ h ago)$")


@dataclass
class Classroom:
    info: ServerInfo
    clients: dict[str, OpenAI] = field(default_factory=dict)

    @property
    def page_url(self) -> str:
        return self.info.root_url.rstrip("/") + PAGE

    def client(self, label: str) -> OpenAI:
        if label not in self.clients:
            self.clients[label] = sdk_client(self.info.base_url, STUDENT_KEY[label])
        return self.clients[label]

    def finished_batch(self, label: str, notebook: str) -> None:
        """A batch of ``label``'s, tagged with ``notebook``, run to its end."""
        client = self.client(label)
        batch = start_batch(client, [chat_line("q1")], metadata={"notebook": notebook})
        assert wait_until(client, batch.id).status == "completed"


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Classroom]:
    """A classroom server (keys file and admin key) in which student-01 has run notebook 03."""
    tmp: Path = tmp_path_factory.mktemp("classroom")
    state_dir = tmp / "state"
    info = start_class_server(tmp, STUDENTS.items(), ADMIN_KEY)
    room = Classroom(info)
    try:
        room.finished_batch("student-01", "03")
        yield room
    finally:
        for client in room.clients.values():
            client.close()
        stop_server(state_dir)


@dataclass
class Watch:
    """What a page did that it must not: dialogs, requests to other places, script errors."""

    dialogs: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def open_page(page: Page, room: Classroom) -> Watch:
    watch = Watch()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request: Any) -> None:
        if not request.url.startswith(room.info.root_url.rstrip("/") + "/"):
            watch.elsewhere.append(request.url)

    page.on("dialog", on_dialog)
    page.on("request", on_request)
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.goto(room.page_url)
    return watch


def log_in(page: Page, key: str) -> None:
    page.locator("#key").fill(key)
    page.locator("#login button[type=submit]").click()


def row(page: Page, label: str) -> Any:
    """The table row of the student labelled ``label`` (matched exactly, as text)."""
    return page.locator("#rows tr").filter(
        has=page.locator("td.label", has_text=re.compile("^" + re.escape(label) + "$"))
    )


def assert_clean(page: Page, watch: Watch) -> None:
    assert watch.dialogs == [], f"the page opened a dialog: {watch.dialogs}"
    assert watch.elsewhere == [], f"the page asked elsewhere: {watch.elsewhere}"
    assert watch.errors == [], f"script errors: {watch.errors}"
    assert page.locator("img, iframe, object, embed, script[src]").count() == 0
    assert page.evaluate("localStorage.length") == 0


def test_wrong_keys_are_refused_then_the_admin_key_shows_the_class(
    page: Page, classroom: Classroom, expect: Any
) -> None:
    watch = open_page(page, classroom)
    form, error, table = (
        page.locator("#login"),
        page.locator("#login-error"),
        page.locator("#class"),
    )
    expect(form).to_be_visible()
    expect(page.locator("#key")).to_have_attribute("type", "password")
    expect(table).to_be_hidden()

    log_in(page, "sk-not-a-key-of-this-class")
    expect(error).to_be_visible()
    expect(error).to_contain_text("does not know that key (401)")
    expect(form).to_be_visible()
    expect(table).to_be_hidden()

    log_in(page, STUDENT_KEY["student-02"])
    expect(error).to_contain_text("not an instructor's key (403)")
    expect(form).to_be_visible()
    expect(table).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0, "a refused key is not kept"

    log_in(page, ADMIN_KEY)
    expect(table).to_be_visible()
    expect(form).to_be_hidden()
    rows = page.locator("#rows tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#rows td.label")).to_have_text(LABELS)

    # the hostile label is text: no element made from it, no script run
    hostile = row(page, HOSTILE)
    expect(hostile).to_have_count(1)
    assert hostile.locator("td.label").text_content() == HOSTILE
    assert hostile.locator("td.label > *").count() == 0

    student = row(page, "student-01")
    expect(student.locator("td.batches")).to_have_text("completed 1")
    expect(student.locator("td.furthest")).to_have_text("03")
    expect(student.locator("td.notebooks")).to_have_text("03")
    expect(student.locator("td.activity")).to_have_text(RELATIVE)
    expect(student.locator("td.files")).not_to_have_text("0")
    for label in (HOSTILE, "student-02"):
        other = row(page, label)
        expect(other.locator("td.activity")).to_have_text("never")
        expect(other.locator("td.files")).to_have_text("0")
    expect(page.locator("#status")).to_contain_text(re.compile(r"updated \d"))

    # the key is in this tab's session storage, not in the address nor in local storage
    assert page.url == classroom.page_url
    assert ADMIN_KEY in page.evaluate("Object.values(sessionStorage)")
    assert_clean(page, watch)


def test_the_page_refreshes_by_itself(page: Page, classroom: Classroom, expect: Any) -> None:
    watch = open_page(page, classroom)
    log_in(page, ADMIN_KEY)
    cells = row(page, "student-02").locator("td.batches")
    expect(cells).to_have_count(1)
    before = int(m.group(1)) if (m := re.search(r"completed (\d+)", cells.inner_text())) else 0
    page.evaluate("window.notReloaded = true")

    classroom.finished_batch("student-02", "05")
    expect(cells).to_have_text(f"completed {before + 1}")
    expect(row(page, "student-02").locator("td.furthest")).to_have_text("05")
    assert page.evaluate("window.notReloaded === true"), "the page reloaded instead"
    assert_clean(page, watch)


def test_the_key_lasts_for_the_tab_and_forget_key_drops_it(
    page: Page, classroom: Classroom, expect: Any
) -> None:
    watch = open_page(page, classroom)
    log_in(page, ADMIN_KEY)
    expect(page.locator("#rows tr")).to_have_count(3)

    page.reload()  # same tab, same session: no need to type the key again
    expect(page.locator("#rows tr")).to_have_count(3)
    expect(page.locator("#login")).to_be_hidden()

    page.locator("#forget").click()
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_be_hidden()
    expect(page.locator("#class")).to_be_hidden()
    expect(page.locator("#forget")).to_be_hidden()
    expect(page.locator("#rows tr")).to_have_count(0)
    assert page.evaluate("sessionStorage.length") == 0
    assert page.locator("#key").input_value() == ""

    page.reload()  # forgotten for good: the form again
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#class")).to_be_hidden()
    assert_clean(page, watch)


# -- the page on a projector: a full class, at the widths of a laptop and a large screen ---------

#: a class of 24 halfway through: every status at once, many notebooks, long relative times
FULL_CLASS = {
    "object": "local_server.class",
    "data": [
        {
            "label": f"student-{n:02d}",
            "namespace": f"key-{n:016x}",
            "files": 12 + n,
            "batches": {
                "validating": 1,
                "in_progress": 2,
                "finalizing": 1,
                "completed": 14,
                "failed": 3,
                "expired": 2,
                "cancelling": 1,
                "cancelled": 4,
            },
            "last_activity": 1_800_000_000 - 90 * n,
            "notebooks": ["03", "04", "05", "06", "07", "08", "09", "10", "11"],
            "furthest_notebook": "11",
            "now": 1_800_000_000,
        }
        for n in range(1, 25)
    ],
}
LINES_OF = """el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
}"""


def overlaps_vertically(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


@pytest.mark.parametrize("width", [1280, 1920])
def test_a_full_class_fits_a_laptop_and_a_large_screen(
    page: Page, classroom: Classroom, expect: Any, width: int
) -> None:
    """Labels stay on one line however full the batches column is, and the message that the
    server cannot be reached leaves "Forget key" beside the title."""
    page.set_viewport_size({"width": width, "height": 900})
    reachable = {"yes": True}

    def answer(route: Any) -> None:
        if reachable["yes"]:
            route.fulfill(status=200, content_type="application/json", body=json.dumps(FULL_CLASS))
        else:
            route.abort()

    page.route("**/_local/class", answer)
    watch = open_page(page, classroom)
    log_in(page, ADMIN_KEY)
    expect(page.locator("#rows tr")).to_have_count(24)

    labels = page.locator("#rows td.label")
    for index in range(labels.count()):
        assert labels.nth(index).evaluate(LINES_OF) == 1, f"label {index + 1} wraps at {width}"
    for header in page.locator("#class th").all():
        assert header.evaluate(LINES_OF) == 1, f"{header.inner_text()} wraps at {width}"

    reachable["yes"] = False
    status = page.locator("#status")
    expect(status).to_contain_text("Cannot reach the server. Trying again. Last update")
    title = page.locator("h1").bounding_box()
    forget = page.locator("#forget").bounding_box()
    assert title is not None and forget is not None
    assert overlaps_vertically(title, forget), f"'Forget key' on a line of its own at {width}"
    assert forget["x"] + forget["width"] <= width, f"'Forget key' off the screen at {width}"
    assert watch.errors == [] and watch.dialogs == []
