"""``/v1/embeddings``: its registry entry, the checks of its body, and its local answer.

An embeddings request needs ``input`` (a string, a list of strings, one array of token ids, or a
list of them), is served by embedding models, counts its inputs' tokens, and is answered with a
list of unit vectors, each seeded by a hash of the model snapshot and the input's token ids (so
a text and its token array get the same vector). A batch of embeddings may hold at most 50,000
embedding inputs in all (:func:`count_embedding_inputs`). numpy, which draws the vectors, is
imported by the first answer, not by importing this module.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from .. import errors, tokens
from ..errors import invalid_type
from . import Endpoint, Request
from .common import digest, is_int, text_or_token_inputs

if TYPE_CHECKING:
    import numpy as np

URL = "/v1/embeddings"
MAX_INPUTS_PER_REQUEST = 2048
MAX_TOKENS_PER_REQUEST = 300_000


def input_tokens(body: dict[str, Any], encoding: str) -> int:
    """Tokens of every input together (a token array counts its length)."""
    return tokens.text_or_token_list_tokens(body.get("input"), encoding)


def count_embedding_inputs(value: Any) -> int:
    """How many embedding inputs a body's ``input`` holds (the 50,000 limit counts these)."""
    if isinstance(value, list):
        if value and all(isinstance(x, int) for x in value):
            return 1  # one input given as a list of tokens
        return len(value)
    return 1


def _embedding_inputs(body: dict[str, Any]) -> int:
    return count_embedding_inputs(body.get("input"))


def _unit_vector(seed: bytes, native: int, dimensions: int) -> np.ndarray:
    """A stable unit vector; shorter ones are the normalised prefix of the full one."""
    import numpy as np

    rng = np.random.default_rng(int.from_bytes(seed, "big"))
    vector = rng.standard_normal(native)[:dimensions]
    vector /= np.linalg.norm(vector)
    return vector.astype("<f4")


def answer(request: Request) -> dict[str, Any]:
    """A list of embeddings; raises :class:`..errors.APIError` for a body the API refuses."""
    info, body = request.info, request.body
    value = body.get("input")
    invalid_input = errors.invalid_embedding_input()
    if value == "" or value == []:
        raise invalid_input
    units = text_or_token_inputs(value, "input")
    if len(units) > MAX_INPUTS_PER_REQUEST or any(u == "" for u in units):
        raise invalid_input

    native = info.dimensions or 0
    dimensions = native
    requested = body.get("dimensions")
    if requested is not None:
        if info.id == "text-embedding-ada-002":
            raise errors.dimensions_unsupported()
        if not is_int(requested):
            raise invalid_type("dimensions", "an integer", requested)
        if requested < 1 or requested > native:
            raise errors.dimensions_out_of_range(requested, native)
        dimensions = requested
    encoding_format = body.get("encoding_format")
    if encoding_format is not None and encoding_format not in ("float", "base64"):
        raise errors.invalid_choice("encoding_format", encoding_format, ["float", "base64"])

    # each input is encoded here, although validation counted it: its token ids seed its vector
    token_lists = [tokens.encode(u, info.encoding) if isinstance(u, str) else u for u in units]
    for ids in token_lists:
        if len(ids) > info.context_window:
            raise errors.legacy_context_exceeded(info.context_window, len(ids), 0)
    total = sum(len(ids) for ids in token_lists)
    if total > MAX_TOKENS_PER_REQUEST:
        raise errors.too_many_embedding_tokens(total, MAX_TOKENS_PER_REQUEST)

    data: list[dict[str, Any]] = []
    for index, ids in enumerate(token_lists):
        # Seeded by the tokens, so a string and its token array get the same vector.
        vector = _unit_vector(digest("embedding", info.snapshot, ids), native, dimensions)
        embedding: str | list[float]
        if encoding_format == "base64":
            embedding = base64.b64encode(vector.tobytes()).decode("ascii")
        else:
            embedding = vector.astype(float).tolist()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    return {
        "object": "list",
        "data": data,
        "model": info.id,
        "usage": {"prompt_tokens": total, "total_tokens": total},
    }


ENDPOINT: Endpoint = Endpoint(
    url=URL,
    label="Embeddings",
    required="input",
    model_kinds=("embedding",),
    input_tokens=input_tokens,
    answer=answer,
    embedding_inputs=_embedding_inputs,
)
