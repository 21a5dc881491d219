"""Images as input: chat ``image_url`` parts and Responses ``input_image`` parts, checked as the
real API checks them and counted by each model's formula (OpenAI's vision guide), in a reply's
usage, at validation (the enqueued-token limit) and in a cost estimate alike."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

from batch_api_local import set_token_limit
from batch_api_local.config import PACES, Settings
from batch_api_local.domain import Service
from batch_api_local.images import placeholder
from batch_api_local.models import MODELS, list_models
from batch_api_local.responder import LocalResponder
from batch_api_local.tokens import count_tokens, request_image_tokens, request_input_tokens
from batch_api_local.validation import validate_lines
from batch_api_local.vision import (
    PATCHES_55,
    PATCHES_56,
    PATCHES_1536,
    TILES_4O,
    TILES_4O_MINI,
    TILES_GPT_IMAGE,
    patch_count,
)

from support import conn, file_lines, run_batch, sdk_error, service_upload

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
NOW = 1_788_220_800  # 2026-09-01, the tests' clock
URL = "https://example.com/photo.jpg"


def data_url(width: int, height: int, fmt: str = "webp") -> str:
    """A real image of that size (a WebP placeholder is 32 bytes whatever its size)."""
    data = placeholder(width, height, fmt, "photo")
    return f"data:image/{fmt};base64," + base64.b64encode(data).decode("ascii")


def raw_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def chat_body(model: str, image: Any, text: str = "What is in this picture?") -> dict[str, Any]:
    part = {"type": "image_url", "image_url": image}
    return {
        "model": model,
        "max_completion_tokens": 50,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}, part]}],
    }


def responses_body(model: str, part: dict[str, Any]) -> dict[str, Any]:
    content = [{"type": "input_text", "text": "What is in this picture?"}, part]
    return {"model": model, "input": [{"role": "user", "content": content}]}


def answer(url: str, body: dict[str, Any], **kwargs: Any) -> tuple[int, dict[str, Any]]:
    return LocalResponder(now=lambda: NOW).respond(url, body, **kwargs)


def text_only(url: str, body: dict[str, Any]) -> int:
    """The request's tokens without its images."""
    return request_input_tokens(url, body) - request_image_tokens(url, body)


# -- the formulas ----------------------------------------------------------------------------------


def test_tile_models_count_as_the_vision_guide_says() -> None:
    # the guide's examples for gpt-4o: 1024 x 1024 high is 4 tiles, 2048 x 4096 is 6, low is 85
    assert TILES_4O.tokens(1024, 1024, "high") == 85 + 4 * 170 == 765
    assert TILES_4O.tokens(2048, 4096, "high") == 1105
    assert TILES_4O.tokens(4096, 8192, "low") == 85
    assert TILES_4O.tokens(512, 512) == 85 + 170  # auto is high; a small image never grows
    assert TILES_4O_MINI.tokens(1024, 1024) == 2833 + 4 * 5667


def test_patch_models_count_as_the_vision_guide_says() -> None:
    # the guide's example for a 1,536-patch budget: 1800 x 2400 is resized to 1056 x 1408
    assert patch_count(1800, 2400, 1536, 2048) == 33 * 44 == 1452
    assert PATCHES_1536.tokens(1024, 1024, "high") == 1024
    assert MODELS["gpt-5.4-mini"].vision is not None
    assert MODELS["gpt-5.4-mini"].vision.tokens(1024, 1024) == 1659  # 1024 x 1.62, rounded up
    assert MODELS["o4-mini"].vision is not None and MODELS["o4-mini"].vision.multiplier == 1.72
    # low: a 512 x 512 version of the image
    assert PATCHES_1536.tokens(1024, 1024, "low") == 16 * 16
    # gpt-5.5: auto is original (up to 10,000 patches, 6000 px); high stops at 2,500
    assert PATCHES_55.tokens(4000, 3000) == patch_count(4000, 3000, 10_000, 6000)
    assert PATCHES_55.tokens(4000, 3000, "high") <= 2500 < PATCHES_55.tokens(4000, 3000)
    # the GPT-5.6 family's original keeps the image as it is: every patch counts
    assert PATCHES_56.tokens(8000, 8000) == 250 * 250


