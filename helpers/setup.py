"""Decide where a notebook's requests go: the local Batch API server (default), a class's shared
local server, or OpenAI.

Every notebook starts with one call, :func:`setup`. It never wraps the SDK: it only sets (or, in
classroom and live mode, leaves alone) the environment variables the ``openai`` SDK reads itself,
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``, so that a bare ``OpenAI()`` in a later cell talks to
the right place.

Local mode is the default. It starts the local server if none is running for the state
directory (``$BATCH_LOCAL_STATE_DIR``, or the repository's ``.local-batch-api``) and points the SDK
at it with a local key, overriding any real ``OPENAI_API_KEY`` in this process so that key is
never sent anywhere.

Classroom mode (``BATCH_TUTORIAL_MODE=classroom``) uses the local server an instructor runs for
the whole class: ``OPENAI_BASE_URL`` is its address and ``OPENAI_API_KEY`` the student's class
key. :func:`setup` checks both before any notebook cell uses them (see ``docs/classroom.md``).

Live mode needs an explicit switch, ``BATCH_TUTORIAL_MODE=live``, and a key.

When a mode lacks what it needs, :func:`setup` raises :class:`SetupError`, whose message says
what to fix in one sentence; Jupyter shows that sentence alone, without a traceback.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from batch_api_local import (
    api_root,
    bypass_proxy,
    direct_opener,
    ensure_server,
    is_loopback,
)
from batch_api_local import mask_key as mask
from batch_api_local.control import ControlError, set_pace

#: the environment variable that chooses the mode: ``live``, ``classroom``, or ``local``/unset
MODE_ENV = "BATCH_TUTORIAL_MODE"
#: the environment variable that chooses the local server's state directory
STATE_DIR_ENV = "BATCH_LOCAL_STATE_DIR"
#: the local server's state directory when that variable is not set: the repository's own,
#: ignored by git, whichever folder a notebook runs in
DEFAULT_STATE_DIR = Path(__file__).resolve().parents[1] / ".local-batch-api"
#: the pace that means "the server's default" (a class's pace on a class server)
DEFAULT_PACE = "default"
#: the key local mode gives the SDK; the local server accepts any key
LOCAL_API_KEY = "sk-local"
LIVE_BASE_URL = "https://api.openai.com/v1"
LIVE_HOST = "api.openai.com"
#: what a local Batch API server says it is in ``GET /_local/whoami``
LOCAL_SERVER_NAME = "local-batch-api"
#: seconds classroom mode waits for the class server before it says it cannot reach it
CHECK_TIMEOUT = 5.0
#: the class server is asked directly, never through a proxy (as the SDK will, see bypass_proxy)
_DIRECT = direct_opener()
#: OPENAI_BASE_URL and OPENAI_API_KEY as they were before local mode replaced them, so that a
#: later switch to live or classroom mode in the same process gets the user's own values back
_ORIGINAL_ENV: dict[str, tuple[str | None, str]] = {}  # name: (before, what local mode set)

ModeName = Literal["local", "live", "classroom"]


class SetupError(RuntimeError):
    """The setup cell cannot go on; the message says what to fix, in a sentence.

    In Jupyter the cell shows that message alone: IPython calls an exception's
    ``_render_traceback_``, when it has one, instead of printing the traceback through this
    module. In a plain Python traceback :func:`setup` raises it itself, so it shows only the
    caller's line and that ``raise``.
    """

    def _render_traceback_(self) -> list[str]:
        # red, as IPython colours an exception's name; one line per line of the message
        return [f"\x1b[0;31m{line}\x1b[0m" for line in str(self).splitlines()]


class ModeError(SetupError, ValueError):
    """``BATCH_TUTORIAL_MODE`` has a value that names no mode."""


# shown in a plain traceback as helpers.SetupError, where learners import it from
SetupError.__module__ = ModeError.__module__ = "helpers"


@dataclass(frozen=True)
class Mode:
    """Where requests go after :func:`setup`: ``name`` is "local", "classroom" or "live"."""

    name: ModeName
    base_url: str


def _requested_mode() -> ModeName:
    value = os.environ.get(MODE_ENV, "").strip().lower()
    if value in ("", "local"):
        return "local"
    if value == "live":
        return "live"
    if value == "classroom":
        return "classroom"
    raise ModeError(
        f"{MODE_ENV} is {os.environ[MODE_ENV]!r}; set it to 'live', 'classroom' or 'local' "
        "(or unset it)."
    )


def is_local() -> bool:
    """Return True unless live mode is switched on (``BATCH_TUTORIAL_MODE=live``).

    True in local mode and in classroom mode: both talk to a local Batch API server, so the
    cells marked "Local only" run there (on a class server they change only the student's own
    clock, pace and batches). Raises ValueError when ``BATCH_TUTORIAL_MODE`` has a value other
    than "local", "classroom" or "live".
    """
    return _requested_mode() != "live"


def _restore_user_env() -> None:
    """Undo what local mode set earlier in this process, where the user has not changed it."""
    for name, (before, ours) in _ORIGINAL_ENV.items():
        if os.environ.get(name) != ours:
            continue  # changed since: the user's own value
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
    _ORIGINAL_ENV.clear()


def _host_of(url: str) -> str:
    """``host`` or ``host:port`` of a URL, without any user name or password."""
    return urlsplit(url).netloc.rpartition("@")[2] or url


def setup(*, quiet: bool = False, tier: int | None = None, pace: str | None = None) -> Mode:
    """Point the ``openai`` SDK at the local server (default), a class server or OpenAI.

    Local mode: starts the local server unless one is already running for the state directory
    (``$BATCH_LOCAL_STATE_DIR`` or the default), then sets ``OPENAI_BASE_URL`` to it,
    ``OPENAI_API_KEY`` to a local key and ``NO_PROXY``/``no_proxy`` to include loopback.
    Classroom mode (``BATCH_TUTORIAL_MODE=classroom``): checks that ``OPENAI_BASE_URL`` is a
    local Batch API server that accepts ``OPENAI_API_KEY``, and leaves both as they are (see
    :func:`check_class_server`). Live mode (``BATCH_TUTORIAL_MODE=live``): changes nothing.
    Unless ``quiet``, prints one line naming the mode. Calling it again is harmless: it reuses
    the same server.

    ``tier`` (1 to 5), in local mode only, makes the local server treat this notebook's
    batches as an organization of that usage tier would be treated: each model's published
    batch queue limit at that tier (see ``batch_api_local.set_tier``); None puts back the
    server's own setting (``serve --tier``, or its single ``--token-limit``). In classroom and
    live mode it does nothing: a class server's limits are the instructor's, and OpenAI's are
    your organization's.

    ``pace`` chooses how fast this notebook's batches move on a local server, for a notebook
    whose batches nobody watches: ``setup(pace="instant")``. It names a preset of the server
    ("instant", "normal", "slow"). Without it, the pace goes back to the default, so that a
    notebook after one that chose ``instant`` runs at the usual pace again. The default is the
    server's start-up pace (``--pace``), or on a class server the pace the instructor last set
    for the whole class, which a student's notebook thus never undoes (see
    ``docs/classroom.md``). Either way it changes the caller's own namespace only. Live mode
    ignores it: the real service has its own pace.

    Returns the :class:`Mode`. Raises :class:`SetupError` (a RuntimeError), with one line saying
    what to fix, for live or classroom mode without what they need, for a class server that is
    unreachable, is not a local Batch API server or refuses the key, when the local server
    does not start (then with the end of its log), and for a ``pace`` that names no preset;
    :class:`ModeError` (also a ValueError) for an unknown ``BATCH_TUTORIAL_MODE``.
    """
    try:
        mode = _setup(quiet)
        if mode.name == "local":
            _set_tier(mode.base_url, tier)
        _set_pace(mode, pace, quiet)
        return mode
    except SetupError as error:
        # raised again from here, from nothing: the traceback shows this line, not the frames of
        # this module it came through, nor what it was raised while handling
        raise error.with_traceback(None) from None  # what to fix: the line below


def _set_tier(base_url: str, tier: int | None) -> None:
    """Local mode: the usage tier of this process's namespace on the local server."""
    from batch_api_local import ControlError, set_tier

    try:
        set_tier("default" if tier is None else tier, base_url=base_url, api_key=LOCAL_API_KEY)
    except ControlError as error:
        raise SetupError(f"setup(tier={tier!r}): {error}") from None


