"""Which kind of answer a notebook is looking at: a placeholder, a replayed recording, a model.

The local server answers batch lines (and direct calls) in one of three ways, chosen when it
starts; in live mode OpenAI answers. :func:`answer_kind` says which, so a notebook can tell the
learner what the texts in a result file are.
"""

from __future__ import annotations

from typing import Any, Literal

AnswerKind = Literal["local", "replay", "upstream", "live"]

#: one sentence per kind, for a notebook to print
ANSWER_KINDS: dict[str, str] = {
    "local": "placeholder answers written by the local server, not by a model",
    "replay": "answers a model gave earlier, replayed by the local server from a recording "
    "(a request that was never recorded gets a placeholder)",
    "upstream": "answers from a model server the local server forwards each request to",
    "live": "answers from OpenAI's models (live mode, billed)",
}


def answer_kind(**conn: Any) -> AnswerKind:
    """``"local"``, ``"replay"``, ``"upstream"`` or ``"live"``: who answers this notebook's
    requests (see :data:`ANSWER_KINDS`).

    In live mode this is ``"live"`` without asking anything; otherwise the local server says
    (``GET /_local/state``). ``conn`` (``base_url``, ``api_key``) is passed to
    :func:`batch_api_local.state`; by default the SDK's environment variables are used.
    """
    from .setup import is_local

    if not is_local():
        return "live"
    from batch_api_local import state

    kind = state(**conn).get("responder", "local")
    return kind if kind in ("local", "replay", "upstream") else "local"


__all__ = ["ANSWER_KINDS", "AnswerKind", "answer_kind"]
