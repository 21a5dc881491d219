"""Usage tiers: the batch queue limits of OpenAI's usage tiers 1 to 5, per model.

The real Batch API limits the input tokens a project may have enqueued for one model at a time
(its running batches plus the new one); the figure depends on the model and on the
organization's usage tier, and is published on each model's page
(``developers.openai.com/api/docs/models/<model>``, column "Batch queue limit"). The embeddings
also have a limit of 1,000,000 enqueued *requests* (OpenAI's Batch API FAQ).

A server started with ``serve --tier N`` (or a namespace given a tier with ``POST /_local/tier``)
applies this table instead of its single ``--token-limit``. Which limit decides a batch's model:

1. a token limit the namespace set itself (``POST /_local/token-limit``) wins;
2. otherwise, with a tier, the tier's figure for the model (:data:`QUEUE_LIMITS`; ``None`` in
   the table: no limit);
3. otherwise (no tier, or a model the table does not list) the server's ``--token-limit``.

Every figure is here, in one table, so it is easy to change. Sources and dates are in
``docs/batch-api-facts.md`` ("Batch queue limits by usage tier"); the rows marked UNCONFIRMED
below are the most plausible figure by family, listed in the known deviations of
``docs/local-server.md``.
"""

from __future__ import annotations

from .models import resolve_model

#: the usage tiers a server or namespace may take (Free has no batch queue)
TIERS = (1, 2, 3, 4, 5)

#: enqueued input tokens per model, tiers 1 to 5 (read 2026-12-07 from copies of the model
#: pages; see docs/batch-api-facts.md). ``None``: the model page has no batch queue column.
QUEUE_LIMITS: dict[str, tuple[int, int, int, int, int] | None] = {
    # published on the model pages (copies)
    "gpt-4o": (90_000, 1_350_000, 50_000_000, 200_000_000, 5_000_000_000),
    "gpt-4o-mini": (2_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "gpt-4.1": (90_000, 1_350_000, 50_000_000, 200_000_000, 5_000_000_000),
    "gpt-4.1-mini": (2_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "gpt-4.1-nano": (2_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "gpt-5-mini": (5_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "gpt-5-nano": (2_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "o3-mini": (1_000_000, 2_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "o4-mini": (1_000_000, 2_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "o3-pro": (90_000, 1_350_000, 50_000_000, 200_000_000, 5_000_000_000),
    "gpt-5.4": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "gpt-5.4-mini": (5_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "gpt-5.4-nano": (2_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "gpt-5.5": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "gpt-5.6-sol": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "gpt-5.6-terra": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "gpt-5.6-luna": (5_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "gpt-6-luna": (5_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "gpt-6-astra": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "text-embedding-3-large": (3_000_000, 20_000_000, 100_000_000, 500_000_000, 4_000_000_000),
    "text-embedding-3-small": (3_000_000, 20_000_000, 100_000_000, 500_000_000, 4_000_000_000),
    # partly published: gpt-5 tiers 1, 2 and 4; o3 tier 4 (tiers 3 and 5 of gpt-5, and 1, 2, 3
    # and 5 of o3, UNCONFIRMED: gpt-5 as gpt-5.4, o3 as o3-pro)
    "gpt-5": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "o3": (90_000, 1_350_000, 50_000_000, 200_000_000, 5_000_000_000),
    # UNCONFIRMED: no figure found; the most plausible by family
    "gpt-6.2-sol": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "gpt-6.2-astra": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "gpt-6.1-sol": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "gpt-6.1-terra": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "gpt-6-sol": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "gpt-5.2": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "gpt-5.1": (1_500_000, 3_000_000, 100_000_000, 200_000_000, 15_000_000_000),
    "gpt-5.5-pro": (90_000, 1_350_000, 50_000_000, 200_000_000, 5_000_000_000),
    "gpt-5.2-pro": (90_000, 1_350_000, 50_000_000, 200_000_000, 5_000_000_000),
    "gpt-5-pro": (90_000, 1_350_000, 50_000_000, 200_000_000, 5_000_000_000),
    "o1": (90_000, 1_350_000, 50_000_000, 200_000_000, 5_000_000_000),
    "gpt-4-turbo": (900_000, 1_350_000, 50_000_000, 200_000_000, 5_000_000_000),
    "gpt-4": (90_000, 1_350_000, 50_000_000, 200_000_000, 5_000_000_000),
    "gpt-3.5-turbo": (2_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "gpt-3.5-turbo-instruct": (2_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "gpt-audio-mini": (2_000_000, 20_000_000, 40_000_000, 1_000_000_000, 15_000_000_000),
    "text-embedding-ada-002": (3_000_000, 20_000_000, 100_000_000, 500_000_000, 4_000_000_000),
    # no batch queue column on the model page (image and moderation models): no limit
    # (UNCONFIRMED)
    "gpt-image-2.6-sunburst": None,
    "gpt-image-2.6-flare": None,
    "gpt-image-2.5-sunburst": None,
    "gpt-image-2.5-flare": None,
    "gpt-image-2": None,
    "gpt-image-1.5": None,
    "chatgpt-image-latest": None,
    "gpt-image-1-mini": None,
    "gpt-image-1": None,
    "omni-moderation-latest": None,
    "text-moderation-latest": None,
    "text-moderation-stable": None,
}

#: enqueued requests per embeddings model, at every tier (OpenAI's Batch API FAQ)
EMBEDDINGS_REQUEST_LIMIT = 1_000_000

#: the models the table lists only because no figure was found (see the module docstring)
UNCONFIRMED = (
    "gpt-6.2-sol",
    "gpt-6.2-astra",
    "gpt-6.1-sol",
    "gpt-6.1-terra",
    "gpt-6-sol",
    "gpt-5.2",
    "gpt-5.1",
    "gpt-5.5-pro",
    "gpt-5.2-pro",
    "gpt-5-pro",
    "o1",
    "gpt-4-turbo",
    "gpt-4",
    "gpt-3.5-turbo",
    "gpt-3.5-turbo-instruct",
    "gpt-audio-mini",
    "text-embedding-ada-002",
)


def valid_tier(tier: object) -> bool:
    """Whether ``tier`` is a usage tier (an integer from 1 to 5)."""
    return isinstance(tier, int) and not isinstance(tier, bool) and tier in TIERS


def _alias(model: str) -> str:
    info = resolve_model(model)
    return info.id if info is not None else model


def tier_limit(model: str, tier: int) -> tuple[bool, int | None]:
    """The tier's enqueued-token limit for ``model`` (an alias or a snapshot):
    ``(listed, limit)``. ``listed`` is False for a model the table does not list (then the
    server's own limit applies); ``limit`` None means no limit."""
    alias = _alias(model)
    if alias not in QUEUE_LIMITS:
        return False, None
    figures = QUEUE_LIMITS[alias]
    return True, None if figures is None else figures[tier - 1]


def request_limit(model: str) -> int | None:
    """The enqueued-request limit of ``model`` (embeddings models only), or None."""
    info = resolve_model(model)
    return EMBEDDINGS_REQUEST_LIMIT if info is not None and info.kind == "embedding" else None
