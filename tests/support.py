"""What the tests share, in one module: keys and ports, request lines and files, waiting on a
batch, holding a batch in a status, raw HTTP and OpenAI's error envelope, the server's log, and
a gate that holds chosen requests of a batch while it runs.

Fixtures live in ``conftest.py``; this module only has plain functions and classes, imported as
``from support import ...`` (pytest's ``pythonpath`` includes ``tests``).

No test asserts that anything is fast. Every wait here is bounded by :data:`WAIT` so that a hung
server fails the test with a message instead of hanging the run; the bound is generous on
purpose, and a test passes just the same on a slow, busy machine. A test that needs a batch in a
given status holds it there (:func:`hold`, :class:`Gate`) instead of polling fast and hoping to
catch it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import openai
from openai import OpenAI
from openai.types import Batch, FileObject

from batch_api_local import ServerInfo, ensure_server, set_pace
from batch_api_local.routes.files import UploadReceiver

TEST_KEY = "sk-local-test"
#: the date the tests' servers start their clocks at (conftest sets ``$BATCH_LOCAL_CLOCK``)
TEST_CLOCK = "2026-09-01"
CHAT = "/v1/chat/completions"
SNAPSHOT = "gpt-4o-mini-2024-07-18"
DAY = 86_400
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
ZERO_USAGE = {
    "input_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 0,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 0,
}
STAMPS = (
    "in_progress_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
)
#: the most any single wait may take before the test fails (a bound, never a speed goal)
WAIT = 60.0
#: seconds of pace that hold a batch in a status: longer than any test, so it moves on only
#: when the test sets another pace
HOLD = 3600.0
ANY = object()  # "do not compare this field"


def sdk_client(base_url: str, key: str = TEST_KEY) -> OpenAI:
    """An SDK client that never retries: a wrong status is a failure, not a wait."""
    return OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=WAIT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- request lines and files ----------------------------------------------------------------------


def chat_line(custom_id: str, content: str = "Say hello.", **body: Any) -> dict[str, Any]:
    """One /v1/chat/completions request line for gpt-4o-mini (``body`` fields override)."""
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": CHAT,
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]} | body,
    }


def jsonl(lines: Iterable[dict[str, Any] | str], newline: str = "\n") -> bytes:
    """Request lines as file bytes: dicts JSON-encoded, strings written as they are."""
    text = "".join((json.dumps(x) if isinstance(x, dict) else x) + newline for x in lines)
    return text.encode("utf-8")


def write_jsonl(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    """Write request lines to ``path`` (as :func:`jsonl` encodes them); returns ``path``."""
    path.write_bytes(jsonl(lines))
    return path


def upload(
    client: OpenAI,
    lines: bytes | Iterable[dict[str, Any] | str],
    *,
    name: str = "in.jsonl",
    purpose: str = "batch",
) -> FileObject:
    """Upload file bytes, or request lines encoded by :func:`jsonl`."""
    data = lines if isinstance(lines, bytes) else jsonl(lines)
    return client.files.create(file=(name, data), purpose=purpose)  # type: ignore[arg-type]


def start_batch(
    client: OpenAI,
    lines: bytes | Iterable[dict[str, Any] | str],
    *,
    endpoint: str = CHAT,
    **kwargs: Any,
) -> Batch:
    """Upload ``lines`` and create a batch on them (``kwargs`` go to ``batches.create``)."""
    file = upload(client, lines)
    return client.batches.create(
        input_file_id=file.id,
        endpoint=endpoint,  # type: ignore[arg-type]
        completion_window="24h",
        **kwargs,
    )


def run_batch(
    client: OpenAI,
    lines: bytes | Iterable[dict[str, Any] | str],
    *,
    endpoint: str = CHAT,
    timeout: float = WAIT,
) -> Batch:
    """Upload ``lines``, create a batch on them, and wait until the batch ends."""
    batch = start_batch(client, lines, endpoint=endpoint)
    return wait_until(client, batch.id, timeout=timeout)


def file_lines(client: OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    """The JSON lines of a result file (none when the id is null)."""
    if file_id is None:
        return []
    return [json.loads(x) for x in client.files.content(file_id).text.splitlines() if x.strip()]


def small_batch_completes(client: OpenAI) -> None:
    """A normal two-request batch still runs to ``completed`` with both answers."""
    batch = run_batch(client, [chat_line("ok-1"), chat_line("ok-2", "Name a colour.")])
    assert batch.status == "completed", batch
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed) == (2, 2)
    assert sorted(x["custom_id"] for x in file_lines(client, batch.output_file_id)) == [
        "ok-1",
        "ok-2",
    ]


# -- waiting ----------------------------------------------------------------------------------------


def poll(
    predicate: Callable[[], Any],
    *,
    timeout: float = WAIT,
    interval: float = 0.02,
    what: str = "condition",
) -> Any:
    """Call ``predicate`` until it returns something truthy; return that.

    Fails after ``timeout`` seconds with a message naming ``what``.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def wait_until(
    client: OpenAI,
    batch_id: str,
    done: Callable[[Batch], bool] = lambda b: b.status in TERMINAL,
    *,
    timeout: float = WAIT,
) -> Batch:
    """Poll ``batches.retrieve`` until ``done(batch)`` (default: a terminal status)."""
    seen: list[Batch] = []

    def check() -> Batch | None:
        batch = client.batches.retrieve(batch_id)
        seen[:] = [batch]
        return batch if done(batch) else None

    try:
        return poll(check, timeout=timeout, what=f"batch {batch_id}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen: {seen[-1] if seen else None}") from None


