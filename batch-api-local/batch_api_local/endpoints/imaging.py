"""What ``/v1/images/generations`` and ``/v1/images/edits`` share: their checks, answer and bound.

Both endpoints take a ``prompt`` (1 to 32,000 characters) and the same image parameters, checked
here as the real API checks them for the GPT image models (the only ones served since the DALL-E
models were retired on 2026-05-12): ``n`` 1 to 10; ``quality`` ``low``, ``medium``, ``high`` or
``auto`` (``xhigh`` and ``max`` too on gpt-image-2.5); ``size`` one of the standard sizes or
``auto``, or, for gpt-image-2 and later, any ``WIDTHxHEIGHT`` with sides divisible by 16, an
aspect ratio from 1:3 to 3:1, at most 3840 px and 655,360 to 8,294,400 pixels; ``output_format``
``png``, ``jpeg`` or ``webp`` (``gif`` and ``svg``, behind previews on the real API, are not
made here); ``output_compression`` 0 to 100, for ``jpeg`` and ``webp``; ``background``
(``transparent`` needs ``png`` or ``webp``, and gpt-image-2 and later refuse it); ``moderation``;
and the DALL-E parameters ``response_format`` and ``style``, which the GPT image models do not
know (``Unknown parameter: 'response_format'.``).

The answer is an ``ImagesResponse``: ``created``, ``data`` with one ``b64_json`` per image (a
placeholder of the size and format asked, coloured by the prompt: :func:`..images.placeholder`),
the ``size``, ``quality``, ``output_format`` and ``background`` used (``auto`` answered as
1024x1024, ``medium`` and ``opaque``), and ``usage``: the prompt's text tokens and the input
images' tokens, and the output image tokens of the model's table for the quality and size
(:meth:`..models.ImageGeneration.image_tokens`), times ``n``. A cost estimate bounds a request
by the same table (:func:`output_bound`), with ``auto`` at ``high`` and the dearest standard
size, since on the real API the model picks.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import errors, tokens
from ..errors import invalid_type
from ..images import placeholder
from ..models import STANDARD_SIZES, ImageGeneration, ModelInfo, resolve_model
from . import Request, parameters
from .parameters import Parameter

__all__ = [
    "MAX_IMAGES",
    "MAX_PROMPT_CHARS",
    "Asked",
    "answer",
    "check",
    "image_bound",
    "images_asked",
]

MAX_PROMPT_CHARS = 32_000
#: the most images one request may ask for (``n``)
MAX_IMAGES = 10
#: the formats the local server makes, and the ones it refuses to (``gif``, ``svg``)
OUTPUT_FORMATS = ("png", "jpeg", "webp")
NOT_MADE = ("gif", "svg")
BACKGROUNDS = ("transparent", "opaque", "auto")
#: limits of a flexible size (gpt-image-2 and later): OpenAI's SDK docstrings, and the pixel
#: range of Microsoft's Azure docs for gpt-image-2 (MicrosoftDocs/azure-ai-docs#779, 2026-07)
SIZE_STEP = 16
MAX_SIDE = 3840
PIXELS = (655_360, 8_294_400)
MAX_RATIO = 3
#: what ``auto`` is answered as (the real API picks)
AUTO_SIZE = "1024x1024"
AUTO_QUALITY = "medium"
#: the parameters both endpoints check from a table (the spec's ``CreateImageRequest`` and
#: ``EditImageBodyJsonParam``, the SDK's newer fields); ``prompt``, ``quality``, ``size``,
#: ``output_format`` and the combinations are checked in :func:`check`
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("response_format", "unknown"),
    Parameter("style", "unknown"),
    Parameter("n", "integer", minimum=1, maximum=MAX_IMAGES),
    Parameter("background", "enum", BACKGROUNDS),
    Parameter("moderation", "enum", ("low", "auto")),
    Parameter("output_compression", "integer", minimum=0, maximum=100),
    Parameter("partial_images", "integer", minimum=0, maximum=3),
    Parameter("complexity", "enum", ("low", "medium", "high")),
    Parameter("frame_count", "integer", minimum=2, maximum=16),
    Parameter("frame_duration_ms", "integer", minimum=0),
    Parameter("svg", "object", ("model",)),
    Parameter("user", "string"),
    Parameter("safety_identifier", "string"),
)


@dataclass(frozen=True)
class Asked:
    """What a request asks for, checked, with ``auto`` resolved to what the answer makes."""

    prompt: str
    n: int
    width: int
    height: int
    quality: str
    output_format: str
    background: str

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def _spec(info: ModelInfo) -> ImageGeneration:
    if info.image is None:  # a stand-in model (--any-model): answered as gpt-image-2
        resolved = resolve_model("gpt-image-2")
        assert resolved is not None and resolved.image is not None
        return resolved.image
    return info.image


def qualities(spec: ImageGeneration) -> tuple[str, ...]:
    """The ``quality`` values a model takes, as the real API lists them (``auto`` last)."""
    return (*spec.qualities, "auto")


def _parse_size(value: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"([1-9][0-9]{0,5})x([1-9][0-9]{0,5})", value)
    return (int(match[1]), int(match[2])) if match else None


def _check_size(spec: ImageGeneration, value: object) -> tuple[int, int]:
    """The size asked (``auto``: :data:`AUTO_SIZE`), or the real API's 400."""
    fixed = (*STANDARD_SIZES, "auto")
    if value is None or value == "auto":
        value = AUTO_SIZE
    if not isinstance(value, str):
        raise errors.enum_type("size", fixed, value)
    if not spec.flexible:
        if value not in STANDARD_SIZES:
            raise errors.invalid_enum("size", value, fixed)
        return _standard(value)
    parsed = _parse_size(value)
    if parsed is None:
        raise errors.image_size_invalid(value, errors.SIZE_PROBLEMS["format"])
    width, height = parsed
    if width % SIZE_STEP or height % SIZE_STEP:
        raise errors.image_size_invalid(value, errors.SIZE_PROBLEMS["divisible"])
    if max(width, height) > MAX_RATIO * min(width, height):
        raise errors.image_size_invalid(value, errors.SIZE_PROBLEMS["ratio"])
    if max(width, height) > MAX_SIDE or not PIXELS[0] <= width * height <= PIXELS[1]:
        raise errors.image_size_invalid(value, errors.SIZE_PROBLEMS["limits"])
    return width, height


