"""Command line: ``batch-api-local serve [--port N] [--state-dir DIR] ...``.

Other commands: ``status`` (is a server up for this state directory?), ``stop``, ``ensure``
(start one in the background unless a healthy one is already up, then print its URL).
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from pathlib import Path

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
from .keys import admin_keys_from_env, class_keys
from .net import is_loopback
from .redaction import hide_in_logs


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
    return parser


def _clock_start(value: str) -> float:
    """``--clock``: an ISO date or date and time (UTC), as Unix seconds."""
    try:
        return parse_clock(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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


def _write_class_keys(students: int, out: Path, *, force: bool) -> int:
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
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        out.chmod(0o600)  # keys are secrets (on Windows only the read-only bit exists)
    except OSError:
        pass
    print(f"Wrote {students} student keys to {out}.")
    print()
    print("Your instructor (admin) key; keep it to yourself:")
    print(f"  {admin}")
    print()
    print("Start the class server with:")
    print(f"  batch-api-local serve --host 0.0.0.0 --keys-file {out} \\")
    print(f"      --admin-key {admin}")
    print()
    print("Hand out one line to each student:")
    for key, label in pairs:
        print(f"  {label}: OPENAI_API_KEY={key}")
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
        settings = Settings(
            state_dir=args.state_dir,
            host=args.host,
            port=args.port,
            pace=PACES[args.pace],
            token_limit=args.token_limit or None,
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
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            access_log=False,
            loop="asyncio",
            http="h11",
        )
        return 0

    if args.command == "keys":
        return _write_class_keys(args.students, args.out, force=args.force)

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
    info = ensure_server(args.state_dir, port=args.port, pace=args.pace)
    print(info.base_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
