"""Fuzz the control surface (``/_local/...``) with Hypothesis, on a class server.

``test_rel_fuzz.py`` fuzzes ``/v1`` with schemathesis against OpenAI's own spec. The control
surface has no spec of OpenAI's, so strategies of this module draw its requests: every route
under ``/_local`` (health, whoami, state, reset, the clock, the pace, the token limit, forced
lines and validations, a batch's expiry, the webhook setting and events, the class view and
page, the docs), with

* bodies of odd JSON: the fields each route reads, and others, holding wrong types, NaN and
  Infinity, huge and tiny numbers, odd Unicode (lone surrogates, superscript digits, right to
  left marks), deep nesting; or bytes that are not JSON, not UTF-8, or not an object;
* query strings of odd values (``limit=²``, bytes that are not UTF-8, repeated names);
* path ids of real batches (the caller's, and another student's) or of none;
* now and then another method, no key, a wrong key, another content type.

Every answer must be: not a 5xx; on a 4xx, OpenAI's error envelope as JSON; on a 2xx, JSON (the
class page and the docs: HTML). The server is a class server: a keys file of three students and
an admin key.

* ``test_fuzz_as_a_student``: student-01 fuzzes. student-02 holds a batch in ``validating`` and
  has files, a pace, a clock and a token limit of their own; so does the instructor's namespace.
  After the run each is exactly as it was, and student-02's batch, released, completes with
  every request answered: no forced outcome, clock move or expiry of student-01 reached it.
* ``test_fuzz_as_the_instructor``: the admin key fuzzes every route, on its own namespace, a
  student's (by label or namespace id) or the whole class (``*``).

After each run the server is healthy, with no traceback in its log. The run is bounded and
repeatable: derandomized generation, no example database, ``EXAMPLES`` cases per test (set
``FUZZ_CONTROL_EXAMPLES`` to explore further by hand).

Run it alone: ``.venv/bin/pytest tests/reliability/test_rel_fuzz_control.py``.
"""

from __future__ import annotations

import json
import math
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import hypothesis.internal.conjecture.providers as hypothesis_providers
import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from batch_api_local import (
    ServerInfo,
    advance_clock,
    set_pace,
    set_token_limit,
    state,
    stop_server,
    webhook_events,
    webhook_settings,
)
from batch_api_local.keys import namespace_of

from support import (
    HOLD,
    WAIT,
    assert_clean_log,
    assert_envelope,
    assert_healthy,
    chat_line,
    file_lines,
    free_port,
    log_since,
    sdk_client,
    start_batch,
    start_class_server,
    upload,
    wait_until,
)

EXAMPLES = int(os.environ.get("FUZZ_CONTROL_EXAMPLES", "400"))  # cases per test
STUDENTS = [
    ("sk-class-fuzz-student-0000000001", "student-01"),
    ("sk-class-fuzz-student-0000000002", "student-02"),
    ("sk-class-fuzz-student-0000000003", "student-03"),
]
ADMIN_KEY = "sk-class-fuzz-admin-000000000001"
FUZZER, BYSTANDER = STUDENTS[0], STUDENTS[1]
#: a loopback port nothing listens on: where generated webhook URLs point
CLOSED_PORT = free_port()

#: method, path and the body fields each control route reads
ROUTES: list[tuple[str, str, tuple[str, ...]]] = [
    ("GET", "/_local/health", ()),
    ("GET", "/_local/whoami", ()),
    ("GET", "/_local/state", ()),
    ("POST", "/_local/reset", ("namespace",)),
    ("POST", "/_local/clock/advance", ("seconds", "namespace")),
    (
        "POST",
        "/_local/pace",
        ("preset", "validating", "per_request", "finalizing", "cancelling", "namespace"),
    ),
    ("POST", "/_local/token-limit", ("token_limit", "namespace")),
    ("POST", "/_local/tier", ("tier", "namespace")),
    ("POST", "/_local/force/line", ("custom_id", "batch_id", "status_code", "error", "namespace")),
    (
        "POST",
        "/_local/force/validation",
        ("code", "message", "param", "line", "batch_id", "namespace"),
    ),
    ("POST", "/_local/batches/{batch_id}/expire", ("namespace",)),
    ("GET", "/_local/webhook", ()),
    ("POST", "/_local/webhook", ("url", "secret", "namespace")),
    ("GET", "/_local/webhooks", ()),
    ("GET", "/_local/class", ()),
    ("GET", "/_local/class/page", ()),
    ("GET", "/_local/docs", ()),
    ("GET", "/_local/openapi.json", ()),
]
#: answers that are HTML, not JSON, when they succeed
HTML = ("/_local/class/page", "/_local/docs")
QUERY_NAMES = ("namespace", "status", "batch_id", "limit")


