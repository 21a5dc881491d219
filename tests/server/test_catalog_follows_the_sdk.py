"""The model catalog follows the real one, by date, as the pinned ``openai`` SDK announces it.

Every model id in the SDK's model types (chat, Responses, embeddings, moderations, legacy
completions, images) must be known to the local server as exactly one of: served (with the SDK's
shutdown date, if it announces one), shut down, or not open to everyone. The SDK's
``ChatModel`` docstring lists each deprecated model's announced shutdown date ("Deprecated
values"); those dates must be the catalog's. So upgrading the SDK makes this fail for every
model it adds or retires until the catalog says what to do with it.

Then, by the real date of the test run, each model is served or refused as the real API would:
a model past its shutdown date gets the real 404 ``... has been deprecated ...`` (direct) and
fails a batch line's validation; a model with no date, or a date to come, answers.
"""

from __future__ import annotations

import datetime
import json
import re
import time
import typing
from functools import cache
from pathlib import Path

import pytest
from openai.types import completion_create_params, embedding_model, image_model, moderation_model
from openai.types.shared import chat_model, responses_model

from batch_api_local.errors import DEPRECATIONS_URL
from batch_api_local.models import (
    MODELS,
    RESTRICTED,
    SHUT_DOWN,
    resolve_model,
    retired,
    shutdown_of,
)
from batch_api_local.responder import LocalResponder
from batch_api_local.validation import check_line

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
#: the smallest request each kind of model answers
SMALLEST = {
    "chat": (CHAT, {"messages": [{"role": "user", "content": "Hi"}]}),
    "responses": (RESPONSES, {"input": "Hi"}),
    "embedding": ("/v1/embeddings", {"input": "Hi"}),
    "moderation": ("/v1/moderations", {"input": "Hi"}),
    "completion": ("/v1/completions", {"prompt": "Hi"}),
    "image": ("/v1/images/generations", {"prompt": "Hi", "quality": "low"}),
}
#: image models whose shutdown only OpenAI's deprecations page announces (the SDK's
#: ``ImageModel`` does not flag them): shut down on 2026-12-01, for gpt-image-2.6-sunburst or
#: gpt-image-2.6-flare (https://developers.openai.com/api/docs/deprecations, read 2026-12-07)
DEPRECATIONS_PAGE = dict.fromkeys(
    ("gpt-image-1.5", "gpt-image-1-mini", "chatgpt-image-latest"), "2026-12-01"
)


def _literals(annotation: object) -> list[str]:
    """Every string of the ``Literal``s inside a type (unions and aliases opened)."""
    found: list[str] = []
    for arg in typing.get_args(annotation):
        if isinstance(arg, str):
            found.append(arg)
        else:
            found.extend(_literals(arg))
    return found


@cache
def sdk_models() -> dict[str, str]:
    """Every model id in the pinned SDK's model types, with the type it comes from."""
    completions = completion_create_params.__dict__["CompletionCreateParamsBase"].__annotations__
    model = completions["model"]  # a forward reference: the annotation as text
    legacy = re.findall(r"'([^']+)'", getattr(model, "__forward_arg__", str(model)))
    found: dict[str, str] = {}
    for kind, names in (
        ("chat", _literals(chat_model.ChatModel)),
        ("responses", _literals(responses_model.ResponsesModel)),
        ("embedding", _literals(embedding_model.EmbeddingModel)),
        ("moderation", _literals(moderation_model.ModerationModel)),
        ("completion", legacy),
        ("image", _literals(image_model.ImageModel)),
    ):
        for name in names:
            found.setdefault(name, kind)
    return found


@cache
def sdk_shutdown_dates() -> dict[str, str]:
    """The "Deprecated values" of the SDK's ``ChatModel``: model id → announced shutdown date."""
    text = " ".join(Path(chat_model.__file__).read_text(encoding="utf-8").split())
    dates: dict[str, str] = {}
    pattern = r'- ((?:"[^"]+",? ?)+): Announced shutdown date: (\d{4}-\d{2}-\d{2})'
    for names, date in re.findall(pattern, text):
        for name in re.findall(r'"([^"]+)"', names):
            dates[name] = date
    return dates


