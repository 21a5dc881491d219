"""Command line: ``batch-api-local serve [--port N] [--state-dir DIR] ...``.

Other commands: ``status`` (is a server up for this state directory?), ``stop``, ``ensure``
(start one in the background unless a healthy one is already up, then print its URL), ``keys``
(a class's keys file, and what to hand out).

``serve`` prints a short block once it listens (the address clients use, for a class server
also the class page, the keys loaded, where state lives, how to stop it) and a line when it
stops; uvicorn's own lines stay below the default log level.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import socket
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from .config import (
    CLOCK_ENV,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_QUOTA_MB,
    DEFAULT_STATE_DIR,
    PACES,
    Settings,
    clock_from_env,
    parse_clock,
)
from .constants import DEFAULT_TOKEN_LIMIT
from .keys import ADMIN_KEY_ENV, Keys, admin_keys_from_env, class_keys
from .like_live import LIKE_LIVE_ENV, like_live_from_env
from .net import is_loopback
from .redaction import hide_in_logs
from .tiers import TIERS

if TYPE_CHECKING:
    import uvicorn


def _default_state_dir() -> Path:
    return Path(os.environ.get("BATCH_LOCAL_STATE_DIR") or DEFAULT_STATE_DIR)


def _default_port() -> int:
    return int(os.environ.get("BATCH_LOCAL_PORT") or DEFAULT_PORT)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch-api-local",
        description="A local OpenAI-compatible Files and Batch API server.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server in the foreground")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help="interface to bind (default %(default)s)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=_default_port(),
        help="port (default: $BATCH_LOCAL_PORT or %(default)s)",
    )
    serve.add_argument(
        "--state-dir",
        type=Path,
        default=_default_state_dir(),
        help="where the database and file bytes live "
        "(default: $BATCH_LOCAL_STATE_DIR or %(default)s)",
    )
    serve.add_argument(
        "--pace",
        default="normal",
        choices=sorted(PACES),
        help="how fast batches move through their statuses (default %(default)s)",
    )
    serve.add_argument(
        "--token-limit",
        type=int,
        default=DEFAULT_TOKEN_LIMIT,
        help="enqueued-token limit per model; 0 for none (default %(default)s)",
    )
    serve.add_argument(
        "--tier",
        type=_tier,
        default=None,
        metavar="N",
        help="act as an organization of usage tier N (1 to 5): each model's published batch "
        "queue limit at that tier applies, and the embeddings' 1,000,000 enqueued requests; "
        "--token-limit stays for models the tier table lacks (default: no tier, --token-limit "
        "for every model)",
    )
    serve.add_argument(
        "--like-live",
        action="store_true",
        default=None,
        help="answer like the real service where the SDK's types allow, for rehearsals: no "
        "expires_at on files uploaded without expires_after, no usage on batches, some "
        f"structured-output answers refused (also ${LIKE_LIVE_ENV}=1)",
    )
    serve.add_argument(
        "--keys-file",
        type=Path,
        default=None,
        help="file with one API key per line (and a label after it); each key gets its own "
        "namespace. Needed to listen on anything but loopback",
    )
    serve.add_argument(
        "--admin-key",
        action="append",
        default=[],
        metavar="KEY",
        help="an instructor's key, which may also act on any namespace (repeatable; also "
        "$BATCH_LOCAL_ADMIN_KEY, comma-separated)",
    )
    serve.add_argument(
        "--quota-mb",
        type=float,
        default=None,
        metavar="MB",
        help=f"the megabytes (MiB) of files each key may hold, uploads and batch results "
        f"together; an upload past it is refused (default: {DEFAULT_QUOTA_MB} with --keys-file, "
        "none without; 0 for none; admin keys have none)",
    )
    serve.add_argument(
        "--upstream",
        default=None,
        help="OpenAI-compatible base URL (…/v1) that answers the batch lines",
    )
    serve.add_argument(
        "--upstream-concurrency",
        type=int,
        default=8,
        help="requests sent to --upstream at once (default %(default)s)",
    )
    serve.add_argument(
        "--upstream-retries",
        type=int,
        default=4,
        help="tries after the first for a line the upstream answers 408, 409, 429 or 5xx, or "
        "does not answer (default %(default)s)",
    )
    serve.add_argument(
        "--upstream-timeout",
        type=float,
        default=120.0,
        help="seconds one line may take upstream, every try and wait included; then it is an "
        "error line, code request_timeout (default %(default)s)",
    )
    serve.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="FILE",
        help="append every answer from --upstream to this cassette (JSON Lines)",
    )
    serve.add_argument(
        "--replay",
        type=Path,
        default=None,
        metavar="FILE",
        help="answer batch lines and direct calls from this cassette when it has the request; "
        "otherwise from --upstream, or locally",
    )
    serve.add_argument(
        "--replay-strict",
        action="store_true",
        help="with --replay: a request the cassette lacks gets a 404 not_recorded error",
    )
    serve.add_argument(
        "--clock",
        type=_clock_start,
        default=None,
        metavar="DATE",
        help="start every clock at DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, UTC) instead of now: "
        "the models served are those of that day (default: $BATCH_LOCAL_CLOCK, or now)",
    )
    serve.add_argument(
        "--any-model",
        action="store_true",
        help="accept any model name, answering unknown ones like a chat model of the catalog",
    )
    serve.add_argument(
        "--output-order",
        choices=("input", "shuffled"),
        default="input",
        help="order of result lines (default %(default)s)",
    )
    serve.add_argument(
        "--webhook-url",
        default=os.environ.get("BATCH_LOCAL_WEBHOOK_URL") or None,
        metavar="URL",
        help="send a signed webhook event there when a batch ends (default: "
        "$BATCH_LOCAL_WEBHOOK_URL); http:// on loopback only, unless --webhook-allow-remote",
    )
    serve.add_argument(
        "--webhook-secret",
        default=os.environ.get("BATCH_LOCAL_WEBHOOK_SECRET") or None,
        metavar="whsec_...",
        help="the secret that signs webhook events (default: $BATCH_LOCAL_WEBHOOK_SECRET, "
        "which keeps it out of the process list); needed with --webhook-url",
    )
    serve.add_argument(
        "--webhook-allow-remote",
        action="store_true",
        help="accept webhook URLs on other machines, and https://",
    )
    serve.add_argument(
        "--webhook-max-attempts",
        type=int,
        default=8,
        metavar="N",
        help="delivery attempts per event before it is marked failed (default %(default)s)",
    )
    serve.add_argument(
        "--webhook-retry-base",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="wait before the first retry, doubled for each later one (default %(default)s)",
    )
    serve.add_argument(
        "--webhook-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="time one delivery attempt may take (default %(default)s)",
    )
    serve.add_argument("--log-level", default="warning")

    keys = sub.add_parser(
        "keys", help="write a keys file for a class and print the keys to hand out"
    )
    keys.add_argument("--students", type=int, required=True, help="how many student keys")
    keys.add_argument("--out", type=Path, required=True, help="the keys file to write")
    keys.add_argument("--force", action="store_true", help="overwrite an existing file")
    keys.add_argument(
        "--address",
        default=None,
        help="the address students reach this machine at, for the lines they paste "
        "(default: this machine's address on its network, as far as it can tell)",
    )
    keys.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="the class server's port (default %(default)s)",
    )
    keys.add_argument(
        "--handouts",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write one file per student into DIR (student-01.txt ...), to print or send",
    )

    for name, text in (
        ("status", "print the running server for a state directory"),
        ("stop", "stop the running server for a state directory"),
        ("ensure", "start a server in the background unless one is up"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--state-dir", type=Path, default=_default_state_dir())
        if name == "ensure":
            cmd.add_argument("--port", type=int, default=None)
            cmd.add_argument("--pace", default=None, choices=sorted(PACES))
            cmd.add_argument("--tier", type=_tier, default=None, metavar="N")
            cmd.add_argument("--like-live", action="store_true")
    return parser


def _clock_start(value: str) -> float:
    """``--clock``: an ISO date or date and time (UTC), as Unix seconds."""
    try:
        return parse_clock(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _tier(value: str) -> int:
    """``--tier``: a usage tier, 1 to 5."""
    try:
        tier = int(value)
    except ValueError:
        tier = 0
    if tier not in TIERS:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a usage tier: give 1, 2, 3, 4 or 5 (or leave --tier out for the "
            "server's single --token-limit)"
        )
    return tier


def _lock_state_dir(state_dir: Path) -> FileLock | None:
    """Hold an exclusive lock on the state directory for the life of this process, or None.

    ``filelock`` takes an operating-system lock (``flock``, or ``msvcrt`` on Windows), which
    ends with the process, however the process ends.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(state_dir / "server.lock")
    try:
        lock.acquire(blocking=False)
    except Timeout:
        return None
    return lock  # kept by the caller: the lock lasts as long as this object