def test_a_gpt_image_input_is_tiled_at_512_px_and_high_fidelity_adds_its_extra() -> None:
    assert TILES_GPT_IMAGE.tokens(1024, 1024, "low") == 194
    assert TILES_GPT_IMAGE.tokens(1024, 1536, "low") == 323
    assert TILES_GPT_IMAGE.tokens(1024, 1024, "high") == 194 + 4160
    assert TILES_GPT_IMAGE.tokens(1536, 1024, "high") == 323 + 6240


def test_every_model_that_takes_images_says_how_it_counts_them() -> None:
    for info in list_models():
        if info.kind in ("chat", "responses", "image"):
            assert (info.vision is not None) == ("image" in info.inputs), info.id
            if info.vision is not None:
                assert set(info.vision.details) >= {"low", "high"} and info.vision.auto


# -- chat: accepted and counted ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "image", "tokens"),
    [
        ("gpt-4o", {"url": data_url(2048, 4096)}, 1105),
        ("gpt-4o", {"url": data_url(2048, 4096), "detail": "low"}, 85),
        ("gpt-4o-mini", {"url": data_url(1024, 1024, "png")}, 25_501),
        ("gpt-5.4-mini", {"url": data_url(1024, 1024, "jpeg")}, 1659),
        ("gpt-5.2", {"url": data_url(1800, 2400)}, 1452),
        ("gpt-6-luna", {"url": data_url(3000, 2000), "detail": "original"}, 94 * 63),
        ("gpt-5.4", {"url": data_url(1024, 1024), "detail": "original"}, 1024),
        # a URL is not fetched: it counts as a 1024 x 1024 image at the detail asked
        ("gpt-4o", {"url": URL}, 765),
        ("gpt-4o", {"url": URL, "detail": "low"}, 85),
    ],
)
def test_a_chat_image_is_counted_by_its_models_formula(
    model: str, image: dict[str, Any], tokens: int
) -> None:
    body = chat_body(model, image)
    status, reply = answer(CHAT, body)

    assert status == 200, reply
    assert request_image_tokens(CHAT, body) == tokens
    assert reply["usage"]["prompt_tokens"] == text_only(CHAT, body) + tokens
    assert request_input_tokens(CHAT, body) == reply["usage"]["prompt_tokens"]


def test_a_gif_is_an_image_the_api_reads() -> None:
    gif = b"GIF89a\x00\x04\x00\x04" + b"\x00" * 20
    body = chat_body("gpt-4o", {"url": raw_url(gif, "image/gif")})
    assert answer(CHAT, body)[0] == 200 and request_image_tokens(CHAT, body) == 765


# -- chat: refused in the real API's words ---------------------------------------------------------

NOT_DATA = (
    "Invalid image URL: 'messages[0].content[1].image_url.url'. Expected a base64-encoded data "
    "URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got a "
    "value without the 'data:' prefix."
)
#: (what, the model, the part's image_url, message, param, code)
CHAT_REFUSED: list[tuple[str, str, Any, str, str | None, str | None]] = [
    (
        "a text-only model",
        "gpt-3.5-turbo",
        {"url": URL},
        "Invalid content type. image_url is only supported by certain models.",
        "messages.[0].content.[1].type",
        None,
    ),
    (
        "image_url a string",
        "gpt-4o",
        URL,
        "Invalid type for 'messages[0].content[1].image_url': expected an object, but got a "
        "string instead.",
        "messages[0].content[1].image_url",
        "invalid_type",
    ),
    (
        "no url",
        "gpt-4o",
        {"detail": "low"},
        "Missing required parameter: 'messages[0].content[1].image_url.url'.",
        "messages[0].content[1].image_url.url",
        "missing_required_parameter",
    ),
    (
        "original on a model without it",
        "gpt-4o",
        {"url": URL, "detail": "original"},
        "Invalid value: 'original'. Supported values are: 'low', 'high', and 'auto'.",
        "messages[0].content[1].image_url.detail",
        "invalid_value",
    ),
    (
        "raw base64",
        "gpt-4o",
        {"url": base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()},
        NOT_DATA,
        "messages[0].content[1].image_url.url",
        "invalid_value",
    ),
    (
        "empty base64",
        "gpt-4o",
        {"url": "data:image/jpeg;base64,"},
        "Invalid base64 image_url.",
        "messages[0].content[1].image_url.url",
        "invalid_base64",
    ),
    (
        "broken base64",
        "gpt-4o",
        {"url": "data:image/png;base64,not*base64!"},
        "Invalid base64 image_url.",
        "messages[0].content[1].image_url.url",
        "invalid_base64",
    ),
    (
        "not an image",
        "gpt-4o",
        {"url": raw_url(b"%PDF-1.7 not an image", "application/pdf")},
        "You uploaded an unsupported image. Please make sure your image has of one the following "
        "formats: ['png', 'jpeg', 'gif', 'webp'].",
        None,
        "invalid_image_format",
    ),
    (
        "a BMP",
        "gpt-4o",
        {"url": raw_url(b"BM" + b"\x00" * 60, "image/bmp")},
        "You uploaded an unsupported image. Please make sure your image has of one the following "
        "formats: ['png', 'jpeg', 'gif', 'webp'].",
        None,
        "invalid_image_format",
    ),
    (
        "a broken png",
        "gpt-4o",
        {"url": raw_url(b"\x89PNG\r\n\x1a\n" + b"\x00" * 4)},
        "You uploaded an unsupported image. Please make sure your image is valid.",
        None,
        "image_parse_error",
    ),
]


