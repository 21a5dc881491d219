"""The catalog of models the local Batch API server knows about.

Each entry records what the server needs to answer a request the way the real
API would: which snapshot an alias points to, how many tokens fit in the context
window, the tokenizer used to count them, the embedding size, and its kind, which
says the batch endpoints it may be used with (each endpoint's registry entry,
:data:`.endpoints.ENDPOINTS`, names the kind of model that serves it).

The figures come from OpenAI's public model pages. They describe the real models;
the local server only uses them to count tokens, enforce limits and shape its
placeholder replies.

    >>> resolve_model("gpt-4o-mini").snapshot
    'gpt-4o-mini-2024-07-18'
    >>> resolve_model("gpt-4o-mini-2024-07-18").id
    'gpt-4o-mini'
    >>> resolve_model("no-such-model") is None
    True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MODELS",
    "ModelInfo",
    "ModelKind",
    "list_models",
    "resolve_model",
    "stand_in",
]

ModelKind = Literal["chat", "embedding", "moderation", "completion"]


@dataclass(frozen=True)
class ModelInfo:
    """What the local server knows about one model.

    Attributes:
        id: The alias clients usually send, e.g. ``"gpt-4o-mini"``.
        snapshot: The dated snapshot the alias points to; the real API reports
            this in the ``model`` field of chat completions.
        kind: The family of endpoints the model belongs to (:attr:`endpoints`).
        context_window: Maximum tokens of prompt plus output in one request.
        max_output_tokens: Maximum tokens the model may generate (0 when the
            model does not generate text).
        encoding: Name of the tokenizer, e.g. ``"o200k_base"``.
        dimensions: Native vector length for embedding models, otherwise ``None``.
        created: Unix timestamp, as reported by ``GET /v1/models``.
        reasoning: A reasoning model (o-series, gpt-5): it thinks before it answers
            (``reasoning_tokens`` in usage), takes ``max_completion_tokens`` rather than
            ``max_tokens``, and only the default ``temperature`` and ``top_p``.
    """

    id: str
    snapshot: str
    kind: ModelKind
    context_window: int
    max_output_tokens: int
    encoding: str
    dimensions: int | None
    created: int
    reasoning: bool = False

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The batch URLs the model can be used with, in the registry's order."""
        return _served_by(self.kind)

    def supports(self, url: str) -> bool:
        """Return True when ``url`` (e.g. ``"/v1/embeddings"``) serves this model."""
        return url in _served_by(self.kind)


@functools.cache
def _served_by(kind: ModelKind) -> tuple[str, ...]:
    """The URLs whose registry entry a model of ``kind`` serves."""
    from .endpoints import ENDPOINTS  # the registry imports this module: not at the top

    return tuple(url for url, entry in ENDPOINTS.items() if entry.model_kind == kind)


def _chat(
    alias: str,
    snapshot: str,
    context_window: int,
    max_output_tokens: int,
    created: int,
    encoding: str = "o200k_base",
    *,
    reasoning: bool = False,
) -> ModelInfo:
    return ModelInfo(
        id=alias,
        snapshot=snapshot,
        kind="chat",
        context_window=context_window,
        max_output_tokens=max_output_tokens,
        encoding=encoding,
        dimensions=None,
        created=created,
        reasoning=reasoning,
    )


def _embedding(alias: str, dimensions: int, created: int) -> ModelInfo:
    return ModelInfo(
        id=alias,
        snapshot=alias,
        kind="embedding",
        context_window=8191,
        max_output_tokens=0,
        encoding="cl100k_base",
        dimensions=dimensions,
        created=created,
    )


def _moderation(alias: str, snapshot: str, encoding: str, created: int) -> ModelInfo:
    return ModelInfo(
        id=alias,
        snapshot=snapshot,
        kind="moderation",
        context_window=32768,
        max_output_tokens=0,
        encoding=encoding,
        dimensions=None,
        created=created,
    )