def _setup(quiet: bool) -> Mode:
    mode = _requested_mode()
    if mode == "live":
        _restore_user_env()
        if not os.environ.get("OPENAI_API_KEY"):
            raise SetupError(
                f"{MODE_ENV}=live needs OPENAI_API_KEY: set it to your OpenAI API key, "
                f"or unset {MODE_ENV} to use the local server (no key, no cost)."
            )
        base_url = os.environ.get("OPENAI_BASE_URL") or LIVE_BASE_URL
        if not quiet:
            if urlsplit(base_url).hostname == LIVE_HOST:
                print(f"Live mode: requests go to {LIVE_HOST} and are billed to your account.")
            else:
                print(
                    f"Live mode: requests go to {_host_of(base_url)} (OPENAI_BASE_URL); whether "
                    "and how they are billed depends on that service."
                )
        return Mode("live", base_url)

    if mode == "classroom":
        _restore_user_env()
        base_url, label = check_class_server()
        if not quiet:
            print(
                f"Classroom mode: requests go to the class's local Batch API server at "
                f"{base_url} as {label} (no cost)."
            )
        return Mode("classroom", base_url)

    state_dir = Path(os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR)
    bypass_proxy()
    try:
        info = ensure_server(state_dir)
    except RuntimeError as error:  # it did not start: the message ends with the end of its log
        raise SetupError(str(error)) from None
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


