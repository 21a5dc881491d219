"""Tests for helpers.setup: local mode by default, live mode only behind the explicit switch,
classroom mode on a class's shared server that checks its address and key first."""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest
from openai import OpenAI

from batch_api_local import (
    PACES,
    ServerInfo,
    find_server,
    is_loopback,
    set_pace,
    set_tier,
    state,
    stop_server,
)
from helpers import Mode, SetupError, is_local, setup

from support import free_port, sdk_client, start_class_server

STRAY_KEY = "sk-a-real-key-that-must-stay-home"
#: every variable setup() may write (it writes os.environ directly, not through monkeypatch)
SETUP_WRITES = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "NO_PROXY", "no_proxy")
#: the module, not the function of the same name that ``helpers`` exports
setup_impl = importlib.import_module("helpers.setup")


def _env() -> dict[str, str]:
    """The process environment, less the variable pytest itself changes between phases."""
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


@pytest.fixture(autouse=True)
def no_leak() -> Iterator[None]:
    """Each test leaves the process environment and setup()'s memory as it found them.

    Autouse and requested by nothing else, so it is set up first and torn down last: after
    monkeypatch has undone its changes. It puts things back itself before it complains, so a
    leak fails this test only and never changes what a later test sees.
    """
    env_before = _env()
    remembered_before = dict(setup_impl._ORIGINAL_ENV)
    yield
    env_after = _env()
    remembered_after = dict(setup_impl._ORIGINAL_ENV)
    changed = {
        name: (env_before.get(name), env_after.get(name))
        for name in set(env_before) | set(env_after)
        if env_before.get(name) != env_after.get(name)
    }
    for name, (before, _) in changed.items():
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before
    setup_impl._ORIGINAL_ENV.clear()
    setup_impl._ORIGINAL_ENV.update(remembered_before)
    assert not changed, f"environment leaked past the test (before, after): {changed}"
    assert remembered_after == remembered_before, "helpers.setup._ORIGINAL_ENV left filled"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No mode switch, no base URL, no proxy exceptions; monkeypatch restores them afterwards.

    setup() writes OPENAI_BASE_URL, OPENAI_API_KEY and NO_PROXY/no_proxy into os.environ
    itself. monkeypatch only restores what it touched, and ``delenv`` of a variable that is not
    set records nothing, so each is first set (recording its original value, or its absence)
    and then removed. setup()'s memory of the user's values starts empty and is put back.
    """
    for name in ("BATCH_TUTORIAL_MODE", *SETUP_WRITES):
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    monkeypatch.setenv("OPENAI_API_KEY", STRAY_KEY)
    remembered = dict(setup_impl._ORIGINAL_ENV)
    setup_impl._ORIGINAL_ENV.clear()
    yield monkeypatch
    setup_impl._ORIGINAL_ENV.clear()
    setup_impl._ORIGINAL_ENV.update(remembered)


@pytest.fixture
def local_env(clean_env, local_server):
    """Local mode on the session's server (its state directory), so no second server starts."""
    clean_env.setenv("BATCH_LOCAL_STATE_DIR", local_server.state_dir)
    return clean_env


def test_local_mode_points_the_sdk_at_the_local_server(local_env, local_server, capsys):
    mode = setup()

    assert mode == Mode("local", local_server.base_url)
    assert capsys.readouterr().out == (
        f"Local mode: requests go to the local Batch API server at {local_server.base_url} "
        "(no key, no cost).\n"
    )
    assert os.environ["OPENAI_BASE_URL"] == local_server.base_url
    assert os.environ["OPENAI_API_KEY"] == "sk-local"
    assert is_local()
    for name in ("NO_PROXY", "no_proxy"):
        assert {"127.0.0.1", "localhost"} <= set(os.environ[name].split(","))
    # a bare client now reaches the local server
    page = OpenAI(max_retries=0, timeout=10).batches.list(limit=1)
    assert page.object == "list"


