"""The catalog of models the local Batch API server knows about, and when each one shuts down.

The real catalog moves: models are announced, then deprecated with a shutdown date, then
refused. This one follows it by date, as the pinned ``openai`` SDK's model types announce it
(``openai/types/shared/chat_model.py`` lists every chat model and, under "Deprecated values",
each deprecated model's shutdown date; ``openai/types/image_model.py`` does the same for the
image models, whose other dates come from OpenAI's deprecations page). A model is one of:

* **served** (:data:`MODELS`): its entry says what the server needs to answer it as the real
  API would: which snapshot its alias points to, its context window and output limit, its
  tokenizer, whether it reasons (and with which ``reasoning_effort`` values, and which by
  default), what it takes as input and how it counts an image (:data:`VISION`, OpenAI's vision
  guide), what an image model makes (:class:`ImageGeneration`), which endpoints serve it,
  whether the Batch API takes it, and its announced shutdown date, if any. From that date on, by the server's clock, it is
  refused as a shut-down model (:func:`retired`);
* **shut down** (:data:`SHUT_DOWN`, and the served models whose date has passed): refused with the real API's 404 ``The model `x` has been
  deprecated ...`` (:func:`..errors.model_shut_down`);
* **not open to everyone** (:data:`RESTRICTED`): models the SDK names that an ordinary project
  cannot use; refused as an unknown model is (``... does not exist or you do not have access to
  it.``).

``tests/server/test_models_tokens.py`` reads the pinned SDK's model types and checks that every
model in them is one of the three, with the SDK's shutdown dates: upgrading the SDK shows every
new or retired model. Sources of each figure, and the dates they were read, are in
``docs/batch-api-facts.md`` ("Models"): the SDK for ids and shutdown dates; OpenAI's model pages
and, for newer models, the model map of litellm 1.110.2 (read once, 2026-12-07, not a
dependency) for windows, output limits, reasoning efforts and batch support. Prices are not kept
here: ``helpers.estimate_cost`` reads them from the ``genai-prices`` package.

    >>> resolve_model("gpt-4o-mini").snapshot
    'gpt-4o-mini-2024-07-18'
    >>> resolve_model("gpt-5.4-mini-2026-03-17").id
    'gpt-5.4-mini'
    >>> resolve_model("no-such-model") is None
    True
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .vision import (
    PATCHES_54,
    PATCHES_55,
    PATCHES_56,
    PATCHES_1536,
    TILES_4O,
    TILES_4O_MINI,
    TILES_5,
    TILES_GPT_IMAGE,
    TILES_O,
    Vision,
)

__all__ = [
    "MODELS",
    "RESTRICTED",
    "SHUT_DOWN",
    "ImageGeneration",
    "ModelInfo",
    "ModelKind",
    "list_models",
    "resolve_model",
    "retired",
    "shutdown_of",
    "stand_in",
]

#: what serves a model: ``chat`` models answer chat completions and Responses, ``responses``
#: models Responses only, ``image`` models the Images API's generations and edits
ModelKind = Literal["chat", "responses", "embedding", "moderation", "completion", "image"]

#: the sizes every GPT image model takes, in the order the real API lists them
STANDARD_SIZES = ("1024x1024", "1024x1536", "1536x1024")


@dataclass(frozen=True)
class ImageGeneration:
    """What an image model makes, what it takes, and what its images cost in output tokens.

    Attributes:
        qualities: The ``quality`` values it takes besides ``auto``, cheapest first.
        flexible: It takes any ``WIDTHxHEIGHT`` within the limits of gpt-image-2 (sides divisible
            by 16, aspect ratio 1:3 to 3:1, at most 3840 px and 655,360 to 8,294,400 pixels);
            otherwise only :data:`STANDARD_SIZES` and ``auto``.
        transparent: It takes ``background: "transparent"``.
        fidelities: The ``input_fidelity`` values an edit may set; empty: the parameter must be
            left out (the model always works at high fidelity).
        default_fidelity: The input fidelity of an edit that sets none.
        output_tokens: For each quality, the output tokens of one image at each of
            :data:`STANDARD_SIZES`; another size (a flexible model's) scales the square's
            figure by its area.
    """

    qualities: tuple[str, ...]
    flexible: bool
    transparent: bool
    fidelities: tuple[str, ...]
    default_fidelity: str
    output_tokens: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)

    def image_tokens(self, quality: str, width: int, height: int) -> int:
        """The output tokens of one ``width`` x ``height`` image at ``quality``."""
        square, portrait, landscape = self.output_tokens[quality]
        size = f"{width}x{height}"
        if size in STANDARD_SIZES:
            return (square, portrait, landscape)[STANDARD_SIZES.index(size)]
        return math.ceil(square * width * height / (1024 * 1024))


@dataclass(frozen=True)
class ModelInfo:
    """What the local server knows about one model.

    Attributes:
        id: The alias clients usually send, e.g. ``"gpt-4o-mini"``.
        snapshot: The dated snapshot the alias points to; the real API reports
            this in the ``model`` field of chat completions and of a batch.
        kind: The family of endpoints the model belongs to (:attr:`endpoints`).
        context_window: Maximum tokens of prompt plus output in one request.
        max_output_tokens: Maximum tokens the model may generate (0 when the
            model does not generate text).
        encoding: Name of the tokenizer, e.g. ``"o200k_base"``.
        dimensions: Native vector length for embedding models, otherwise ``None``.
        created: Unix timestamp, as reported by ``GET /v1/models``.
        efforts: The ``reasoning_effort`` values a reasoning model takes, in order of effort;
            empty for a model that does not reason.
        default_effort: The effort of a request that sets none (None: not a reasoning model).
        inputs: What the model takes as input: ``"text"``, ``"image"``, ``"audio"``.
        vision: How the model counts an image it is shown (every chat and image model with
            ``"image"`` among its inputs has one), or None.
        image: What an image model makes (:class:`ImageGeneration`); None for other models.
        batch: Whether the Batch API takes the model.
        shutdown: The announced shutdown date (``YYYY-MM-DD``), or None when none is announced.
        snapshots: Every other id that names this model (its dated snapshots).
    """

    id: str
    snapshot: str
    kind: ModelKind
    context_window: int
    max_output_tokens: int
    encoding: str
    dimensions: int | None
    created: int
    efforts: tuple[str, ...] = ()
    default_effort: str | None = None
    inputs: tuple[str, ...] = ("text",)
    vision: Vision | None = None
    image: ImageGeneration | None = None
    batch: bool = True
    shutdown: str | None = None
    snapshots: tuple[str, ...] = ()

    @property
    def reasoning(self) -> bool:
        """A reasoning model: it thinks before it answers (``reasoning_tokens`` in usage),
        takes ``max_completion_tokens`` rather than ``max_tokens``, and sampling parameters
        (``temperature``, ``top_p``, ``logprobs``) only when it does not reason (effort
        ``none``)."""
        return bool(self.efforts)

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

    return tuple(url for url, entry in ENDPOINTS.items() if kind in entry.model_kinds)


def _day(date: str) -> int:
    """Midnight UTC of an ISO date, as a Unix timestamp."""
    return calendar.timegm(datetime.date.fromisoformat(date).timetuple())


# -- reasoning efforts, as each family takes them ----------------------------------------------

#: gpt-5, gpt-5-mini, gpt-5-nano
GPT5 = ("minimal", "low", "medium", "high")
#: o3, o3-pro
O_SERIES = ("low", "medium", "high")
#: gpt-5.1
GPT51 = ("none", "low", "medium", "high")
#: gpt-5.2, gpt-5.4 (and mini, nano), gpt-5.5, gpt-5.6
GPT54 = ("none", "low", "medium", "high", "xhigh")
#: gpt-6-sol, gpt-6-luna, gpt-6.1-terra
GPT6 = ("none", "low", "medium", "high", "xhigh", "max")
#: gpt-6-astra, gpt-6.1-sol, gpt-6.2-sol, gpt-6.2-astra: no ``none``
GPT6_NO_NONE = ("low", "medium", "high", "xhigh", "max")
#: gpt-5.2-pro, gpt-5.5-pro
PRO = ("medium", "high", "xhigh")

TEXT_IMAGE = ("text", "image")

# -- how each model counts an image it is shown (OpenAI's vision guide, read 2026-12-07) -------

_MINI = dataclasses.replace(PATCHES_1536, multiplier=1.62)
_NANO = dataclasses.replace(PATCHES_1536, multiplier=2.46)
#: the :class:`.vision.Vision` of each chat model that takes images. The guide names the
#: families; the models it does not name follow their nearest relative (gpt-6.x the GPT-5.6
#: family, gpt-5.1 and gpt-5.2-pro gpt-5.2, gpt-5-pro gpt-5, o3-pro o3, gpt-4-turbo GPT-4o):
#: UNCONFIRMED, listed in docs/batch-api-facts.md
VISION: dict[str, Vision] = {
    **dict.fromkeys(
        (
            "gpt-6.2-sol",
            "gpt-6.2-astra",
            "gpt-6.1-sol",
            "gpt-6.1-terra",
            "gpt-6-astra",
            "gpt-6-sol",
            "gpt-6-luna",
            "gpt-5.6-sol",
            "gpt-5.6-terra",
            "gpt-5.6-luna",
        ),
        PATCHES_56,
    ),
    **dict.fromkeys(("gpt-5.5", "gpt-5.5-pro"), PATCHES_55),
    "gpt-5.4": PATCHES_54,
    **dict.fromkeys(("gpt-5.4-mini", "gpt-5-mini", "gpt-4.1-mini"), _MINI),
    **dict.fromkeys(("gpt-5.4-nano", "gpt-5-nano", "gpt-4.1-nano"), _NANO),
    "o4-mini": dataclasses.replace(PATCHES_1536, multiplier=1.72),
    **dict.fromkeys(("gpt-5.2", "gpt-5.2-pro", "gpt-5.1"), PATCHES_1536),
    **dict.fromkeys(("gpt-5", "gpt-5-pro"), TILES_5),
    **dict.fromkeys(("gpt-4o", "gpt-4.1", "gpt-4-turbo"), TILES_4O),
    "gpt-4o-mini": TILES_4O_MINI,
    **dict.fromkeys(("o1", "o3", "o3-pro"), TILES_O),
}

# -- what each image model makes ----------------------------------------------------------------

#: output tokens of one image by quality, at 1024x1024, 1024x1536 and 1536x1024: the table of
#: OpenAI's image-generation guide for the GPT image models before gpt-image-2 [DOC]
_GPT_IMAGE_1_TOKENS = {
    "low": (272, 408, 400),
    "medium": (1056, 1584, 1568),
    "high": (4160, 6240, 6208),
}
#: gpt-image-1-mini: the guide's price of one image divided by its output price ($8 per 1M):
#: its tokens are not the table above (derived)
_MINI_TOKENS = {
    "low": (625, 750, 750),
    "medium": (1375, 1875, 1875),
    "high": (4500, 6500, 6500),
}
#: gpt-image-2: the guide's price of one image divided by its output price ($30 per 1M)
#: (derived; the guide has only a calculator for it)
_GPT_IMAGE_2_TOKENS = {
    "low": (200, 167, 167),
    "medium": (1767, 1367, 1367),
    "high": (7033, 5500, 5500),
}
#: gpt-image-2.5 and 2.6: gpt-image-2's, with ``xhigh`` twice ``high`` and ``max`` four times
#: (UNCONFIRMED: no figures are published)
_GPT_IMAGE_25_TOKENS = {
    **_GPT_IMAGE_2_TOKENS,
    "xhigh": (14066, 11000, 11000),
    "max": (28132, 22000, 22000),
}
GPT_IMAGE_1 = ImageGeneration(
    qualities=("low", "medium", "high"),
    flexible=False,
    transparent=True,
    fidelities=("low", "high"),
    default_fidelity="low",
    output_tokens=_GPT_IMAGE_1_TOKENS,
)
GPT_IMAGE_1_MINI = dataclasses.replace(GPT_IMAGE_1, fidelities=("low",), output_tokens=_MINI_TOKENS)
#: gpt-image-2 (and, UNCONFIRMED, 2.6): any size, no transparent background (observed:
#: "Transparent background is not supported for this model."), always high input fidelity
GPT_IMAGE_2 = ImageGeneration(
    qualities=("low", "medium", "high"),
    flexible=True,
    transparent=False,
    fidelities=(),
    default_fidelity="high",
    output_tokens=_GPT_IMAGE_2_TOKENS,
)
GPT_IMAGE_25 = dataclasses.replace(
    GPT_IMAGE_2,
    qualities=("low", "medium", "high", "xhigh", "max"),
    output_tokens=_GPT_IMAGE_25_TOKENS,
)
GPT_IMAGE_26 = dataclasses.replace(GPT_IMAGE_2, output_tokens=_GPT_IMAGE_25_TOKENS)


def _image(
    alias: str,
    created: str,
    spec: ImageGeneration,
    *,
    snapshot: str | None = None,
    shutdown: str | None = None,
) -> ModelInfo:
    return ModelInfo(
        id=alias,
        snapshot=snapshot or alias,
        kind="image",
        context_window=0,
        max_output_tokens=0,
        encoding="o200k_base",
        dimensions=None,
        created=_day(created),
        inputs=TEXT_IMAGE,
        vision=TILES_GPT_IMAGE,
        image=spec,
        shutdown=shutdown,
        snapshots=(snapshot,) if snapshot else (),
    )


def _chat(
    alias: str,
    context_window: int,
    max_output_tokens: int,
    created: str,
    *,
    snapshot: str | None = None,
    snapshots: tuple[str, ...] = (),
    efforts: tuple[str, ...] = (),
    default_effort: str | None = None,
    kind: ModelKind = "chat",
    inputs: tuple[str, ...] = TEXT_IMAGE,
    batch: bool = True,
    shutdown: str | None = None,
    encoding: str = "o200k_base",
) -> ModelInfo:
    if efforts and default_effort is None:
        default_effort = "medium" if "medium" in efforts else efforts[0]
    return ModelInfo(
        id=alias,
        snapshot=snapshot or alias,
        kind=kind,
        context_window=context_window,
        max_output_tokens=max_output_tokens,
        encoding=encoding,
        dimensions=None,
        created=_day(created),
        efforts=efforts,
        default_effort=default_effort,
        inputs=inputs,
        vision=VISION.get(alias) if "image" in inputs else None,
        batch=batch,
        shutdown=shutdown,
        snapshots=tuple(s for s in (*snapshots, snapshot) if s and s != alias),
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


def _moderation(
    alias: str, snapshot: str, encoding: str, created: int, *, inputs: tuple[str, ...] = ("text",)
) -> ModelInfo:
    return ModelInfo(
        id=alias,
        snapshot=snapshot,
        kind="moderation",
        context_window=32768,
        max_output_tokens=0,
        encoding=encoding,
        dimensions=None,
        created=created,
        inputs=inputs,
        snapshots=(snapshot,) if snapshot != alias else (),
    )


M = 1_000_000
#: the served models. ``created`` is the release date (the snapshot's date where it has one);
#: the other figures are sourced in docs/batch-api-facts.md.
_CATALOG: tuple[ModelInfo, ...] = (
    # -- current, with no announced shutdown (the SDK's ChatModel, 2026-12) -------------------
    _chat("gpt-6.2-sol", 1_050_000, 128_000, "2026-11-17", efforts=GPT6_NO_NONE),
    _chat("gpt-6.2-astra", 1_050_000, 128_000, "2026-11-17", efforts=GPT6_NO_NONE),
    _chat("gpt-6.1-sol", 1_050_000, 128_000, "2026-09-15", efforts=GPT6_NO_NONE),
    _chat("gpt-6.1-terra", 1_050_000, 128_000, "2026-09-15", efforts=GPT6),
    _chat("gpt-6-astra", 1_050_000, 128_000, "2026-08-06", efforts=GPT6_NO_NONE),
    _chat("gpt-6-sol", 1_050_000, 128_000, "2026-08-06", efforts=GPT6),
    _chat("gpt-6-luna", 1_050_000, 128_000, "2026-08-06", efforts=GPT6),
    _chat("gpt-5.6-sol", 1_050_000, 128_000, "2026-06-10", efforts=GPT54),
    _chat("gpt-5.6-terra", 1_050_000, 128_000, "2026-06-10", efforts=GPT54),
    _chat("gpt-5.6-luna", 1_050_000, 128_000, "2026-06-10", efforts=GPT54),
    _chat(
        "gpt-5.5", 1_050_000, 128_000, "2026-04-23", snapshot="gpt-5.5-2026-04-23", efforts=GPT54
    ),
    _chat(
        "gpt-5.5-pro",
        1_050_000,
        128_000,
        "2026-04-23",
        snapshot="gpt-5.5-pro-2026-04-23",
        efforts=PRO,
        kind="responses",
    ),
    _chat("gpt-5.4", 1_050_000, 128_000, "2026-03-05", efforts=GPT54, default_effort="none"),
    _chat(
        "gpt-5.4-mini",
        400_000,
        128_000,
        "2026-03-17",
        snapshot="gpt-5.4-mini-2026-03-17",
        efforts=GPT54,
        default_effort="none",
    ),
    _chat(
        "gpt-5.2",
        400_000,
        128_000,
        "2025-12-11",
        snapshot="gpt-5.2-2025-12-11",
        efforts=GPT54,
        default_effort="none",
    ),
    _chat(
        "gpt-5.2-pro",
        400_000,
        128_000,
        "2025-12-11",
        snapshot="gpt-5.2-pro-2025-12-11",
        efforts=PRO,
        kind="responses",
    ),
    # -- deprecated, with an announced shutdown date ------------------------------------------
    _chat(
        "gpt-5.4-nano",
        400_000,
        128_000,
        "2026-03-17",
        snapshot="gpt-5.4-nano-2026-03-17",
        efforts=GPT54,
        default_effort="none",
        shutdown="2027-04-01",
    ),
    _chat(
        "gpt-5.1",
        400_000,
        128_000,
        "2025-11-13",
        snapshot="gpt-5.1-2025-11-13",
        efforts=GPT51,
        default_effort="none",
        shutdown="2027-04-01",
    ),
    _chat(
        "gpt-audio-mini",
        128_000,
        16_384,
        "2025-12-15",
        snapshot="gpt-audio-mini-2025-12-15",
        inputs=("text", "audio"),
        shutdown="2027-01-20",
    ),
    _chat(
        "gpt-4o",
        128_000,
        16_384,
        "2024-08-06",
        snapshot="gpt-4o-2024-08-06",
        snapshots=("gpt-4o-2024-11-20",),
        shutdown="2027-01-14",
    ),
    _chat(
        "gpt-4o-mini",
        128_000,
        16_384,
        "2024-07-18",
        snapshot="gpt-4o-mini-2024-07-18",
        shutdown="2027-01-14",
    ),
    _chat(
        "gpt-4.1",
        1_047_576,
        32_768,
        "2025-04-14",
        snapshot="gpt-4.1-2025-04-14",
        shutdown="2027-01-14",
    ),
    _chat(
        "gpt-4.1-mini",
        1_047_576,
        32_768,
        "2025-04-14",
        snapshot="gpt-4.1-mini-2025-04-14",
        shutdown="2027-01-14",
    ),
    _chat(
        "gpt-5",
        400_000,
        128_000,
        "2025-08-07",
        snapshot="gpt-5-2025-08-07",
        efforts=GPT5,
        shutdown="2026-12-11",
    ),
    _chat(
        "gpt-5-mini",
        400_000,
        128_000,
        "2025-08-07",
        snapshot="gpt-5-mini-2025-08-07",
        efforts=GPT5,
        shutdown="2026-12-11",
    ),
    _chat(
        "gpt-5-nano",
        400_000,
        128_000,
        "2025-08-07",
        snapshot="gpt-5-nano-2025-08-07",
        efforts=GPT5,
        shutdown="2026-12-11",
    ),
    _chat(
        "gpt-5-pro",
        400_000,
        272_000,
        "2025-10-06",
        snapshot="gpt-5-pro-2025-10-06",
        efforts=("high",),
        kind="responses",
        shutdown="2026-12-11",
    ),
    _chat(
        "o3",
        200_000,
        100_000,
        "2025-04-16",
        snapshot="o3-2025-04-16",
        efforts=O_SERIES,
        shutdown="2026-12-11",
    ),
    _chat(
        "o3-pro",
        200_000,
        100_000,
        "2025-06-10",
        snapshot="o3-pro-2025-06-10",
        efforts=O_SERIES,
        kind="responses",
        shutdown="2026-12-11",
    ),
    # -- shut down, kept so that a server started on an earlier day (``--clock``) serves them --
    _chat(
        "gpt-4.1-nano",
        1_047_576,
        32_768,
        "2025-04-14",
        snapshot="gpt-4.1-nano-2025-04-14",
        shutdown="2026-10-23",
    ),
    _chat(
        "o1",
        200_000,
        100_000,
        "2024-12-17",
        snapshot="o1-2024-12-17",
        efforts=O_SERIES,
        shutdown="2026-10-23",
    ),
    _chat(
        "o3-mini",
        200_000,
        100_000,
        "2025-01-31",
        snapshot="o3-mini-2025-01-31",
        efforts=O_SERIES,
        inputs=("text",),
        shutdown="2026-10-23",
    ),
    _chat(
        "o4-mini",
        200_000,
        100_000,
        "2025-04-16",
        snapshot="o4-mini-2025-04-16",
        efforts=O_SERIES,
        shutdown="2026-10-23",
    ),
    _chat(
        "gpt-4-turbo",
        128_000,
        4_096,
        "2024-04-09",
        snapshot="gpt-4-turbo-2024-04-09",
        encoding="cl100k_base",
        shutdown="2026-10-23",
    ),
    _chat(
        "gpt-4",
        8_192,
        8_192,
        "2023-06-13",
        snapshot="gpt-4-0613",
        encoding="cl100k_base",
        inputs=("text",),
        shutdown="2026-10-23",
    ),
    _chat(
        "gpt-3.5-turbo",
        16_385,
        4_096,
        "2024-01-25",
        snapshot="gpt-3.5-turbo-0125",
        encoding="cl100k_base",
        inputs=("text",),
        shutdown="2026-10-23",
    ),
    ModelInfo(
        id="gpt-3.5-turbo-instruct",
        snapshot="gpt-3.5-turbo-instruct",
        kind="completion",
        context_window=4_096,
        max_output_tokens=4_096,
        encoding="cl100k_base",
        dimensions=None,
        created=1692901427,
        shutdown="2026-09-28",
    ),
    # -- image models (the SDK's ImageModel); gpt-image-1 shut down on 2026-10-23 (the SDK), and
    # OpenAI's deprecations page shuts gpt-image-1.5, gpt-image-1-mini and chatgpt-image-latest
    # down on 2026-12-01 ----------------------------------------------------------------------
    _image("gpt-image-2.6-sunburst", "2026-11-04", GPT_IMAGE_26),
    _image("gpt-image-2.6-flare", "2026-11-04", GPT_IMAGE_26),
    _image(
        "gpt-image-2.5-sunburst",
        "2026-09-08",
        GPT_IMAGE_25,
        snapshot="gpt-image-2.5-sunburst-2026-09-08",
    ),
    _image(
        "gpt-image-2.5-flare", "2026-09-08", GPT_IMAGE_25, snapshot="gpt-image-2.5-flare-2026-09-08"
    ),
    _image("gpt-image-2", "2026-04-21", GPT_IMAGE_2, snapshot="gpt-image-2-2026-04-21"),
    _image(
        "gpt-image-1.5",
        "2025-12-16",
        GPT_IMAGE_1,
        snapshot="gpt-image-1.5-2025-12-16",
        shutdown="2026-12-01",
    ),
    _image("chatgpt-image-latest", "2025-12-16", GPT_IMAGE_1, shutdown="2026-12-01"),
    _image("gpt-image-1-mini", "2025-10-06", GPT_IMAGE_1_MINI, shutdown="2026-12-01"),
    _image("gpt-image-1", "2025-04-23", GPT_IMAGE_1, shutdown="2026-10-23"),
    # -- embeddings and moderations (no announced shutdown) -----------------------------------
    _embedding("text-embedding-3-small", 1536, 1705948997),
    _embedding("text-embedding-3-large", 3072, 1705953180),
    _embedding("text-embedding-ada-002", 1536, 1671217299),
    _moderation(
        "omni-moderation-latest",
        "omni-moderation-2024-09-26",
        "o200k_base",
        1731689265,
        inputs=TEXT_IMAGE,
    ),
    _moderation("text-moderation-latest", "text-moderation-007", "cl100k_base", 1687882410),
    _moderation("text-moderation-stable", "text-moderation-007", "cl100k_base", 1687882410),
)

#: models that have shut down, with the date: refused as the real API refuses them. The chat
#: models' dates are the pinned SDK's ("Deprecated values" of ``ChatModel``); the others' are
#: sourced in docs/batch-api-facts.md.
SHUT_DOWN: dict[str, str] = {
    **dict.fromkeys(("gpt-5.3-chat-latest", "gpt-5.2-chat-latest"), "2026-08-10"),
    **dict.fromkeys(
        (
            "gpt-5.1-codex",
            "gpt-5.1-chat-latest",
            "gpt-5-chat-latest",
            "gpt-4o-search-preview",
            "gpt-4o-mini-search-preview",
            "gpt-4o-search-preview-2025-03-11",
            "gpt-4o-mini-search-preview-2025-03-11",
            # not in ChatModel: the Responses models of the same announcement
            "gpt-5-codex",
            "gpt-5.1-codex-max",
            "o3-deep-research",
            "o3-deep-research-2025-06-26",
            "o4-mini-deep-research",
            "o4-mini-deep-research-2025-06-26",
            "computer-use-preview",
            "computer-use-preview-2025-03-11",
        ),
        "2026-07-23",
    ),
    **dict.fromkeys(
        (
            "gpt-4o-2024-05-13",
            "gpt-4-1106-preview",
            "o1-pro",
            "o1-pro-2025-03-19",
        ),
        "2026-10-23",
    ),
    **dict.fromkeys(("o1-preview", "o1-preview-2024-09-12"), "2025-07-28"),
    **dict.fromkeys(("o1-mini", "o1-mini-2024-09-12"), "2025-10-27"),
    **dict.fromkeys(
        (
            "gpt-4o-audio-preview",
            "gpt-4o-audio-preview-2024-12-17",
            "gpt-4o-audio-preview-2025-06-03",
            "gpt-4o-mini-audio-preview",
            "gpt-4o-mini-audio-preview-2024-12-17",
        ),
        "2026-05-07",
    ),
    "gpt-4o-audio-preview-2024-10-01": "2025-10-10",
    # the SDK's ImageModel: "This model was retired on May 12, 2026."
    **dict.fromkeys(("dall-e-2", "dall-e-3"), "2026-05-12"),
    "chatgpt-4o-latest": "2026-02-17",
    "codex-mini-latest": "2026-02-12",
    **dict.fromkeys(("gpt-4-0125-preview", "gpt-4-turbo-preview", "gpt-4-0314"), "2026-03-26"),
    "gpt-4-vision-preview": "2024-12-06",
    **dict.fromkeys(("gpt-4-32k", "gpt-4-32k-0314", "gpt-4-32k-0613"), "2025-06-06"),
    **dict.fromkeys(
        ("gpt-3.5-turbo-16k", "gpt-3.5-turbo-0301", "gpt-3.5-turbo-0613", "gpt-3.5-turbo-16k-0613"),
        "2024-09-13",
    ),
    # the legacy completions models went with gpt-3.5-turbo-1106 (an OpenAI email of 2025-09)
    **dict.fromkeys(
        ("gpt-3.5-turbo-1106", "davinci-002", "babbage-002"),
        "2026-09-28",
    ),
}

#: models the SDK names that an ordinary project cannot use (programmes with their own access,
#: or an id the SDK keeps only for compatibility): refused as an unknown model is
RESTRICTED: frozenset[str] = frozenset(
    {
        "gpt-5.1-mini",  # "Not a supported model ID. Retained for SDK compatibility."
        "gpt-daybreak-blue-latest",
        "gpt-daybreak-red-latest",
        "gpt-5.6-cyber",
        "gpt-6-cyber",
        "gpt-rosalind-research",
        "gpt-6-rosalind",
        "gpt-6.2-astra-law",
        "gpt-6-astra-healthcare",
        "gpt-6.1-sol-healthcare",
        "gpt-6.2-astra-healthcare",
        "gpt-6.2-sol-healthcare",
    }
)


def _by_name(catalog: tuple[ModelInfo, ...]) -> dict[str, ModelInfo]:
    found: dict[str, ModelInfo] = {}
    for info in catalog:
        found[info.id] = info
        for name in info.snapshots:
            found.setdefault(name, info)
    return found


#: every served model, reachable by its alias and by each of its snapshot ids
MODELS: dict[str, ModelInfo] = _by_name(_CATALOG)


def resolve_model(name: object) -> ModelInfo | None:
    """Look a served model up by alias or snapshot id (whatever the date: see :func:`retired`).

    Returns ``None`` for unknown names, shut-down and restricted models, and anything that is
    not a string, so it is safe to call with a value taken straight from a request body.
    """
    if not isinstance(name, str):
        return None
    return MODELS.get(name)


def shutdown_of(name: object) -> str | None:
    """The date a model shut down or shuts down (``YYYY-MM-DD``), or None if none is known."""
    if not isinstance(name, str):
        return None
    if name in SHUT_DOWN:
        return SHUT_DOWN[name]
    info = MODELS.get(name)
    return info.shutdown if info is not None else None


def retired(name: object, now: float) -> bool:
    """Whether the model ``name`` has shut down at ``now`` (Unix seconds, the server's clock):
    its shutdown date has begun (UTC)."""
    date = shutdown_of(name)
    return date is not None and now >= _day(date)


def stand_in(name: str) -> ModelInfo:
    """The entry an unknown model gets on a server that accepts any model (``--any-model``):
    a chat model that does not reason, under its own name."""
    return ModelInfo(
        id=name,
        snapshot=name,
        kind="chat",
        context_window=128_000,
        max_output_tokens=16_384,
        encoding="o200k_base",
        dimensions=None,
        created=_day("2026-01-01"),
        inputs=TEXT_IMAGE,
        vision=TILES_4O,
    )


def list_models(now: float | None = None) -> list[ModelInfo]:
    """One entry per alias, in the catalog's order; with ``now``, only those still served then."""
    return [m for m in _CATALOG if now is None or not retired(m.id, now)]