# -- Hypothesis: repeatable whatever the project's own constants -----------------------------------


@pytest.fixture(autouse=True)
def no_local_constants(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hypothesis also draws constants it finds in the project's modules, so the cases would
    change with every edit of the server; this run draws none (as ``test_rel_fuzz.py`` does)."""
    monkeypatch.setattr(
        hypothesis_providers, "_get_local_constants", hypothesis_providers.Constants
    )
    hypothesis_providers.CONSTANTS_CACHE.cache.clear()
    yield
    hypothesis_providers.CONSTANTS_CACHE.cache.clear()


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same cases on every run
    database=None,
    deadline=None,  # nothing here is timed
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


# -- the server, and what is in it before the run -------------------------------------------------


@dataclass
class Room:
    """A class server and the ids the strategies may name."""

    info: ServerInfo
    state_dir: Path
    batch_ids: list[str] = field(default_factory=list)
    custom_ids: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    @property
    def admin(self) -> dict[str, str]:
        return {"base_url": self.info.base_url, "api_key": ADMIN_KEY}


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    """A class server of this test's own: three students and the instructor, each with a file
    and a batch held in validating. Afterwards it must be healthy, its log clean."""
    info = start_class_server(tmp_path, STUDENTS, admin_key=ADMIN_KEY)
    room = Room(info, tmp_path / "state")
    room.labels = [label for _, label in STUDENTS] + ["instructor"]
    room.labels += [namespace_of(key) for key, _ in STUDENTS] + [namespace_of(ADMIN_KEY)]
    for key in [k for k, _ in STUDENTS] + [ADMIN_KEY]:
        client = sdk_client(info.base_url, key)
        conn = {"base_url": info.base_url, "api_key": key}
        set_pace(validating=HOLD, per_request=0, finalizing=0, cancelling=0, **conn)
        upload(client, b"just notes\n", name="notes.txt", purpose="user_data")
        custom = [f"{namespace_of(key)[-4:]}-{i}" for i in range(2)]
        room.batch_ids.append(start_batch(client, [chat_line(c) for c in custom]).id)
        room.custom_ids += custom
    try:
        yield room
        assert_healthy(info.root_url)
        assert_clean_log(log_since(room.state_dir, 0))
    finally:
        stop_server(room.state_dir)


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(trust_env=False, timeout=WAIT) as client:
        yield client


# -- strategies -------------------------------------------------------------------------------------

ODD_TEXT = [
    "",
    " ",
    "*",
    "default",
    "instructor",
    "../../etc/passwd",
    "%00",
    "\x00",
    "\u202e",  # right-to-left override
    "²",
    "①",
    "١٠",
    "1_0",
    " 7 ",
    "1e309",
    "NaN",
    "-1",
    "0",
    "9" * 30,
    "instant",
    "normal",
    "slow",
    "<script>alert(1)</script>",
    "\ud800",  # a lone surrogate, sent as the escape \ud800
    "é" * 300,
    "a" * 10_000,
    f"http://127.0.0.1:{CLOSED_PORT}/hook",
    f"http://127.0.0.1:{CLOSED_PORT}/hook/café",
    f"http://evil@127.0.0.1:{CLOSED_PORT}/h",
    f"http://[::1]:{CLOSED_PORT}/h?x=%E2%91%A0",
    "https://example.com/hook",
    "whsec_",
    "whsec_" + "A" * 44,
    "batch_abc",
]
NUMBERS = st.one_of(
    st.integers(),
    st.sampled_from(
        [0, -1, 1, 2**31, 2**53 + 1, 2**63, 2**64, 10**15, 10**15 + 1, 10**30, -(10**30)]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308]),
)


def texts(room: Room) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(ODD_TEXT),
        st.sampled_from(room.labels + room.batch_ids + room.custom_ids),
        st.text(max_size=20),
        st.text(st.characters(codec="utf-8"), max_size=12),
    )


def scalars(room: Room) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), NUMBERS, texts(room))


def values(room: Room) -> st.SearchStrategy[Any]:
    """Any JSON value: scalars, and lists and objects of them, a few levels deep."""
    return st.recursive(
        scalars(room),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.one_of(st.sampled_from(["message", "code", "error"]), st.text(max_size=6)),
                inner,
                max_size=4,
            ),
        ),
        max_leaves=12,
    )


def deep(depth: int, kind: str) -> bytes:
    """JSON nested ``depth`` levels (deep enough to exhaust a naive parser's stack)."""
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@st.composite
def bodies(draw: st.DrawFn, room: Room, fields: tuple[str, ...]) -> bytes | None:
    """A request body: an object of the route's fields (and others) holding odd values, or
    something that is not such an object at all."""
    kind = draw(st.sampled_from(["plausible"] * 4 + ["odd", "odd", "value", "raw", "none"]))
    if kind == "none":
        return None
    if kind == "value":
        return json.dumps(draw(values(room))).encode()
    if kind == "raw":
        return draw(
            st.sampled_from(
                [
                    b"",
                    b"{",
                    b"NaN",
                    b'{"seconds": NaN}',
                    b'{"seconds": Infinity, "token_limit": -Infinity}',
                    b'{"seconds": 1e999}',
                    b'{"token_limit": ' + b"9" * 5000 + b"}",
                    b'{"namespace": "\\ud800"}',
                    b'{"namespace": "student-02", "namespace": "*"}',
                    b"\xff\xfe{}",
                    b'\xef\xbb\xbf{"preset": "instant"}',
                    b'{"a": "\xc3\x28"}',
                    deep(100_000, "list"),
                    deep(50_000, "object"),
                    deep(200, "object"),
                ]
            )
        )
    if kind == "odd":  # the route's fields and others, every value odd
        names = st.one_of(st.sampled_from(fields), st.text(max_size=8)) if fields else st.text()
        return json.dumps(draw(st.dictionaries(names, values(room), max_size=6))).encode()
    # plausible values of the route's fields, to get past the first check, then one made odd
    plausible = plausible_fields(room)
    body = {
        name: draw(plausible[name])
        for name in fields
        if name != "namespace" and draw(st.integers(0, 4))  # most of them
    }
    if fields and draw(st.booleans()):
        body[draw(st.sampled_from(fields))] = draw(values(room))
    if "namespace" in fields and draw(st.integers(0, 3)) == 0:
        body["namespace"] = draw(st.one_of(plausible["namespace"], texts(room)))
    return json.dumps(body).encode()


def plausible_fields(room: Room) -> dict[str, st.SearchStrategy[Any]]:
    """A value each control field could well be given."""
    seconds = st.one_of(st.integers(0, 10**6), st.floats(0, 1e6))
    text = st.one_of(st.sampled_from(["invalid_request", "token_limit_exceeded"]), texts(room))
    return {
        "preset": st.sampled_from(["instant", "normal", "slow", "fast"]),
        "validating": seconds,
        "per_request": seconds,
        "finalizing": seconds,
        "cancelling": seconds,
        "seconds": st.one_of(seconds, st.integers(-10, 0)),
        "token_limit": st.one_of(st.none(), st.integers(1, 10**9)),
        "tier": st.one_of(st.none(), st.integers(0, 6), st.just("default")),
        "status_code": st.integers(400, 599),
        "error": st.one_of(
            st.fixed_dictionaries({"message": texts(room), "code": texts(room)}),
            st.fixed_dictionaries({"error": st.fixed_dictionaries({"message": texts(room)})}),
        ),
        "custom_id": st.one_of(st.sampled_from(room.custom_ids), texts(room)),
        "batch_id": st.one_of(st.none(), st.sampled_from(room.batch_ids)),
        "code": text,
        "message": text,
        "param": text,
        "line": st.one_of(st.none(), st.integers(1, 10)),
        "url": st.one_of(st.none(), st.sampled_from([t for t in ODD_TEXT if "://" in t])),
        "secret": st.one_of(st.none(), st.just("whsec_" + "A" * 43 + "="), texts(room)),
        "namespace": st.sampled_from([*room.labels, "*"]),
    }


@st.composite
def queries(draw: st.DrawFn, room: Room) -> str:
    """A query string: odd values of the names the routes read, or bytes no form encodes."""
    if draw(st.integers(0, 5)) == 0:
        return draw(
            st.sampled_from(
                [
                    "limit=%C2%B2",
                    "limit=%E2%91%A0",
                    "limit=%FF",
                    "limit=1&limit=0",
                    "namespace=%C0%80",
                    "namespace=%00",
                    "namespace=*&namespace=student-02",
                    "%zz=1",
                    "status=pending%00",
                    "batch_id=" + "a" * 5000,
                ]
            )
        )
    given = draw(st.dictionaries(st.sampled_from(QUERY_NAMES), texts(room), max_size=3))
    # a lone surrogate goes as the bytes Python would give it, which are not UTF-8
    return urllib.parse.urlencode(given, errors="surrogatepass", quote_via=urllib.parse.quote)


@dataclass(frozen=True)
class Call:
    """One generated request."""

    method: str
    path: str
    query: str
    body: bytes | None
    headers: dict[str, str]


@st.composite
def calls(draw: st.DrawFn, room: Room, key: str) -> Call:
    method, path, fields = draw(st.sampled_from(ROUTES))
    if "{batch_id}" in path:
        batch_id = draw(st.one_of(st.sampled_from(room.batch_ids), texts(room)))
        path = path.replace(
            "{batch_id}", urllib.parse.quote(batch_id, safe="", errors="surrogatepass") or "x"
        )
    if draw(st.integers(0, 19)) == 0:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]))
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    who = draw(st.integers(0, 19))
    if who == 0:
        del headers["Authorization"]
    elif who == 1:
        headers["Authorization"] = draw(
            st.sampled_from(
                [
                    "Bearer sk-not-a-key",
                    "Basic Zm9vOmJhcg==",
                    "Bearer",
                    f"bearer {key}",
                    f"Bearer  {key}",
                ]
            )
        )
    if draw(st.integers(0, 9)) == 0:
        headers["Content-Type"] = draw(
            st.sampled_from(
                [
                    "text/plain",
                    "multipart/form-data; boundary=x",
                    "application/x-www-form-urlencoded",
                ]
            )
        )
    body = draw(bodies(room, fields)) if method == "POST" or draw(st.integers(0, 9)) == 0 else None
    return Call(method, path, draw(queries(room)), body, headers)


