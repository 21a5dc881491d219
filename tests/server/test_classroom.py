"""Classroom mode: one server, three students and an instructor, each in a namespace of their own.

The server runs with a keys file of three labelled student keys and an admin key. Every control
call a student makes (pace, clock, token limit, forced outcomes, reset) must change that student's
batches only: the others' batches keep their statuses, timestamps and counts, their files stay
listed with the same bytes, and their running batches go on at their own pace. Every call that
acts on someone else's namespace, and the class view, answer 403 to a student with OpenAI's error
envelope; the admin key may make them, for one student (by label or namespace id) or for all.

Nothing here depends on timing: a batch that must not move is held by a pace of an hour in its
status (``support.hold``), and every wait is a bounded poll for a status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI
from openai.types import Batch

from batch_api_local import (
    PACES,
    ControlError,
    ServerInfo,
    advance_clock,
    class_view,
    expire_batch,
    force_line,
    force_validation_failure,
    reset,
    set_pace,
    set_tier,
    set_token_limit,
    state,
    stop_server,
    temporarily,
    whoami,
)
from batch_api_local.keys import Keys

from support import (
    DAY,
    HOLD,
    TERMINAL,
    assert_clean_log,
    assert_error,
    chat_line,
    file_lines,
    hold,
    log_offset,
    log_since,
    raw,
    release,
    run_batch,
    sdk_client,
    start_batch,
    start_class_server,
    wait_until,
)

STUDENTS = {
    "a": ("sk-class-alice-000000000001", "student-a"),
    "b": ("sk-class-bob-00000000000002", "student-b"),
    "c": ("sk-class-carol-000000000003", "student-c"),
}
ADMIN_KEY = "sk-class-instructor-00000009"
INSTANT = PACES["instant"].as_dict()
HELD_IN_VALIDATING = {"validating": HOLD, "per_request": 0.0, "finalizing": 0.0, "cancelling": 0.0}
NOT_ADMIN = "Only an instructor's key (an admin key of this server) may act on another namespace."
NEEDS_ADMIN = "This call needs an instructor's key (an admin key of this server)."
#: what a student's state must never show: where the server keeps its files, what it talks to
OWNER_DETAILS = ("state_dir", "keys_file", "upstream", "pid")


@dataclass
class Server:
    info: ServerInfo
    state_dir: Path
    keys_file: Path


@dataclass
class Person:
    """One key of the class: an SDK client and the control wrappers' connection."""

    label: str
    key: str
    client: OpenAI
    conn: dict[str, str]
    namespace: str