def _set_pace(mode: Mode, pace: str | None, quiet: bool) -> None:
    """The pace of the caller's batches on a local or class server: ``pace``, or the default."""
    if mode.name == "live":
        return  # the real service's pace is its own
    if pace is not None and (not isinstance(pace, str) or pace in ("", DEFAULT_PACE)):
        raise SetupError(
            f"pace is {pace!r}: name a preset, such as 'instant', 'normal' or 'slow', or leave it "
            "out for the usual pace."
        )
    try:
        set_pace(DEFAULT_PACE if pace is None else pace, base_url=mode.base_url)
    except (ControlError, OSError) as error:
        if pace is not None:  # asked for: say why it was refused
            raise SetupError(f"The server refused pace={pace!r}: {error}") from None
        # not asked for: a server too old to know "default" keeps the pace it has
        return
    if pace is not None and not quiet:
        print(f"Batches of this notebook run at the {pace!r} pace (local server only).")


# -- classroom mode -------------------------------------------------------------------------------

_EXAMPLE_URL = "http://192.168.1.20:8765/v1"


#: the address ranges that only exist on a local network: private (RFC 1918, RFC 4193) and
#: link-local
LAN_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
    )
)


def _lan_address(host: str) -> bool:
    """Whether ``host`` is an IP address of a local network (see :data:`LAN_NETWORKS`)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in LAN_NETWORKS)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _proxy_for(url: str) -> str | None:
    """The proxy the ``openai`` SDK would send requests for ``url`` through, or None.

    The SDK's HTTP client reads the proxies from the environment (and, on macOS and Windows,
    from the system's settings) and exempts the hosts listed in ``NO_PROXY``.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy:
        return None
    for entry in proxies.get("no", "").split(","):
        entry = entry.strip().lower()
        if entry == "*":
            return None
        try:  # an address or a network: 192.168.1.20, 10.0.0.0/8
            if ipaddress.ip_address(host) in ipaddress.ip_network(entry.strip("[]"), strict=False):
                return None
            continue
        except ValueError:
            pass
        name, _, port = entry.partition(":")
        if port and port != str(parts.port):
            continue
        if name.startswith(("*.", ".")):
            if host.endswith("." + name.lstrip("*.")):
                return None
        elif name and (host == name or host.endswith("." + name)):
            return None
    return proxy