@pytest.mark.parametrize(
    ("model", "image", "message", "param", "code"),
    [case[1:] for case in CHAT_REFUSED],
    ids=[case[0] for case in CHAT_REFUSED],
)
def test_a_chat_image_is_refused_in_the_real_apis_words(
    model: str, image: Any, message: str, param: str | None, code: str | None
) -> None:
    status, reply = answer(CHAT, chat_body(model, image))
    assert status == 400
    assert reply["error"] == {
        "message": message,
        "type": "invalid_request_error",
        "param": param,
        "code": code,
    }


def test_an_image_in_an_assistant_message_is_still_refused_as_a_part_type() -> None:
    part = {"type": "image_url", "image_url": {"url": URL}}
    body = {"model": "gpt-4o", "messages": [{"role": "assistant", "content": [part]}]}
    status, reply = answer(CHAT, body)
    assert status == 400 and reply["error"]["param"] == "messages[0].content[0].type"


# -- Responses -------------------------------------------------------------------------------------

RESPONSES_FORMAT = (
    "The image data you provided does not represent a valid image. Please check your input and "
    "try again with one of the supported image formats: ['image/jpeg', 'image/png', "
    "'image/gif', 'image/webp']."
)
RESPONSES_REFUSED: list[tuple[str, str, dict[str, Any], str, str | None, str | None]] = [
    (
        "a text-only model",
        "o3-mini",
        {"type": "input_image", "image_url": URL},
        "Invalid content type. input_image is only supported by certain models.",
        "input.[0].content.[1].type",
        None,
    ),
    (
        "empty base64",
        "gpt-5.5",
        {"type": "input_image", "image_url": "data:image/png;base64,"},
        "Invalid 'input[0].content[1].image_url'. Expected a base64-encoded data URL with an "
        "image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got empty "
        "base64-encoded bytes.",
        "input[0].content[1].image_url",
        "invalid_value",
    ),
    (
        "not an image",
        "gpt-5.5",
        {"type": "input_image", "image_url": raw_url(b"plain text")},
        RESPONSES_FORMAT,
        "input",
        "invalid_value",
    ),
    (
        "a broken jpeg",
        "gpt-5.5",
        {"type": "input_image", "image_url": raw_url(b"\xff\xd8\xff\xe0\x00", "image/jpeg")},
        "The image data you provided does not represent a valid image. Please check your input "
        "and try again.",
        "input",
        "invalid_value",
    ),
    (
        "neither url nor file",
        "gpt-5.5",
        {"type": "input_image", "detail": "high"},
        "Missing required parameter: 'input[0].content[1].image_url'.",
        "input[0].content[1].image_url",
        "missing_required_parameter",
    ),
    (
        "a detail that is not one",
        "gpt-5.5",
        {"type": "input_image", "image_url": URL, "detail": "ultra"},
        "Invalid value: 'ultra'. Supported values are: 'low', 'high', 'auto', and 'original'.",
        "input[0].content[1].detail",
        "invalid_value",
    ),
]


@pytest.mark.parametrize(
    ("model", "part", "message", "param", "code"),
    [case[1:] for case in RESPONSES_REFUSED],
    ids=[case[0] for case in RESPONSES_REFUSED],
)
def test_a_responses_image_is_refused_in_the_real_apis_words(
    model: str, part: dict[str, Any], message: str, param: str | None, code: str | None
) -> None:
    status, reply = answer(RESPONSES, responses_body(model, part))
    assert status == 400
    assert reply["error"] == {
        "message": message,
        "type": "invalid_request_error",
        "param": param,
        "code": code,
    }


