"""``serve --like-live``: answer like the real service where the SDK's types allow, for rehearsals.

The local server is generous by default: every optional field is filled in, and every
structured-output request gets an answer that fits its schema. Code written against it may come
to rely on that and then break on the real service. A server started with ``--like-live`` (or
``$BATCH_LOCAL_LIKE_LIVE=1``) leaves out what the ``openai`` SDK types as optional and the real
service omits, or may omit, so that a rehearsal (the notebooks in live mode against a private
local server) meets those cases:

* a File uploaded without ``expires_after`` shows ``expires_at: null`` (and the server keeps it
  until it is deleted); so does a result file of a batch created without
  ``output_expires_after``;
* a Batch has ``usage: null``, from creation to its end;
* a structured-output answer (chat ``response_format`` of type ``json_schema``, or Responses
  ``text.format`` of type ``json_schema``) is a refusal for one request in
  :data:`REFUSE_ONE_IN`: chat gets ``message.content: null`` and ``message.refusal`` a string,
  Responses a ``refusal`` content part instead of ``output_text``. Which requests: those whose
  key's SHA-256 digest has a first byte divisible by :data:`REFUSE_ONE_IN` (:func:`refuses`);
  the key is a batch line's ``custom_id``, or a direct call's JSON body. Only the local
  responder's answers: an upstream's or a cassette's are passed on as they are.

Everything else is as without the switch. See docs/local-server.md ("Like the real service").
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from .models import resolve_model
from .tokens import count_tokens

#: the environment variable that switches it on when the command line does not (``1``)
LIKE_LIVE_ENV = "BATCH_LOCAL_LIKE_LIVE"
#: one structured-output request in this many is refused
REFUSE_ONE_IN = 4
#: what a refusal says: written by this server, and saying so
REFUSAL = (
    "I'm sorry, but I can't help with that. (A refusal made up by the local Batch API server "
    "in --like-live mode: a real model may decline a structured-output request.)"
)

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def like_live_from_env() -> bool:
    """``$BATCH_LOCAL_LIKE_LIVE`` as a switch; raises ValueError for a value that is neither
    on (``1``, ``true``, ``yes``, ``on``) nor off (unset, empty, ``0``, ``false``, ``no``,
    ``off``)."""
    value = os.environ.get(LIKE_LIVE_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"${LIKE_LIVE_ENV} is {os.environ[LIKE_LIVE_ENV]!r}: set it to 1 (on) or 0 (off)"
    )


def refuses(key: str) -> bool:
    """Whether a structured-output request with this key (a batch line's ``custom_id``) is
    refused in ``--like-live`` mode."""
    return hashlib.sha256(key.encode("utf-8")).digest()[0] % REFUSE_ONE_IN == 0


def body_key(body: Any) -> str:
    """The key of a direct call: its JSON body, keys sorted."""
    return json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)


def _structured(url: str, body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    if url.endswith("/chat/completions"):
        spec = body.get("response_format")
    elif url.endswith("/responses"):
        text = body.get("text")
        spec = text.get("format") if isinstance(text, dict) else None
    else:
        return False
    return isinstance(spec, dict) and spec.get("type") == "json_schema"


def refuse(url: str, body: Any, answer: dict[str, Any], key: str) -> dict[str, Any]:
    """``answer`` (a 200 answer to ``body`` at ``url``), turned into a refusal when the request
    asks for structured output and :func:`refuses` picks ``key``; otherwise as it is."""
    if not _structured(url, body) or not refuses(key):
        return answer
    info = resolve_model(answer.get("model"))
    tokens = count_tokens(REFUSAL, info.encoding) if info is not None else len(REFUSAL) // 4
    if answer.get("object") == "chat.completion":
        return _refuse_chat(answer, tokens)
    if answer.get("object") == "response":
        return _refuse_response(answer, tokens)
    return answer


def _refuse_chat(answer: dict[str, Any], tokens: int) -> dict[str, Any]:
    choices = answer.get("choices") or []
    refused = 0
    for choice in choices:
        message = choice.get("message") or {}
        if message.get("tool_calls"):  # a forced function call: no text to refuse
            continue
        message["content"] = None
        message["refusal"] = REFUSAL
        choice["finish_reason"] = "stop"
        if choice.get("logprobs") is not None:
            choice["logprobs"] = {"content": None, "refusal": []}
        refused += 1
    usage = answer.get("usage")
    if refused and isinstance(usage, dict):
        thought = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens", 0)
        usage["completion_tokens"] = (thought // max(len(choices), 1) + tokens) * len(choices)
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return answer


def _refuse_response(answer: dict[str, Any], tokens: int) -> dict[str, Any]:
    for item in answer.get("output") or []:
        if item.get("type") != "message":
            continue
        item["content"] = [{"type": "refusal", "refusal": REFUSAL}]
        item["status"] = "completed"
        answer["status"] = "completed"
        answer["incomplete_details"] = None
        answer["completed_at"] = answer.get("completed_at") or answer.get("created_at")
        usage = answer.get("usage")
        if isinstance(usage, dict):
            thought = (usage.get("output_tokens_details") or {}).get("reasoning_tokens", 0)
            usage["output_tokens"] = thought + tokens
            usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    return answer