def test_a_stray_api_key_without_the_switch_never_leaves_the_machine(local_env):
    assert os.environ["OPENAI_API_KEY"] == STRAY_KEY
    assert setup(quiet=True).name == "local"
    assert os.environ["OPENAI_API_KEY"] != STRAY_KEY
    assert os.environ["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")


def test_calling_setup_twice_reuses_the_same_server(local_env, local_server, capsys):
    first = setup(quiet=True)
    second = setup(quiet=True)
    assert first == second
    assert capsys.readouterr().out == ""
    assert find_server(local_server.state_dir).pid == local_server.pid


def test_local_mode_keeps_existing_no_proxy_entries(local_env):
    local_env.setenv("NO_PROXY", "corp.example")
    setup(quiet=True)
    assert os.environ["NO_PROXY"] == "corp.example,127.0.0.1,localhost"


def test_live_mode_leaves_the_environment_alone(clean_env, tmp_path, capsys):
    clean_env.setenv("BATCH_TUTORIAL_MODE", "live")
    unused_state = tmp_path / "no-server-here"
    clean_env.setenv("BATCH_LOCAL_STATE_DIR", str(unused_state))

    mode = setup()

    assert mode == Mode("live", "https://api.openai.com/v1")
    assert capsys.readouterr().out == (
        "Live mode: requests go to api.openai.com and are billed to your account.\n"
    )
    assert "OPENAI_BASE_URL" not in os.environ
    assert os.environ["OPENAI_API_KEY"] == STRAY_KEY
    assert "NO_PROXY" not in os.environ
    assert not unused_state.exists()  # no local server was started
    assert not is_local()


def test_live_mode_keeps_a_base_url_that_is_already_set(clean_env):
    clean_env.setenv("BATCH_TUTORIAL_MODE", "live")
    clean_env.setenv("OPENAI_BASE_URL", "https://gateway.example/v1")
    assert setup(quiet=True) == Mode("live", "https://gateway.example/v1")
    assert os.environ["OPENAI_BASE_URL"] == "https://gateway.example/v1"


def test_live_mode_without_a_key_is_refused(clean_env):
    clean_env.setenv("BATCH_TUTORIAL_MODE", "live")
    clean_env.delenv("OPENAI_API_KEY")
    with pytest.raises(RuntimeError, match="OPENAI_API_KEY"):
        setup()


def test_an_unknown_mode_is_refused(clean_env):
    clean_env.setenv("BATCH_TUTORIAL_MODE", "production")
    with pytest.raises(ValueError, match="'production'.*'classroom'"):
        setup()


@pytest.mark.parametrize("base_url", ["https://api.openai.com/v1", "https://api.openai.com/v1/"])
def test_live_mode_says_billed_for_openai_itself(clean_env, capsys, base_url):
    clean_env.setenv("BATCH_TUTORIAL_MODE", "live")
    clean_env.setenv("OPENAI_BASE_URL", base_url)
    setup()
    assert capsys.readouterr().out == (
        "Live mode: requests go to api.openai.com and are billed to your account.\n"
    )


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://gateway.example/v1", "gateway.example"),
        ("http://127.0.0.1:8765/v1", "127.0.0.1:8765"),
        ("https://api.openai.com.evil.example/v1", "api.openai.com.evil.example"),
        ("https://user:secret@proxy.example:8443/v1", "proxy.example:8443"),
    ],
)
def test_live_mode_never_claims_billing_for_another_service(clean_env, capsys, base_url, host):
    clean_env.setenv("BATCH_TUTORIAL_MODE", "live")
    clean_env.setenv("OPENAI_BASE_URL", base_url)
    assert setup() == Mode("live", base_url)
    assert capsys.readouterr().out == (
        f"Live mode: requests go to {host} (OPENAI_BASE_URL); whether and how they are billed "
        "depends on that service.\n"
    )