# -- pace: holding a batch in a status ------------------------------------------------------------

#: the pace field that keeps a batch in each status it can be held in
PACE_FIELD = {
    "validating": "validating",
    "in_progress": "per_request",
    "finalizing": "finalizing",
    "cancelling": "cancelling",
}


def conn(client: OpenAI) -> dict[str, str]:
    """base_url/api_key keyword arguments for the control-surface wrappers."""
    return {"base_url": str(client.base_url), "api_key": client.api_key}


def hold(client: OpenAI, *statuses: str) -> None:
    """Keep every batch of ``client``'s server in ``statuses`` until :func:`release`.

    Every other status passes at once. The runner measures the time a batch has spent in its
    current status against the pace it reads on each tick, so a batch held in ``in_progress``
    runs no request at all, and one released moves on at its next tick. The server's pace is
    shared by all its batches; the ``client`` fixture's reset puts it back to "instant".
    """
    unknown = set(statuses) - set(PACE_FIELD)
    assert not unknown, f"a batch cannot be held in {unknown}"
    held = {PACE_FIELD[status] for status in statuses}
    set_pace(
        **{field: HOLD if field in held else 0 for field in PACE_FIELD.values()}, **conn(client)
    )


def move_to(client: OpenAI, batch_id: str, status: str) -> Batch:
    """Let a held batch move on to ``status`` and hold it there; returns it in that status.

    The batch must already be held in an earlier status (:func:`hold` before creating it):
    a batch that is not held may have passed ``status`` before this is called.
    """
    hold(client, status)
    batch = wait_until(client, batch_id, lambda b: b.status == status or b.status in TERMINAL)
    assert batch.status == status, f"expected {status}, got {batch}"
    return batch


def release(client: OpenAI) -> None:
    """Let every held batch of ``client``'s server move on, as fast as the machine allows."""
    set_pace("instant", **conn(client))


# -- raw HTTP and OpenAI's error envelope ---------------------------------------------------------


class RawApi:
    """Raw requests the SDK would not send as they are (no key, a broken body...).

    ``base`` is an SDK client (requests go under its ``/v1`` base URL) or any URL, such as a
    server's root for ``/_local/...``. Never goes through a proxy.
    """

    def __init__(self, base: OpenAI | str, key: str | None = TEST_KEY) -> None:
        url = str(base.base_url) if isinstance(base, OpenAI) else base
        self.base_url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        self.http = httpx2.Client(trust_env=False, timeout=WAIT, headers=headers)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        return self.http.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx2.Response:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RawApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def raw(
    base: OpenAI | str, method: str, path: str, *, key: str | None = TEST_KEY, **kwargs: Any
) -> httpx2.Response:
    """One :class:`RawApi` request (``headers`` given here are added to the key's)."""
    with RawApi(base, key) as api:
        return api.request(method, path, **kwargs)


def raw_json(client: OpenAI, path: str) -> dict[str, Any]:
    """The JSON the server sends for ``GET path``, untouched by the SDK's models."""
    return client.get(path, cast_to=object)  # type: ignore[return-value]


