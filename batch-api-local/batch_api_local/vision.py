"""How many input tokens an image costs a model, by OpenAI's published formulas.

OpenAI's vision guide (<https://developers.openai.com/api/docs/guides/images-vision>, "Calculating
costs", read 2026-12-07) gives two ways a model turns an image into tokens, and each model of the
catalog says which it uses in its :class:`Vision` record (:attr:`..models.ModelInfo.vision`):

* **tiles** (GPT-4o, GPT-4.1, GPT-4o-mini, gpt-5, the o-series but o4-mini; GPT Image models'
  input images): ``detail: "low"`` costs the model's base tokens; ``high`` scales the image to fit
  in 2048 x 2048, then so that its shortest side is 768 px (512 px for GPT Image inputs), counts
  the 512 px tiles that cover it, and costs ``base + tiles x tile``. A GPT Image input at high
  input fidelity costs 4,160 more tokens when square, 6,240 more otherwise;
* **patches** (gpt-5.4 and later, the -mini and -nano models, o4-mini): the 32 px patches that
  cover the image, after it is scaled down to the detail's limits (a patch budget and a largest
  side: 1,536 patches or 2,048 px for most, 2,500 for ``high`` and 10,000 patches or 6,000 px for
  ``original`` on gpt-5.4 and gpt-5.5; the GPT-5.6 family's ``original`` keeps the image as it
  is), times the model's multiplier (1.62 for gpt-5.4-mini ...).

Where the guide is silent the choices are the project's and are listed as deviations in
``docs/local-server.md``: ``low`` on a patch model is the image scaled to fit 512 x 512 (the
guide: "a low-resolution 512px x 512px version"); a patch count times a multiplier is rounded up;
an image never grows; an image whose size the server does not know (a URL it does not fetch, a
file it cannot read) counts as :data:`UNKNOWN_SIZE` at the detail asked.

    >>> TILES_4O.tokens(1024, 1024, "high"), TILES_4O.tokens(2048, 4096, "high")
    (765, 1105)
    >>> PATCHES_1536.tokens(1800, 2400, "high")
    1452
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DETAILS",
    "UNKNOWN_SIZE",
    "Vision",
    "patch_count",
    "tile_count",
]

#: every ``detail`` the API knows (the SDK's ``ImageDetail``); each model takes some of them
DETAILS = ("low", "high", "auto", "original")
#: the size an image counts as when the server does not know its own (a URL it does not fetch)
UNKNOWN_SIZE = (1024, 1024)
#: the side of a patch, and of a tile
PATCH = 32
TILE = 512


def _fit(width: int, height: int, side: int) -> tuple[int, int]:
    """The size scaled down (never up) so that neither side passes ``side``."""
    longest = max(width, height)
    if longest <= side:
        return width, height
    scale = side / longest
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def tile_count(width: int, height: int, shortest_side: int = 768) -> int:
    """The 512 px tiles that cover an image once it fits in 2048 x 2048 and its shortest side is
    at most ``shortest_side``."""
    width, height = _fit(width, height, 2048)
    shortest = min(width, height)
    if shortest > shortest_side:
        scale = shortest_side / shortest
        width, height = math.floor(width * scale), math.floor(height * scale)
    return math.ceil(width / TILE) * math.ceil(height / TILE)


def patch_count(width: int, height: int, budget: int | None, side: int | None) -> int:
    """The 32 px patches that cover an image once it fits in ``side`` px and ``budget``
    patches (None: no such limit), by the guide's steps A to C."""
    if side is not None:
        width, height = _fit(width, height, side)
    count = math.ceil(width / PATCH) * math.ceil(height / PATCH)
    if budget is None or count <= budget:
        return count
    shrink = math.sqrt(PATCH * PATCH * budget / (width * height))
    scaled_w, scaled_h = width * shrink / PATCH, height * shrink / PATCH
    shrink *= min(math.floor(scaled_w) / scaled_w, math.floor(scaled_h) / scaled_h)
    resized_w, resized_h = math.floor(width * shrink), math.floor(height * shrink)
    return min(math.ceil(resized_w / PATCH) * math.ceil(resized_h / PATCH), budget)