#: Context windows and output limits from OpenAI's model pages (platform.openai.com/docs/models,
#: read 2026-11); every chat model here is listed there with Batch API support. ``created`` is
#: what ``GET /v1/models`` reports where known, otherwise the snapshot's release date.
_CATALOG: tuple[ModelInfo, ...] = (
    _chat("gpt-4o", "gpt-4o-2024-08-06", 128_000, 16_384, 1715367049),
    _chat("gpt-4o-mini", "gpt-4o-mini-2024-07-18", 128_000, 16_384, 1721172741),
    _chat("gpt-4.1", "gpt-4.1-2025-04-14", 1_047_576, 32_768, 1744316542),
    _chat("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14", 1_047_576, 32_768, 1744318173),
    _chat("gpt-4.1-nano", "gpt-4.1-nano-2025-04-14", 1_047_576, 32_768, 1744321707),
    _chat("gpt-5", "gpt-5-2025-08-07", 400_000, 128_000, 1754425777, reasoning=True),
    _chat("gpt-5-mini", "gpt-5-mini-2025-08-07", 400_000, 128_000, 1754425928, reasoning=True),
    _chat("gpt-5-nano", "gpt-5-nano-2025-08-07", 400_000, 128_000, 1754426384, reasoning=True),
    _chat("o1", "o1-2024-12-17", 200_000, 100_000, 1734326976, reasoning=True),
    _chat("o3", "o3-2025-04-16", 200_000, 100_000, 1744133301, reasoning=True),
    _chat("o3-mini", "o3-mini-2025-01-31", 200_000, 100_000, 1737146383, reasoning=True),
    _chat("o4-mini", "o4-mini-2025-04-16", 200_000, 100_000, 1744133506, reasoning=True),
    _chat("gpt-4-turbo", "gpt-4-turbo-2024-04-09", 128_000, 4_096, 1712361441, "cl100k_base"),
    _chat("gpt-4", "gpt-4-0613", 8_192, 8_192, 1687882411, encoding="cl100k_base"),
    _chat("gpt-3.5-turbo", "gpt-3.5-turbo-0125", 16_385, 4_096, 1677610602, encoding="cl100k_base"),
    ModelInfo(
        id="gpt-3.5-turbo-instruct",
        snapshot="gpt-3.5-turbo-instruct",
        kind="completion",
        context_window=4_096,
        max_output_tokens=4_096,
        encoding="cl100k_base",
        dimensions=None,
        created=1692901427,
    ),
    _embedding("text-embedding-3-small", 1536, 1705948997),
    _embedding("text-embedding-3-large", 3072, 1705953180),
    _embedding("text-embedding-ada-002", 1536, 1671217299),
    _moderation("omni-moderation-latest", "omni-moderation-2024-09-26", "o200k_base", 1731689265),
    _moderation("text-moderation-latest", "text-moderation-007", "cl100k_base", 1687882410),
)

MODELS: dict[str, ModelInfo] = {}
"""Every known model, reachable by its alias and by its snapshot id."""

for _info in _CATALOG:
    MODELS[_info.id] = _info
    MODELS.setdefault(_info.snapshot, _info)
del _info


def resolve_model(name: str) -> ModelInfo | None:
    """Look a model up by alias or snapshot id.

    Returns ``None`` for unknown names and for anything that is not a string, so
    it is safe to call with a value taken straight from a request body.
    """
    if not isinstance(name, str):
        return None
    return MODELS.get(name)


def stand_in(name: str) -> ModelInfo:
    """The entry an unknown model gets on a server that accepts any model (``--any-model``):
    a chat model like gpt-4o-mini, under its own name."""
    base = MODELS["gpt-4o-mini"]
    return ModelInfo(
        id=name,
        snapshot=name,
        kind="chat",
        context_window=base.context_window,
        max_output_tokens=base.max_output_tokens,
        encoding=base.encoding,
        dimensions=None,
        created=base.created,
    )


def list_models() -> list[ModelInfo]:
    """Return one entry per alias, always in the same (catalog) order."""
    return list(_CATALOG)
