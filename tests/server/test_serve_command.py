"""``batch-api-local serve`` as an instructor and a newcomer meet it.

It prints one block when it listens (for a class server: the address students set, the class
page, how many keys it loaded, where its state lives, how to stop it) and one line when it
stops; it refuses an admin key short enough to guess; a browser that opens its address (``/``,
or ``/v1``) gets a page that says what it is, while an API client still gets OpenAI's 404 for
``/v1``; and a server stopped and started again gets its port back.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from batch_api_local import ServerInfo, ensure_server, stop_server
from batch_api_local.cli import MIN_ADMIN_KEY_LENGTH, startup_block
from batch_api_local.config import Settings
from batch_api_local.keys import Keys

from support import WAIT, free_port, server_env

STUDENTS = (
    "sk-class-aaaaaaaaaaaaaaaaaaaaaaaa student-01\nsk-class-bbbbbbbbbbbbbbbbbbbbbbbb student-02\n"
)
ADMIN = "sk-class-admin-0123456789abcdef"
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def serve(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "batch_api_local", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(),
        cwd=tmp_path,
    )


def read_until(process: subprocess.Popen[str], last: str) -> list[str]:
    """The server's lines on stderr up to the one that starts with ``last``."""
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.strip().startswith(last):
            return lines
    raise AssertionError(f"no line starting with {last!r}; the server said: {lines}")


def test_a_class_server_says_where_students_go_and_when_it_stops(tmp_path: Path) -> None:
    (tmp_path / "class-keys.txt").write_text(STUDENTS, encoding="utf-8")
    port = free_port()
    process = serve(
        tmp_path,
        *("--port", str(port), "--keys-file", "class-keys.txt", "--admin-key", ADMIN),
        *("--state-dir", "class-state"),
    )
    try:
        block = read_until(process, "Stop it with Ctrl+C.")
        process.send_signal(signal.SIGINT)
        rest = process.communicate(timeout=WAIT)[1].splitlines()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    state = (tmp_path / "class-state").resolve()
    assert block == [
        f"Class server (local Batch API server) listening on 127.0.0.1:{port}.",
        f"  Students set:  OPENAI_BASE_URL=http://127.0.0.1:{port}/v1",
        f"  Class page:    http://127.0.0.1:{port}/_local/class/page",
        f"  Keys:          2 student keys from {tmp_path / 'class-keys.txt'}, 1 admin key",
        f"  State:         {state}",
        "  Stop it with Ctrl+C.",
    ]
    assert rest == [f"Stopped the local Batch API server (state in {state})."]
    assert process.returncode == 0


def test_on_every_interface_the_block_gives_this_machines_address(tmp_path: Path) -> None:
    keys_file = tmp_path / "class-keys.txt"
    keys_file.write_text(STUDENTS, encoding="utf-8")
    settings = Settings(
        state_dir=tmp_path / "class-state", host="0.0.0.0", keys_file=keys_file, admin_keys=(ADMIN,)
    )
    keys = Keys(keys_file, settings.admin_keys)

    block = startup_block(settings, keys, 8765, address="192.168.1.20")

    assert "Students set:  OPENAI_BASE_URL=http://192.168.1.20:8765/v1  (" in block
    assert "http://127.0.0.1:8765/_local/class/page  (from another machine: " in block
    assert "http://192.168.1.20:8765/_local/class/page)" in block


@pytest.mark.parametrize("admin_key", ["x", "a" * (MIN_ADMIN_KEY_LENGTH - 1)])
def test_an_admin_key_short_enough_to_guess_is_refused(tmp_path: Path, admin_key: str) -> None:
    (tmp_path / "class-keys.txt").write_text(STUDENTS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "batch_api_local", "serve", "--port", str(free_port())]
        + ["--keys-file", "class-keys.txt", "--admin-key", admin_key, "--state-dir", "s"],
        capture_output=True,
        text=True,
        env=server_env(),
        cwd=tmp_path,
        timeout=WAIT,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"An admin key must be at least {MIN_ADMIN_KEY_LENGTH} characters long "
        f"(one of --admin-key or $BATCH_LOCAL_ADMIN_KEY has {len(admin_key)})"
    )
    assert admin_key not in done.stderr.replace("$BATCH_LOCAL_ADMIN_KEY", "")


def fetch(url: str, accept: str) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with DIRECT.open(request, timeout=WAIT) as response:
            return response.status, response.headers["content-type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read().decode()


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("path", ["/", "/v1"])
def test_a_browser_at_the_servers_address_learns_what_it_is(
    local_server: ServerInfo, path: str
) -> None:
    status, kind, body = fetch(local_server.root_url + path, BROWSER)
    assert (status, kind.split(";")[0]) == (200, "text/html")
    assert "<h1>Local Batch API server</h1>" in body
    assert f"OPENAI_BASE_URL={local_server.root_url}/v1" in body
    assert "docs/local-server.md" in body and 'href="/_local/health"' in body


def test_an_api_client_still_gets_openais_404_for_v1(local_server: ServerInfo) -> None:
    status, kind, body = fetch(local_server.base_url, "application/json")
    assert (status, kind) == (404, "application/json")
    assert "Invalid URL (GET /v1)" in body


def test_a_server_stopped_and_started_again_gets_its_port_back(tmp_path: Path) -> None:
    port = free_port()
    first = ensure_server(tmp_path / "state", port=port)
    for _ in range(3):  # closed connections leave the port in TCP's TIME_WAIT for a while
        assert fetch(first.root_url + "/_local/health", "application/json")[0] == 200
    assert stop_server(tmp_path / "state")
    again = ensure_server(tmp_path / "state", port=port)
    try:
        assert again.port == port
    finally:
        stop_server(tmp_path / "state")