def test_switching_to_live_in_the_same_process_restores_the_users_values(local_env, capsys):
    setup(quiet=True)  # local first: replaces the key and sets a loopback base URL
    assert os.environ["OPENAI_API_KEY"] == "sk-local"
    local_env.setenv("BATCH_TUTORIAL_MODE", "live")
    mode = setup()
    assert mode.name == "live"
    assert os.environ["OPENAI_API_KEY"] == STRAY_KEY  # the user's own key again
    assert "OPENAI_BASE_URL" not in os.environ  # so the SDK's default, api.openai.com
    assert "api.openai.com" in capsys.readouterr().out


# -- the pace a notebook chooses ------------------------------------------------------------------


def test_a_pace_given_to_setup_holds_until_a_setup_without_one(local_env, local_server, capsys):
    conn = {"base_url": local_server.base_url, "api_key": "sk-local"}
    start_up = PACES["instant"].as_dict()  # the session's server starts at "instant"

    setup(pace="slow")
    assert capsys.readouterr().out.endswith(
        "Batches of this notebook run at the 'slow' pace (local server only).\n"
    )
    assert state(**conn)["pace"] == PACES["slow"].as_dict()

    setup()  # the next notebook's setup cell: back to the server's start-up pace
    assert state(**conn)["pace"] == start_up
    assert "pace" not in capsys.readouterr().out


@pytest.mark.parametrize("pace", ["warp", "default", "", 3])
def test_a_pace_the_server_does_not_know_is_refused_with_what_to_write(local_env, pace):
    with pytest.raises(SetupError, match="pace") as caught:
        setup(quiet=True, pace=pace)
    assert "instant" in str(caught.value)


def test_live_mode_ignores_the_pace(clean_env, local_server):
    """Live mode sends nothing to set a pace, even when OPENAI_BASE_URL is a local server."""
    conn = {"base_url": local_server.base_url, "api_key": "sk-local"}
    set_pace("normal", **conn)
    clean_env.setenv("BATCH_TUTORIAL_MODE", "live")
    clean_env.setenv("OPENAI_BASE_URL", local_server.base_url)
    try:
        assert setup(quiet=True, pace="slow").name == "live"
        assert state(**conn)["pace"] == PACES["normal"].as_dict()
    finally:
        set_pace("instant", **conn)


# -- classroom mode -------------------------------------------------------------------------------

ADMIN_KEY = "sk-class-admin-for-the-setup-tests"
STUDENT_KEYS = {
    "student-01": "sk-class-first-student-key-0001",
    "student-02": "sk-class-second-student-key-002",
}
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@dataclass
class ClassServer:
    info: ServerInfo
    keys: dict[str, str]  # label: key


@pytest.fixture(scope="module")
def class_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClassServer]:
    """A real local server with a keys file of two students and an admin key."""
    folder = tmp_path_factory.mktemp("class-server")
    students = [(key, label) for label, key in STUDENT_KEYS.items()]
    info = start_class_server(folder, students, ADMIN_KEY)
    try:
        yield ClassServer(info, dict(STUDENT_KEYS))
    finally:
        stop_server(folder / "state")