def _unusable(state_dir: Path) -> str | None:
    """Why the server could not keep its state in ``state_dir``, or None if it can."""
    probe = state_dir / ".write-test"
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


#: where ``keys`` tells the class server to keep its state, beside the keys file
CLASS_STATE = "class-state"


def serve_command(keys_file: Path, admin: str, port: int = DEFAULT_PORT) -> str:
    """The command that starts a class server for ``keys_file``: the one docs/classroom.md
    gives in step 2, on one line (so it pastes as it is into any shell)."""
    state_dir = keys_file.parent / CLASS_STATE
    return (
        f"batch-api-local serve --host 0.0.0.0 --port {port} --keys-file {shlex.quote(str(keys_file))} "
        f"--admin-key {admin} --state-dir {shlex.quote(str(state_dir))}"
    )


def handout_lines(key: str, base_url: str) -> tuple[str, str]:
    """What a student pastes into the terminal they start JupyterLab from: for bash and zsh
    (macOS, Linux), and for Windows PowerShell."""
    posix = f"export BATCH_TUTORIAL_MODE=classroom OPENAI_BASE_URL={base_url} OPENAI_API_KEY={key}"
    powershell = (
        f'$env:BATCH_TUTORIAL_MODE="classroom"; $env:OPENAI_BASE_URL="{base_url}"; '
        f'$env:OPENAI_API_KEY="{key}"'
    )
    return posix, powershell