# -- what every answer must be --------------------------------------------------------------------


def send(http: httpx2.Client, room: Room, call: Call) -> None:
    url = room.info.root_url + call.path + (f"?{call.query}" if call.query else "")
    response = http.request(call.method, url, content=call.body, headers=call.headers)
    status = response.status_code
    assert status < 500, (status, response.text[:2000])
    kind = response.headers.get("content-type", "")
    if status < 400 and call.path in HTML and call.method == "GET":
        assert kind.startswith("text/html"), kind
        return
    assert kind.startswith("application/json"), (status, kind, response.text[:500])
    answer = response.json()
    if status >= 400:
        assert_envelope(answer)
    else:
        assert isinstance(answer, dict), answer


# -- the tests ------------------------------------------------------------------------------------


def _snapshot(room: Room, key: str, label: str) -> dict[str, Any]:
    """Everything of one namespace a control call could change."""
    client = sdk_client(room.info.base_url, key)
    settings_now = state(namespace=label, **room.admin)
    return {
        "pace": settings_now["pace"],
        "clock_offset": settings_now["clock_offset"],
        "token_limit": settings_now["token_limit"],
        "files": sorted((f.id, f.bytes, f.purpose) for f in client.files.list()),
        "batches": sorted((b.id, b.status, b.to_json()) for b in client.batches.list()),
        "webhook": webhook_settings(namespace=label, **room.admin),
        "events": webhook_events(namespace=label, **room.admin)["data"],
    }


