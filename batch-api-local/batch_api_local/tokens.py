"""Count tokens the way OpenAI bills them, entirely offline.

The local server uses these counts for the ``usage`` block of every reply, for
the context-window checks, and for the enqueued-token limits of batches. The
tokenizers come from the ``bpe-openai`` package, which ships the
``o200k_base`` and ``cl100k_base`` vocabularies inside the wheel: nothing is
downloaded and no API key is needed.

Chat prompts follow the rule from the OpenAI cookbook ("How to count tokens
with tiktoken"): every message costs 3 tokens of framing plus the tokens of its
role, content and name (1 more when a name is given), and every prompt costs 3
more tokens to prime the reply. The result matches the ``prompt_tokens`` the real
API reports for plain text messages.

Every function here accepts whatever a JSON body may hold. Values that cannot
carry tokens (numbers, ``None``, unknown shapes) count as 0; nothing raises.
Images count by the model's vision formula (:func:`request_image_tokens`, which
:func:`request_input_tokens` includes); a message's text functions count only
its text.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from batch_api_local.models import resolve_model

__all__ = [
    "DEFAULT_ENCODING",
    "chat_prompt_tokens",
    "content_tokens",
    "count_tokens",
    "decode",
    "encode",
    "token_bytes",
    "encoding_for_model",
    "request_image_tokens",
    "request_input_tokens",
    "responses_input_messages",
    "text_or_token_list_tokens",
    "truncate_to_tokens",
]

DEFAULT_ENCODING = "o200k_base"

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3

# bpe-openai refuses single strings of a million characters or more, so long
# texts are encoded in pieces cut at whitespace (where the tokenizer splits anyway).
_CHUNK_CHARS = 100_000
# strings up to this long have their counts cached
_SHORT_CHARS = 16
_TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})


@functools.lru_cache(maxsize=8)
def _get_encoding(name: str) -> Any:
    # Imported here, not at the top: bpe-openai builds its tables on import (about half a
    # second), which the server's start should not wait for.
    import bpe_openai

    try:
        return bpe_openai.get_encoding(name)
    except Exception:
        return bpe_openai.get_encoding(DEFAULT_ENCODING)


def _chunks(text: str) -> Iterable[str]:
    start = 0
    while len(text) - start > _CHUNK_CHARS:
        end = start + _CHUNK_CHARS
        cut = end
        # Back up to a whitespace character so no word is split in two.
        floor = max(start + 1, end - 1_000)
        while cut > floor and not text[cut].isspace():
            cut -= 1
        if cut == floor:
            cut = end
        yield text[start:cut]
        start = cut
    yield text[start:]


def encode(text: object, encoding: str = DEFAULT_ENCODING) -> list[int]:
    """Return the token ids of ``text``.

    Text that looks like a special token (``<|endoftext|>``) is encoded as
    ordinary text, as the API does with user content. Non-strings give ``[]``.
    """
    if not isinstance(text, str) or not text:
        return []
    enc = _get_encoding(encoding)
    if len(text) <= _CHUNK_CHARS:
        return list(enc.encode_ordinary(text))
    tokens: list[int] = []
    for piece in _chunks(text):
        tokens.extend(enc.encode_ordinary(piece))
    return tokens


def count_tokens(text: object, encoding: str = DEFAULT_ENCODING) -> int:
    """Return how many tokens ``text`` is in ``encoding`` (0 for non-strings)."""
    if isinstance(text, str) and len(text) <= _SHORT_CHARS:
        return _count_short(text, encoding)  # roles, names: the same few strings again and again
    return len(encode(text, encoding))


@functools.lru_cache(maxsize=4096)
def _count_short(text: str, encoding: str) -> int:
    return len(encode(text, encoding))


def truncate_to_tokens(text: str, max_tokens: int, encoding: str = DEFAULT_ENCODING) -> str:
    """Cut ``text`` to its first ``max_tokens`` tokens.

    A multi-byte character split by the cut is dropped rather than replaced by
    U+FFFD, so the result is always clean text.
    """
    tokens = encode(text, encoding)
    if len(tokens) <= max_tokens:
        return text
    data = _get_encoding(encoding).decode_bytes(tokens[: max(max_tokens, 0)])
    return data.decode("utf-8", errors="ignore")


def decode(ids: list[int], encoding: str = DEFAULT_ENCODING) -> str | None:
    """Turn token ids back into text; ``None`` when they are not valid ids."""
    try:
        data = _get_encoding(encoding).decode_bytes(list(ids))
    except Exception:
        return None
    return data.decode("utf-8", errors="ignore")


def token_bytes(ids: list[int], encoding: str = DEFAULT_ENCODING) -> list[bytes]:
    """The bytes of each token id, one by one (a token may hold part of a UTF-8 character)."""
    enc = _get_encoding(encoding)
    return [bytes(enc.decode_bytes([token])) for token in ids]


def encoding_for_model(model: object) -> str:
    """Return the tokenizer name for ``model``, or ``o200k_base`` when unknown."""
    info = resolve_model(model)
    return info.encoding if info is not None else DEFAULT_ENCODING


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def content_tokens(content: object, encoding: str) -> int:
    """Tokens of a message ``content``: a string, or a list of content parts."""
    if isinstance(content, str):
        return count_tokens(content, encoding)
    if not isinstance(content, list):
        return 0
    total = 0
    for part in content:
        if isinstance(part, str):
            total += count_tokens(part, encoding)
        elif isinstance(part, dict):
            kind = part.get("type")
            if not isinstance(kind, str | None):
                continue  # not a part any endpoint accepts: it carries no tokens
            if kind in _TEXT_PART_TYPES or (kind is None and "text" in part):
                total += count_tokens(part.get("text"), encoding)
            elif kind == "refusal":
                total += count_tokens(part.get("refusal"), encoding)
            # Images count apart (request_image_tokens); audio and files count 0 here.
    return total


def _tool_call_tokens(message: dict[str, Any], encoding: str) -> int:
    """Tokens of the tool calls carried by an assistant message or Responses item."""
    total = 0
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        for call in calls:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                total += count_tokens(function.get("name"), encoding)
                total += count_tokens(function.get("arguments"), encoding)
    kind = message.get("type")
    if not isinstance(kind, str):
        return total
    if kind == "function_call":
        total += count_tokens(message.get("name"), encoding)
        total += count_tokens(message.get("arguments"), encoding)
    elif kind == "function_call_output":
        total += count_tokens(message.get("output"), encoding)
    return total


def _message_tokens(message: dict[str, Any], encoding: str) -> int:
    total = TOKENS_PER_MESSAGE
    total += count_tokens(message.get("role"), encoding)
    total += content_tokens(message.get("content"), encoding)
    name = message.get("name")
    if isinstance(name, str) and message.get("type") != "function_call":
        total += count_tokens(name, encoding) + TOKENS_PER_NAME
    total += _tool_call_tokens(message, encoding)
    return total


def chat_prompt_tokens(messages: object, encoding: str = DEFAULT_ENCODING) -> int:
    """Prompt tokens of a chat ``messages`` array (cookbook rule, see module docstring).

    Items that are not objects are skipped; a list without any object counts 0.
    """
    if not isinstance(messages, list):
        return 0
    counted = [_message_tokens(m, encoding) for m in messages if isinstance(m, dict)]
    if not counted:
        return 0
    return sum(counted) + REPLY_PRIMING_TOKENS


def text_or_token_list_tokens(value: object, encoding: str) -> int:
    """Tokens of an embeddings ``input`` or completions ``prompt``.

    Accepts a string, a list of strings, one token array (list of ints), or a list
    of token arrays. A token array counts as its length.
    """
    if isinstance(value, str):
        return count_tokens(value, encoding)
    if not isinstance(value, list):
        return 0
    if value and all(_is_int(v) for v in value):
        return len(value)
    total = 0
    for item in value:
        if isinstance(item, str):
            total += count_tokens(item, encoding)
        elif isinstance(item, list):
            total += sum(1 for v in item if _is_int(v))
    return total


def responses_input_messages(body: dict[str, Any]) -> list[Any]:
    """The Responses ``instructions`` and ``input`` as one chat-style message list.

    ``instructions`` becomes a developer message and a string ``input`` a user
    message, which is how the Responses API frames them for the model.
    """
    messages: list[Any] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str):
        messages.append({"role": "developer", "content": instructions})
    value = body.get("input")
    if isinstance(value, str):
        messages.append({"role": "user", "content": value})
    elif isinstance(value, list):
        messages.extend(value)
    return messages


def request_input_tokens(url: str, body: dict[str, Any]) -> int:
    """Input tokens one request (one batch line) would enqueue.

    ``url`` is the endpoint path such as ``"/v1/chat/completions"``; its entry in the endpoint
    registry (:data:`.endpoints.ENDPOINTS`) says how its body is counted. The tokenizer follows
    ``body["model"]`` and defaults to ``o200k_base``. Unknown URLs and malformed bodies count 0.
    The images the request carries count too (:func:`request_image_tokens`).

    For ``/v1/responses`` the ``instructions`` and a string ``input`` are counted
    as a developer and a user message, so the same conversation costs the same
    through either chat endpoint.
    """
    # imported here: the registry's entries count with this module's functions
    from .endpoints import lookup

    endpoint = lookup(url)
    if endpoint is None or not isinstance(body, dict):
        return 0
    try:
        text = endpoint.input_tokens(body, encoding_for_model(body.get("model")))
    except Exception:
        return 0
    return text + request_image_tokens(url, body)


def request_image_tokens(url: str, body: dict[str, Any]) -> int:
    """The input tokens of the images one request carries (part of
    :func:`request_input_tokens`).

    Each image counts by the formula of the model the body names (OpenAI's vision guide: tiles
    or 32 px patches, by ``detail``; an edit's input images by input fidelity), at the size its
    header gives for a ``data:`` URL, or as a 1024 x 1024 image when the size is not known here
    (an ``http(s)`` URL, which is never fetched; a file id). A model the catalog does not know,
    or one that takes no images, counts 0. Never raises.
    """
    from .endpoints import lookup  # see request_input_tokens
    from .endpoints.image_inputs import image_tokens

    endpoint = lookup(url)
    info = resolve_model(body.get("model")) if isinstance(body, dict) else None
    if endpoint is None or endpoint.images is None or info is None:
        return 0
    try:
        return image_tokens(info, endpoint.images(body))
    except Exception:
        return 0