@dataclass(frozen=True)
class Vision:
    """How one model counts an image it is shown.

    Attributes:
        method: ``"tiles"`` or ``"patches"`` (see the module docstring).
        details: The ``detail`` values the model takes (``original`` only on newer models).
        auto: What ``auto`` (and no ``detail``) means for the model: ``high`` or ``original``.
        base: Tiles: the tokens of ``low``, and the base of ``high``.
        tile: Tiles: the tokens of each 512 px tile at ``high``.
        shortest_side: Tiles: the shortest side an image is scaled to at ``high``.
        fidelity_extra: Tiles, GPT Image inputs: the tokens high input fidelity adds to a
            square image and to any other (None: the model has no such thing). Such a model's
            ``detail`` is the input fidelity, and ``low`` is tiled too.
        budget: Patches: the most patches of ``high``.
        side: Patches: the largest side of ``high``.
        original_budget: Patches: the most patches of ``original`` (None: no budget).
        original_side: Patches: the largest side of ``original`` (None: none).
        multiplier: Patches: tokens per patch.
    """

    method: Literal["tiles", "patches"]
    details: tuple[str, ...] = ("low", "high", "auto")
    auto: str = "high"
    base: int = 0
    tile: int = 0
    shortest_side: int = 768
    fidelity_extra: tuple[int, int] | None = None
    budget: int = 1536
    side: int = 2048
    original_budget: int | None = None
    original_side: int | None = None
    multiplier: float = 1.0

    def resolve(self, detail: str | None) -> str:
        """The detail an image is counted at: ``auto`` and None become :attr:`auto`."""
        return self.auto if detail in (None, "auto") else str(detail)

    def tokens(self, width: int, height: int, detail: str | None = None) -> int:
        """The input tokens of a ``width`` x ``height`` image at ``detail``."""
        detail = self.resolve(detail)
        if self.method == "tiles":
            if detail == "low" and self.fidelity_extra is None:
                return self.base
            # a GPT Image input is tiled at either fidelity; high fidelity adds its extra
            count = self.base + self.tile * tile_count(width, height, self.shortest_side)
            if self.fidelity_extra is not None and detail == "high":
                square, other = self.fidelity_extra
                count += square if max(width, height) < 1.25 * min(width, height) else other
            return count
        if detail == "low":
            patches = patch_count(width, height, None, 512)
        elif detail == "original":
            patches = patch_count(width, height, self.original_budget, self.original_side)
        else:
            patches = patch_count(width, height, self.budget, self.side)
        return math.ceil(patches * self.multiplier - 1e-9)


#: GPT-4o, GPT-4.1, GPT-4.5 (and gpt-4-turbo, whose figures are GPT-4o's)
TILES_4O = Vision("tiles", base=85, tile=170)
#: gpt-4o-mini
TILES_4O_MINI = Vision("tiles", base=2833, tile=5667)
#: gpt-5 (and gpt-5-chat-latest)
TILES_5 = Vision("tiles", base=70, tile=140)
#: o1, o1-pro, o3
TILES_O = Vision("tiles", base=75, tile=150)
#: GPT Image models' input images: 512 px shortest side, low input fidelity's base and tile;
#: ``detail`` is the input fidelity (``low`` or ``high``), and ``high`` adds its extra tokens
TILES_GPT_IMAGE = Vision(
    "tiles", details=("low", "high"), auto="low", base=65, tile=129, shortest_side=512,
    fidelity_extra=(4160, 6240),
)  # fmt: skip
#: the models of the guide's 1,536-patch row (gpt-5.2, gpt-5.4-mini ...), by multiplier
PATCHES_1536 = Vision("patches", budget=1536)
#: gpt-5.4: ``high`` 2,500 patches or 2,048 px, ``original`` 10,000 patches or 6,000 px
PATCHES_54 = Vision(
    "patches", details=DETAILS, auto="high", budget=2500, original_budget=10_000,
    original_side=6000,
)  # fmt: skip
#: gpt-5.5: as gpt-5.4, but ``auto`` is ``original``
PATCHES_55 = Vision(
    "patches", details=DETAILS, auto="original", budget=2500, original_budget=10_000,
    original_side=6000,
)  # fmt: skip
#: the GPT-5.6 family: ``original`` (and ``auto``) keeps the image as it is
PATCHES_56 = Vision("patches", details=DETAILS, auto="original", budget=2500)
