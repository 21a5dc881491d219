"""The operator's upstream key, hidden in replies, their text and log lines (``redaction.py``).

The whole path (an upstream quoting the key to a batch line, a direct call, a cassette and the
log) is tested against a server in ``test_upstream_faults.py``; these are the pieces.
"""

from __future__ import annotations

import io
import logging

from batch_api_local.redaction import MARK, LogFilter, Redactor, hide_in_logs

KEY = "sk-operator-0123456789"


def test_a_reply_keeps_everything_but_the_key():
    reply = {
        "error": {"message": f"Bad header: Bearer {KEY}", "code": 401},
        "echo": [{KEY: [f"{KEY}{KEY}", 1.5, None, True]}],
        "fine": "nothing to hide",
    }
    hidden = Redactor(KEY).value(reply)
    assert hidden == {
        "error": {"message": f"Bad header: Bearer {MARK}", "code": 401},
        "echo": [{MARK: [MARK + MARK, 1.5, None, True]}],
        "fine": "nothing to hide",
    }
    assert Redactor(KEY).value(f"x{KEY}") == f"x{MARK}"
    assert Redactor(KEY).text(f"<pre>Authorization: Bearer {KEY}</pre>") == (
        f"<pre>Authorization: Bearer {MARK}</pre>"
    )


def test_deep_nesting_is_walked_without_recursion():
    deep: list = [KEY]
    for _ in range(100_000):
        deep = [deep]
    hidden = Redactor(KEY).value(deep)
    for _ in range(100_000):
        hidden = hidden[0]
    assert hidden == [MARK]


def test_no_key_or_a_placeholder_hides_nothing():
    for placeholder in (None, "", "EMPTY", "ollama"):
        redactor = Redactor(placeholder)
        assert not redactor
        assert redactor.value({"EMPTY": "ollama"}) == {"EMPTY": "ollama"}
        assert not redactor.may_hold(b'{"EMPTY": "ollama"}')


def test_a_reply_is_searched_when_it_may_spell_the_key():
    redactor = Redactor(KEY)
    assert redactor.may_hold(f'{{"m": "{KEY}"}}'.encode())
    assert redactor.may_hold(b'{"m": "\\u0073k-operator-0123456789"}')  # escaped, as some do
    assert not redactor.may_hold(b'{"m": "sk-operator"}')


def test_log_lines_and_tracebacks_hide_the_key():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(LogFilter(Redactor(KEY)))
    logger = logging.getLogger("test_redaction.lines")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("the upstream said %s", f"no such key {KEY}")
        try:
            raise RuntimeError(f"refused {KEY}")
        except RuntimeError:
            logger.exception("a failure")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert KEY not in text
    assert f"the upstream said no such key {MARK}" in text
    assert f"RuntimeError: refused {MARK}" in text


def test_hide_in_logs_covers_every_logger_of_the_server():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    root.addHandler(handler)
    uvicorn = logging.getLogger("uvicorn.error")
    filters = list(uvicorn.filters)
    try:
        hide_in_logs(KEY)
        logging.getLogger("batch_api_local.runner").error("responder failed: %s", KEY)
        assert KEY not in out.getvalue() and MARK in out.getvalue()
        assert any(isinstance(f, LogFilter) for f in uvicorn.filters)
    finally:
        root.removeHandler(handler)
        uvicorn.filters[:] = filters