def test_fuzz_as_a_student(room: Room, http: httpx2.Client) -> None:
    key, _ = FUZZER
    others = [(BYSTANDER[0], BYSTANDER[1]), (ADMIN_KEY, "instructor")]
    # the bystander's own settings, which the fuzzing student must not reach
    bystander = {"base_url": room.info.base_url, "api_key": BYSTANDER[0]}
    set_token_limit(123_456, **bystander)
    advance_clock(hours=5, **bystander)
    before = {label: _snapshot(room, k, label) for k, label in others}

    @FUZZ
    @given(call=calls(room, key))
    def fuzz(call: Call) -> None:
        send(http, room, call)

    fuzz()

    after = {label: _snapshot(room, k, label) for k, label in others}
    assert after == before
    # released, the bystander's batch runs as if nobody else had called anything
    client = sdk_client(room.info.base_url, BYSTANDER[0])
    [held] = [b for b in client.batches.list() if b.status == "validating"]
    set_pace("instant", **bystander)
    done = wait_until(client, held.id)
    assert done.status == "completed", done
    assert done.request_counts is not None and done.request_counts.failed == 0
    assert all(
        line["response"]["status_code"] == 200 for line in file_lines(client, done.output_file_id)
    )


def test_fuzz_as_the_instructor(room: Room, http: httpx2.Client) -> None:
    @FUZZ
    @given(call=calls(room, ADMIN_KEY))
    def fuzz(call: Call) -> None:
        send(http, room, call)

    fuzz()