@pytest.fixture
def classroom_env(clean_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Classroom mode switched on, and no proxy in the environment (each test sets its own)."""
    clean_env.setenv("BATCH_TUTORIAL_MODE", "classroom")
    for name in PROXY_VARIABLES:
        clean_env.setenv(name, "placeholder")
        clean_env.delenv(name)
    return clean_env


def as_student(env: pytest.MonkeyPatch, base_url: str, key: str) -> None:
    env.setenv("OPENAI_BASE_URL", base_url)
    env.setenv("OPENAI_API_KEY", key)


def test_classroom_mode_uses_the_class_server_with_the_students_own_key(
    classroom_env, class_server, capsys
):
    base_url = class_server.info.base_url
    as_student(classroom_env, base_url, class_server.keys["student-02"])

    mode = setup()

    assert mode == Mode("classroom", base_url)
    assert capsys.readouterr().out == (
        f"Classroom mode: requests go to the class's local Batch API server at {base_url} "
        "as student-02 (no cost).\n"
    )
    # both variables are left exactly as the student set them
    assert os.environ["OPENAI_BASE_URL"] == base_url
    assert os.environ["OPENAI_API_KEY"] == class_server.keys["student-02"]
    for name in ("NO_PROXY", "no_proxy"):
        assert {"127.0.0.1", "localhost"} <= set(os.environ[name].split(","))
    assert is_local()  # local-only cells run, on the student's own namespace
    assert state()["namespace"] == state(**_conn(class_server, "student-02"))["namespace"]
    assert state()["namespace"] != state(**_conn(class_server, "student-01"))["namespace"]

    # a bare client reaches the class server as this student, and sees only their own files
    mine = OpenAI(max_retries=0, timeout=10).files.create(
        file=("mine.jsonl", b'{"custom_id": "a"}\n'), purpose="batch"
    )
    theirs = sdk_client(base_url, class_server.keys["student-01"])
    assert mine.id not in {f.id for f in theirs.files.list()}
    with pytest.raises(openai.NotFoundError):
        theirs.files.retrieve(mine.id)


def _conn(class_server: ClassServer, label: str) -> dict[str, str]:
    return {"base_url": class_server.info.base_url, "api_key": class_server.keys[label]}


def test_classroom_mode_on_localhost_adds_no_entry_twice(classroom_env, class_server):
    base_url = f"http://localhost:{class_server.info.port}/v1"
    as_student(classroom_env, base_url, class_server.keys["student-01"])
    classroom_env.setenv("NO_PROXY", "corp.example,localhost")
    assert setup(quiet=True) == Mode("classroom", base_url)
    assert os.environ["NO_PROXY"] == "corp.example,localhost,127.0.0.1"
    assert os.environ["no_proxy"] == "127.0.0.1,localhost"


def test_classroom_mode_with_an_admin_key_is_the_instructor(classroom_env, class_server, capsys):
    as_student(classroom_env, class_server.info.base_url, ADMIN_KEY)
    assert setup().name == "classroom"
    assert " as instructor (no cost)." in capsys.readouterr().out


def test_classroom_mode_after_local_mode_uses_the_users_own_values(
    classroom_env, class_server, local_server
):
    """Local mode replaced both variables in this process; classroom mode gets the user's
    values back before it checks them."""
    as_student(classroom_env, class_server.info.base_url, class_server.keys["student-01"])
    classroom_env.setenv("BATCH_TUTORIAL_MODE", "local")
    classroom_env.setenv("BATCH_LOCAL_STATE_DIR", local_server.state_dir)
    setup(quiet=True)
    assert os.environ["OPENAI_API_KEY"] == "sk-local"
    classroom_env.setenv("BATCH_TUTORIAL_MODE", "classroom")
    assert setup(quiet=True) == Mode("classroom", class_server.info.base_url)
    assert os.environ["OPENAI_API_KEY"] == class_server.keys["student-01"]


def test_classroom_mode_refuses_a_key_the_class_server_does_not_know(classroom_env, class_server):
    wrong = "sk-class-a-key-from-another-class-9876"
    as_student(classroom_env, class_server.info.base_url, wrong)
    with pytest.raises(RuntimeError) as caught:
        setup()
    message = str(caught.value)
    assert message.startswith("OPENAI_API_KEY (sk-")
    assert "9876) is not a key of the class server at " + class_server.info.root_url in message
    assert wrong not in message  # masked, as OpenAI masks keys
    assert "\n" not in message
    assert os.environ["OPENAI_API_KEY"] == wrong  # left alone


def test_classroom_mode_says_when_nothing_answers_at_the_address(classroom_env, class_server):
    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    as_student(classroom_env, nowhere, class_server.keys["student-01"])
    with pytest.raises(RuntimeError) as caught:
        setup()
    message = str(caught.value)
    assert message.startswith("Cannot reach the class server at ")
    assert f"(OPENAI_BASE_URL is '{nowhere}')" in message
    assert "connection was refused" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8765",  # no /v1
        "http://127.0.0.1:8765/v1/files",
        "127.0.0.1:8765/v1",  # no scheme
        "ftp://127.0.0.1:8765/v1",
        "http://127.0.0.1:port/v1",
        "http://[::1/v1",
    ],
)
def test_classroom_mode_refuses_an_address_that_is_not_a_v1_url(classroom_env, base_url):
    as_student(classroom_env, base_url, "sk-class-whatever-key")
    with pytest.raises(RuntimeError) as caught:
        setup()
    assert str(caught.value).startswith(f"OPENAI_BASE_URL is {base_url!r}: in classroom mode ")
    assert "ending in /v1" in str(caught.value)


@pytest.mark.parametrize("missing", ["OPENAI_BASE_URL", "OPENAI_API_KEY"])
def test_classroom_mode_names_the_variable_that_is_missing(classroom_env, class_server, missing):
    as_student(classroom_env, class_server.info.base_url, class_server.keys["student-01"])
    classroom_env.delenv(missing)
    with pytest.raises(RuntimeError, match=f"^BATCH_TUTORIAL_MODE=classroom needs {missing}: "):
        setup()


class OtherServer:
    """A tiny HTTP server that is not a local Batch API server: it answers every GET with
    ``status`` and ``body``, and notes the Authorization headers it was sent."""

    def __init__(self, status: int, body: bytes, content_type: str) -> None:
        self.authorizations: list[str | None] = []
        other = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                other.authorizations.append(self.headers.get("Authorization"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("status", "body", "content_type", "said"),
    [
        (404, b'{"detail": "Not Found"}', "application/json", "HTTP 404"),
        (200, b"<html>a web page</html>", "text/html", "HTTP 200"),
        (200, b'{"status": "ok"}', "application/json", "HTTP 200"),
    ],
    ids=["404", "a web page", "another health check"],
)
def test_classroom_mode_refuses_a_server_that_is_not_a_local_batch_api_server(
    classroom_env, status, body, content_type, said
):
    other = OtherServer(status, body, content_type)
    try:
        as_student(classroom_env, other.base_url, "sk-class-a-students-key-1234")
        with pytest.raises(RuntimeError) as caught:
            setup()
    finally:
        other.close()
    message = str(caught.value)
    assert message.startswith(
        f"OPENAI_BASE_URL is '{other.base_url}', but no local Batch API server answers there "
        f"(/_local/health answered {said})"
    )
    assert other.authorizations == [None]  # asked once, and never given the key


def test_classroom_mode_refuses_a_name_a_proxy_would_carry(classroom_env):
    """A host name is not added to NO_PROXY: the student is told to add it."""
    as_student(classroom_env, "http://teacher-laptop.example:8765/v1", "sk-class-key-12345678")
    classroom_env.setenv("HTTP_PROXY", "http://proxy.example:3128")
    with pytest.raises(RuntimeError) as caught:
        setup()
    assert str(caught.value) == (
        "OPENAI_BASE_URL is 'http://teacher-laptop.example:8765/v1', but your proxy settings "
        "would send requests for teacher-laptop.example (and your class key) through the proxy "
        "http://proxy.example:3128: add teacher-laptop.example to NO_PROXY, or use the class "
        "server's IP address."
    )
    assert "NO_PROXY" not in os.environ


def test_classroom_mode_refuses_a_public_address_a_proxy_would_carry(classroom_env):
    as_student(classroom_env, "http://203.0.113.7:8765/v1", "sk-class-key-12345678")
    classroom_env.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    classroom_env.setenv("ALL_PROXY", "http://proxy.example:3128")
    with pytest.raises(RuntimeError) as caught:
        setup()
    assert str(caught.value).endswith(
        "through the proxy http://proxy.example:3128: add 203.0.113.7 to NO_PROXY."
    )


@pytest.mark.parametrize(
    ("url", "no_proxy", "proxied"),
    [
        ("http://teacher.example:8765/v1", "", True),
        ("http://teacher.example:8765/v1", "teacher.example", False),
        ("http://teacher.example:8765/v1", ".example", False),
        ("http://teacher.example:8765/v1", "*.example", False),
        ("http://teacher.example:8765/v1", "example", False),
        ("http://teacher.example:8765/v1", "*", False),
        ("http://teacher.example:8765/v1", "teacher.example:8765", False),
        ("http://teacher.example:8765/v1", "teacher.example:9000", True),
        ("http://teacher.example:8765/v1", "her.example", True),
        ("http://203.0.113.7:8765/v1", "203.0.113.0/24", False),
        ("http://203.0.113.7:8765/v1", "203.0.113.8", True),
    ],
)
def test_which_class_server_addresses_a_proxy_would_carry(classroom_env, url, no_proxy, proxied):
    classroom_env.setenv("HTTP_PROXY", "http://proxy.example:3128")
    classroom_env.setenv("NO_PROXY", no_proxy)
    classroom_env.setenv("no_proxy", no_proxy)
    assert (setup_impl._proxy_for(url) is not None) is proxied


@pytest.mark.parametrize(
    ("host", "direct"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("192.168.1.20", True),
        ("10.0.0.5", True),
        ("172.16.4.2", True),
        ("169.254.10.1", True),
        ("fe80::1", True),
        ("fd12:3456::1", True),
        ("203.0.113.7", False),  # documentation range, but treated as any public address
        ("8.8.8.8", False),
        ("teacher-laptop", False),
        ("teacher.local", False),
    ],
)
def test_which_class_server_addresses_join_no_proxy(host, direct):
    """Loopback and local-network addresses go straight to the server; names never join."""
    assert (is_loopback(host) or setup_impl._lan_address(host)) is direct


def test_classroom_mode_never_undoes_the_class_pace(classroom_env, class_server):
    """A notebook's setup(pace="instant") is the student's own; the next setup() goes back to the
    pace the instructor set for the whole class, not to the server's start-up pace."""
    admin = {"base_url": class_server.info.base_url, "api_key": ADMIN_KEY}
    student = _conn(class_server, "student-01")
    other = _conn(class_server, "student-02")
    as_student(classroom_env, class_server.info.base_url, class_server.keys["student-01"])
    set_pace("slow", namespace="*", **admin)  # the class's pace: not the start-up "instant"
    try:
        setup(quiet=True, pace="instant")
        assert state(**student)["pace"] == PACES["instant"].as_dict()
        assert state(**other)["pace"] == PACES["slow"].as_dict()  # the others' stays

        setup(quiet=True)  # the next notebook
        assert state(**student)["pace"] == PACES["slow"].as_dict()

        setup(quiet=True, pace="instant")
        set_pace("normal", namespace="*", **admin)  # the instructor changes it meanwhile
        assert state(**student)["pace"] == PACES["normal"].as_dict()
        setup(quiet=True)
        assert state(**student)["pace"] == PACES["normal"].as_dict()
    finally:
        set_pace("instant", namespace="*", **admin)


# -- setup(tier=...) ------------------------------------------------------------------------------


def test_local_mode_sets_the_namespaces_tier(local_env, local_server):
    conn = {"base_url": local_server.base_url, "api_key": "sk-local"}
    try:
        setup(quiet=True, tier=1)
        assert state(**conn)["tier"] == 1
        setup(quiet=True)  # None: back to the server's own (this one has no tier)
        assert state(**conn)["tier"] is None
        with pytest.raises(SetupError, match=r"setup\(tier=9\): tier must be a usage tier"):
            setup(quiet=True, tier=9)
        assert state(**conn)["tier"] is None
    finally:
        set_tier(None, **conn)


def test_live_mode_ignores_the_tier(clean_env):
    clean_env.setenv("BATCH_TUTORIAL_MODE", "live")
    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    assert setup(quiet=True, tier=1) == Mode("live", "http://127.0.0.1:9/v1")


def test_classroom_mode_ignores_the_tier(classroom_env, class_server):
    as_student(classroom_env, class_server.info.base_url, class_server.keys["student-01"])
    assert setup(quiet=True, tier=2).name == "classroom"
    assert state(**_conn(class_server, "student-01"))["tier"] is None
