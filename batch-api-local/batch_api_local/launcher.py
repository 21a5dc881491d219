"""Make sure one server is running for a state directory: reuse a healthy one, or start one.

A server records itself in its state directory, ``server.json`` (URL, port, pid and a random
``instance`` token), as it starts. Its health check (``/_local/health``), open to anyone, says
only that it is up, its version and that token: the launcher trusts a server when the token on
the recorded port matches the record, so nothing about the state directory is told to strangers.
The launcher holds a file lock while it looks and starts, so two notebooks starting at once end
up sharing one server.

Nothing here is POSIX-only at import time: the lock is the ``filelock`` package's, and the few
calls that differ on Windows (is a process alive, start one in the background, stop it) choose
their way when they run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from .config import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_STATE_DIR
from .net import DIRECT, api_root


@dataclass(frozen=True)
class ServerInfo:
    """Where a running local server listens."""

    base_url: str  # e.g. http://127.0.0.1:8765/v1, what OPENAI_BASE_URL should be
    port: int
    pid: int
    state_dir: str

    @property
    def root_url(self) -> str:
        """The server's root (``http://127.0.0.1:8765``), where ``/_local/...`` lives."""
        return api_root(self.base_url)


RECORD = "server.json"


def record_server(state_dir: Path, port: int, instance: str, *, like_live: bool = False) -> None:
    """Write the running server's record (called by the server itself as it starts)."""
    record = {
        "base_url": f"http://{DEFAULT_HOST}:{port}/v1",
        "port": port,
        "pid": os.getpid(),
        "state_dir": str(state_dir),
        "instance": instance,
        "like_live": like_live,
    }
    tmp = state_dir / (RECORD + ".tmp")
    tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
    os.replace(tmp, state_dir / RECORD)


def _read_record(state_dir: Path) -> dict | None:
    try:
        saved = json.loads((state_dir / RECORD).read_text(encoding="utf-8"))
        int(saved["port"]), int(saved["pid"]), str(saved["instance"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return saved


def _healthy(port: int, instance: str, timeout: float = 1.0) -> bool:
    """Whether the server on ``port`` is up and is the recorded ``instance``."""
    try:
        with DIRECT.open(f"http://{DEFAULT_HOST}:{port}/_local/health", timeout=timeout) as r:
            health = json.load(r)
    except (OSError, ValueError):
        return False
    return (
        isinstance(health, dict)
        and health.get("status") == "ok"
        and (health.get("instance") == instance)
    )


def _port_free(port: int) -> bool:
    """Whether the server could listen on ``port`` now.

    Asked as the server binds (asyncio sets SO_REUSEADDR on POSIX): connections that ended a
    moment ago, waiting out TCP's TIME_WAIT on that port, do not keep it from the next server,
    so ``make stop`` then ``make lab`` gets the same port back. (On Windows that option would let
    two servers share a port, and TIME_WAIT does not block a bind there.)
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((DEFAULT_HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((DEFAULT_HOST, 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie, killed but not yet reaped by its parent, does not)."""
    if sys.platform == "win32":
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists (POSIX)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux tells zombies apart; elsewhere a zombie counts as alive until reaped
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _alive_windows(pid: int) -> bool:
    """Whether a process runs, on Windows, where ``os.kill(pid, 0)`` would terminate it."""
    if sys.platform != "win32":  # also tells type checkers on other systems to skip the rest
        raise RuntimeError("only for Windows")
    import ctypes
    from ctypes import wintypes

    process_query_limited_information = 0x1000
    still_active = 259
    error_access_denied = 5
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.GetExitCodeProcess.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
    kernel32.GetExitCodeProcess.restype = wintypes.BOOL
    kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
    kernel32.CloseHandle.restype = wintypes.BOOL
    handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
    if not handle:
        # no such process, or one we may not look at (which therefore exists)
        return ctypes.get_last_error() == error_access_denied
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


def find_server(
    state_dir: str | Path = DEFAULT_STATE_DIR, patience: float = 10.0
) -> ServerInfo | None:
    """The healthy server recorded for ``state_dir``, or None.

    A server that is busy (validating a 200 MB file, say) may answer its health check slowly:
    while the recorded process is alive, keep asking for up to ``patience`` seconds.
    """
    state_dir = Path(state_dir).resolve()
    saved = _read_record(state_dir)
    if saved is None:
        return None
    port, pid = int(saved["port"]), int(saved["pid"])
    deadline = time.monotonic() + patience
    while True:
        if _healthy(port, saved["instance"], timeout=1.0):
            return ServerInfo(saved["base_url"], port, pid, str(state_dir))
        if not _alive(pid) or time.monotonic() > deadline:
            return None
        time.sleep(0.2)


def _start(
    state_dir: Path, port: int, pace: str | None, extra_args: list[str] | None
) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "batch_api_local",
        "serve",
        "--port",
        str(port),
        "--state-dir",
        str(state_dir),
    ]
    if pace:
        command += ["--pace", pace]
    command += extra_args or []
    package_root = Path(__file__).resolve().parents[1]  # the folder that holds this package
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(package_root), env.get("PYTHONPATH", "")) if p
    )
    # Detached from the caller's terminal, so its Ctrl+C does not stop the server too.
    new_session, creationflags = True, 0
    if sys.platform == "win32":
        new_session = False
        creationflags = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW
    with open(state_dir / "server.log", "ab") as log:
        return subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=str(package_root),
            start_new_session=new_session,
            creationflags=creationflags,
        )