def _ask(url: str, key: str | None) -> tuple[int, Any]:
    """``GET url`` directly (no proxy), with ``key`` as the bearer key if given: the status and
    the JSON body (None when the body is not JSON). Connection problems raise OSError."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with _DIRECT.open(request, timeout=CHECK_TIMEOUT) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def _why(error: OSError) -> str:
    reason = getattr(error, "reason", error)
    if isinstance(reason, socket.gaierror):
        return "that name is unknown on this network"
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer within {CHECK_TIMEOUT:g} seconds"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused (no server listens on that port)"
    return str(getattr(reason, "strerror", None) or reason)


def check_class_server() -> tuple[str, str]:
    """Check ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` for classroom mode; returns the base
    URL and the label the class server knows the key by (``student-07``).

    The URL must be an ``http(s)://host:port/v1`` address where a local Batch API server
    answers (its open ``/_local/health`` is asked first, so the key is sent only to a local
    Batch API server), and ``GET /_local/whoami`` with the key must answer with
    ``server == "local-batch-api"``. Each request goes directly, never through a proxy, and
    waits at most :data:`CHECK_TIMEOUT` seconds.

    The SDK, though, follows the proxy settings: when the class server is on loopback (this
    machine) or at a private or link-local IP address (the local network), its address is
    added to ``NO_PROXY``/``no_proxy``, as no proxy could reach it better and a proxy would
    see the class keys. A host name (or a public address) is not added (a name can point
    anywhere, and ``NO_PROXY`` matches names by suffix): when a proxy would carry the requests
    to it, this raises and says to add it to ``NO_PROXY`` yourself.

    Raises :class:`SetupError` with one line saying which variable to fix and the value it has.
    """
    url = os.environ.get("OPENAI_BASE_URL", "").strip()
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    if not url:
        raise SetupError(
            f"{MODE_ENV}=classroom needs OPENAI_BASE_URL: set it to the class server's address "
            f"your instructor gave you, such as {_EXAMPLE_URL}."
        )
    if not key:
        raise SetupError(
            f"{MODE_ENV}=classroom needs OPENAI_API_KEY: set it to the class key your "
            "instructor gave you (sk-class-...)."
        )
    try:
        parts = urlsplit(url)
        shaped = parts.scheme in ("http", "https") and parts.port != 0
    except ValueError:  # a port that is not a number, a broken [IPv6] address
        shaped = False
    host = (parts.hostname or "") if shaped else ""
    if not host or not url.rstrip("/").endswith("/v1"):
        raise SetupError(
            f"OPENAI_BASE_URL is {url!r}: in classroom mode it must be the class server's "
            f"address ending in /v1, such as {_EXAMPLE_URL}."
        )
    root = api_root(url)
    direct = is_loopback(host) or _lan_address(host)
    if not direct:
        proxy = _proxy_for(url)
        if proxy is not None:
            instead = "" if _is_address(host) else ", or use the class server's IP address"
            raise SetupError(
                f"OPENAI_BASE_URL is {url!r}, but your proxy settings would send requests for "
                f"{host} (and your class key) through the proxy {proxy}: add {host} to "
                f"NO_PROXY{instead}."
            )

    where = f"the class server at {root} (OPENAI_BASE_URL is {url!r})"
    not_ours = (
        f"OPENAI_BASE_URL is {url!r}, but no local Batch API server answers there ({{}}): "
        f"set it to the class server's address your instructor gave you, such as {_EXAMPLE_URL}."
    )
    try:
        status, health = _ask(root + "/_local/health", None)
        if (
            status != 200
            or not isinstance(health, dict)
            or health.get("status") != "ok"
            or "instance" not in health
        ):
            raise SetupError(not_ours.format(f"/_local/health answered HTTP {status}"))
        status, who = _ask(root + "/_local/whoami", key)
    except OSError as error:
        raise SetupError(
            f"Cannot reach {where}: {_why(error)}. Check the address with your instructor, "
            "and that you are on the class's network."
        ) from None
    except http.client.HTTPException as error:  # something that does not speak HTTP
        raise SetupError(not_ours.format(type(error).__name__)) from None
    if status == 401:
        raise SetupError(
            f"OPENAI_API_KEY ({mask(key)}) is not a key of the class server at {root}: set it "
            "to the key your instructor gave you, copied whole."
        )
    if status != 200 or not isinstance(who, dict) or who.get("server") != LOCAL_SERVER_NAME:
        raise SetupError(not_ours.format(f"/_local/whoami answered HTTP {status}"))
    if direct:
        bypass_proxy(host)  # with loopback's two names, which local mode adds too
    return url, str(who.get("label") or who.get("namespace") or "you")