def assert_envelope(
    body: Any,
    message: Any = ANY,
    *,
    param: Any = ANY,
    code: Any = ANY,
    error_type: Any = ANY,
) -> dict[str, Any]:
    """``body`` is exactly OpenAI's ``{"error": {message, type, param, code}}``; returns the error.

    The fields given are compared; the others are only checked for their type.
    """
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["type"], str) and error["type"], error
    assert error["param"] is None or isinstance(error["param"], str), error
    assert error["code"] is None or isinstance(error["code"], str), error
    wanted = {"message": message, "param": param, "code": code, "type": error_type}
    for name, want in wanted.items():
        if want is not ANY:
            assert error[name] == want, (name, error)
    return error


def assert_error(
    response: httpx2.Response,
    status: int,
    message: Any = ANY,
    *,
    param: Any = ANY,
    code: Any = ANY,
    error_type: Any = "invalid_request_error",
) -> dict[str, Any]:
    """``response`` has ``status`` and a JSON body that is exactly OpenAI's error envelope."""
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    return assert_envelope(response.json(), message, param=param, code=code, error_type=error_type)


def sdk_error(exc: openai.APIStatusError, message: Any = ANY) -> dict[str, Any]:
    """The error behind an SDK exception, checked as :func:`assert_error` checks a response."""
    return assert_error(exc.response, exc.status_code, message, error_type=ANY)


# -- the server's health and log ------------------------------------------------------------------


def assert_healthy(root: str) -> None:
    """``GET /_local/health`` answers 200 with status ok (no key needed)."""
    response = raw(root, "GET", "/_local/health", key=None)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


def log_offset(state_dir: str | Path) -> int:
    path = Path(state_dir) / "server.log"
    return path.stat().st_size if path.exists() else 0


def log_since(state_dir: str | Path, offset: int) -> str:
    """What the server logged after ``offset`` bytes."""
    path = Path(state_dir) / "server.log"
    if not path.exists():
        return ""
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read().decode("utf-8", errors="replace")


def assert_clean_log(text: str) -> None:
    """No tracebacks, unhandled errors or SQLite lock errors in a server log excerpt."""
    for marker in ("Traceback", "unhandled error", "database is locked", " ERROR ", "ERROR:"):
        assert marker not in text, f"{marker!r} in the server log:\n{text[-3000:]}"


# -- the gate: a batch that stops part-way, whatever the machine's speed -------------------------

#: put this in a request's content and a closed :class:`Gate` holds the request
HELD = "[held at the gate]"
#: requests a server started with ``--upstream`` sends at once. Its runner records each answer
#: before it sends the next request, so once every one of these requests is held at a closed
#: gate, every line before them is counted, and nothing moves until the gate opens.
GATE_CONCURRENCY = 2
#: free lines a gated batch starts with: more than run at once, so some are done when it stops
GATE_CHUNK = 2 * GATE_CONCURRENCY


def contains_held(body: bytes) -> bool:
    """The gate's default choice: hold the requests whose content has :data:`HELD` in it."""
    return HELD.encode() in body


def gated_lines(free: int, held: int, prefix: str = "r") -> list[dict[str, Any]]:
    """``free`` chat lines the gate lets through, then ``held`` lines it holds while closed."""
    return [
        chat_line(f"{prefix}{i}", f"Question {i}" if i < free else f"Question {i} {HELD}")
        for i in range(free + held)
    ]