def _check_prompt(value: object) -> str:
    if not isinstance(value, str):
        raise invalid_type("prompt", "a string", value)
    if not value:
        raise errors.string_too_short("prompt", 1, 0)
    if len(value) > MAX_PROMPT_CHARS:
        raise errors.string_too_long("prompt", MAX_PROMPT_CHARS, len(value))
    return value


def check(request: Request, extra: tuple[Parameter, ...] = ()) -> Asked:
    """Check what both endpoints take (and ``extra``, an endpoint's own table) and return what
    the request asks for; raises :class:`..errors.APIError` in the real API's words."""
    body = request.body
    spec = _spec(request.info)
    prompt = body.get("prompt")
    if prompt is None:
        raise errors.missing_parameter("prompt")
    prompt = _check_prompt(prompt)
    parameters.check(body, extra + PARAMETERS)

    quality = body.get("quality")
    if quality is None or quality == "auto":
        quality = AUTO_QUALITY
    elif not isinstance(quality, str):
        raise errors.enum_type("quality", qualities(spec), quality)
    elif quality not in spec.qualities:
        raise errors.invalid_enum("quality", quality, qualities(spec))
    width, height = _check_size(spec, body.get("size"))

    output_format = body.get("output_format")
    if output_format is None:
        output_format = "png"
    elif not isinstance(output_format, str):
        raise errors.enum_type("output_format", (*OUTPUT_FORMATS, *NOT_MADE), output_format)
    elif output_format in NOT_MADE:
        raise errors.output_format_not_emulated(output_format)
    elif output_format not in OUTPUT_FORMATS:
        raise errors.invalid_enum("output_format", output_format, (*OUTPUT_FORMATS, *NOT_MADE))
    if body.get("output_compression") is not None and output_format == "png":
        raise errors.output_compression_unsupported(output_format)

    background = body.get("background") or "auto"
    if background == "transparent":
        if output_format == "jpeg":
            raise errors.transparent_needs_png_or_webp(output_format)
        if not spec.transparent:
            raise errors.transparent_unsupported()
    return Asked(
        prompt=prompt,
        n=images_asked(body),
        width=width,
        height=height,
        quality=quality,
        output_format=output_format,
        background="transparent" if background == "transparent" else "opaque",
    )


def answer(request: Request, asked: Asked, image_tokens: int = 0) -> dict[str, Any]:
    """The ``ImagesResponse`` for what a request asked (``image_tokens``: its input images')."""
    spec = _spec(request.info)
    text_tokens = tokens.count_tokens(asked.prompt, request.info.encoding)
    per_image = spec.image_tokens(asked.quality, asked.width, asked.height)
    output_tokens = per_image * asked.n
    transparent = asked.background == "transparent"
    data = []
    for index in range(asked.n):
        # each image of a request its own colour; the first one the prompt's
        text = asked.prompt if index == 0 else f"{asked.prompt}\n#{index + 1}"
        image = placeholder(
            asked.width, asked.height, asked.output_format, text, transparent=transparent
        )
        data.append({"b64_json": base64.b64encode(image).decode("ascii")})
    input_tokens = text_tokens + image_tokens
    return {
        "created": request.now,
        "data": data,
        "background": asked.background,
        "output_format": asked.output_format,
        "quality": asked.quality,
        "size": asked.size,
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": image_tokens},
            "output_tokens": output_tokens,
            "output_tokens_details": {"image_tokens": output_tokens, "text_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }


def images_asked(body: Mapping[str, Any]) -> int:
    """How many images a request asks for (``n``, 1 when absent or not an integer)."""
    n = body.get("n")
    return max(n, 1) if isinstance(n, int) and not isinstance(n, bool) else 1


def image_bound(body: Mapping[str, Any], model: str) -> int:
    """The most output tokens one image of a request may cost: its quality and size in the
    model's table, ``auto`` (or anything unreadable) at ``high`` and the dearest standard size,
    as the model picks. Raises ValueError for a model the catalog does not know as an image
    model."""
    info = resolve_model(model)
    if info is None or info.image is None:
        raise ValueError(f"the image model {model!r} is unknown, so its output has no bound")
    spec = info.image
    quality = body.get("quality")
    if quality not in spec.qualities:
        quality = "high"
    size = body.get("size")
    parsed = _parse_size(size) if isinstance(size, str) else None
    sizes = [parsed] if parsed is not None else [_standard(s) for s in STANDARD_SIZES]
    return max(spec.image_tokens(str(quality), width, height) for width, height in sizes)


def _standard(size: str) -> tuple[int, int]:
    width, _, height = size.partition("x")
    return int(width), int(height)