@dataclass
class Room:
    a: Person
    b: Person
    c: Person
    admin: Person
    server: Server

    @property
    def students(self) -> list[Person]:
        return [self.a, self.b, self.c]

    @property
    def root(self) -> str:
        return self.server.info.root_url


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module: a keys file of three labelled students, and an admin key."""
    root = tmp_path_factory.mktemp("classroom")
    info = start_class_server(root, STUDENTS.values(), ADMIN_KEY)
    try:
        yield Server(info, (root / "state").resolve(), (root / "keys.txt").resolve())
    finally:
        stop_server(root / "state")


def _person(info: ServerInfo, key: str, label: str) -> Person:
    conn = {"base_url": info.base_url, "api_key": key}
    return Person(label, key, sdk_client(info.base_url, key), conn, whoami(**conn)["namespace"])


@pytest.fixture
def room(classroom: Server, request: pytest.FixtureRequest) -> Iterator[Room]:
    """Every key of the class on an empty namespace at the start-up settings (pace "instant").

    Each person resets their own namespace with their own key, so that no test depends on the
    admin calls it checks. The server must log no error while a test runs (unless the test is
    an expected failure, which may show a bug the log records).
    """
    info = classroom.info
    people = {name: _person(info, key, label) for name, (key, label) in STUDENTS.items()}
    admin = _person(info, ADMIN_KEY, "instructor")
    for person in [*people.values(), admin]:
        reset(**person.conn)
    offset = log_offset(classroom.state_dir)
    yield Room(people["a"], people["b"], people["c"], admin, classroom)
    if request.node.get_closest_marker("xfail") is None:
        assert_clean_log(log_since(classroom.state_dir, offset))


# -- what a student has, and checking that nobody else changed it -------------------------------


def three(prefix: str) -> list[dict[str, Any]]:
    """Three chat requests, ``<prefix>-0`` to ``<prefix>-2``."""
    return [chat_line(f"{prefix}-{i}", f"Penguin question {i} from {prefix}.") for i in range(3)]


def settings(person: Person) -> dict[str, Any]:
    """The settings of a namespace that control calls change (its clock's reading aside)."""
    found = state(**person.conn)
    return {k: found[k] for k in ("namespace", "clock_offset", "pace", "token_limit", "tier")}


def snapshot(person: Person) -> dict[str, Any]:
    """Everything a student can see of their own: files (and their bytes), batches, settings."""
    client = person.client
    files = {f.id: f.model_dump() for f in client.files.list()}
    return {
        "files": files,
        "contents": {
            file_id: client.files.content(file_id).content
            for file_id, f in files.items()
            if f["purpose"] in ("batch", "batch_output")
        },
        "batches": {b.id: b.model_dump() for b in client.batches.list()},
        "settings": settings(person),
    }


def assert_untouched(person: Person, before: dict[str, Any]) -> None:
    """``person`` sees exactly what they saw before, object by object, byte for byte."""
    after = snapshot(person)
    assert after["settings"] == before["settings"], person.label
    assert after["batches"] == before["batches"], person.label
    assert after["files"] == before["files"], person.label
    assert after["contents"] == before["contents"], person.label
    for file_id, obj in before["files"].items():  # and each one answers on its own
        assert person.client.files.retrieve(file_id).model_dump() == obj
    for batch_id, obj in before["batches"].items():
        assert person.client.batches.retrieve(batch_id).model_dump() == obj


def assert_still_has(person: Person, before: dict[str, Any]) -> None:
    """Everything ``person`` had before is still there unchanged (new objects may have come)."""
    after = snapshot(person)
    for kind in ("files", "contents", "batches"):
        kept = {k: v for k, v in after[kind].items() if k in before[kind]}
        assert kept == before[kind], (person.label, kind)
    assert after["settings"] == before["settings"], person.label


@dataclass
class Work:
    finished: Batch
    notes_id: str
    held: Batch | None = None


def give_work(person: Person, *, held: str | None = None) -> Work:
    """A completed batch (input and output files), a user_data file, and optionally a batch
    held in ``held`` ("validating" or "in_progress") by the person's own pace."""
    client = person.client
    finished = run_batch(client, three(person.label + "-done"))
    assert finished.status == "completed" and finished.output_file_id, finished
    notes = client.files.create(file=("notes.txt", b"my notes"), purpose="user_data")
    work = Work(finished, notes.id)
    if held is not None:
        hold(client, held)
        batch = start_batch(client, three(person.label + "-held"))
        work.held = wait_until(client, batch.id, lambda b: b.status == held or b.status in TERMINAL)
        assert work.held.status == held, work.held
    return work


def assert_completed_on_own_clock(person: Person, batch: Batch, requests: int = 3) -> None:
    """A completed batch whose counts are right and whose timestamps follow each other on the
    person's own clock, inside its 24-hour window."""
    assert batch.status == "completed", batch
    assert batch.request_counts is not None
    counts = batch.request_counts
    assert (counts.total, counts.completed, counts.failed) == (requests, requests, 0), batch
    assert batch.expires_at == batch.created_at + DAY
    stamps = [batch.created_at, batch.in_progress_at, batch.finalizing_at, batch.completed_at]
    assert all(isinstance(t, int) for t in stamps), batch
    assert stamps == sorted(stamps), batch
    assert batch.completed_at <= state(**person.conn)["now"]  # type: ignore[operator]
    assert batch.completed_at < batch.expires_at  # type: ignore[operator]
    assert (batch.failed_at, batch.expired_at, batch.cancelled_at) == (None, None, None)
    lines = file_lines(person.client, batch.output_file_id)
    assert len(lines) == requests and all(x["response"]["status_code"] == 200 for x in lines)


def finish_held(person: Person, batch: Batch) -> Batch:
    """Release the person's held batches and wait for ``batch`` to complete."""
    release(person.client)
    done = wait_until(person.client, batch.id)
    assert_completed_on_own_clock(person, done)
    return done


# -- who is who -------------------------------------------------------------------------------------


def test_whoami_names_each_key(room: Room) -> None:
    namespaces = set()
    for person in room.students:
        me = whoami(**person.conn)
        assert me["label"] == person.label
        assert me["admin"] is False and me["shared"] is True
        assert me["server"] == "local-batch-api"
        namespaces.add(me["namespace"])
    instructor = whoami(**room.admin.conn)
    assert instructor["admin"] is True and instructor["label"] == "instructor"
    namespaces.add(instructor["namespace"])
    assert len(namespaces) == 4  # a namespace each, the instructor's included


def test_state_shows_server_details_to_the_admin_only(room: Room) -> None:
    server = room.server
    for person in room.students:
        mine = state(**person.conn)
        assert mine["namespace"] == person.namespace
        assert not set(OWNER_DETAILS) & set(mine), mine
        text = raw(room.root, "GET", "/_local/state", key=person.key).text
        assert str(server.state_dir) not in text and str(server.keys_file) not in text
    admin = state(**room.admin.conn)
    assert admin["state_dir"] == str(server.state_dir)
    assert admin["keys_file"] == str(server.keys_file)
    assert admin["upstream"] is None and admin["pid"] == server.info.pid
    theirs = state(namespace=room.a.label, **room.admin.conn)
    assert theirs["namespace"] == room.a.namespace
    assert theirs["state_dir"] == str(server.state_dir)


# -- one student's control calls leave the others alone ----------------------------------------


def test_a_slow_pace_holds_only_that_students_batches(room: Room) -> None:
    a, b, c = room.a, room.b, room.c
    give_work(b)
    c_work = give_work(c, held="validating")
    b_before, c_before = snapshot(b), snapshot(c)

    assert set_pace("slow", **a.conn) == PACES["slow"].as_dict()
    assert state(**a.conn)["pace"] == PACES["slow"].as_dict()
    hold(a.client, "validating")  # a: every batch stays validating for an hour
    a_batch = start_batch(a.client, three("a"))
    assert_untouched(b, b_before)
    assert_untouched(c, c_before)

    # b's new batch runs through every status at b's pace ("instant") while a's is held
    b_new = wait_until(b.client, start_batch(b.client, three("b-new")).id)
    assert_completed_on_own_clock(b, b_new)
    assert_still_has(b, b_before)
    assert settings(b)["pace"] == INSTANT
    held = a.client.batches.retrieve(a_batch.id)
    assert held.status == "validating" and held.in_progress_at is None, held
    assert held.model_dump() == a_batch.model_dump()
    assert_untouched(c, c_before)  # c's own hold is c's: still validating

    assert c_work.held is not None
    finish_held(c, c_work.held)
    finish_held(a, a_batch)
    assert settings(b)["pace"] == INSTANT


def test_a_students_clock_expires_only_their_batches_and_files(room: Room) -> None:
    a, b, c = room.a, room.b, room.c
    a_work = give_work(a, held="in_progress")
    b_work = give_work(b, held="in_progress")
    give_work(c)
    b_before, c_before = snapshot(b), snapshot(c)
    assert a_work.held is not None and b_work.held is not None

    start = state(**a.conn)["now"]
    a_now = advance_clock(hours=24, **a.conn)
    assert a_now >= start + DAY
    expired = wait_until(a.client, a_work.held.id)
    assert expired.status == "expired", expired
    assert expired.expired_at is not None and expired.expired_at >= expired.expires_at
    unrun = file_lines(a.client, expired.error_file_id)
    assert [x["error"]["code"] for x in unrun] == ["batch_expired"] * 3
    # b's running batch is where it was, on b's clock
    assert_untouched(b, b_before)
    assert_untouched(c, c_before)
    assert settings(b)["clock_offset"] == settings(c)["clock_offset"] == 0

    # a month on a's clock: every batch file of a's expires (a user_data file never does);
    # none of b's or c's does
    a_now = advance_clock(hours=31 * 24, **a.conn)
    assert [f.id for f in a.client.files.list()] == [a_work.notes_id]
    with pytest.raises(openai.NotFoundError):
        a.client.files.retrieve(a_work.finished.input_file_id)
    expiring = [f for f in b_before["files"].values() if f["purpose"] != "user_data"]
    assert len(expiring) == 3  # b's two inputs and one output
    assert all(f["expires_at"] < a_now for f in expiring)  # gone, had they been a's
    assert_untouched(b, b_before)
    assert_untouched(c, c_before)

    # b's held batch then completes at b's pace, stamped by b's clock, far behind a's
    done = finish_held(b, b_work.held)
    assert done.completed_at is not None and done.completed_at < a_now - 30 * DAY
    assert (
        b.client.batches.retrieve(b_work.finished.id).model_dump()
        == (b_before["batches"][b_work.finished.id])
    )
    for file_id, content in b_before["contents"].items():
        assert b.client.files.content(file_id).content == content
    output = b.client.files.retrieve(done.output_file_id)  # type: ignore[arg-type]
    assert output.created_at == done.completed_at
    assert output.expires_at == output.created_at + 30 * DAY
    fresh = b.client.files.create(file=("later.jsonl", b'{"a": 1}\n'), purpose="batch")
    assert fresh.created_at <= state(**b.conn)["now"] < a_now - 30 * DAY
    assert_untouched(c, c_before)


def test_a_students_token_limit_fails_only_their_batches(room: Room) -> None:
    a, b, c = room.a, room.b, room.c
    default = settings(b)["token_limit"]
    assert default is not None and default > 1_000
    b_work = give_work(b, held="validating")
    give_work(c)
    b_before, c_before = snapshot(b), snapshot(c)

    assert set_token_limit(10, **a.conn) == 10
    failed = wait_until(a.client, start_batch(a.client, three("a")).id)
    assert failed.status == "failed" and failed.errors is not None, failed
    [error] = failed.errors.data
    assert error.code == "token_limit_exceeded"
    assert "Limit: 10 enqueued tokens." in (error.message or "")
    assert_untouched(b, b_before)
    assert_untouched(c, c_before)
    assert settings(b)["token_limit"] == settings(c)["token_limit"] == default

    # the same requests pass for b (held before, validated now) and for c
    assert b_work.held is not None
    finish_held(b, b_work.held)
    assert_completed_on_own_clock(c, wait_until(c.client, start_batch(c.client, three("a")).id))
    assert settings(a)["token_limit"] == 10


def test_a_forced_line_is_used_only_by_that_students_batch(room: Room) -> None:
    a, b, c = room.a, room.b, room.c
    give_work(b)
    c_work = give_work(c, held="in_progress")  # c's request "student-c-held-0" will run later
    b_before, c_before = snapshot(b), snapshot(c)

    shared_id = "q0"
    force_line(shared_id, status_code=500, **a.conn)
    force_line("student-c-held-0", status_code=500, **a.conn)  # c's custom_id, a's namespace
    assert_untouched(b, b_before)
    assert_untouched(c, c_before)

    lines = [chat_line(shared_id), chat_line("q1")]
    b_batch = run_batch(b.client, lines)
    assert_completed_on_own_clock(b, b_batch, requests=2)
    assert c_work.held is not None
    finish_held(c, c_work.held)  # its request with the forced custom_id answered 200

    a_batch = run_batch(a.client, lines)
    assert a_batch.status == "completed" and a_batch.request_counts is not None
    assert (a_batch.request_counts.completed, a_batch.request_counts.failed) == (1, 1)
    [failed] = file_lines(a.client, a_batch.error_file_id)
    assert failed["custom_id"] == shared_id and failed["response"]["status_code"] == 500
    # used once: a's next batch is answered normally
    assert_completed_on_own_clock(a, run_batch(a.client, lines), requests=2)
    assert_still_has(b, b_before)


def test_a_forced_validation_failure_is_used_only_by_that_students_batch(room: Room) -> None:
    a, b, c = room.a, room.b, room.c
    give_work(b)
    c_work = give_work(c, held="validating")  # validated only after a's force
    b_before, c_before = snapshot(b), snapshot(c)

    force_validation_failure("token_limit_exceeded", **a.conn)
    assert_untouched(b, b_before)
    assert_untouched(c, c_before)

    assert_completed_on_own_clock(b, run_batch(b.client, three("b")))
    assert c_work.held is not None
    finish_held(c, c_work.held)

    failed = run_batch(a.client, three("a"))
    assert failed.status == "failed" and failed.errors is not None, failed
    assert [e.code for e in failed.errors.data] == ["token_limit_exceeded"]
    assert_completed_on_own_clock(a, run_batch(a.client, three("a")))  # used once
    assert_still_has(b, b_before)


def test_a_students_reset_empties_only_their_namespace(room: Room) -> None:
    a, b, c = room.a, room.b, room.c
    a_work = give_work(a, held="in_progress")
    set_token_limit(50_000, **a.conn)
    advance_clock(hours=2, **a.conn)
    force_line("q0", status_code=500, **a.conn)
    b_work = give_work(b, held="in_progress")
    set_token_limit(40_000, **b.conn)
    give_work(c)
    advance_clock(hours=1, **c.conn)
    b_before, c_before = snapshot(b), snapshot(c)
    start = settings(room.admin)

    after = reset(**a.conn)
    assert after["namespace"] == a.namespace
    assert a.client.files.list().data == [] and a.client.batches.list().data == []
    assert a_work.held is not None
    with pytest.raises(openai.NotFoundError):
        a.client.batches.retrieve(a_work.held.id)
    with pytest.raises(openai.NotFoundError):
        a.client.files.retrieve(a_work.finished.output_file_id)  # type: ignore[arg-type]
    mine = settings(a)
    assert (mine["pace"], mine["clock_offset"], mine["token_limit"]) == (
        INSTANT,
        0,
        start["token_limit"],
    )
    # the forced line went with the reset
    assert_completed_on_own_clock(a, run_batch(a.client, [chat_line("q0")]), requests=1)

    assert_untouched(b, b_before)
    assert_untouched(c, c_before)
    assert settings(c)["clock_offset"] == 3600
    assert b_work.held is not None
    done = finish_held(b, b_work.held)
    assert done.request_counts is not None and done.request_counts.total == 3


def test_temporarily_changes_only_the_callers_settings(room: Room) -> None:
    a, b = room.a, room.b
    give_work(b)
    b_before = snapshot(b)
    with temporarily(pace="slow", token_limit=10, **a.conn):
        mine = settings(a)
        assert (mine["pace"], mine["token_limit"]) == (PACES["slow"].as_dict(), 10)
        assert_untouched(b, b_before)
        assert_completed_on_own_clock(b, run_batch(b.client, three("b")))
    mine = settings(a)
    assert (mine["pace"], mine["token_limit"]) == (INSTANT, b_before["settings"]["token_limit"])
    assert_still_has(b, b_before)


def test_a_class_wide_pace_set_during_a_students_block_is_kept(room: Room) -> None:
    """Notebook 7's ``instant`` block while the instructor slows the class: when the block ends,
    the student is at the class's new pace, not at the one the block found."""
    a, b, admin = room.a, room.b, room.admin
    with temporarily(pace="slow", **a.conn):
        set_pace("normal", namespace="*", **admin.conn)
        assert settings(a)["pace"] == PACES["normal"].as_dict()
    assert settings(a)["pace"] == PACES["normal"].as_dict()
    assert settings(b)["pace"] == PACES["normal"].as_dict()


def test_a_class_wide_token_limit_set_during_a_students_block_is_kept(room: Room) -> None:
    a, admin = room.a, room.admin
    with temporarily(pace="slow", token_limit=50, **a.conn):
        set_token_limit(123_456, namespace="*", **admin.conn)
    mine = settings(a)
    assert (mine["pace"], mine["token_limit"]) == (INSTANT, 123_456)


def test_a_class_wide_block_keeps_what_a_student_set_meanwhile(room: Room) -> None:
    a, b, c, admin = room.a, room.b, room.c, room.admin
    with temporarily(pace="slow", namespace="*", **admin.conn):
        set_pace("normal", **b.conn)
    assert settings(b)["pace"] == PACES["normal"].as_dict()
    assert settings(a)["pace"] == settings(c)["pace"] == INSTANT


# -- what students may not do --------------------------------------------------------------------

#: every control call that takes ``namespace``: its path, its JSON body (None: a GET), and the
#: wrapper's call (given the id of a batch of someone else's, for expire_batch)
CONTROL_CALLS: dict[str, tuple[str, dict[str, Any] | None, Callable[..., Any]]] = {
    "state": ("/_local/state", None, lambda batch_id, **kw: state(**kw)),
    "reset": ("/_local/reset", {}, lambda batch_id, **kw: reset(**kw)),
    "advance_clock": (
        "/_local/clock/advance",
        {"seconds": DAY},
        lambda batch_id, **kw: advance_clock(hours=24, **kw),
    ),
    "set_pace": (
        "/_local/pace",
        {"preset": "slow"},
        lambda batch_id, **kw: set_pace("slow", **kw),
    ),
    "set_token_limit": (
        "/_local/token-limit",
        {"token_limit": 10},
        lambda batch_id, **kw: set_token_limit(10, **kw),
    ),
    "set_tier": (
        "/_local/tier",
        {"tier": 1},
        lambda batch_id, **kw: set_tier(1, **kw),
    ),
    "force_line": (
        "/_local/force/line",
        {"custom_id": "student-b-held-0", "status_code": 500},
        lambda batch_id, **kw: force_line("student-b-held-0", status_code=500, **kw),
    ),
    "force_validation": (
        "/_local/force/validation",
        {"code": "token_limit_exceeded"},
        lambda batch_id, **kw: force_validation_failure(**kw),
    ),
    "expire_batch": (
        "/_local/batches/{batch_id}/expire",
        {},
        lambda batch_id, **kw: expire_batch(batch_id, **kw),
    ),
}


@pytest.mark.parametrize("call", list(CONTROL_CALLS))
def test_a_student_naming_a_namespace_gets_403(room: Room, call: str) -> None:
    a, b = room.a, room.b
    b_work = give_work(b, held="validating")
    assert b_work.held is not None
    a_work = give_work(a)
    a_before, b_before = snapshot(a), snapshot(b)
    path, body, wrapper = CONTROL_CALLS[call]
    path = path.format(batch_id=b_work.held.id)
    # another student by label or namespace id, the whole class, an unknown label, and even
    # the student's own label: a student's key never names a namespace
    targets = [b.label, b.namespace, "*", "student-z", a.label, a.namespace]
    for target in targets:
        if body is None:
            responses = [raw(room.root, "GET", path, key=a.key, params={"namespace": target})]
        else:
            responses = [
                raw(room.root, "POST", path, key=a.key, json={**body, "namespace": target}),
                raw(room.root, "POST", path, key=a.key, json=body, params={"namespace": target}),
            ]
        for response in responses:
            assert_error(response, 403, NOT_ADMIN, param="namespace", code="admin_key_required")
        with pytest.raises(ControlError, match="^Only an instructor's key"):
            wrapper(b_work.held.id, namespace=target, **a.conn)

    # nothing happened to anyone: b's batch is still held, a's own things are as they were
    assert_untouched(b, b_before)
    assert_untouched(a, a_before)
    finish_held(b, b_work.held)
    assert_completed_on_own_clock(a, run_batch(a.client, three("a-after")))
    assert a.client.batches.retrieve(a_work.finished.id).status == "completed"


def test_a_student_cannot_read_the_class_view(room: Room) -> None:
    for person in room.students:
        response = raw(room.root, "GET", "/_local/class", key=person.key)
        assert_error(response, 403, NEEDS_ADMIN, param=None, code="admin_key_required")
        with pytest.raises(ControlError, match="^This call needs an instructor's key"):
            class_view(**person.conn)


# -- what the instructor may do ------------------------------------------------------------------


def test_the_admin_resets_one_student_only(room: Room) -> None:
    a, b, c, admin = room.a, room.b, room.c, room.admin
    a_work = give_work(a, held="validating")
    set_token_limit(5_000, **a.conn)
    advance_clock(hours=3, **a.conn)
    b_work = give_work(b, held="in_progress")
    give_work(c)
    admin.client.files.create(file=("mine.jsonl", b'{"x": 1}\n'), purpose="batch")
    b_before, c_before, admin_before = snapshot(b), snapshot(c), snapshot(admin)

    answer = reset(namespace=a.label, **admin.conn)
    assert answer["namespace"] == a.namespace
    assert a.client.files.list().data == [] and a.client.batches.list().data == []
    assert a_work.held is not None
    with pytest.raises(openai.NotFoundError):
        a.client.batches.retrieve(a_work.held.id)
    mine = settings(a)
    assert (mine["pace"], mine["clock_offset"], mine["token_limit"]) == (
        INSTANT,
        0,
        admin_before["settings"]["token_limit"],
    )
    assert_untouched(b, b_before)
    assert_untouched(c, c_before)
    assert_untouched(admin, admin_before)

    # by namespace id too
    reset(namespace=c.namespace, **admin.conn)
    assert c.client.files.list().data == [] and c.client.batches.list().data == []
    assert_untouched(b, b_before)
    assert_untouched(admin, admin_before)
    assert b_work.held is not None
    finish_held(b, b_work.held)


def test_the_admin_sets_the_whole_class_pace(room: Room) -> None:
    admin = room.admin
    answer = set_pace(namespace="*", **HELD_IN_VALIDATING, **admin.conn)
    assert answer["object"] == "list"
    assert answer["data"] == [HELD_IN_VALIDATING] * 3
    everyone = state(namespace="*", **admin.conn)
    assert [s["namespace"] for s in everyone["data"]] == [p.namespace for p in room.students]
    assert all(s["pace"] == HELD_IN_VALIDATING for s in everyone["data"])
    assert settings(admin)["pace"] == INSTANT  # "*" is every student, not the instructor

    held = {p.label: start_batch(p.client, three(p.label)) for p in room.students}
    # the instructor's own batch runs at the instructor's pace
    assert_completed_on_own_clock(admin, run_batch(admin.client, three("instructor")))
    for person in room.students:
        found = person.client.batches.retrieve(held[person.label].id)
        assert found.status == "validating" and found.in_progress_at is None, found

    set_pace("instant", namespace="*", **admin.conn)
    for person in room.students:
        assert_completed_on_own_clock(person, wait_until(person.client, held[person.label].id))


def test_the_admin_reads_the_class_view(room: Room) -> None:
    a, b, c, admin = room.a, room.b, room.c, room.admin
    done = wait_until(
        a.client,
        start_batch(a.client, three("a"), metadata={"notebook": "04_check_status"}).id,
    )
    assert done.status == "completed"
    force_validation_failure("invalid_request", **a.conn)
    failed = run_batch(a.client, three("a-bad"))
    assert failed.status == "failed"
    advance_clock(hours=2, **a.conn)
    hold(b.client, "validating")
    start_batch(b.client, three("b"))
    admin.client.files.create(file=("mine.jsonl", b'{"x": 1}\n'), purpose="batch")

    view = class_view(**admin.conn)
    assert view["object"] == "local_server.class"
    rows = {row["label"]: row for row in view["data"]}
    assert [row["label"] for row in view["data"]] == [a.label, b.label, c.label]
    for person in room.students:
        assert rows[person.label]["namespace"] == person.namespace

    a_files = list(a.client.files.list())
    a_batches = list(a.client.batches.list())
    stamps = [f.created_at for f in a_files] + [
        value
        for batch in a_batches
        for name, value in batch.model_dump().items()
        if name.endswith("_at") and name != "expires_at" and isinstance(value, int)
    ]
    assert rows[a.label]["files"] == len(a_files) == 3  # two inputs and one output
    assert rows[a.label]["batches"] == {"completed": 1, "failed": 1}
    assert rows[a.label]["notebooks"] == ["04_check_status"]
    assert rows[a.label]["furthest_notebook"] == "04_check_status"
    assert rows[a.label]["last_activity"] == max(stamps)
    assert rows[b.label]["files"] == 1
    assert rows[b.label]["batches"] == {"validating": 1}
    assert rows[b.label]["notebooks"] == [] and rows[b.label]["furthest_notebook"] is None
    assert rows[c.label]["files"] == 0 and rows[c.label]["batches"] == {}
    assert rows[c.label]["last_activity"] is None
    # each row reads the student's own clock: a's is two hours ahead of c's
    assert rows[a.label]["now"] - rows[c.label]["now"] >= 2 * 3600 - 60


def test_the_admin_acts_on_a_student_by_label_or_namespace(room: Room) -> None:
    a, b, c, admin = room.a, room.b, room.c, room.admin
    a_work = give_work(a, held="in_progress")
    b_work = give_work(b, held="in_progress")
    assert a_work.held is not None and b_work.held is not None
    c_before = snapshot(c)

    # the clock of one student, by label
    advance_clock(hours=24, namespace=b.label, **admin.conn)
    assert wait_until(b.client, b_work.held.id).status == "expired"
    assert settings(b)["clock_offset"] == DAY
    assert settings(a)["clock_offset"] == settings(admin)["clock_offset"] == 0
    assert a.client.batches.retrieve(a_work.held.id).model_dump() == a_work.held.model_dump()

    # a student's batch, by label; the admin's own namespace does not have it
    with pytest.raises(ControlError, match="No batch found"):
        expire_batch(a_work.held.id, **admin.conn)
    expire_batch(a_work.held.id, namespace=a.label, **admin.conn)
    assert wait_until(a.client, a_work.held.id).status == "expired"
    release(a.client)
    release(b.client)
    assert_untouched(c, c_before)

    # a token limit, a forced line and a forced validation failure, by namespace id
    set_token_limit(10, namespace=c.namespace, **admin.conn)
    force_line("q0", status_code=500, namespace=b.namespace, **admin.conn)
    force_validation_failure("invalid_request", namespace=a.namespace, **admin.conn)
    assert settings(c)["token_limit"] == 10
    assert settings(a)["token_limit"] == settings(b)["token_limit"] != 10
    lines = [chat_line("q0"), chat_line("q1")]
    a_batch, b_batch, c_batch = (run_batch(p.client, lines) for p in (a, b, c))
    assert a_batch.status == "failed" and a_batch.errors is not None
    assert [e.code for e in a_batch.errors.data] == ["invalid_request"]
    assert b_batch.status == "completed" and b_batch.request_counts is not None
    assert (b_batch.request_counts.completed, b_batch.request_counts.failed) == (1, 1)
    assert c_batch.status == "failed" and c_batch.errors is not None
    assert [e.code for e in c_batch.errors.data] == ["token_limit_exceeded"]
    # the admin's own namespace had none of these
    assert_completed_on_own_clock(admin, run_batch(admin.client, lines), requests=2)

    # an unknown label is a 404 naming it
    response = raw(
        room.root, "POST", "/_local/pace", key=ADMIN_KEY, json={"preset": "slow", "namespace": "x"}
    )
    assert_error(response, 404, "No student or namespace named 'x'.", param="namespace")


def test_the_class_page_is_served_without_class_data(room: Room) -> None:
    response = raw(room.root, "GET", "/_local/class/page", key=None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    for person in room.students:  # the page fetches its data with the admin key it asks for
        for secret in (person.label, person.key, person.namespace):
            assert secret not in response.text


# -- known defects ---------------------------------------------------------------------------------


def test_the_admin_changes_a_students_pace_temporarily(room: Room) -> None:
    admin, b = room.admin, room.b
    with temporarily(pace="slow", namespace=b.label, **admin.conn):
        assert settings(b)["pace"] == PACES["slow"].as_dict()
    assert settings(b)["pace"] == INSTANT
    assert settings(admin)["pace"] == INSTANT


@pytest.mark.parametrize("call", ["force_line", "force_validation"])
def test_a_class_wide_force_reaches_every_student_or_is_refused(room: Room, call: str) -> None:
    try:
        if call == "force_line":
            force_line("q0", status_code=500, namespace="*", **room.admin.conn)
        else:
            force_validation_failure("invalid_request", namespace="*", **room.admin.conn)
    except ControlError:
        return  # refusing "*" for a one-off outcome would be a fine answer too
    for person in room.students:
        batch = run_batch(person.client, [chat_line("q0")])
        if call == "force_line":
            assert batch.request_counts is not None
            assert batch.request_counts.failed == 1, (person.label, batch)
        else:
            assert batch.status == "failed", (person.label, batch)


def test_a_class_wide_expire_finds_the_batch_or_is_refused(room: Room) -> None:
    b_work = give_work(room.b, held="in_progress")
    assert b_work.held is not None
    response = raw(
        room.root,
        "POST",
        f"/_local/batches/{b_work.held.id}/expire",
        key=ADMIN_KEY,
        json={"namespace": "*"},
    )
    if response.status_code == 400:  # refusing "*" here would be a fine answer too
        assert_error(response, 400, param="namespace")
        return
    assert response.status_code == 200, response.text
    assert wait_until(room.b.client, b_work.held.id).status == "expired"


def test_the_class_view_counts_the_files_a_student_has(room: Room) -> None:
    a = room.a
    work = give_work(a)  # three batch files, and a user_data file that never expires
    advance_clock(hours=31 * 24, **a.conn)
    assert [f.id for f in a.client.files.list()] == [work.notes_id]
    [row] = [r for r in class_view(**room.admin.conn)["data"] if r["label"] == a.label]
    assert row["files"] == 1


def test_a_keys_file_may_separate_key_and_label_with_a_tab(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text("sk-class-tabbed-0000000001\tstudent-t\n")
    caller = Keys(path).caller("Bearer sk-class-tabbed-0000000001")
    assert caller.label == "student-t"


def test_a_keys_file_saved_with_a_byte_order_mark_accepts_its_first_key(tmp_path: Path) -> None:
    """Notepad saves UTF-8 with a byte-order mark; it is not part of the first key."""
    path = tmp_path / "keys.txt"
    path.write_text(
        "sk-class-first-0000000001 student-01\nsk-class-second-000002 student-02\n",
        encoding="utf-8-sig",
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    keys = Keys(path)
    assert keys.caller("Bearer sk-class-first-0000000001").label == "student-01"
    assert keys.caller("Bearer sk-class-second-000002").label == "student-02"
    assert sorted(keys.namespaces().values()) == ["student-01", "student-02"]


def test_default_pace_is_the_class_pace_the_instructor_set_last(room: Room) -> None:
    """``set_pace("default")`` (what a notebook's setup() sends) goes back to the instructor's
    class-wide pace, not to the start-up one: a student's notebook never undoes it."""
    a, b, admin = room.a, room.b, room.admin
    assert set_pace("slow", **a.conn) == PACES["slow"].as_dict()
    assert set_pace("default", **a.conn) == INSTANT  # no class pace yet: the start-up one
    try:
        set_pace({"per_request": 4}, namespace="*", **admin.conn)
        class_pace = {**PACES["normal"].as_dict(), "per_request": 4.0}
        assert set_pace("instant", **a.conn) == INSTANT  # a notebook's own choice
        assert settings(b)["pace"] == class_pace
        assert set_pace("default", **a.conn) == class_pace
        assert settings(a)["pace"] == class_pace
        assert settings(b)["pace"] == class_pace
        # a student naming "default" for the class is still refused
        with pytest.raises(ControlError, match="instructor"):
            set_pace("default", namespace="*", **a.conn)
    finally:
        set_pace("instant", namespace="*", **admin.conn)
    assert set_pace("default", **b.conn) == INSTANT
