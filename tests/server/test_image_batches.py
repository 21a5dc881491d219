"""Image generations and edits, in a batch and called directly: checked as the real API checks
them, answered with placeholder images of the size and format asked, billed by quality and size.

The checks are asserted on the local responder (fast); what a client sees goes through the real
SDK against the session's server: a batch built with the SDK's own param types, its result lines
parsed with the SDK's ``ImagesResponse`` and their images decoded by Pillow.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import openai
import pytest
from openai import OpenAI
from openai.types import ImagesResponse
from openai.types.image_generate_params import ImageGenerateParamsNonStreaming
from PIL import Image

from batch_api_local.endpoints import ENDPOINTS, output_bound
from batch_api_local.errors import IMAGE_USER_ERROR
from batch_api_local.images import placeholder
from batch_api_local.models import MODELS
from batch_api_local.responder import LocalResponder
from batch_api_local.tokens import count_tokens, request_input_tokens
from batch_api_local.validation import validate_lines

from support import file_lines, run_batch, sdk_error, upload

GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"
NOW = 1_788_220_800  # 2026-09-01, the tests' clock
URL = "https://example.com/bicycle.png"


def generate(body: dict[str, Any], **kwargs: Any) -> tuple[int, dict[str, Any]]:
    return LocalResponder(now=lambda: NOW).respond(GENERATIONS, body, **kwargs)


def edit(body: dict[str, Any], **kwargs: Any) -> tuple[int, dict[str, Any]]:
    return LocalResponder(now=lambda: NOW).respond(EDITS, body, **kwargs)


def refused(result: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    status, reply = result
    assert status == 400, reply
    error: dict[str, Any] = reply["error"]
    return error


def decoded(item: dict[str, Any]) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
    image.load()
    return image


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


# -- the answer ----------------------------------------------------------------------------------


def test_a_generation_is_an_images_response_of_placeholders_of_the_size_and_format_asked() -> None:
    body = {
        "model": "gpt-image-1.5",
        "prompt": "A red bicycle leaning on a wall",
        "size": "1024x1536",
        "quality": "medium",
        "output_format": "jpeg",
        "n": 2,
    }
    status, reply = generate(body)

    assert status == 200, reply
    parsed = ImagesResponse.model_validate(reply)
    assert (parsed.created, parsed.size, parsed.quality) == (NOW, "1024x1536", "medium")
    assert (parsed.output_format, parsed.background) == ("jpeg", "opaque")
    assert parsed.data is not None and len(parsed.data) == 2
    images = [decoded(item) for item in reply["data"]]
    assert [(image.format, image.size) for image in images] == [("JPEG", (1024, 1536))] * 2
    assert reply["data"][0] != reply["data"][1]  # each image of a request its own
    text = count_tokens(body["prompt"])
    # the guide's table: a medium 1024x1536 image is 1,584 output tokens
    assert reply["usage"] == {
        "input_tokens": text,
        "input_tokens_details": {"text_tokens": text, "image_tokens": 0},
        "output_tokens": 2 * 1584,
        "output_tokens_details": {"image_tokens": 2 * 1584, "text_tokens": 0},
        "total_tokens": text + 2 * 1584,
    }


def test_the_same_prompt_gets_the_same_picture_and_auto_is_answered_as_documented() -> None:
    body = {"model": "gpt-image-2", "prompt": "A lighthouse"}
    first, second = generate(body)[1], generate(body)[1]
    other = generate({**body, "prompt": "A windmill"})[1]

    assert first == second and first["data"] != other["data"]
    assert (first["size"], first["quality"], first["background"]) == (
        "1024x1024",
        "medium",
        "opaque",
    )
    assert first["output_format"] == "png"
    assert decoded(first["data"][0]).size == (1024, 1024)


@pytest.mark.parametrize("output_format", ["png", "webp"])
def test_a_transparent_background_is_see_through(output_format: str) -> None:
    body = {
        "model": "gpt-image-1.5",
        "prompt": "A sticker of a cat",
        "background": "transparent",
        "output_format": output_format,
        "quality": "low",
    }
    status, reply = generate(body)

    assert status == 200 and reply["background"] == "transparent"
    assert decoded(reply["data"][0]).mode == "RGBA"


def test_gpt_image_2_takes_any_size_within_its_limits() -> None:
    for size in ("1536x864", "2160x3840", "3840x2160", "1024x640", "2880x2880"):
        status, reply = generate({"model": "gpt-image-2", "prompt": "x", "size": size})
        assert status == 200, (size, reply)
        width, height = (int(side) for side in size.split("x"))
        assert decoded(reply["data"][0]).size == (width, height)
    # a size outside the table scales the square's tokens by its area
    spec = MODELS["gpt-image-2"].image
    assert spec is not None
    square_low = spec.output_tokens["low"][0]
    reply = generate({"model": "gpt-image-2", "prompt": "x", "size": "2048x1152", "quality": "low"})
    assert reply[1]["usage"]["output_tokens"] == -(-square_low * 2048 * 1152 // (1024 * 1024))


# -- what the real API refuses ---------------------------------------------------------------------

#: (a change to a valid gpt-image-1.5 body, the message, the param, the code)
REFUSED: list[tuple[str, dict[str, Any], str, str | None, str | None]] = [
    (
        "size of dall-e",
        {"size": "512x512"},
        "Invalid value: '512x512'. Supported values are: '1024x1024', '1024x1536', '1536x1024', "
        "and 'auto'.",
        "size",
        "invalid_value",
    ),
    (
        "size an integer",
        {"size": 1024},
        "Invalid type for 'size': expected one of '1024x1024', '1024x1536', '1536x1024', or "
        "'auto', but got an integer instead.",
        "size",
        "invalid_type",
    ),
    (
        "empty quality",
        {"quality": ""},
        "Invalid value: ''. Supported values are: 'low', 'medium', 'high', and 'auto'.",
        "quality",
        "invalid_value",
    ),
    (
        "dall-e-3 quality",
        {"quality": "hd"},
        "Invalid value: 'hd'. Supported values are: 'low', 'medium', 'high', and 'auto'.",
        "quality",
        "invalid_value",
    ),
    (
        "xhigh before gpt-image-2.5",
        {"quality": "xhigh"},
        "Invalid value: 'xhigh'. Supported values are: 'low', 'medium', 'high', and 'auto'.",
        "quality",
        "invalid_value",
    ),
    (
        "n above 10",
        {"n": 11},
        "Invalid 'n': integer above maximum value. Expected a value <= 10, but got 11 instead.",
        "n",
        "integer_above_max_value",
    ),
    (
        "n below 1",
        {"n": 0},
        "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        "n",
        "integer_below_min_value",
    ),
    (
        "response_format",
        {"response_format": "b64_json"},
        "Unknown parameter: 'response_format'.",
        "response_format",
        "unknown_parameter",
    ),
    ("style", {"style": "vivid"}, "Unknown parameter: 'style'.", "style", "unknown_parameter"),
    (
        "an edit's parameter",
        {"images": [{"image_url": URL}]},
        "Unknown parameter: 'images'.",
        "images",
        "unknown_parameter",
    ),
    (
        "gif",
        {"output_format": "gif"},
        "Invalid value: 'gif'. Supported values are: 'png', 'jpeg', and 'webp'. (The local server "
        "makes placeholder images in these three formats; gif and svg output is not emulated.)",
        "output_format",
        "invalid_value",
    ),
    (
        "jpg",
        {"output_format": "jpg"},
        "Invalid value: 'jpg'. Supported values are: 'png', 'jpeg', 'webp', 'gif', and 'svg'.",
        "output_format",
        "invalid_value",
    ),
    (
        "compression above 100",
        {"output_format": "webp", "output_compression": 101},
        "Invalid 'output_compression': integer above maximum value. Expected a value <= 100, but "
        "got 101 instead.",
        "output_compression",
        "integer_above_max_value",
    ),
    (
        "compression of a png",
        {"output_compression": 50},
        "output_compression is not supported with output_format 'png'. It applies to 'jpeg' and "
        "'webp' only.",
        "output_compression",
        "unsupported_parameter",
    ),
    (
        "a transparent jpeg",
        {"background": "transparent", "output_format": "jpeg"},
        "Transparent background is not supported with output_format 'jpeg'. Use 'png' or 'webp'.",
        "background",
        "invalid_value",
    ),
    (
        "background",
        {"background": "clear"},
        "Invalid value: 'clear'. Supported values are: 'transparent', 'opaque', and 'auto'.",
        "background",
        "invalid_value",
    ),
    (
        "moderation",
        {"moderation": "high"},
        "Invalid value: 'high'. Supported values are: 'low' and 'auto'.",
        "moderation",
        "invalid_value",
    ),
    (
        "empty prompt",
        {"prompt": ""},
        "Invalid 'prompt': string too short. Expected a string with minimum length 1, but got a "
        "string with length 0 instead.",
        "prompt",
        "string_below_min_length",
    ),
    (
        "long prompt",
        {"prompt": "a" * 32_001},
        "Invalid 'prompt': string too long. Expected a string with maximum length 32000, but got "
        "a string with length 32001 instead.",
        "prompt",
        "string_above_max_length",
    ),
]


@pytest.mark.parametrize(
    ("change", "message", "param", "code"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_a_generation_is_refused_in_the_real_apis_words(
    change: dict[str, Any], message: str, param: str | None, code: str | None
) -> None:
    body = {"model": "gpt-image-1.5", "prompt": "A red bicycle", **change}
    error = refused(generate(body))
    assert (error["message"], error["param"], error["code"]) == (message, param, code)
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("size", "problem"),
    [
        ("1792x936", "Width and height must both be divisible by 16."),
        ("3200x1024", "The aspect ratio must be between 1:3 and 3:1."),
        ("4096x2048", "The longest side may be at most 3840 pixels"),
        ("512x512", "between 655,360 and 8,294,400 pixels"),
        ("big", "Use 'auto' or WIDTHxHEIGHT in pixels"),
    ],
)
def test_a_flexible_size_is_refused_outside_gpt_image_2s_limits(size: str, problem: str) -> None:
    error = refused(generate({"model": "gpt-image-2", "prompt": "x", "size": size}))
    assert error["message"].startswith(f"Invalid size '{size}'. ")
    assert problem in error["message"] and error["param"] == "size"


def test_newer_models_refuse_a_transparent_background_and_gpt_image_25_takes_xhigh() -> None:
    for model in ("gpt-image-2", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare-2026-09-08"):
        error = refused(generate({"model": model, "prompt": "x", "background": "transparent"}))
        assert error["message"] == "Transparent background is not supported for this model."
        assert (error["type"], error["code"]) == (IMAGE_USER_ERROR, "invalid_value")
    for quality in ("xhigh", "max"):
        body = {"model": "gpt-image-2.5-sunburst", "prompt": "x", "quality": quality}
        status, reply = generate(body)
        assert status == 200 and reply["quality"] == quality
    error = refused(generate({"model": "gpt-image-2", "prompt": "x", "quality": "max"}))
    assert "Supported values are: 'low', 'medium', 'high', and 'auto'." in error["message"]


def test_models_that_do_not_make_images_and_retired_ones_are_refused() -> None:
    status, reply = generate({"model": "gpt-6-luna", "prompt": "x"})
    assert status == 400 and reply["error"]["message"] == (
        "The model `gpt-6-luna` does not support the /v1/images/generations endpoint."
    )
    for model in ("dall-e-3", "dall-e-2"):
        status, reply = generate({"model": model, "prompt": "x"})
        assert status == 404 and "has been deprecated" in reply["error"]["message"]
    # gpt-image-1 is served on the tests' day, and refused from 2026-10-23 on
    assert generate({"model": "gpt-image-1", "prompt": "x", "quality": "low"})[0] == 200
    later = generate({"model": "gpt-image-1", "prompt": "x"}, now=1_792_713_600)  # 2026-10-23
    assert later[0] == 404


# -- edits: input images ---------------------------------------------------------------------------


def edit_body(images: list[Any], **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-image-1.5", "prompt": "Make it blue", "images": images, **extra}


def test_an_edits_input_images_cost_tokens_by_size_and_input_fidelity() -> None:
    tall = data_url(placeholder(1024, 1536, "webp", "x"), "image/webp")
    square = data_url(placeholder(1024, 1024, "png", "x"))

    low = edit(edit_body([{"image_url": tall}], quality="low"))[1]
    high = edit(edit_body([{"image_url": tall}], quality="low", input_fidelity="high"))[1]
    two = edit({**edit_body([{"image_url": square}, {"image_url": URL}]), "model": "gpt-image-2"})

    # the vision guide: 1024x1536 at low fidelity is 323 tokens; high fidelity adds 6,240 to an
    # image that is not square
    assert low["usage"]["input_tokens_details"]["image_tokens"] == 323
    assert high["usage"]["input_tokens_details"]["image_tokens"] == 323 + 6240
    # gpt-image-2 always works at high fidelity: 194 + 4,160 for each square image (a URL,
    # which is not fetched, counts as 1024x1024)
    assert two[0] == 200 and two[1]["usage"]["input_tokens_details"]["image_tokens"] == 2 * 4354
    assert (
        request_input_tokens(EDITS, edit_body([{"image_url": tall}]))
        == (low["usage"]["input_tokens"])
    )


#: (images, the message, the param, the code, the type)
EDIT_REFUSED: list[tuple[str, Any, str, str | None, str | None]] = [
    (
        "not a list",
        {"image_url": URL},
        "Invalid type for 'images': expected an array of objects, but got an object instead.",
        "images",
        "invalid_type",
    ),
    (
        "empty",
        [],
        "Invalid 'images': empty array. Expected an array with minimum length 1, but got an "
        "empty array instead.",
        "images",
        "empty_array",
    ),
    (
        "17 images",
        [{"image_url": URL}] * 17,
        "Invalid 'images': array too long. Expected an array with maximum length 16, but got an "
        "array with length 17 instead.",
        "images",
        "array_above_max_length",
    ),
    (
        "both",
        [{"image_url": URL, "file_id": "file-abc"}],
        "Invalid 'images[0]': provide exactly one of 'image_url' or 'file_id'.",
        "images[0]",
        "invalid_value",
    ),
    (
        "neither",
        [{}],
        "Invalid 'images[0]': provide exactly one of 'image_url' or 'file_id'.",
        "images[0]",
        "invalid_value",
    ),
    (
        "an unknown key",
        [{"url": URL}],
        "Unknown parameter: 'images[0].url'.",
        "images[0].url",
        "unknown_parameter",
    ),
    (
        "no data: prefix",
        [{"image_url": "iVBORw0KGgo="}],
        "Invalid 'images[0].image_url'. Expected a base64-encoded data URL with an image MIME "
        "type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got a value without the "
        "'data:' prefix.",
        "images[0].image_url",
        "invalid_value",
    ),
    (
        "a gif",
        [{"image_url": data_url(b"GIF89a\x10\x00\x10\x00\x00\x00\x00;", "image/gif")}],
        "Invalid file 'images[0].image_url': unsupported mimetype ('image/gif'). Supported file "
        "formats are 'image/jpeg', 'image/png', and 'image/webp'.",
        "images[0].image_url",
        "invalid_value",
    ),
]


@pytest.mark.parametrize(
    ("images", "message", "param", "code"),
    [case[1:] for case in EDIT_REFUSED],
    ids=[case[0] for case in EDIT_REFUSED],
)
def test_an_edits_images_are_refused_in_the_real_apis_words(
    images: Any, message: str, param: str | None, code: str | None
) -> None:
    error = refused(edit(edit_body(images)))
    assert (error["message"], error["param"], error["code"]) == (message, param, code)


@pytest.mark.parametrize(
    "url",
    [data_url(b"this is text, not an image"), "data:image/png;base64,", "data:image/png;base64,@@"],
    ids=["not an image", "empty", "not base64"],
)
def test_an_unreadable_input_image_gets_the_image_generation_user_error(url: str) -> None:
    error = refused(edit(edit_body([{"image_url": URL}, {"image_url": url}])))
    assert error["message"].startswith("Invalid image file or mode for image 2, please check")
    assert error["message"].endswith(".") and "include the request ID req_" in error["message"]
    assert (error["type"], error["code"], error["param"]) == (
        IMAGE_USER_ERROR,
        "invalid_image_file",
        None,
    )


def test_input_fidelity_follows_the_model_and_the_mask_must_fit_the_first_image() -> None:
    image = data_url(placeholder(1024, 1024, "png", "x"))
    error = refused(edit({**edit_body([{"image_url": image}]), "model": "gpt-image-2",
                          "input_fidelity": "low"}))  # fmt: skip
    assert error["message"] == "input_fidelity is not supported for this model."
    error = refused(edit({**edit_body([{"image_url": image}]), "model": "gpt-image-1-mini",
                          "input_fidelity": "high"}))  # fmt: skip
    assert error["message"] == "Invalid value: 'high'. Supported values are: 'low'."

    jpeg_mask = {"image_url": data_url(placeholder(1024, 1024, "jpeg", "m"), "image/jpeg")}
    error = refused(edit(edit_body([{"image_url": image}], mask=jpeg_mask)))
    assert error["message"] == "Invalid 'mask': it must be a PNG image."
    small_mask = {"image_url": data_url(placeholder(512, 512, "png", "m", transparent=True))}
    error = refused(edit(edit_body([{"image_url": image}], mask=small_mask)))
    assert "same dimensions as the first image (1024x1024), not 512x512" in error["message"]
    good_mask = {"image_url": data_url(placeholder(1024, 1024, "png", "m", transparent=True))}
    assert edit(edit_body([{"image_url": image}], mask=good_mask, quality="low"))[0] == 200


def test_an_image_url_of_more_than_20_mib_of_characters_is_refused() -> None:
    huge = "data:image/png;base64," + "A" * 20_971_520
    error = refused(edit(edit_body([{"image_url": huge}])))
    assert error["code"] == "string_above_max_length" and error["param"] == "images[0].image_url"


def test_an_image_by_file_id_is_read_from_the_callers_files() -> None:
    tall = placeholder(1024, 1536, "png", "a photo")
    files = {"file-mine": tall, "file-text": b"just some text"}

    def reader(file_id: str) -> bytes | None:
        return files.get(file_id)

    body = edit_body([{"file_id": "file-mine"}], quality="low")
    status, reply = edit(body, files=reader)
    assert status == 200 and reply["usage"]["input_tokens_details"]["image_tokens"] == 323
    error = refused(edit(edit_body([{"file_id": "file-theirs"}]), files=reader))
    assert (error["message"], error["param"]) == (
        "No such File object: file-theirs",
        "images[0].file_id",
    )
    error = refused(edit(edit_body([{"file_id": "file-text"}]), files=reader))
    assert error["code"] == "invalid_image_file"
    # without a reader (a responder that cannot read files) the image is taken unseen
    assert edit(body)[0] == 200


# -- the output bound of a cost estimate ---------------------------------------------------------


def test_the_output_bound_is_the_quality_and_size_times_n_and_auto_is_bounded_high() -> None:
    body = {"model": "gpt-image-1.5", "prompt": "x", "quality": "low", "size": "1536x1024", "n": 3}
    assert output_bound(GENERATIONS, body, "gpt-image-1.5") == (3 * 400, "quality and size")
    assert output_bound(GENERATIONS, {"prompt": "x"}, "gpt-image-1.5") == (6240, "quality and size")
    assert output_bound(EDITS, {"quality": "medium"}, "gpt-image-2") == (1767, "quality and size")
    assert ENDPOINTS[GENERATIONS].output is not None and ENDPOINTS[EDITS].images is not None


def test_image_lines_count_toward_the_enqueued_tokens_at_validation() -> None:
    image = data_url(placeholder(1024, 1024, "png", "x"))
    line = {
        "custom_id": "e",
        "method": "POST",
        "url": EDITS,
        "body": edit_body([{"image_url": image}]),
    }
    report = validate_lines([json.dumps(line)], EDITS, now=NOW)
    assert report.errors == [] and report.input_tokens == count_tokens("Make it blue") + 194


# -- through the SDK, against the server -----------------------------------------------------------


def test_an_image_batch_built_with_the_sdks_types_runs_and_its_images_decode(
    client: OpenAI,
) -> None:
    prompts = {"mug": "A blue mug on a desk", "lamp": "A desk lamp, lit", "plant": "A cactus"}
    bodies: dict[str, ImageGenerateParamsNonStreaming] = {
        key: {
            "model": "gpt-image-2",
            "prompt": prompt,
            "size": "1024x1024",
            "quality": "low",
            "output_format": "webp" if key == "plant" else "png",
        }
        for key, prompt in prompts.items()
    }
    lines = [
        {"custom_id": key, "method": "POST", "url": GENERATIONS, "body": dict(body)}
        for key, body in bodies.items()
    ]

    batch = run_batch(client, lines, endpoint=GENERATIONS)

    assert batch.status == "completed" and batch.request_counts is not None
    assert batch.request_counts.completed == 3 and batch.model == "gpt-image-2-2026-04-21"
    results = {line["custom_id"]: line for line in file_lines(client, batch.output_file_id)}
    assert set(results) == set(prompts)
    for key, line in results.items():
        reply = ImagesResponse.model_validate(line["response"]["body"])
        assert reply.data is not None and reply.data[0].b64_json is not None
        image = Image.open(io.BytesIO(base64.b64decode(reply.data[0].b64_json)))
        assert image.size == (1024, 1024)
        assert image.format == ("WEBP" if key == "plant" else "PNG")
        assert reply.usage is not None and reply.usage.output_tokens == 200  # low, square
    assert batch.usage is not None and batch.usage.output_tokens == 3 * 200


def test_an_edit_batch_reads_the_callers_uploaded_image(client: OpenAI) -> None:
    photo = client.files.create(
        file=("photo.png", placeholder(1536, 1024, "png", "a photo")), purpose="vision"
    )
    line = {
        "custom_id": "blue",
        "method": "POST",
        "url": EDITS,
        "body": edit_body([{"file_id": photo.id}], quality="low"),
    }
    missing = {**line, "custom_id": "missing", "body": edit_body([{"file_id": "file-nope"}])}

    batch = run_batch(client, [line, missing], endpoint=EDITS)

    assert batch.status == "completed"
    (done,) = file_lines(client, batch.output_file_id)
    usage = done["response"]["body"]["usage"]
    assert usage["input_tokens_details"]["image_tokens"] == 323  # 1536x1024, low fidelity
    (failed,) = file_lines(client, batch.error_file_id)
    assert failed["custom_id"] == "missing" and failed["response"]["status_code"] == 400
    assert failed["response"]["body"]["error"]["message"] == "No such File object: file-nope"


def test_image_lines_fail_validation_as_other_lines_do(client: OpenAI) -> None:
    lines = [
        {"custom_id": "retired", "method": "POST", "url": GENERATIONS,
         "body": {"model": "dall-e-3", "prompt": "x"}},
        {"custom_id": "chat", "method": "POST", "url": GENERATIONS,
         "body": {"model": "gpt-6-luna", "prompt": "x"}},
        {"custom_id": "no-prompt", "method": "POST", "url": GENERATIONS,
         "body": {"model": "gpt-6-luna"}},
    ]  # fmt: skip

    batch = run_batch(client, lines, endpoint=GENERATIONS)

    assert batch.status == "failed" and batch.errors is not None and batch.errors.data
    messages = [(e.line, e.code, e.message) for e in batch.errors.data]
    assert messages[0][:2] == (1, "model_not_found") and "has been deprecated" in messages[0][2]
    assert messages[1:] == [
        (
            2,
            "model_not_found",
            "The provided model 'gpt-6-luna' is not supported by the Batch API.",
        ),
        (
            3,
            "model_not_found",
            "The provided model 'gpt-6-luna' is not supported by the Batch API.",
        ),
    ]
    # an image line without its prompt
    line = {
        "custom_id": "p",
        "method": "POST",
        "url": GENERATIONS,
        "body": {"model": "gpt-image-2"},
    }
    report = validate_lines([json.dumps(line)], GENERATIONS, now=NOW)
    assert [(e.code, e.param, e.message) for e in report.errors] == [
        ("invalid_request", "body.prompt", "Prompt parameter is required.")
    ]


def test_the_direct_endpoints_answer_through_the_sdk(client: OpenAI) -> None:
    reply = client.images.generate(
        model="gpt-image-1.5", prompt="A teapot", size="1536x1024", quality="low", n=2
    )
    assert reply.data is not None and len(reply.data) == 2
    assert reply.size == "1536x1024" and reply.usage is not None
    assert reply.usage.output_tokens == 2 * 400
    image = Image.open(io.BytesIO(base64.b64decode(reply.data[1].b64_json or "")))
    assert image.size == (1536, 1024)

    photo = data_url(placeholder(1024, 1024, "png", "a teapot"))
    body = edit_body([{"image_url": photo}], quality="low")
    edited = client.post("/images/edits", body=body, cast_to=ImagesResponse)
    assert edited.usage is not None and edited.usage.input_tokens_details.image_tokens == 194

    with pytest.raises(openai.BadRequestError) as exc:
        client.images.generate(model="gpt-image-2", prompt="x", response_format="url")
    assert sdk_error(exc.value)["message"] == "Unknown parameter: 'response_format'."


def test_a_multipart_edit_on_the_direct_route_is_refused_clearly(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        client.images.edit(
            model="gpt-image-1.5",
            image=("in.png", placeholder(64, 64, "png", "x"), "image/png"),
            prompt="Make it blue",
        )
    error = sdk_error(exc.value)
    assert error["message"].startswith("The local server takes image edits as JSON only")
    assert (error["param"], error["code"]) == ("image", "unsupported_value")


def test_videos_are_refused_at_create_and_the_message_lists_todays_endpoints(
    client: OpenAI,
) -> None:
    file = upload(client, [{"custom_id": "v", "method": "POST", "url": "/v1/videos",
                            "body": {"model": "sora-2", "prompt": "x"}}])  # fmt: skip
    with pytest.raises(openai.BadRequestError) as exc:
        client.batches.create(input_file_id=file.id, endpoint="/v1/videos", completion_window="24h")
    error = sdk_error(exc.value)
    assert (error["param"], error["code"]) == ("endpoint", "invalid_value")
    assert error["message"] == (
        "Invalid value: '/v1/videos'. Supported values are: '/v1/chat/completions', "
        "'/v1/completions', '/v1/embeddings', '/v1/responses', '/v1/moderations', "
        "'/v1/images/generations', and '/v1/images/edits'."
    )
    assert client.batches.list().data == []
