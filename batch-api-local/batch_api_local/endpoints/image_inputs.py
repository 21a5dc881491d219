"""Images a request carries as input: found, looked at as the real API looks at them, counted.

A chat message's ``image_url`` part, a Responses ``input_image`` part and an image edit's
``images`` each name an image by a URL or (Responses, edits) a file id. Each endpoint's entry
lists the images of a body (:attr:`.Endpoint.images`: ``[ImageRef]``); this module

* looks at one (:func:`look`): an ``http(s)`` URL is taken as it is (the local server never
  fetches anything); a ``data:`` URL is decoded and its header read (:func:`..images.image_info`):
  its format and size, or what is wrong with it (not base64, empty, not an image of a format the
  API reads, a broken header); a file id is read through the caller's :data:`FileReader`;
* counts it (:func:`image_tokens`): by the model's formula (:attr:`..models.ModelInfo.vision`),
  at its size, or at :data:`..vision.UNKNOWN_SIZE` when the server does not know it (a URL, a
  file it cannot read);
* and, for chat and Responses, refuses what the real API refuses, in its words
  (:func:`check_chat`, :func:`check_responses`): an image sent to a model that takes none, a
  detail the model does not have, a URL that is neither, broken base64, bytes that are not an
  image. An edit's images are checked by :mod:`.image_edits` with the same :func:`look`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .. import errors
from ..errors import invalid_type, missing_parameter
from ..images import ImageInfo, image_format, image_info
from ..models import ModelInfo
from ..vision import UNKNOWN_SIZE

__all__ = [
    "FileReader",
    "ImageRef",
    "Looked",
    "check_chat",
    "check_chat_shape",
    "check_responses",
    "chat_images",
    "image_tokens",
    "look",
    "responses_images",
]

#: reads a file of the caller's: the first bytes of ``file_id`` (enough for an image's header),
#: or None when the caller has no such file
FileReader = Callable[[str], bytes | None]

Problem = Literal["not_data", "base64", "empty", "format", "unreadable", "no_file"]


@dataclass(frozen=True)
class ImageRef:
    """One image a request carries.

    Attributes:
        where: Where it is in the body: ``messages[0].content[1]``, ``input[0].content[1]``,
            ``images[0]``.
        url: The URL it was given by (an ``http(s)`` or ``data:`` URL), or None.
        file_id: The file it was given by, or None.
        detail: The ``detail`` asked for (an edit's: its input fidelity), or None.
    """

    where: str
    url: object = None
    file_id: object = None
    detail: object = None


@dataclass(frozen=True)
class Looked:
    """What looking at an image found: its header (None when not read) or its problem."""

    info: ImageInfo | None = None
    problem: Problem | None = None
    #: the format the bytes announce when the header is broken (``unreadable``)
    announced: str | None = None

    @property
    def size(self) -> tuple[int, int] | None:
        """Its size when known, else None (a problem: nothing to count)."""
        if self.problem is not None:
            return None
        if self.info is None:
            return UNKNOWN_SIZE
        return self.info.width, self.info.height


def _bytes(data: bytes) -> Looked:
    info = image_info(data)
    if info is not None:
        return Looked(info)
    announced = image_format(data)
    return Looked(problem="format" if announced is None else "unreadable", announced=announced)


def decode_data_url(url: str) -> bytes | Problem:
    """The bytes of a base64 ``data:`` URL, or what is wrong with it (``base64``, ``empty``)."""
    header, comma, payload = url[5:].partition(",")
    if not comma or not header.lower().endswith(";base64"):
        return "base64"  # only base64 data URLs carry images
    payload = "".join(payload.split())
    if not payload:
        return "empty"
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return "base64"
    return data if data else "empty"


def look(url: object, file_id: object = None, files: FileReader | None = None) -> Looked:
    """Look at an image given by ``url`` (preferred) or ``file_id``, as far as the server can:
    a data URL is decoded, a file is read when ``files`` is given; an ``http(s)`` URL, or a file
    that cannot be read, is taken unseen (``info`` None, no problem)."""
    if isinstance(url, str):
        lowered = url[:8].lower()
        if lowered.startswith(("http://", "https://")):
            return Looked()
        if not lowered.startswith("data:"):
            return Looked(problem="not_data")
        data = decode_data_url(url)
        if isinstance(data, str):
            return Looked(problem=data)
        return _bytes(data)
    if isinstance(file_id, str) and files is not None:
        head = files(file_id)
        if head is None:
            return Looked(problem="no_file")
        return _bytes(head)
    return Looked()


def image_tokens(info: ModelInfo, refs: list[ImageRef], files: FileReader | None = None) -> int:
    """The input tokens of ``refs`` for the model ``info``: 0 for a model that counts no images,
    and for an image with a problem (its request is refused anyway). Never raises."""
    vision = info.vision
    if vision is None:
        return 0
    total = 0
    for ref in refs:
        size = look(ref.url, ref.file_id, files).size
        if size is None:
            continue
        detail = ref.detail if ref.detail in vision.details else None
        total += vision.tokens(size[0], size[1], detail if isinstance(detail, str) else None)
    return total


# -- finding the images of a body ---------------------------------------------------------------


def chat_images(body: dict[str, Any]) -> list[ImageRef]:
    """The ``image_url`` parts of a chat body's messages."""
    found: list[ImageRef] = []
    messages = body.get("messages")
    if not isinstance(messages, list):
        return found
    for i, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for j, part in enumerate(content):
            if isinstance(part, dict) and part.get("type") == "image_url":
                image = part.get("image_url")
                url = image.get("url") if isinstance(image, dict) else image
                detail = image.get("detail") if isinstance(image, dict) else None
                found.append(ImageRef(f"messages[{i}].content[{j}]", url, None, detail))
    return found


def responses_images(body: dict[str, Any]) -> list[ImageRef]:
    """The ``input_image`` parts of a Responses body's input items."""
    found: list[ImageRef] = []
    items = body.get("input")
    if not isinstance(items, list):
        return found
    for i, item in enumerate(items):
        content = item.get("content") if isinstance(item, dict) else None
        if not isinstance(content, list):
            continue
        for j, part in enumerate(content):
            if isinstance(part, dict) and part.get("type") == "input_image":
                found.append(
                    ImageRef(
                        f"input[{i}].content[{j}]",
                        part.get("image_url"),
                        part.get("file_id"),
                        part.get("detail"),
                    )
                )
    return found


# -- checking them as the real API does ---------------------------------------------------------


def _dotted(where: str) -> str:
    """``messages[0].content[1]`` as the real API names a part's type: ``messages.[0]...``."""
    return where.replace("[", ".[") + ".type"


def _check_detail(info: ModelInfo, param: str, detail: object) -> None:
    vision = info.vision
    if detail is None or vision is None:
        return
    if not isinstance(detail, str):
        raise errors.enum_type(param, vision.details, detail)
    if detail not in vision.details:
        raise errors.invalid_enum(param, detail, vision.details)


def _refuse(looked: Looked, param: str, *, responses: bool, file_id: object = None) -> None:
    problem = looked.problem
    if problem is None:
        return
    if problem == "not_data":
        raise errors.image_url_not_data(param, responses=responses)
    if problem in ("base64", "empty"):
        if responses:
            raise errors.responses_image_base64(param, empty=problem == "empty")
        raise errors.image_base64_invalid(param)
    if problem == "no_file":
        raise errors.image_file_not_found(param, str(file_id))
    if problem == "format":
        raise errors.image_format_unsupported(responses=responses)
    raise errors.image_unreadable(responses=responses)


def check_chat(info: ModelInfo, refs: list[ImageRef]) -> int:
    """Check the ``image_url`` parts of a chat body (their ``type`` already checked) and return
    their input tokens; raises :class:`..errors.APIError` in the real API's words."""
    for ref in refs:
        if "image" not in info.inputs:
            raise errors.image_input_unsupported(_dotted(ref.where), "image_url")
    for ref in refs:
        where = f"{ref.where}.image_url"
        # the part as sent: the url and detail were read from it
        if not isinstance(ref.url, str):
            if ref.url is None:
                raise missing_parameter(f"{where}.url")
            raise invalid_type(f"{where}.url", "a string", ref.url)
        _check_detail(info, f"{where}.detail", ref.detail)
        _refuse(look(ref.url), f"{where}.url", responses=False)
    return image_tokens(info, refs)


def check_chat_shape(content: list[Any], where: str) -> None:
    """An ``image_url`` part's ``image_url`` is an object (observed: openai/openai-python#1635:
    ``Invalid type for 'messages[0].content[1].image_url': expected an object, but got a
    string instead.``)."""
    for index, part in enumerate(content):
        if isinstance(part, dict) and part.get("type") == "image_url":
            image = part.get("image_url")
            param = f"{where}[{index}].image_url"
            if image is None:
                raise missing_parameter(param)
            if not isinstance(image, dict):
                raise invalid_type(param, "an object", image)


def check_responses(info: ModelInfo, refs: list[ImageRef], files: FileReader | None) -> int:
    """Check the ``input_image`` parts of a Responses body and return their input tokens
    (images given by a file read through ``files``); raises :class:`..errors.APIError`."""
    for ref in refs:
        if "image" not in info.inputs:
            raise errors.image_input_unsupported(_dotted(ref.where), "input_image")
    for ref in refs:
        for name, value in (("image_url", ref.url), ("file_id", ref.file_id)):
            if value is not None and not isinstance(value, str):
                raise invalid_type(f"{ref.where}.{name}", "a string", value)
        if ref.url is None and ref.file_id is None:
            raise missing_parameter(f"{ref.where}.image_url")
        _check_detail(info, f"{ref.where}.detail", ref.detail)
        looked = look(ref.url, ref.file_id, files)
        param = f"{ref.where}.image_url" if ref.url is not None else f"{ref.where}.file_id"
        _refuse(looked, param, responses=True, file_id=ref.file_id)
    return image_tokens(info, refs, files)
