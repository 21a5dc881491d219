"""Decide where a notebook's requests go: the local Batch API server (default) or OpenAI.

Every notebook starts with one call, :func:`setup`. It never wraps the SDK: it only sets (or, in
live mode, leaves alone) the environment variables the ``openai`` SDK reads itself,
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``, so that a bare ``OpenAI()`` in a later cell talks to
the right place.

Local mode is the default. It starts the local server if none is running for the state
directory (``$BATCH_LOCAL_STATE_DIR``, or the repository's ``.local-batch-api``) and points the SDK
at it with a local key, overriding any real ``OPENAI_API_KEY`` in this process so that key is
never sent anywhere. Live mode needs an explicit switch, ``BATCH_TUTORIAL_MODE=live``, and a key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from .local_server import DEFAULT_STATE_DIR, ensure_server

#: the environment variable that switches to live mode (value ``live``; ``local`` or unset: local)
MODE_ENV = "BATCH_TUTORIAL_MODE"
#: the environment variable that chooses the local server's state directory
STATE_DIR_ENV = "BATCH_LOCAL_STATE_DIR"
#: the key local mode gives the SDK; the local server accepts any key
LOCAL_API_KEY = "sk-local"
LIVE_BASE_URL = "https://api.openai.com/v1"
_LOOPBACK = ("127.0.0.1", "localhost")
#: OPENAI_BASE_URL and OPENAI_API_KEY as they were before local mode replaced them, so that a
#: later switch to live mode in the same process gets the user's own values back
_ORIGINAL_ENV: dict[str, tuple[str | None, str]] = {}  # name: (before, what local mode set)


@dataclass(frozen=True)
class Mode:
    """Where requests go after :func:`setup`: ``name`` is "local" or "live"."""

    name: Literal["local", "live"]
    base_url: str


def _requested_mode() -> Literal["local", "live"]:
    value = os.environ.get(MODE_ENV, "").strip().lower()
    if value in ("", "local"):
        return "local"
    if value == "live":
        return "live"
    raise ValueError(
        f"{MODE_ENV} is {os.environ[MODE_ENV]!r}; set it to 'live' or 'local' (or unset it)."
    )


def is_local() -> bool:
    """Return True unless live mode is switched on (``BATCH_TUTORIAL_MODE=live``).

    Raises ValueError when ``BATCH_TUTORIAL_MODE`` has a value other than "live" or "local".
    """
    return _requested_mode() == "local"


def _add_no_proxy() -> None:
    """Make sure loopback traffic bypasses any HTTP proxy set in the environment."""
    for name in ("NO_PROXY", "no_proxy"):
        entries = [e.strip() for e in os.environ.get(name, "").split(",") if e.strip()]
        entries += [host for host in _LOOPBACK if host not in entries]
        os.environ[name] = ",".join(entries)


def setup(*, quiet: bool = False) -> Mode:
    """Point the ``openai`` SDK at the local server (default) or at OpenAI, and say which.

    Local mode: starts the local server unless one is already running for the state directory
    (``$BATCH_LOCAL_STATE_DIR`` or the default), then sets ``OPENAI_BASE_URL`` to it,
    ``OPENAI_API_KEY`` to a local key and ``NO_PROXY``/``no_proxy`` to include loopback. Live mode
    (``BATCH_TUTORIAL_MODE=live``): changes nothing. Unless ``quiet``, prints one line naming the
    mode. Calling it again is harmless: it reuses the same server.

    Returns the :class:`Mode`. Raises RuntimeError for live mode without ``OPENAI_API_KEY`` or
    when the local server does not start, and ValueError for an unknown ``BATCH_TUTORIAL_MODE``.
    """
    if _requested_mode() == "live":
        for name, (before, ours) in _ORIGINAL_ENV.items():  # undo what local mode set earlier
            if os.environ.get(name) != ours:
                continue  # changed since: the user's own value
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before
        _ORIGINAL_ENV.clear()
        if not os.environ.get("OPENAI_API_KEY"):
            raise RuntimeError(
                f"{MODE_ENV}=live needs OPENAI_API_KEY: set it to your OpenAI API key, "
                f"or unset {MODE_ENV} to use the local server (no key, no cost)."
            )
        base_url = os.environ.get("OPENAI_BASE_URL") or LIVE_BASE_URL
        if not quiet:
            host = urlsplit(base_url).hostname or base_url
            print(f"Live mode: requests go to {host} and are billed to your account.")
        return Mode("live", base_url)

    state_dir = Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR)
    _add_no_proxy()
    info = ensure_server(state_dir)
    for name, ours in (("OPENAI_BASE_URL", info.base_url), ("OPENAI_API_KEY", LOCAL_API_KEY)):
        before = os.environ.get(name)
        if name not in _ORIGINAL_ENV or before != _ORIGINAL_ENV[name][1]:
            _ORIGINAL_ENV[name] = (before, ours)
        os.environ[name] = ours
    if not quiet:
        print(
            f"Local mode: requests go to the local Batch API server at {info.base_url} "
            "(no key, no cost)."
        )
    return Mode("local", info.base_url)
