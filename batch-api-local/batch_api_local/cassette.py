"""Cassettes: exchanges recorded from an upstream server, and the responder that replays them.

``serve --upstream URL --record FILE`` appends every answer the upstream gives to ``FILE``;
``serve --replay FILE`` answers batch lines and direct calls from it, so a class can see real
model answers with no key and no cost, and no network.

The format (version 1) is JSON Lines in UTF-8, one exchange per line, each written in canonical
form (keys sorted, no spaces), so that a cassette diffs well and a request's line is found by its
text::

    {"endpoint":"/v1/chat/completions","recorded_at":1764300000,"request":{"messages":[...],
     "model":"gpt-4o-mini"},"response":{"choices":[...],"id":"chatcmpl-...",...},"status":200,
     "version":1}

- ``version`` (1), ``endpoint`` (one a batch line may target), ``request`` (the request body),
  ``status`` (the HTTP status, 100-599) and ``response`` (the JSON body the upstream sent) are
  required; ``recorded_at`` (Unix seconds) and any other field are kept for people and ignored.
- Nothing else is recorded: no header, so no key and no ``Authorization``.
- A request matches an exchange when the endpoint is the same and its body is equal once both
  are in canonical form (key order and spacing never matter; values must be equal). When several
  exchanges match, the last one in the file wins (record again to refresh an answer).

A replayed answer keeps the recorded text, usage and finish reasons, but gets fresh timestamps
(``created``, ``created_at``, from the caller's clock) and fresh ids where the real API makes new
ones on every call (the top-level ``id`` of chat completions, completions, Responses and
moderations; the ``id`` of each Responses output item). Tool call ids (``call_...``) are kept:
the next request of a conversation quotes them, and must match its own recorded exchange.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from .constants import BATCH_ENDPOINTS
from .errors import not_recorded
from .validation import has_lone_surrogate

log = logging.getLogger("batch_api_local.cassette")

#: the version this server writes and reads
CASSETTE_VERSION = 1
#: the fields every exchange must have
REQUIRED_FIELDS = ("version", "endpoint", "request", "status", "response")


class CassetteError(ValueError):
    """A cassette that cannot be used; the message names the file and the line."""


class _Responder(Protocol):
    def respond(
        self,
        url: str,
        body: dict[str, Any],
        *,
        input_tokens: int | None = None,
        now: int | None = None,
    ) -> tuple[int, dict[str, Any]]: ...


def canonical(value: Any) -> str:
    """``value`` as canonical JSON: keys sorted, no spaces, non-ASCII kept, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)  # fmt: skip


def _key(endpoint: str, canonical_body: str) -> bytes:
    return hashlib.sha256(f"{endpoint}\n{canonical_body}".encode()).digest()


def _problem(exchange: Any) -> str | None:
    """What is wrong with one parsed line, or None."""
    if not isinstance(exchange, dict):
        return "not a JSON object"
    missing = [name for name in REQUIRED_FIELDS if name not in exchange]
    if missing:
        return "missing field" + ("s " if len(missing) > 1 else " ") + ", ".join(missing)
    version = exchange["version"]
    if version != CASSETTE_VERSION or isinstance(version, bool):
        return (
            f"version {json.dumps(version)} is not supported: this server reads and writes "
            f"version {CASSETTE_VERSION}"
        )
    endpoint = exchange["endpoint"]
    if endpoint not in BATCH_ENDPOINTS:
        return f"endpoint {json.dumps(endpoint)} is not one of {', '.join(BATCH_ENDPOINTS)}"
    if not isinstance(exchange["request"], dict):
        return "request is not a JSON object"
    status = exchange["status"]
    if type(status) is not int or not 100 <= status <= 599:
        return f"status {json.dumps(status)} is not an HTTP status (an integer from 100 to 599)"
    if not isinstance(exchange["response"], dict):
        return "response is not a JSON object"
    return None


#: what a bad last line with no newline probably is, and what to do about it
_TORN_HINT = (
    "; it is the last line and has no newline, as a recording cut short by a crash leaves "
    "it: serve with --record on this file to drop it, or delete it"
)


class _BadLine(ValueError):
    """Why one line of a cassette cannot be used (the caller names the file and the line)."""