def handout(label: str, key: str, base_url: str) -> str:
    """One student's handout: their lines, and what to do with them."""
    posix, powershell = handout_lines(key, base_url)
    return (
        f"{label}: your key for the class's local Batch API server (it works there only).\n"
        "\n"
        "Paste one of these lines into the terminal you start JupyterLab from, then start it\n"
        "(make lab). The first cell of every notebook says whether it reached the class server.\n"
        "\n"
        f"macOS and Linux (bash, zsh):\n{posix}\n"
        "\n"
        f"Windows (PowerShell):\n{powershell}\n"
    )


def _write_private(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    try:
        path.chmod(0o600)  # keys are secrets (on Windows only the read-only bit exists)
    except OSError:
        pass


def _write_class_keys(
    students: int,
    out: Path,
    *,
    force: bool,
    address: str | None = None,
    port: int = DEFAULT_PORT,
    handouts: Path | None = None,
) -> int:
    """``keys --students N --out FILE``: a keys file, and what to hand out."""
    if not 1 <= students <= 1000:
        print("--students must be from 1 to 1000.", file=sys.stderr)
        return 2
    if out.exists() and not force:
        print(f"{out} exists already; pass --force to replace it.", file=sys.stderr)
        return 1
    admin, pairs = class_keys(students)
    lines = ["# keys of a class: one key and its label per line (serve --keys-file)"]
    lines += [f"{key} {label}" for key, label in pairs]
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_private(out, "\n".join(lines) + "\n")
    found = address or lan_address()
    host = found or "<this machine's address>"
    base_url = f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"
    print(f"Wrote {students} student keys to {out}.")
    print()
    print("Your instructor (admin) key; keep it to yourself:")
    print(f"  {admin}")
    print()
    print("Start the class server with:")
    print(f"  {serve_command(out, admin, port)}")
    print()
    print("Hand each student their lines, to paste into the terminal they start JupyterLab")
    print("from: the first on macOS and Linux, the second in Windows PowerShell.")
    if address:
        print(f"The address in them is the one you gave, {address}.")
    elif found:
        print(f"The address in them, {found}, is this machine's on its network as far as it can")
        print("tell: check it (docs/classroom.md, step 3), or give another with --address.")
    else:
        print("Give this machine's address on the class network with --address, and run it again")
        print("(docs/classroom.md, step 3, says how to find it).")
    for key, label in pairs:
        posix, powershell = handout_lines(key, base_url)
        print()
        print(f"{label}")
        print(f"  {posix}")
        print(f"  {powershell}")
    if handouts is not None:
        handouts.mkdir(parents=True, exist_ok=True)
        for key, label in pairs:
            _write_private(handouts / f"{label}.txt", handout(label, key, base_url))
        print()
        print(f"The same, one file per student: {handouts}/{pairs[0][1]}.txt ...")
    return 0


def _webhook_problem(args: argparse.Namespace) -> str | None:
    """Why the webhook flags cannot work together, or None."""
    from .webhooks import new_secret, secret_problem, url_problem

    if args.webhook_url is None:
        if args.webhook_secret is not None:
            return "--webhook-secret (or BATCH_LOCAL_WEBHOOK_SECRET) needs --webhook-url."
    else:
        problem = url_problem(args.webhook_url, allow_remote=args.webhook_allow_remote)
        if problem is not None:
            return f"Cannot send webhooks to {args.webhook_url}: {problem}."
        if args.webhook_secret is None:
            return (
                "--webhook-url needs a signing secret, the one your receiver checks with: give "
                "it with BATCH_LOCAL_WEBHOOK_SECRET (or --webhook-secret). A new one, if you "
                f"need it: {new_secret()}"
            )
        problem = secret_problem(args.webhook_secret)
        if problem is not None:
            return f"Invalid webhook secret: {problem}."
    if args.webhook_max_attempts < 1:
        return "--webhook-max-attempts must be 1 or more."
    if not 0 <= args.webhook_retry_base <= 86_400 or not 0 < args.webhook_timeout <= 3_600:
        return "--webhook-retry-base must be 0 to 86400 seconds, --webhook-timeout 0 to 3600."
    return None


#: the shortest admin key ``serve`` accepts: one a student could not guess
MIN_ADMIN_KEY_LENGTH = 16
#: an address of no host (TEST-NET-1): asking the system how it would reach it names this
#: machine's address on its network, and sends nothing
_NOWHERE = ("192.0.2.1", 9)


def lan_address() -> str | None:
    """This machine's address on its network (the one of its default route), or None.

    Connecting a UDP socket sends no packet: it only asks the routing table which address the
    machine would send from.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_NOWHERE)
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if is_loopback(address) or address == "0.0.0.0" else address


def _where(settings: Settings) -> str:
    return f"state in {Path(settings.state_dir).resolve()}"


def startup_block(settings: Settings, keys: Keys, port: int, *, address: str | None = None) -> str:
    """What ``serve`` prints once it listens on ``port``.

    For a class server (a keys file): the address students set, the class page, how many keys
    it loaded, where its state lives and how to stop it. Otherwise the address to give the SDK.
    ``address`` is this machine's network address when the server listens on every interface
    (default: :func:`lan_address`).
    """
    host = settings.host
    everywhere = host in ("0.0.0.0", "::", "")
    if everywhere:
        address = address or lan_address()
    shown = address if everywhere else host
    if shown and ":" in shown:
        shown = f"[{shown}]"
    local = (
        f"http://127.0.0.1:{port}" if everywhere or is_loopback(host) else f"http://{shown}:{port}"
    )
    stop = "Stop it with Ctrl+C."
    if not keys.shared:
        return "\n".join(
            [
                f"Local Batch API server listening on {local}/v1 ({_where(settings)}).",
                f"  OPENAI_BASE_URL={local}/v1 (any OPENAI_API_KEY). {stop}",
            ]
        )
    students = len(keys.students or {})
    admins = len(keys.admins)
    if shown:
        for_students = f"OPENAI_BASE_URL=http://{shown}:{port}/v1"
        if everywhere:
            for_students += "  (this machine's address on its network: check it from a student's"
            for_students += " machine, see docs/classroom.md)"
    else:
        for_students = (
            f"OPENAI_BASE_URL=http://<this machine's address>:{port}/v1  (find the address: "
            "docs/classroom.md, step 3)"
        )
    page = f"{local}/_local/class/page"
    if everywhere and shown:
        page += f"  (from another machine: http://{shown}:{port}/_local/class/page)"
    return "\n".join(
        [
            f"Class server (local Batch API server) listening on {host or '*'}:{port}.",
            f"  Students set:  {for_students}",
            f"  Class page:    {page}",
            f"  Keys:          {students} student key{'s' if students != 1 else ''} from "
            f"{settings.keys_file}, {admins} admin key{'s' if admins != 1 else ''}",
            f"  State:         {Path(settings.state_dir).resolve()}",
            f"  {stop}",
        ]
    )


def _announcing_server(
    config: uvicorn.Config, started: Callable[[int], str], stopped: str
) -> uvicorn.Server:
    """uvicorn's server, which also prints ``started(port)`` once it listens, and ``stopped``
    once it has shut down (before a Ctrl+C or a SIGTERM ends the process)."""
    import uvicorn

    class Announcing(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                port = int(self.servers[0].sockets[0].getsockname()[1])
                print(started(port), file=sys.stderr, flush=True)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            await super().shutdown(sockets)
            print(stopped, file=sys.stderr, flush=True)

    return Announcing(config)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        import uvicorn

        from .app import create_app

        logging.basicConfig(
            level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        try:
            clock = args.clock if args.clock is not None else clock_from_env()
        except ValueError as exc:
            print(f"${CLOCK_ENV}: {exc}", file=sys.stderr)
            return 2
        try:
            like_live = args.like_live or like_live_from_env()
        except ValueError as exc:
            print(f"{exc}", file=sys.stderr)
            return 2
        settings = Settings(
            state_dir=args.state_dir,
            host=args.host,
            port=args.port,
            pace=PACES[args.pace],
            token_limit=args.token_limit or None,
            tier=args.tier,
            like_live=like_live,
            keys_file=args.keys_file,
            admin_keys=tuple(args.admin_key) + tuple(admin_keys_from_env()),
            quota_mb=args.quota_mb,
            upstream=args.upstream,
            upstream_concurrency=args.upstream_concurrency,
            upstream_retries=args.upstream_retries,
            upstream_timeout=args.upstream_timeout,
            replay=args.replay.resolve() if args.replay else None,
            replay_strict=args.replay_strict,
            record=args.record.resolve() if args.record else None,
            output_order=args.output_order,
            any_model=args.any_model,
            clock_start=clock,
            webhook_url=args.webhook_url,
            webhook_secret=args.webhook_secret,
            webhook_allow_remote=args.webhook_allow_remote,
            webhook_max_attempts=args.webhook_max_attempts,
            webhook_retry_base=args.webhook_retry_base,
            webhook_timeout=args.webhook_timeout,
        )
        short = [key for key in settings.admin_keys if len(key) < MIN_ADMIN_KEY_LENGTH]
        if short:
            print(
                f"An admin key must be at least {MIN_ADMIN_KEY_LENGTH} characters long (one of "
                f"--admin-key or ${ADMIN_KEY_ENV} has {len(short[0])}): anyone who guesses it "
                "may act on every student. Use the one `batch-api-local keys` made, or make "
                "one: python -c \"import secrets; print('sk-class-' + "
                'secrets.token_urlsafe(24))"',
                file=sys.stderr,
            )
            return 2
        if settings.upstream:  # an upstream may quote the key back: never in the log
            hide_in_logs(settings.upstream_key)
        if not is_loopback(settings.host) and settings.keys_file is None:
            print(
                f"Refusing to listen on {settings.host} without --keys-file: any machine that "
                "can reach it could use and change this server. Give a keys file (see "
                "docs/classroom.md), or bind 127.0.0.1.",
                file=sys.stderr,
            )
            return 2
        if args.quota_mb is not None and not 0 <= args.quota_mb <= 10**9:
            print("--quota-mb must be 0 (no quota) to 1000000000.", file=sys.stderr)
            return 2
        problem = _webhook_problem(args)
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
        problem = _unusable(settings.state_dir)
        if problem is not None:
            print(
                f"Cannot use {settings.state_dir} as the state directory: {problem}. Make it "
                "writable, or choose another with --state-dir (or BATCH_LOCAL_STATE_DIR).",
                file=sys.stderr,
            )
            return 1
        lock = _lock_state_dir(settings.state_dir)
        if lock is None:
            print(
                f"Another local server is already running for {settings.state_dir}; "
                "use it, or stop it first (batch-api-local stop).",
                file=sys.stderr,
            )
            return 1
        try:
            app = create_app(settings, record=True)
        except (OSError, sqlite3.Error) as exc:
            print(f"Cannot open the state in {settings.state_dir}: {exc}.", file=sys.stderr)
            return 1
        except ValueError as exc:  # a cassette that is not valid, flags that do not fit
            print(f"{exc}", file=sys.stderr)
            return 2
        # the same HTTP stack wherever it runs, whatever else is installed
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            access_log=False,
            loop="asyncio",
            http="h11",
        )
        keys: Keys = app.state.keys
        server = _announcing_server(
            config,
            lambda port: startup_block(settings, keys, port),
            f"Stopped the local Batch API server ({_where(settings)}).",
        )
        try:
            server.run()
        except KeyboardInterrupt:  # Ctrl+C, raised again once uvicorn has shut down
            pass
        return 0 if server.started else 1  # not started: it could not listen, as uvicorn said

    if args.command == "keys":
        return _write_class_keys(
            args.students,
            args.out,
            force=args.force,
            address=args.address,
            port=args.port,
            handouts=args.handouts,
        )

    from .launcher import ensure_server, find_server, stop_server

    state_dir = Path(args.state_dir).resolve()
    if args.command == "status":
        info = find_server(state_dir)
        if info is None:
            print(f"No local server is running for {state_dir}.")
            return 1
        print(f"A local server is running for {state_dir} at {info.base_url} (pid {info.pid}).")
        return 0
    if args.command == "stop":
        if stop_server(state_dir):
            print(f"Stopped the local server for {state_dir}.")
            return 0
        print(f"No local server is running for {state_dir}: nothing to stop.")
        return 1
    try:
        info = ensure_server(
            args.state_dir,
            port=args.port,
            pace=args.pace,
            tier=args.tier,
            like_live=args.like_live,
        )
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(info.base_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