class Gate:
    """An OpenAI-compatible upstream that passes requests on to another server, holding some.

    A second local server started with ``--upstream gate.base_url`` runs each batch line by
    sending it here; the gate forwards it to ``target`` (the session's local server, whose
    synchronous endpoints answer like the real ones). While the gate is closed, a request is
    held until :meth:`open` when ``holds(body)`` is true for its raw JSON body (by default,
    :func:`contains_held`). Once every request the server runs at once (``workers``, its
    ``--upstream-concurrency``) is held, a batch stops part-way, with the requests before them
    done and counted, and stays ``in_progress`` (or ``cancelling``, once cancelled) until the
    test opens the gate: no timing involved.
    """

    def __init__(self, target: str, workers: int = GATE_CONCURRENCY) -> None:
        self.target = target.rstrip("/")
        #: requests the gated server sends at once (:func:`start_gated_server` sets it)
        self.workers = workers
        self.holds: Callable[[bytes], bool] = contains_held
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._held_since_close = 0
        self._http = httpx2.Client(trust_env=False, timeout=WAIT)
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gate._wait_if_held(body)
                reply = gate._http.post(
                    gate.target + self.path,
                    content=body,
                    headers={
                        "Authorization": self.headers.get("Authorization", ""),
                        "Content-Type": "application/json",
                    },
                )
                self.send_response(reply.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a server killed mid-request leaves a broken connection: nothing to do

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        """From now on, hold the requests ``holds`` picks (until :meth:`open`)."""
        with self._lock:
            self._held_since_close = 0
        self._open.clear()

    def open(self) -> None:
        """Let every held request through, and hold no more."""
        self._open.set()

    def wait_for_held(self, timeout: float = WAIT) -> None:
        """Wait until as many requests as the server sends at once (``workers``) are held
        since the last :meth:`close`.

        From then on its batch cannot get past them: the counts and result lines the batch shows
        stay as they are until :meth:`open`.
        """

        def held() -> bool:
            with self._lock:
                return self._held_since_close >= self.workers

        poll(held, timeout=timeout, what=f"{self.workers} requests held at the gate")

    def shutdown(self) -> None:
        self.open()
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def _wait_if_held(self, body: bytes) -> None:
        if self._open.is_set() or not self.holds(body):
            return
        with self._lock:
            self._held_since_close += 1
        # bounded, so that a test that failed before opening the gate cannot hang the run
        self._open.wait(timeout=10 * WAIT)


def service_upload(
    service: Any,
    namespace: str,
    data: bytes,
    *,
    filename: str = "in.jsonl",
    purpose: str = "batch",
    chunk: int = 64 * 1024,
) -> dict[str, Any]:
    """Upload ``data`` to an in-process ``Service`` the way ``POST /v1/files`` does: a multipart
    body fed, chunk by chunk, to the route's own :class:`UploadReceiver`. Returns the File."""
    boundary = "local-batch-api-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    receiver = UploadReceiver(service.files, namespace, f"multipart/form-data; boundary={boundary}")
    for start in range(0, len(body), chunk):
        receiver.feed(body[start : start + chunk])
    upload: dict[str, Any] = receiver.finish()
    return upload


def service_batch(service: Any, prompts: list[str], namespace: str = "ns") -> str:
    """Upload chat lines ``r0``, ``r1`` ... (one per prompt) to an in-process
    ``Service`` and create a batch on them; returns its id (for runner tests without HTTP)."""
    data = jsonl(chat_line(f"r{i}", prompt) for i, prompt in enumerate(prompts))
    file = service_upload(service, namespace, data)
    body = {"input_file_id": file["id"], "endpoint": CHAT, "completion_window": "24h"}
    return service.batches.create(namespace, body)["id"]


def start_class_server(
    folder: Path, students: Iterable[tuple[str, str]], admin_key: str
) -> ServerInfo:
    """A classroom server (pace "instant") in ``folder``: a keys file of the (key, label)
    ``students`` and an admin key. Stop it with ``stop_server(folder / "state")``."""
    keys_file = folder / "keys.txt"
    keys_file.write_text(
        "# one key and its label per line\n"
        + "".join(f"{key} {label}\n" for key, label in students),
        encoding="utf-8",
    )
    return ensure_server(
        folder / "state",
        port=free_port(),
        pace="instant",
        extra_args=["--keys-file", str(keys_file), "--admin-key", admin_key],
    )


def start_gated_server(
    gate: Gate, state_dir: str | Path, concurrency: int = GATE_CONCURRENCY
) -> ServerInfo:
    """A local server (pace "instant") that sends every batch line through ``gate``."""
    gate.workers = concurrency
    return ensure_server(
        state_dir,
        port=free_port(),
        pace="instant",
        extra_args=["--upstream", gate.base_url, "--upstream-concurrency", str(concurrency)],
    )


@dataclass
class GatedServer:
    """A second local server whose batch lines go through ``gate``."""

    info: ServerInfo
    gate: Gate


@dataclass
class Gated:
    """An SDK client on an empty namespace of the gated server, and its (closed) gate."""

    client: OpenAI
    gate: Gate


# -- the server as a real subprocess, with a prologue of our own -----------------------------
# ``python -c PROLOGUE + RUN serve ...`` behaves like ``batch-api-local serve ...``
# (``runpy`` with ``alter_sys``), after ``PROLOGUE`` has run: the startup and portability tests
# use it to look inside the server process or to take something away from it before any import.

ROOT = Path(__file__).resolve().parents[2]
RUN = (
    "import runpy, sys\n"
    "sys.argv[0] = 'batch_api_local'\n"
    "runpy.run_module('batch_api_local', run_name='__main__', alter_sys=True)\n"
)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def server_command(prologue: str, port: int, state_dir: Path) -> list[str]:
    code = prologue + "\n" + RUN
    return [sys.executable, "-c", code, "serve", "--port", str(port), "--state-dir", str(state_dir)]


def server_env() -> dict[str, str]:
    """The environment the launcher gives the server: this checkout first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def models_status(port: int, timeout: float = 1.0) -> int | None:
    """The status of ``GET /v1/models`` on ``port``, or None when nothing answers."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": "Bearer x"}
    )
    try:
        with _NO_PROXY.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_for_models(process: subprocess.Popen, port: int, timeout: float = 30.0) -> None:
    """Wait until the server answers ``GET /v1/models`` with 200; fail if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if models_status(port, timeout=0.5) == 200:
            return
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the server exited with {process.returncode}:\n{out}\n{err}")
        time.sleep(0.05)
    raise AssertionError(f"the server did not answer GET /v1/models within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- a third-party OpenAI-compatible mock server, with faults on demand --------------------------


class MockUpstream:
    """LLMock (``pip install llmock``, pinned in requirements.txt) in a subprocess on a free port.

    An OpenAI-compatible server that answers chat, Responses and embeddings requests offline,
    fails on cue (:meth:`script`: an HTTP status ``times`` times, with a ``Retry-After``; a
    delay; a scripted reply) and keeps a journal of every request it got (:meth:`requests`), so
    a test counts attempts instead of measuring time.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.base_url = self.root_url + "/v1"
        command = [sys.executable, "-m", "llmock.cli", "serve", "--port", str(self.port)]
        command += ["--log-level", "warning", "--tool-mode", "off", "--response-style", "echo"]
        self._log = tempfile.TemporaryFile()  # a file, not a pipe: nothing can fill it up
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=self._log, env=server_env()
        )
        self.http = httpx2.Client(trust_env=False, timeout=WAIT, base_url=self.root_url)

        def healthy() -> bool:
            if self.process.poll() is not None:
                self._log.seek(0)
                raise AssertionError(f"llmock exited: {self._log.read()[-2000:]!r}")
            try:
                return self.http.get("/health").status_code == 200
            except httpx2.HTTPError:
                return False

        poll(healthy, interval=0.1, what="llmock to answer /health")

    def reset(self) -> None:
        """Forget every request and scripted behaviour."""
        self.http.post("/_llmock/reset").raise_for_status()

    def script(self, *behaviors: dict[str, Any]) -> None:
        """Queue behaviours, e.g. ``{"type": "fail", "status": 503, "times": 2}``."""
        self.http.post("/_llmock/scenario", json={"behaviors": list(behaviors)}).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        """Every request served since the last reset, oldest first (status, body, fault...)."""
        response = self.http.get("/_llmock/requests")
        response.raise_for_status()
        return response.json()["requests"]

    def prompts(self) -> list[str]:
        """The last user message of every chat request served, in order."""
        return [
            r["body"]["messages"][-1]["content"]
            for r in self.requests()
            if isinstance(r.get("body"), dict) and "messages" in r["body"]
        ]

    def stop(self) -> None:
        self.http.close()
        stop(self.process)
        self._log.close()


# -- a notebook kernel's environment --------------------------------------------------------------


def notebook_env(mode: str, base_url: str, key: str, *, mpl_backend: str = "agg") -> dict[str, str]:
    """What a learner sets for ``mode`` ("classroom" or "live") before starting a kernel, on top
    of this process's environment without its own OpenAI and Batch settings. The kernel imports
    ``helpers`` from this checkout, not from wherever the environment's editable install points."""
    checkout = str(Path(__file__).resolve().parents[1])
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "BATCH_TUTORIAL_", "BATCH_LOCAL_"))
    }
    env.update(
        BATCH_TUTORIAL_MODE=mode,
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY=key,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        MPLBACKEND=mpl_backend,
        PYTHONPATH=os.pathsep.join(p for p in (checkout, os.environ.get("PYTHONPATH")) if p),
    )
    return env
