"""A responder that forwards each batch line to an OpenAI-compatible server, and survives it.

``batch-api-local serve --upstream http://127.0.0.1:8000/v1`` gives batch semantics
(files, statuses, result files, cancel, expiry) to a server that only answers synchronous calls:
vLLM, Ollama, a llama.cpp server, or api.openai.com itself. The runner calls :meth:`respond`
from a bounded set of threads (``--upstream-concurrency``); direct calls come here too.

What a line gets, whatever the upstream does (``docs/local-server.md``, "The upstream
responder"):

- an answer (any status that is not worth trying again): its status and JSON body, as they are
  but for the upstream key, which an upstream may quote back and which becomes ``[redacted]``
  (:mod:`.redaction`; in error excerpts too);
- 408, 409, 429 or 5xx (as the ``openai`` SDK; ``x-should-retry`` overrides), or no answer at
  all (a refused or dropped connection): tried again, up to ``retries`` more times, after an
  exponential backoff with jitter, or after the wait the upstream asks for (``Retry-After``, in
  seconds or as an HTTP date, or ``retry-after-ms``); when no try is left, or the wait would
  pass the line's deadline, the last status and its error body (a 500 when nothing answered);
- nothing within ``timeout`` seconds, every try and wait included (connecting, sending, the
  headers and the body: each socket read and write waits at most the time left, so a reply
  written a byte at a time is cut off too): :func:`.errors.upstream_timeout`, which the runner
  writes as a line with ``response: null`` and ``error.code`` ``request_timeout``;
- a reply that cannot be a result line as it is (not JSON, JSON that only a lenient reader
  takes, such as ``NaN``, not an object, larger than :data:`MAX_REPLY_BYTES`): a ``502`` (or its
  own error status) with an error body that says why.

So no reply can stall a batch or take the server's memory: every line ends within its timeout,
and no reply holds more than :data:`MAX_REPLY_BYTES`.
"""

from __future__ import annotations

import contextvars
import email.utils
import json
import logging
import math
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpcore2
import httpx2

from .errors import (
    APIError,
    streaming_unsupported,
    upstream_bad_reply,
    upstream_gave_up,
    upstream_timeout,
    upstream_unreachable,
)
from .net import api_path
from .redaction import Redactor
from .retry import Backoff

log = logging.getLogger("batch_api_local.upstream")

#: the most of one reply that is kept; a longer one becomes an error line (16 MiB: an
#: embeddings reply for hundreds of inputs fits, a runaway reply does not)
MAX_REPLY_BYTES = 16 * 1024 * 1024
#: the wait before trying a line again: 0.5 s, doubled on each try up to 8 s, half of it random
UPSTREAM_RETRY = Backoff(first=0.5, maximum=8.0, jitter=0.5)
#: statuses worth trying again (as the ``openai`` SDK does): request timeout, rate limit, 5xx
RETRY_STATUSES = frozenset({408, 409, 429})
#: how much of a non-JSON reply is quoted in the error that replaces it
EXCERPT_CHARS = 1000

#: called with (endpoint, request body, status, response body) for every answer kept as it came
OnAnswer = Callable[[str, dict[str, Any], int, dict[str, Any]], None]


# -- the network: every read and write within the line's deadline ---------------------------

#: when the try under way must end (on :func:`time.monotonic`), for the thread making it
_TRY_ENDS: contextvars.ContextVar[float | None] = contextvars.ContextVar("try_ends", default=None)
#: the most bytes handed to one socket write, so that a slow reader is checked on often
_WRITE_SLICE = 64 * 1024


def _time_left(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shortened to the time the try has left; ``expired`` raised when none is."""
    ends = _TRY_ENDS.get()
    if ends is None:
        return timeout
    left = ends - time.monotonic()
    if left <= 0:
        raise expired("the line's time ran out")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore2.NetworkStream):
    """A connection whose every socket read and write waits at most the time the line has
    left. A read timeout alone bounds the wait for each byte, not the call: an upstream that
    writes its headers a byte at a time would hold a line for as long as it likes."""

    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), _WRITE_SLICE):
            part = buffer[start : start + _WRITE_SLICE]
            self._inner.write(part, _time_left(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        left = _time_left(timeout, httpcore2.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore2.NetworkBackend):
    """httpcore's own sockets, each wrapped in a :class:`_DeadlineStream`."""

    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        left = _time_left(timeout, httpcore2.ConnectTimeout)
        inner = self._inner.connect_tcp(host, port, left, local_address, socket_options)
        return _DeadlineStream(inner)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        left = _time_left(timeout, httpcore2.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Reply:
    """One HTTP answer: status, headers that matter, the parsed body (or why there is none)."""

    __slots__ = ("status", "headers", "payload", "problem")

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        payload: dict[str, Any] | None,
        problem: str | None,
    ) -> None:
        self.status = status
        self.headers = headers
        self.payload = payload
        self.problem = problem


class _Deadline(Exception):
    """The line's time ran out while an answer was being read."""


def retry_after(headers: dict[str, str], now: Callable[[], float] = time.time) -> float | None:
    """The wait an answer asks for, in seconds: ``retry-after-ms``, else ``Retry-After`` as
    seconds or as an HTTP date. None when absent or not understood; never raises (a header is
    the upstream's text: a date whose fields overflow is as meaningless as one that is not a
    date, and gets the normal backoff)."""
    try:
        return _retry_after(headers, now)
    except Exception:  # OverflowError from a field too large, ValueError, ...: not understood
        return None


def _retry_after(headers: dict[str, str], now: Callable[[], float]) -> float | None:
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            ms = float(value)
        except ValueError:
            ms = math.nan
        if math.isfinite(ms) and ms >= 0:
            return ms / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - now())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class _NotStrictJSON(ValueError):
    """A reply that parses only because Python's JSON reader is lenient: NaN, Infinity, or a
    number too large for a double (read as infinity). No result line or response can hold it."""


