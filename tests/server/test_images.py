"""Placeholder images written without an imaging library, and image sizes read from headers.

Pillow (which matplotlib brings into the test environment; the server does not depend on it)
decodes every placeholder, and makes the images whose headers the server reads.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from batch_api_local.images import colour_for, image_info, placeholder

SIZES = [(1024, 1024), (1536, 1024), (1024, 1536), (17, 9), (1, 1)]


@pytest.mark.parametrize("output_format", ["png", "jpeg", "webp"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_placeholder_decodes_at_the_size_and_format_asked(
    output_format: str, width: int, height: int
) -> None:
    data = placeholder(width, height, output_format, "a red bicycle")
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.size == (width, height)
    assert image.format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[output_format]
    info = image_info(data)
    assert info is not None and (info.format, info.width, info.height) == (
        output_format,
        width,
        height,
    )


@pytest.mark.parametrize("output_format", ["png", "webp"])
def test_a_transparent_placeholder_has_a_see_through_background(output_format: str) -> None:
    image = Image.open(io.BytesIO(placeholder(256, 256, output_format, "x", transparent=True)))
    assert image.mode == "RGBA"
    assert image.convert("RGBA").getpixel((128, 3 if output_format == "webp" else 40))[3] == 0


def test_the_same_prompt_gets_the_same_picture_and_another_prompt_another() -> None:
    assert placeholder(64, 64, "png", "a cat") == placeholder(64, 64, "png", "a cat")
    assert colour_for("a cat") != colour_for("a dog")
    jpeg = Image.open(io.BytesIO(placeholder(16, 16, "jpeg", "a cat"))).convert("RGB")
    assert all(
        abs(a - b) <= 2 for a, b in zip(jpeg.getpixel((8, 8)), colour_for("a cat"), strict=True)
    )


def test_a_png_placeholder_says_what_it_is_in_block_letters() -> None:
    image = Image.open(io.BytesIO(placeholder(512, 512, "png", "a cat"))).convert("RGB")
    middle = [image.getpixel((x, 256 - 20)) for x in range(512)]
    dark = {pixel for pixel in middle if sum(pixel) < 200}
    assert dark, "no letters across the middle of the picture"


@pytest.mark.parametrize(
    ("pil_format", "mode"),
    [
        ("PNG", "RGB"),
        ("PNG", "RGBA"),
        ("JPEG", "RGB"),
        ("GIF", "RGB"),
        ("WEBP", "RGB"),
        ("WEBP", "RGBA"),
    ],
)
def test_image_info_reads_the_size_of_real_images(pil_format: str, mode: str) -> None:
    buffer = io.BytesIO()
    Image.new(mode, (321, 123)).save(buffer, pil_format)
    info = image_info(buffer.getvalue())
    assert info is not None and (info.width, info.height) == (321, 123)
    assert info.format == pil_format.lower()


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM\x00"],
)
def test_what_is_not_a_whole_image_header_is_none(data: bytes) -> None:
    assert image_info(data) is None
