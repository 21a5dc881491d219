"""``/v1/images/edits``: its registry entry, the checks of its input images, and its answer.

A batch line's body is JSON, so an edit in a batch is the spec's JSON body
(``EditImageBodyJsonParam``): ``images``, 1 to 16 references, each ``{"file_id": ...}`` (a file
of the caller's) or ``{"image_url": ...}`` (an ``http(s)`` URL, which is not fetched, or a
base64 ``data:`` URL of at most 20 MiB of characters), exactly one of the two; an optional
``mask`` of the same kind (a PNG of the first image's size); ``input_fidelity`` where the model
has it (``high``/``low`` on gpt-image-1 and 1.5, ``low`` only on gpt-image-1-mini, none on
gpt-image-2 and later, which always work at high fidelity); and what a generation takes
(:mod:`.imaging`). Each input image costs input tokens by the GPT Image rule of OpenAI's vision
guide (:data:`..vision.TILES_GPT_IMAGE`: 512 px tiles, 65 + 129 per tile, plus 4,160 or 6,240
at high fidelity); the mask costs none. The answer is a generation's: placeholders coloured by
the prompt, not drawn from the input images.
"""

from __future__ import annotations

from typing import Any

from .. import errors, tokens
from ..errors import empty_array, invalid_type
from ..images import ImageInfo
from ..models import resolve_model
from . import Endpoint, OutputLimit, Request, imaging
from .common import digest
from .image_inputs import FileReader, ImageRef, image_tokens, look
from .parameters import Parameter

URL = "/v1/images/edits"
MAX_INPUT_IMAGES = 16
#: the longest ``image_url`` (the spec's ``ImageRefParam.image_url.maxLength``: 20 MiB)
MAX_IMAGE_URL_CHARS = 20_971_520
#: the input image formats edits take
EDIT_FORMATS = ("png", "jpeg", "webp")
#: the multipart field ``image`` has no place in the JSON body
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("image", "unknown"),
    Parameter("input_fidelity", "enum", ("high", "low")),
)


def input_tokens(body: dict[str, Any], encoding: str) -> int:
    """Tokens of the ``prompt`` (its images are counted apart, :func:`edit_images`)."""
    return tokens.count_tokens(body.get("prompt"), encoding)


def _fidelity(body: dict[str, Any]) -> str:
    """The input fidelity the images are counted at: the one asked, else the model's default."""
    asked = body.get("input_fidelity")
    if asked in ("high", "low"):
        return str(asked)
    info = resolve_model(body.get("model"))
    return info.image.default_fidelity if info is not None and info.image is not None else "low"


def edit_images(body: dict[str, Any]) -> list[ImageRef]:
    """The input images of an edit's body (the mask aside), each at the edit's input fidelity."""
    images = body.get("images")
    if not isinstance(images, list):
        return []
    fidelity = _fidelity(body)
    return [
        ImageRef(f"images[{index}]", item.get("image_url"), item.get("file_id"), fidelity)
        for index, item in enumerate(images)
        if isinstance(item, dict)
    ]


def _check_reference(value: object, param: str) -> None:
    """An ``ImageRefParam``: an object with exactly one of ``image_url`` and ``file_id``."""
    if not isinstance(value, dict):
        raise invalid_type(param, "an object", value)
    for key in value:
        if key not in ("image_url", "file_id"):
            raise errors.unknown_parameter(f"{param}.{key}")
    given = [key for key in ("image_url", "file_id") if value.get(key) is not None]
    if len(given) != 1:
        raise errors.image_reference_invalid(param)
    name = given[0]
    if not isinstance(value[name], str):
        raise invalid_type(f"{param}.{name}", "a string", value[name])
    if name == "image_url" and len(value[name]) > MAX_IMAGE_URL_CHARS:
        raise errors.string_too_long(f"{param}.image_url", MAX_IMAGE_URL_CHARS, len(value[name]))


def _look_at(
    value: dict[str, Any], param: str, position: int, files: FileReader | None, code: str
) -> ImageInfo | None:
    """Look at one checked reference: its header (None when not seen: a URL, an unread file),
    or the real API's 400 for an image that cannot be used."""
    looked = look(value.get("image_url"), value.get("file_id"), files)
    if looked.problem == "not_data":
        raise errors.image_url_not_data(f"{param}.image_url", responses=True)
    if looked.problem == "no_file":
        raise errors.image_file_not_found(f"{param}.file_id", str(value.get("file_id")))
    if looked.problem is not None:
        raise errors.invalid_image_file(position, code)
    if looked.info is not None and looked.info.format not in EDIT_FORMATS:
        name = "image_url" if value.get("image_url") is not None else "file_id"
        raise errors.edit_image_format(f"{param}.{name}", f"image/{looked.info.format}")
    return looked.info


def _check_images(request: Request) -> None:
    body = request.body
    images = body.get("images")
    if not isinstance(images, list):
        raise invalid_type("images", "an array of objects", images)
    if not images:
        raise empty_array("images")
    if len(images) > MAX_INPUT_IMAGES:
        raise errors.array_too_long("images", MAX_INPUT_IMAGES, len(images))
    spec = request.info.image
    fidelity = body.get("input_fidelity")
    if spec is not None and fidelity is not None:
        if not spec.fidelities:
            raise errors.input_fidelity_unsupported()
        if fidelity not in spec.fidelities:
            raise errors.invalid_enum("input_fidelity", fidelity, spec.fidelities)
    for index, item in enumerate(images):
        _check_reference(item, f"images[{index}]")
    code = digest("edit", body).hex()[:32]  # the request id the real message quotes
    first: ImageInfo | None = None
    for index, item in enumerate(images):
        seen = _look_at(item, f"images[{index}]", index + 1, request.files, code)
        first = seen if index == 0 else first
    mask = body.get("mask")
    if mask is None:
        return
    _check_reference(mask, "mask")
    seen = _look_at(mask, "mask", len(images) + 1, request.files, code)
    if seen is not None and seen.format != "png":
        raise errors.mask_invalid()
    if seen is not None and first is not None:
        size, wanted = (seen.width, seen.height), (first.width, first.height)
        if size != wanted:
            raise errors.mask_invalid(size, wanted)


def answer(request: Request) -> dict[str, Any]:
    """An ``ImagesResponse``; raises :class:`..errors.APIError` for a body the API refuses."""
    asked = imaging.check(request, PARAMETERS)
    _check_images(request)
    counted = image_tokens(request.info, edit_images(request.body), request.files)
    return imaging.answer(request, asked, counted)


ENDPOINT: Endpoint = Endpoint(
    url=URL,
    label="Images",
    required="images",
    model_kinds=("image",),
    input_tokens=input_tokens,
    answer=answer,
    output=OutputLimit(fields=(), answers=imaging.images_asked, image=imaging.image_bound),
    images=edit_images,
)