def ensure_server(
    state_dir: str | Path = DEFAULT_STATE_DIR,
    *,
    port: int | None = None,
    pace: str | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 30.0,
    tier: int | None = None,
    like_live: bool = False,
) -> ServerInfo:
    """Return the server for ``state_dir``, starting one in the background if none is healthy.

    ``tier`` starts it with ``--tier`` (a usage tier, 1 to 5: each model's published batch
    queue limit); ``like_live`` with ``--like-live`` (answers like the real service where the
    SDK's types allow, for rehearsals). A server already running for ``state_dir`` keeps its
    own settings, except that ``like_live=True`` refuses (RuntimeError) one started without it.

    ``port`` defaults to $BATCH_LOCAL_PORT or 8765, or any free port when that one is taken
    (also when another program takes it between the check and the server's start); ``port=0``
    asks for any free port.
    Raises RuntimeError (with the end of the server's log) if it does not come up in ``timeout``.
    """
    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "server.log"
    with FileLock(state_dir / ".launcher.lock"):
        found = find_server(state_dir)
        if found is not None:
            record = _read_record(state_dir) or {}
            if like_live and not record.get("like_live"):
                raise RuntimeError(
                    f"A local server already runs for {state_dir} without --like-live: stop it "
                    "first (batch-api-local stop --state-dir ...), or use another state directory."
                )
            return found
        extra_args = list(extra_args or [])
        if tier is not None:
            extra_args += ["--tier", str(tier)]
        if like_live:
            extra_args.append("--like-live")
        wanted = port if port is not None else int(os.environ.get("BATCH_LOCAL_PORT", DEFAULT_PORT))
        chosen = wanted if wanted and _port_free(wanted) else _free_port()
        deadline = time.monotonic() + timeout
        log_start = log_path.stat().st_size if log_path.exists() else 0
        process = _start(state_dir, chosen, pace, extra_args)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = _log_since(log_path, log_start)
                if "address already in use" in tail.lower():  # lost a race for the port
                    chosen = _free_port()
                    log_start = log_path.stat().st_size
                    process = _start(state_dir, chosen, pace, extra_args)
                    continue
                break
            saved = _read_record(state_dir)
            if (
                saved is not None
                and int(saved["pid"]) == process.pid
                and _healthy(chosen, saved["instance"], timeout=0.5)
            ):
                return ServerInfo(saved["base_url"], chosen, process.pid, str(state_dir))
            time.sleep(0.1)
        if process.poll() is None:
            process.kill()
        raise RuntimeError(
            "The local server did not start. Its log ends with:\n" + _log_since(log_path, 0)[-2000:]
        )


def _log_since(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def stop_server(state_dir: str | Path = DEFAULT_STATE_DIR, timeout: float = 10.0) -> bool:
    """Stop the server for ``state_dir``, and wait (up to ``timeout`` seconds) until its process
    has ended, so that its port is free again. Returns whether one was running."""
    info = find_server(state_dir)
    if info is None:
        return False
    # SIGTERM lets uvicorn shut down cleanly. On Windows, os.kill with it calls TerminateProcess
    # (a console Ctrl+Break would not reach a server started without a console): the server
    # takes that like any crash, its state being written crash-safely.
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    saved = _read_record(Path(info.state_dir))
    instance = saved["instance"] if saved else ""
    while time.monotonic() < deadline and _healthy(info.port, instance, 0.3):
        time.sleep(0.1)
    while time.monotonic() < deadline and _alive(info.pid):
        time.sleep(0.1)
    return True