@cache
def sdk_image_shutdown_dates() -> dict[str, str]:
    """The "Deprecated values" of the SDK's ``ImageModel``: model id → the day it shut down
    ("was shut down on October 23, 2026", "was retired on May 12, 2026")."""
    text = " ".join(Path(image_model.__file__).read_text(encoding="utf-8").split())
    dates: dict[str, str] = {}
    pattern = r'- ((?:"[^"]+",? ?)+): [^.]*? (?:shut down|retired) on (\w+ \d{1,2}, \d{4})'
    for names, day in re.findall(pattern, text):
        date = datetime.datetime.strptime(day, "%B %d, %Y").date().isoformat()
        for name in re.findall(r'"([^"]+)"', names):
            dates[name] = date
    return dates


def test_the_sdk_is_read_as_expected() -> None:
    models, dates = sdk_models(), sdk_shutdown_dates()
    assert len(models) > 100 and {"gpt-4o-mini", "text-embedding-3-small"} <= set(models)
    assert dates["gpt-4o-mini"] == "2027-01-14" and len(dates) > 50
    assert sdk_image_shutdown_dates() == {
        "gpt-image-1": "2026-10-23",
        "dall-e-2": "2026-05-12",
        "dall-e-3": "2026-05-12",
    }
    assert models["gpt-image-2"] == "image"


@pytest.mark.parametrize(
    "name", sorted(name for name, kind in sdk_models().items() if kind == "image")
)
def test_each_image_model_shuts_down_on_the_day_the_sdk_or_the_deprecations_page_says(
    name: str,
) -> None:
    announced = {**sdk_image_shutdown_dates(), **DEPRECATIONS_PAGE}
    assert shutdown_of(name) == announced.get(name)
    info = resolve_model(name)
    if info is not None:  # served until then: an image model, with what it makes
        assert info.kind == "image" and info.image is not None and info.vision is not None


@pytest.mark.parametrize("name", sorted(sdk_models()))
def test_every_model_of_the_sdk_is_served_shut_down_or_restricted(name: str) -> None:
    served, gone, closed = name in MODELS, name in SHUT_DOWN, name in RESTRICTED
    assert served + gone + closed == 1, f"{name}: add it to the catalog, SHUT_DOWN or RESTRICTED"
    announced = sdk_shutdown_dates().get(name)
    if announced is not None:  # the SDK's date is the catalog's
        assert shutdown_of(name) == announced
    info = resolve_model(name)
    if info is not None and sdk_models()[name] == "chat":  # Chat Completions, or Responses only
        assert info.kind in ("chat", "responses")
    if info is not None and sdk_models()[name] == "image":
        assert info.kind == "image"


def test_the_catalog_names_no_model_the_sdk_does_not() -> None:
    sdk = set(sdk_models())
    assert {info.id for info in MODELS.values()} <= sdk
    assert set(SHUT_DOWN) <= sdk
    assert RESTRICTED <= sdk


@pytest.mark.parametrize("name", sorted(sdk_models()))
def test_today_each_model_is_answered_or_refused_as_the_real_api_would(name: str) -> None:
    now = time.time()
    info = resolve_model(name)
    kind = info.kind if info is not None else sdk_models()[name]
    url, minimal = SMALLEST[kind]
    status, reply = LocalResponder().respond(url, {"model": name, **minimal}, now=int(now))
    line = {"custom_id": "r", "method": "POST", "url": url, "body": {"model": name, **minimal}}
    problem, _ = check_line(json.dumps(line), 1, url, first_model=None, seen_ids=set(), now=now)
    if retired(name, now):
        assert status == 404 and reply["error"]["code"] == "model_not_found"
        assert reply["error"]["message"] == (
            f"The model `{name}` has been deprecated, learn more here: {DEPRECATIONS_URL}"
        )
        assert problem is not None and problem.code == "model_not_found"
        assert "has been deprecated" in problem.message
    elif info is None:  # restricted: as a model that does not exist for this project
        assert status == 404 and "does not exist or you do not have access" in str(reply)
        assert problem is not None and problem.code == "model_not_found"
    else:
        assert (status, problem) == (200, None), reply


def test_a_served_model_is_refused_from_its_shutdown_date_on() -> None:
    info = MODELS["gpt-4o-mini"]
    assert info.shutdown == "2027-01-14"
    the_day_before = 1_799_798_400  # 2027-01-13T00:00:00Z
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
    before = LocalResponder().respond(CHAT, body, now=the_day_before + 86_399)
    after = LocalResponder().respond(CHAT, body, now=the_day_before + 86_400)
    assert before[0] == 200
    assert after[0] == 404 and "has been deprecated" in after[1]["error"]["message"]
