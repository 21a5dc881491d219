"""Talking to a local server over loopback, in one place.

What counts as this machine (:func:`is_loopback`, also the DNS-rebinding guard's rule in
:func:`host_header_is_loopback`), the opener that never goes through a proxy
(:func:`direct_opener`), the API's root from an ``OPENAI_BASE_URL`` (:func:`api_root`) and a
path below ``/v1`` (:func:`api_path`), and ``NO_PROXY`` for loopback (:func:`bypass_proxy`),
which the ``openai`` SDK's HTTP client honours.
"""

from __future__ import annotations

import ipaddress
import os
import urllib.request

#: host names that are this machine whatever the resolver says
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
#: what :func:`bypass_proxy` adds to ``NO_PROXY``
LOOPBACK_NO_PROXY = ("127.0.0.1", "localhost")
#: the path every API URL starts with
API_PREFIX = "/v1"


def is_loopback(host: str | None) -> bool:
    """Whether a host name or address (``[::1]`` brackets allowed) is this machine only."""
    if not host:
        return False
    host = host.strip().lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_header_is_loopback(header: str | None) -> bool:
    """Whether a ``Host`` header names this machine by a loopback name or address (any port)."""
    if not header:
        return False
    host = header.strip().lower()
    if host.startswith("["):  # [::1] or [::1]:8765
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host, _, port = host.partition(":")
        if port and not port.isdigit():
            return False
    return is_loopback(host)


def direct_opener(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    """A ``urllib`` opener that never sends a request through a proxy (plus ``handlers``)."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), *handlers)


#: the proxy-less opener, for calls that need nothing else
DIRECT = direct_opener()


def api_root(base_url: str) -> str:
    """The server's root from its API base URL: ``http://127.0.0.1:8765/v1`` →
    ``http://127.0.0.1:8765`` (a URL without ``/v1`` is returned as it is, without a trailing
    slash)."""
    url = base_url.strip().rstrip("/")
    return url[: -len(API_PREFIX)] if url.endswith(API_PREFIX) else url


def api_path(url: str) -> str:
    """A batch line's ``url`` below ``/v1``: ``/v1/chat/completions`` → ``/chat/completions``
    (for an upstream whose base URL already ends in ``/v1``)."""
    return url[len(API_PREFIX) :] if url.startswith(API_PREFIX + "/") else url


def bypass_proxy(*hosts: str) -> None:
    """Add loopback (and ``hosts``) to ``NO_PROXY`` and ``no_proxy``, keeping what is there, so
    that an HTTP client that honours them (the ``openai`` SDK's does) talks to a local server
    directly."""
    for name in ("NO_PROXY", "no_proxy"):
        entries = [e.strip() for e in os.environ.get(name, "").split(",") if e.strip()]
        for host in (*LOOPBACK_NO_PROXY, *hosts):
            if host not in entries:
                entries.append(host)
        os.environ[name] = ",".join(entries)
