"""Keeping the operator's upstream key out of what students, cassettes and logs could see.

``serve --upstream URL`` sends ``$UPSTREAM_API_KEY`` to the upstream, and an upstream may quote
it back: an error page that echoes the request's headers, a 401 saying which key it refused.
Whatever the upstream sends goes on to a student (a result line, a direct call's answer, the
excerpt of a reply that could not be kept), to a cassette (``--record``), or to the server's log.
A :class:`Redactor` replaces every occurrence of the key with :data:`MARK` on the way:
:meth:`Redactor.value` in a parsed reply (strings, object keys included), :meth:`Redactor.text`
in the text of one, and :class:`LogFilter` in every log line.

A key shorter than :data:`MIN_KEY_CHARS` is a placeholder (``EMPTY``, ``ollama``), not a
secret: it is not looked for, so that answers that happen to contain the word stay as they are.
"""

from __future__ import annotations

import logging
from typing import Any

#: what stands where the key was
MARK = "[redacted]"
#: the shortest key that is looked for
MIN_KEY_CHARS = 8


class Redactor:
    """Replaces one secret with :data:`MARK`; does nothing when there is none to hide."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret if secret and len(secret) >= MIN_KEY_CHARS else None
        self._raw = self.secret.encode("utf-8") if self.secret else b""

    def __bool__(self) -> bool:
        return self.secret is not None

    def may_hold(self, data: bytes) -> bool:
        """Whether JSON text ``data`` may spell the secret once parsed: it holds the secret as
        it is, or ``\\u`` escapes (which could write any of its characters)."""
        return bool(self._raw) and (self._raw in data or b"\\u" in data)

    def text(self, text: str) -> str:
        """``text`` with every occurrence of the secret replaced."""
        return text.replace(self.secret, MARK) if self.secret else text

    def value(self, value: Any) -> Any:
        """A parsed JSON value with the secret replaced in every string (object keys too); the
        value itself when it holds none. Iterative: nesting depth is whatever the parser took."""
        if not self.secret:
            return value
        secret = self.secret
        root: list[Any] = [value]
        # (container, index or key, item): items still to look at, and where each one sits
        stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
        while stack:
            holder, place, item = stack.pop()
            if isinstance(item, str):
                if secret in item:
                    holder[place] = item.replace(secret, MARK)
            elif isinstance(item, list):
                stack.extend((item, i, x) for i, x in enumerate(item))
            elif isinstance(item, dict):
                if any(secret in k for k in item):
                    renamed = {k.replace(secret, MARK): v for k, v in item.items()}
                    item.clear()
                    item.update(renamed)
                stack.extend((item, k, v) for k, v in item.items())
        return root[0]


class LogFilter(logging.Filter):
    """Replaces the secret in a log record's message and traceback (for a handler)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        secret = self.redactor.secret
        if secret is None:
            return True
        message = record.getMessage()
        if secret in message:
            record.msg, record.args = self.redactor.text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and secret in record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        if record.stack_info and secret in record.stack_info:
            record.stack_info = self.redactor.text(record.stack_info)
        return True


def hide_in_logs(secret: str | None) -> None:
    """Hide ``secret`` in every log line of this process: through each handler of the root
    logger (where every logger of this package ends up), and in uvicorn's error log, which has
    handlers of its own (it logs the tracebacks of requests that failed)."""
    redactor = Redactor(secret)
    if not redactor:
        return
    hide = LogFilter(redactor)
    for handler in logging.getLogger().handlers:
        handler.addFilter(hide)
    logging.getLogger("uvicorn.error").addFilter(hide)  # kept when uvicorn sets its handlers


__all__ = ["MARK", "MIN_KEY_CHARS", "LogFilter", "Redactor", "hide_in_logs"]