def _read(raw: bytes) -> tuple[str, str, int, str]:
    """One line of a cassette as (endpoint, canonical request, status, canonical response).

    Raises :class:`_BadLine` for a line that is not one exchange in strict JSON: not UTF-8, not
    JSON, nested too deeply, a field missing or wrong, NaN or Infinity, a lone surrogate.
    """
    try:
        exchange = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _BadLine("not UTF-8 text") from None
    except RecursionError:
        raise _BadLine("nested too deeply") from None
    except ValueError as exc:
        raise _BadLine(f"not JSON ({getattr(exc, 'msg', exc)})") from None
    why = _problem(exchange)
    if why is not None:
        raise _BadLine(why)
    # "\ud800" alone is JSON syntax but not text: it could be neither matched nor written
    if (b"\\ud" in raw or b"\\uD" in raw) and has_lone_surrogate(exchange):
        raise _BadLine("a string holds a lone surrogate (half of a UTF-16 pair), which is not text")
    try:
        request, response = canonical(exchange["request"]), canonical(exchange["response"])
    except ValueError:
        raise _BadLine("NaN or Infinity is not JSON") from None
    return exchange["endpoint"], request, exchange["status"], response


class Cassette:
    """The exchanges of one cassette file, indexed by endpoint and canonical request body."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        #: key -> (status, response as JSON text: parsed anew for each answer)
        self._answers: dict[bytes, tuple[int, str]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._answers)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Cassette:
        """Read and check every line; raises :class:`CassetteError` naming the first bad one."""
        cassette = cls(Path(path))
        try:
            fh = open(path, "rb")
        except OSError as exc:
            raise CassetteError(
                f"Cannot read the cassette {path}: {exc.strerror or exc}."
            ) from None
        with fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    endpoint, request, status, response = _read(raw)
                except _BadLine as exc:
                    hint = "" if raw.endswith(b"\n") else _TORN_HINT
                    raise CassetteError(
                        f"The cassette {path} is not valid: line {number}: {exc}{hint}."
                    ) from None
                cassette._answers[_key(endpoint, request)] = (status, response)
        return cassette

    def add(self, endpoint: str, request: str, status: int, response: str) -> None:
        """Add one exchange (canonical request and response texts); it wins over older ones."""
        with self._lock:
            self._answers[_key(endpoint, request)] = (status, response)

    def lookup(self, endpoint: str, body: Any) -> tuple[int, dict[str, Any]] | None:
        """The recorded (status, response) for this request, a fresh copy; None if absent."""
        try:
            key = _key(endpoint, canonical(body))
        except (TypeError, ValueError, RecursionError):  # not strict JSON in UTF-8: not recorded
            return None
        found = self._answers.get(key)
        if found is None:
            return None
        return found[0], json.loads(found[1])


class Recorder:
    """Appends exchanges to a cassette file, one whole line per write, from any thread.

    An existing file is checked first (a recording is only ever appended to a valid cassette),
    once a torn last line is dropped (a line with no newline that is not an exchange: what a
    crash in the middle of a write leaves), and ``also`` lists cassettes to keep up to date (the one replayed, when it is this file).
    A line that cannot be written (a full disk) is logged and skipped: the answer itself still
    reaches its batch.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        drop_torn_line(self.path)  # what a crash while recording leaves
        if self.path.exists() and self.path.stat().st_size > 0:
            Cassette.load(self.path)  # raises CassetteError
        try:
            self._fd = os.open(
                self.path,
                os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0),
                0o644,
            )
        except OSError as exc:
            raise CassetteError(
                f"Cannot write the cassette {self.path}: {exc.strerror or exc}."
            ) from None
        self._lock = threading.Lock()
        self.also: list[Cassette] = []
        self._torn = self.path.stat().st_size > 0 and not _ends_with_newline(self.path)

    def record(self, endpoint: str, body: dict[str, Any], status: int, response: Any) -> None:
        """Append one exchange. One that cannot be a cassette line (NaN, a lone surrogate: not
        strict JSON in UTF-8) is skipped with a warning; its answer is delivered all the same."""
        line = {
            "version": CASSETTE_VERSION,
            "endpoint": endpoint,
            "request": body,
            "status": status,
            "response": response,
            "recorded_at": int(time.time()),
        }
        try:
            request, answer = canonical(body), canonical(response)
            data = (canonical(line) + "\n").encode("utf-8")
        except UnicodeEncodeError:
            log.warning(
                "an exchange with %s was not recorded in %s: it holds a lone surrogate "
                "(half of a UTF-16 pair), which is not text; its answer was delivered",
                endpoint,
                self.path,
            )
            return
        except (TypeError, ValueError, RecursionError):
            log.warning(
                "an exchange with %s was not recorded in %s: it is not strict JSON (NaN or "
                "Infinity, say); its answer was delivered",
                endpoint,
                self.path,
            )
            return
        with self._lock:
            if self._torn:  # a crash cut the last line short: start on a line of our own
                data, self._torn = b"\n" + data, False
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError as exc:
                log.warning("could not record an exchange in %s: %s", self.path, exc)
                return
        for cassette in self.also:
            cassette.add(endpoint, request, status, answer)

    def close(self) -> None:
        os.close(self._fd)