def _no_constant(token: str) -> Any:
    raise _NotStrictJSON(f"it holds the number {token}, which JSON does not allow.")


def _finite(token: str) -> float:
    number = float(token)
    if math.isinf(number):
        shown = token if len(token) <= 40 else token[:37] + "..."
        raise _NotStrictJSON(f"it holds the number {shown}, too large for JSON to carry.")
    return number


def _loads_reply(data: bytes) -> Any:
    """An upstream reply parsed as strict JSON: :class:`_NotStrictJSON` for NaN, Infinity or a
    number out of range, ValueError for what is not JSON at all (RecursionError when nested
    too deeply). A lone surrogate in a string is kept: it is valid JSON, and the answer can
    still be delivered (escaped)."""
    return json.loads(data, parse_constant=_no_constant, parse_float=_finite)


def _retryable(status: int, headers: dict[str, str]) -> bool:
    hint = headers.get("x-should-retry")
    if hint == "true":
        return True
    if hint == "false":
        return False
    return status in RETRY_STATUSES or status >= 500


class UpstreamResponder:
    """Forwards requests to ``base_url`` (``.../v1``) with bounded retries and a deadline.

    ``sleep``, ``clock`` and ``rng`` are seams for tests (the waits asked for, not wall time).
    ``on_answer`` sees every answer kept as the upstream sent it (a cassette records them).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 120.0,
        retries: int = 4,
        concurrency: int = 8,
        max_reply_bytes: int = MAX_REPLY_BYTES,
        on_answer: OnAnswer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.max_reply_bytes = max_reply_bytes
        self.on_answer = on_answer
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        #: the key, hidden in whatever the upstream sends back (it may quote the header)
        self.redactor = Redactor(api_key)
        try:
            authorization = f"Bearer {api_key or 'local'}".encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(
                "The upstream key ($UPSTREAM_API_KEY) holds characters an HTTP header cannot carry."
            ) from None
        self._headers = [
            (b"Authorization", authorization),
            (b"Content-Type", b"application/json"),
            (b"Accept", b"application/json"),
            (b"User-Agent", b"batch-api-local"),
        ]
        # one pool shared by every thread: connections are kept alive between lines (as many
        # as run at once); direct calls may open more rather than wait for a batch's. No
        # proxy: the environment's proxy settings are not read.
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            max_connections=None,
            max_keepalive_connections=max(1, concurrency) + 4,
            keepalive_expiry=5.0,
            network_backend=_DeadlineBackend(),
        )

    def close(self) -> None:
        self._pool.close()

    def respond(
        self,
        url: str,
        body: dict[str, Any],
        *,
        input_tokens: int | None = None,
        now: int | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Send one request upstream: (HTTP status, JSON body). The upstream counts its own
        tokens and stamps its own replies: ``input_tokens`` and ``now`` are unused.

        Raises :class:`.errors.LineError` (``request_timeout``) when the line's time runs out.
        """
        if isinstance(body, dict) and body.get("stream") is True:
            refused = streaming_unsupported()  # an event stream cannot be a result line
            return refused.status_code, refused.body()
        target = self.base_url + api_path(url)
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        deadline = self._clock() + self.timeout
        attempts = 0
        while True:
            attempts += 1
            reason = ""
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise upstream_timeout(self.timeout)
            reply: _Reply | None = None
            try:
                got = self._send(target, content, remaining, deadline)
            except (httpcore2.TimeoutException, _Deadline):
                raise upstream_timeout(self.timeout) from None
            except _TRANSPORT_ERRORS as exc:  # refused, reset, dropped mid-reply ...
                reason = _reason(exc)
            else:
                if not _retryable(got.status, got.headers):
                    return self._final(url, body, got)
                reply = got
            if attempts > self.retries:
                return self._given_up(reply, reason, attempts)
            asked = retry_after(reply.headers) if reply is not None else None
            wait = self._backoff(attempts) if asked is None else asked
            if self._clock() + wait >= deadline:
                # no time for another try: say what the upstream said rather than time out
                return self._given_up(reply, reason, attempts)
            self._sleep(wait)

    # -- one try ----------------------------------------------------------------------------

    def _send(self, target: str, content: bytes, remaining: float, deadline: float) -> _Reply:
        """One try, which ends within ``remaining`` seconds whatever the upstream does: every
        socket read and write waits at most the time left (:class:`_DeadlineStream`)."""
        timeouts = {"connect": remaining, "read": remaining, "write": remaining, "pool": remaining}
        ends = _TRY_ENDS.set(time.monotonic() + remaining)
        try:
            with self._pool.stream(
                "POST",
                target,
                headers=self._headers,
                content=content,
                extensions={"timeout": timeouts},
            ) as response:
                seen = {
                    name.decode("latin-1").lower(): value.decode("latin-1")
                    for name, value in response.headers
                }
                headers: dict[str, str] = {
                    name: seen[name]
                    for name in ("retry-after", "retry-after-ms", "x-should-retry")
                    if name in seen
                }
                status = response.status
                declared = seen.get("content-length", "").strip()
                limit = self.max_reply_bytes
                if declared.isascii() and declared.isdigit() and int(declared) > limit:
                    return _Reply(status, headers, None, _too_large(limit))
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_stream():
                    size += len(chunk)
                    if size > limit:
                        return _Reply(status, headers, None, _too_large(limit))
                    chunks.append(chunk)
                    if self._clock() > deadline:
                        raise _Deadline
        finally:
            _TRY_ENDS.reset(ends)
        data = b"".join(chunks)
        try:
            payload = _loads_reply(data)
        except _NotStrictJSON as exc:
            return _Reply(status, headers, None, str(exc))
        except (ValueError, RecursionError):
            text = self._excerpt(data, EXCERPT_CHARS)
            what = f"it is not JSON: {text!r}" if text else "it is empty."
            return _Reply(status, headers, None, what)
        if not isinstance(payload, dict):
            excerpt = self._excerpt(data, 80)
            return _Reply(status, headers, None, f"it is JSON but not an object: {excerpt!r}")
        if self.redactor.may_hold(data):
            payload = self.redactor.value(payload)
        return _Reply(status, headers, payload, None)

    def _excerpt(self, data: bytes, chars: int) -> str:
        """The start of a reply's text, to quote in an error, with the key hidden (in the
        whole text first, so that no part of it is left at the cut)."""
        if not self.redactor:
            return data[: chars * 4].decode("utf-8", errors="replace")[:chars].strip()
        return self.redactor.text(data.decode("utf-8", errors="replace"))[:chars].strip()

    # -- outcomes ---------------------------------------------------------------------------

    def _final(self, url: str, body: dict[str, Any], reply: _Reply) -> tuple[int, dict[str, Any]]:
        if reply.payload is None:
            error = upstream_bad_reply(reply.status, reply.problem or "")
            return error.status_code, error.body()
        if self.on_answer is not None:
            try:
                self.on_answer(url, body, reply.status, reply.payload)
            except Exception as exc:  # a recording that fails never keeps an answer back
                log.warning("an answer from the upstream was not recorded: %s", exc)
        return reply.status, reply.payload

    def _given_up(
        self, reply: _Reply | None, reason: str, attempts: int
    ) -> tuple[int, dict[str, Any]]:
        """What a line says once no try is left: the last answer, or that none came."""
        error: APIError
        if reply is None:
            error = upstream_unreachable(reason, attempts)
        elif reply.payload is not None and isinstance(reply.payload.get("error"), dict):
            return reply.status, reply.payload  # the upstream's own error body
        else:
            error = upstream_gave_up(reply.status, attempts)
        return error.status_code, error.body()

    def _backoff(self, attempt: int) -> float:
        """Seconds to wait after ``attempt`` tries (:data:`UPSTREAM_RETRY`)."""
        with self._rng_lock:
            return UPSTREAM_RETRY.delay(attempt, self._rng)


def _too_large(limit: int) -> str:
    return (
        f"it is larger than {limit:,} bytes, the most the local server keeps of one reply "
        "(for embeddings, send fewer inputs per request or encoding_format 'base64')."
    )


#: what a try that got no answer raises (a timeout aside)
_TRANSPORT_ERRORS = (
    httpcore2.NetworkError,
    httpcore2.ProtocolError,
    httpcore2.ProxyError,
    httpcore2.UnsupportedProtocol,
)


def _reason(exc: Exception) -> str:
    """Why a try got no answer, in a few words (never the upstream's URL)."""
    if isinstance(exc, httpcore2.ConnectError):
        return "the connection was refused or could not be made"
    if isinstance(exc, httpcore2.RemoteProtocolError):
        return "the connection was closed before a full answer"
    if isinstance(exc, httpcore2.NetworkError):
        return "the connection broke"
    return type(exc).__name__


__all__ = ["MAX_REPLY_BYTES", "UpstreamResponder", "retry_after"]