def test_a_responses_image_is_counted_and_one_given_by_file_is_read() -> None:
    part = {"type": "input_image", "image_url": data_url(4000, 3000), "detail": "high"}
    body = responses_body("gpt-5.5", part)
    status, reply = answer(RESPONSES, body)
    assert status == 200
    assert reply["usage"]["input_tokens"] == request_input_tokens(RESPONSES, body)
    assert request_image_tokens(RESPONSES, body) == PATCHES_55.tokens(4000, 3000, "high")

    big = placeholder(3000, 2000, "webp", "a photo")

    def reader(file_id: str) -> bytes | None:
        return big if file_id == "file-photo" else None

    by_file = responses_body("gpt-5.5", {"type": "input_image", "file_id": "file-photo"})
    unseen = request_input_tokens(RESPONSES, by_file)  # counted at 1024 x 1024 offline
    status, reply = answer(RESPONSES, by_file, input_tokens=unseen, files=reader)
    assert status == 200
    text = text_only(RESPONSES, by_file)
    assert reply["usage"]["input_tokens"] == text + PATCHES_55.tokens(3000, 2000)
    missing = responses_body("gpt-5.5", {"type": "input_image", "file_id": "file-nope"})
    status, reply = answer(RESPONSES, missing, files=reader)
    assert status == 400 and reply["error"]["message"] == "No such File object: file-nope"
    assert reply["error"]["param"] == "input[0].content[1].file_id"


# -- a namespace's files ---------------------------------------------------------------------------


def test_the_responder_reads_only_the_callers_files(tmp_path: Path) -> None:
    service = Service(Settings(state_dir=tmp_path, pace=PACES["instant"]))
    image = placeholder(64, 48, "png", "mine")
    mine = service_upload(service, "alice", image, filename="a.png", purpose="vision")

    assert service.file_reader("alice")(mine["id"]) == image
    assert service.file_reader("bob")(mine["id"]) is None
    assert service.file_reader("alice")("file-none") is None


# -- in a batch and through the SDK ------------------------------------------------------------------


def test_a_vision_batch_counts_its_images_and_fails_a_bad_one(client: OpenAI) -> None:
    good = chat_body("gpt-4o", {"url": data_url(2048, 4096)})
    bad = chat_body("gpt-4o", {"url": raw_url(b"not an image")})
    lines = [
        {"custom_id": "good", "method": "POST", "url": CHAT, "body": good},
        {"custom_id": "bad", "method": "POST", "url": CHAT, "body": bad},
    ]

    batch = run_batch(client, lines)

    assert batch.status == "completed"
    (done,) = file_lines(client, batch.output_file_id)
    assert done["response"]["body"]["usage"]["prompt_tokens"] == text_only(CHAT, good) + 1105
    (failed,) = file_lines(client, batch.error_file_id)
    assert failed["response"]["status_code"] == 400
    assert failed["response"]["body"]["error"]["code"] == "invalid_image_format"
    assert batch.usage is not None and batch.usage.input_tokens == text_only(CHAT, good) + 1105


def test_images_count_toward_the_enqueued_token_limit(client: OpenAI) -> None:
    body = chat_body("gpt-4o-mini", {"url": URL})  # 25,501 tokens of image on gpt-4o-mini
    line = {"custom_id": "big", "method": "POST", "url": CHAT, "body": body}
    report = validate_lines([json.dumps(line)], CHAT, now=NOW)
    assert report.input_tokens == text_only(CHAT, body) + 25_501

    set_token_limit(20_000, **conn(client))
    batch = run_batch(client, [line])

    assert batch.status == "failed" and batch.errors is not None and batch.errors.data
    assert batch.errors.data[0].code == "token_limit_exceeded"


def test_a_responses_image_by_file_id_through_the_sdk(client: OpenAI) -> None:
    photo = client.files.create(
        file=("photo.png", placeholder(1024, 1024, "png", "a photo")), purpose="vision"
    )
    reply = client.responses.create(
        model="gpt-5.4-mini",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Caption this."},
                    {"type": "input_image", "file_id": photo.id, "detail": "low"},
                ],
            }
        ],
    )
    text = count_tokens("Caption this.") + count_tokens("user") + 3 + 3
    assert reply.usage is not None and reply.usage.input_tokens == text + 415  # 256 x 1.62

    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model="gpt-4o",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,"}}
                    ],
                }
            ],
        )
    assert sdk_error(exc.value)["code"] == "invalid_base64"