def drop_torn_line(path: str | os.PathLike[str]) -> None:
    """Cut off a cassette's last line when it has no newline and is not a whole exchange: the
    write a crash cut short (only for a file recorded to). A whole exchange with no newline is
    kept (the next record starts a line of its own); a bad line that ends with a newline was
    written so, and :meth:`Cassette.load` refuses it. Raises :class:`CassetteError` when the
    file cannot be written."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with open(path, "rb+") as fh:
            end = fh.seek(0, os.SEEK_END)
            fh.seek(end - 1)
            if fh.read(1) == b"\n":
                return
            start = end
            while start > 0:  # walk back to the last newline, 64 KB at a time
                step = min(65536, start)
                fh.seek(start - step)
                newline = fh.read(step).rfind(b"\n")
                if newline != -1:
                    start = start - step + newline + 1
                    break
                start -= step
            fh.seek(start)
            last = fh.read()
            if not last.strip():
                return
            try:
                _read(last)
                return
            except _BadLine:
                fh.truncate(start)
    except OSError as exc:
        raise CassetteError(f"Cannot write the cassette {path}: {exc.strerror or exc}.") from None
    log.warning(
        "The cassette %s ended in a torn line (%d bytes with no newline, as a crash while "
        "recording leaves it): it was dropped, and recording goes on after the last whole line",
        path,
        end - start,
    )


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


# -- replay -----------------------------------------------------------------------------------

_HEX = "0123456789abcdef"
_BASE62 = string.digits + string.ascii_letters
_ID = re.compile(r"^(.*[-_])?([0-9A-Za-z]+)$")
_random = random.Random(secrets.randbits(128))


def fresh_id(old: str) -> str:
    """A new id shaped like ``old``: the same prefix (``chatcmpl-``, ``resp_`` ...), then as
    many random characters, hexadecimal when ``old``'s were."""
    match = _ID.match(old)
    if match is None:
        return old
    prefix, tail = match.group(1) or "", match.group(2)
    alphabet = _HEX if all(c in _HEX for c in tail) else _BASE62
    return prefix + "".join(_random.choice(alphabet) for _ in tail)


def _is_int(value: Any) -> bool:
    return type(value) is int


def freshen(response: dict[str, Any], now: int) -> dict[str, Any]:
    """A recorded answer as if made ``now``: new timestamps and per-call ids (in place)."""
    if isinstance(response.get("id"), str):
        response["id"] = fresh_id(response["id"])
    if _is_int(response.get("created")):
        response["created"] = now
    created_at = response.get("created_at")
    if isinstance(created_at, int) and _is_int(created_at):
        response["created_at"] = now
        completed_at = response.get("completed_at")
        if isinstance(completed_at, int) and _is_int(completed_at):
            response["completed_at"] = now + max(0, completed_at - created_at)
    output = response.get("output")
    if isinstance(output, list):
        for item in output:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                item["id"] = fresh_id(item["id"])
    return response


class ReplayResponder:
    """Answers from a cassette; a request it lacks goes to ``fallback``, or, without one
    (``--replay-strict``), gets :func:`.errors.not_recorded` (404, code ``not_recorded``)."""

    def __init__(
        self,
        cassette: Cassette,
        fallback: _Responder | None,
        clock: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self.cassette = cassette
        self.fallback = fallback
        self._clock = clock

    def respond(
        self,
        url: str,
        body: dict[str, Any],
        *,
        input_tokens: int | None = None,
        now: int | None = None,
    ) -> tuple[int, dict[str, Any]]:
        found = self.cassette.lookup(url, body)
        if found is not None:
            status, response = found
            return status, freshen(response, now if now is not None else self._clock())
        if self.fallback is None:
            error = not_recorded(url)
            return error.status_code, error.body()
        return self.fallback.respond(url, body, input_tokens=input_tokens, now=now)


__all__ = [
    "CASSETTE_VERSION",
    "Cassette",
    "CassetteError",
    "Recorder",
    "ReplayResponder",
    "canonical",
    "drop_torn_line",
    "fresh_id",
    "freshen",
]
