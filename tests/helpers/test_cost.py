"""Tests for helpers.cost: the price package's table, prices you pass, and estimates of a file."""

from __future__ import annotations

import json
import re
import time
from datetime import date
from pathlib import Path

import pytest
from openai import OpenAI

from batch_api_local.models import list_models
from helpers import estimate_cost, load_prices
from helpers.cost import BATCH_DISCOUNT, Price, PriceTable

from support import chat_line, file_lines, run_batch, write_jsonl


def line(custom_id: str, url: str, body: dict) -> dict:
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": body}


# -- the price table ---------------------------------------------------------------------------


def test_the_default_prices_come_from_the_pinned_price_package_dated_and_sourced() -> None:
    table = load_prices()

    assert table.date is not None and date.fromisoformat(table.date)
    assert table.source is not None and table.source.startswith("genai-prices ")
    assert table.note is not None and "half" in table.note
    assert load_prices() is table  # read once


def test_every_model_the_local_server_serves_today_has_a_price() -> None:
    table = load_prices()
    for info in list_models(time.time()):
        price = table.price(info.id)
        if info.kind in ("chat", "responses"):
            assert 0 < price.input < price.output, info.id
        assert price.batch_input <= price.input and price.batch_output <= price.output


def test_batch_prices_are_half_the_synchronous_ones_for_todays_models() -> None:
    table = load_prices()
    for name in ("gpt-6-luna", "gpt-5.4-mini", "gpt-4o-mini", "text-embedding-3-small"):
        price = table.price(name)
        assert price.batch_input == pytest.approx(price.input * BATCH_DISCOUNT), name
        assert price.batch_output == pytest.approx(price.output * BATCH_DISCOUNT), name


def test_a_long_prompt_is_priced_at_the_long_context_rates() -> None:
    price = load_prices().price("gpt-6-luna")
    assert price.long_context is not None and price.long_context_from == 272_000
    short = price.request_cost(272_000, 1_000)
    long = price.request_cost(272_001, 1_000)
    assert short == pytest.approx(price.cost(272_000, 1_000))
    assert long == pytest.approx(price.long_context.cost(272_001, 1_000)) and long > short * 1.5


def test_moderations_are_free() -> None:
    assert load_prices().price("omni-moderation-latest").cost(10**6, 0) == 0


def test_a_snapshot_is_priced_as_its_alias() -> None:
    table = load_prices()

    assert table.price("gpt-4o-mini-2024-07-18") is table.price("gpt-4o-mini")


def test_a_model_missing_from_the_table_says_how_to_pass_a_price() -> None:
    with pytest.raises(KeyError, match=r"no price for 'my-model'.*prices="):
        load_prices().price("my-model")


def test_your_own_prices_default_to_half_in_batches() -> None:
    table = load_prices({"gpt-4o-mini": {"input": 0.2, "output": 0.8}})

    assert table.models == {"gpt-4o-mini": Price("gpt-4o-mini", 0.2, 0.8, 0.1, 0.4)}
    assert table.date is None


def test_your_own_batch_prices_are_kept() -> None:
    price = load_prices({"m": {"input": 1, "output": 2, "batch_input": 0.9}}).price("m")

    assert (price.batch_input, price.batch_output) == (0.9, 1.0)


def test_an_embedding_price_needs_no_output() -> None:
    price = load_prices({"text-embedding-3-small": {"input": 0.02}}).price("text-embedding-3-small")

    assert (price.output, price.batch_output) == (0.0, 0.0)


def test_a_table_in_a_file_of_your_own(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"date": "2030-01-01", "models": {"gpt-4o": {"input": 1}}}))

    table = load_prices(path)

    assert table.date == "2030-01-01"
    assert load_prices(str(path)) == table
    assert load_prices(table) is table


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"output": 1}, "has no 'input'"),
        ({"input": -1}, "must not be negative"),
        ({"input": "cheap"}, "must be a number"),
        ({"input": float("nan")}, "must be a number"),
        ({"input": True}, "must be a number"),
        (0.15, "must be a mapping"),
    ],
)
def test_a_bad_price_is_refused(entry: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        load_prices({"gpt-4o-mini": entry})


def test_the_table_as_a_dataframe() -> None:
    frame = load_prices().frame()

    assert list(frame.columns) == ["input", "output", "batch_input", "batch_output"]
    assert frame.loc["gpt-4o-mini", "batch_output"] == pytest.approx(0.3)


def test_price_cost_is_per_million_tokens() -> None:
    price = Price("m", input=2.0, output=8.0, batch_input=1.0, batch_output=4.0)

    assert price.cost(1_000_000, 1_000_000) == pytest.approx(5.0)
    assert price.cost(1_000_000, 1_000_000, batch=False) == pytest.approx(10.0)
    assert price.cost(500, 0) == pytest.approx(0.0005)


# -- estimates of a file -------------------------------------------------------------------------


PRICES = PriceTable({"gpt-4o-mini": Price("gpt-4o-mini", 0.2, 0.8, 0.1, 0.4)})


def test_an_estimate_counts_input_and_bounds_output_per_request(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [
            chat_line("a", "Name a colour.", max_completion_tokens=50),
            chat_line("b", "Name two colours, please.", max_tokens=20, n=3),
            chat_line("c", "Hi"),
        ],
    )

    estimate = estimate_cost(path, PRICES)

    lines = estimate.lines.set_index("custom_id")
    assert (estimate.model, estimate.endpoint, estimate.requests) == (
        "gpt-4o-mini",
        "/v1/chat/completions",
        3,
    )
    assert lines["max_output_tokens"].tolist() == [50, 60, 16_384]  # n=3; c: the model's maximum
    assert lines["output_limit"].tolist() == [
        "max_completion_tokens",
        "max_tokens",
        "model maximum",
    ]
    # 3 tokens per message, the role, the content, and 3 to prime the reply
    assert lines.loc["c", "input_tokens"] == 3 + 1 + 1 + 3
    assert estimate.input_tokens == lines["input_tokens"].sum()
    assert estimate.max_output_tokens == 50 + 60 + 16_384


def test_an_estimate_prices_batch_and_synchronous(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [chat_line("a", max_completion_tokens=100)])

    estimate = estimate_cost(path, PRICES)
    table = estimate.table()

    tokens = estimate.input_tokens
    assert list(table.index) == ["batch", "synchronous"]
    assert list(table.columns) == [
        "input_tokens",
        "input_usd",
        "max_output_tokens",
        "max_output_usd",
        "max_usd",
    ]
    assert table.loc["batch", "input_usd"] == pytest.approx(tokens * 0.1 / 1e6)
    assert table.loc["batch", "max_output_usd"] == pytest.approx(100 * 0.4 / 1e6)
    assert table.loc["synchronous", "max_usd"] == pytest.approx(2 * table.loc["batch", "max_usd"])
    assert estimate.cost() == pytest.approx(table.loc["batch", "max_usd"])
    assert estimate.cost(batch=False) == pytest.approx(table.loc["synchronous", "max_usd"])
    assert estimate.prices_date is None


def test_an_estimate_uses_the_shipped_table_by_default(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [chat_line("a", max_completion_tokens=10)])

    estimate = estimate_cost(path)

    assert estimate.price == load_prices().price("gpt-4o-mini")
    assert estimate.prices_date == load_prices().date


def test_responses_embeddings_and_completions_have_their_own_bounds(tmp_path: Path) -> None:
    responses = write_jsonl(
        tmp_path / "responses.jsonl",
        [
            line(
                "r",
                "/v1/responses",
                {"model": "gpt-4o-mini", "input": "Hi", "max_output_tokens": 64},
            )
        ],
    )
    embeddings = write_jsonl(
        tmp_path / "embeddings.jsonl",
        [
            line("e1", "/v1/embeddings", {"model": "text-embedding-3-small", "input": "one two"}),
            line("e2", "/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b"]}),
        ],
    )
    completions = write_jsonl(
        tmp_path / "completions.jsonl",
        [line("c", "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "Hi"})],
    )

    r = estimate_cost(responses)
    e = estimate_cost(embeddings)
    c = estimate_cost(completions, {"gpt-3.5-turbo-instruct": {"input": 1.5, "output": 2}})

    assert (r.max_output_tokens, r.lines.loc[0, "output_limit"]) == (64, "max_output_tokens")
    assert (e.max_output_tokens, e.input_tokens) == (0, 2 + 2)
    assert e.lines["output_limit"].isna().all()
    assert e.cost() == pytest.approx(4 * 0.01 / 1e6)
    assert (c.max_output_tokens, c.lines.loc[0, "output_limit"]) == (16, "default max_tokens")


def test_a_chat_request_with_both_limits_is_bounded_by_the_smaller(tmp_path: Path) -> None:
    # the API refuses the pair (400 invalid_parameter_combination): the smaller is a safe bound
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [
            chat_line("a", max_tokens=30, max_completion_tokens=50, n=2),
            chat_line("b", max_tokens=80, max_completion_tokens=50),
        ],
    )

    lines = estimate_cost(path, PRICES).lines

    assert lines["max_output_tokens"].tolist() == [60, 50]
    assert lines["output_limit"].tolist() == ["max_tokens", "max_completion_tokens"]


def test_a_completions_request_is_bounded_per_prompt_and_best_of(tmp_path: Path) -> None:
    def completions(custom_id: str, **body: object) -> dict:
        return line(custom_id, "/v1/completions", {"model": "gpt-3.5-turbo-instruct", **body})

    path = write_jsonl(
        tmp_path / "in.jsonl",
        [
            completions("three-prompts", prompt=["a", "b", "c"], max_tokens=5, n=2),
            completions("token-array", prompt=[1, 2, 3], max_tokens=5),
            completions("best-of", prompt="a", max_tokens=5, n=2, best_of=4),
        ],
    )

    estimate = estimate_cost(path, {"gpt-3.5-turbo-instruct": {"input": 1.5, "output": 2}})

    assert estimate.lines["max_output_tokens"].tolist() == [5 * 2 * 3, 5, 5 * 4]


def test_the_estimate_matches_what_the_local_server_bills(client: OpenAI, tmp_path: Path) -> None:
    lines = [
        chat_line(f"q{n}", text, max_completion_tokens=40)
        for n, text in enumerate(["Name a colour.", "Describe a penguin in one sentence.", "Héllo"])
    ]
    path = write_jsonl(tmp_path / "in.jsonl", lines)

    estimate = estimate_cost(path)
    batch = run_batch(client, lines)

    assert batch.usage is not None
    assert batch.usage.input_tokens == estimate.input_tokens
    assert batch.usage.output_tokens <= estimate.max_output_tokens
    billed = {
        x["custom_id"]: x["response"]["body"]["usage"]
        for x in file_lines(client, batch.output_file_id)
    }
    for row in estimate.lines.itertuples():
        assert billed[row.custom_id]["prompt_tokens"] == row.input_tokens
        assert billed[row.custom_id]["completion_tokens"] <= row.max_output_tokens


def test_a_blank_line_is_skipped_and_a_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (json.dumps(chat_line("a")) + "\n\n").encode())

    assert estimate_cost(path, PRICES).requests == 1


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"custom_id": "a", '], "line 1 of in.jsonl is not a request"),
        ([{"custom_id": "a", "url": "/v1/chat/completions"}], "is not a request"),
        (
            [chat_line("a"), chat_line("b", model="gpt-4o")],
            "line 2 of in.jsonl is for /v1/chat/completions and 'gpt-4o'",
        ),
        (
            [chat_line("a"), line("b", "/v1/embeddings", {"model": "gpt-4o-mini", "input": "x"})],
            "one endpoint and one model",
        ),
        (["", "  "], "holds no request"),
    ],
)
def test_a_file_that_is_not_one_batch_is_refused(tmp_path: Path, lines: list, message: str) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", lines)

    with pytest.raises(ValueError, match=re.escape(message)):
        estimate_cost(path, PRICES)


def test_an_unknown_model_needs_a_price_and_an_output_limit(tmp_path: Path) -> None:
    unbounded = write_jsonl(tmp_path / "a.jsonl", [chat_line("a", model="my-model")])
    bounded = write_jsonl(
        tmp_path / "b.jsonl", [chat_line("a", model="my-model", max_completion_tokens=5)]
    )

    with pytest.raises(ValueError, match="its output has no bound"):
        estimate_cost(unbounded, {"my-model": {"input": 1, "output": 1}})
    with pytest.raises(KeyError, match="no price for 'my-model'"):
        estimate_cost(bounded)
    assert estimate_cost(bounded, {"my-model": {"input": 1, "output": 1}}).max_output_tokens == 5


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        estimate_cost(tmp_path / "nothing.jsonl")


# -- images: image models' own rates, and images as input ---------------------------------------

GENERATIONS = "/v1/images/generations"


def test_image_models_have_their_image_rates_from_the_price_package() -> None:
    table = load_prices()
    one_five = table.price("gpt-image-1.5")  # text out $10, image out $32, image in $8 [GENAI]
    assert (one_five.input, one_five.output, one_five.image_input, one_five.image_output) == (
        5.0,
        10.0,
        8.0,
        32.0,
    )
    assert (one_five.batch_image_input, one_five.batch_image_output) == (4.0, 16.0)
    two = table.price("gpt-image-2")  # its output rate is its image output rate: $30
    assert (two.output, two.image_input, two.image_output) == (30.0, 8.0, None)
    # gpt-image-2.6, which the package does not have yet, is priced as gpt-image-2.5
    assert table.price("gpt-image-2.6-flare").cost(1000, 1000) == pytest.approx(
        table.price("gpt-image-2.5-flare").cost(1000, 1000)
    )
    assert "gpt-image-2.6" in (table.note or "")


def test_an_image_requests_parts_are_each_priced_at_their_own_rate() -> None:
    price = load_prices().price("gpt-image-1.5")
    # 100 text tokens in, 200 image tokens in, one medium square image out (1,056 tokens)
    sync = price.cost(300, 1056, batch=False, image_input_tokens=200, image_output=True)
    assert sync == pytest.approx((100 * 5 + 200 * 8 + 1056 * 32) / 1e6)
    batch = price.cost(300, 1056, image_input_tokens=200, image_output=True)
    assert batch == pytest.approx(sync / 2)
    # the guide's price of one medium 1024x1024 gpt-image-1.5 image: $0.034
    assert price.cost(0, 1056, batch=False, image_output=True) == pytest.approx(0.034, abs=5e-4)
    # a chat model has no image rate: its image input is billed at its input rate
    chat = load_prices().price("gpt-6-luna")
    assert chat.cost(1000, 0, image_input_tokens=800) == pytest.approx(chat.cost(1000, 0))


def test_your_own_prices_may_give_image_rates() -> None:
    price = load_prices({"my-image": {"input": 5, "output": 10, "image_output": 40}}).price(
        "my-image"
    )
    assert (price.image_output, price.batch_image_output, price.image_input) == (40, 20, None)
    assert price.cost(0, 1000, image_output=True) == pytest.approx(0.02)


def test_an_image_batch_is_estimated_by_quality_and_size_at_the_image_rates(
    tmp_path: Path,
) -> None:
    body = {"model": "gpt-image-1.5", "prompt": "A lighthouse at dusk", "quality": "medium"}
    path = write_jsonl(
        tmp_path / "images.jsonl",
        [
            line("square", GENERATIONS, {**body, "size": "1024x1024"}),
            line("two-tall", GENERATIONS, {**body, "size": "1024x1536", "n": 2}),
            line("auto", GENERATIONS, {**body, "quality": "auto"}),
        ],
    )

    estimate = estimate_cost(path)

    lines = estimate.lines.set_index("custom_id")
    assert lines["max_output_tokens"].to_dict() == {
        "square": 1056,
        "two-tall": 2 * 1584,
        "auto": 6240,  # auto: high, at the dearest standard size, as the model picks
    }
    assert set(lines["output_limit"]) == {"quality and size"}
    assert estimate.image_output and estimate.image_input_tokens == 0
    rate = estimate.price.batch_image_output
    assert rate == 16.0
    expected_out = estimate.max_output_tokens * rate / 1e6
    assert estimate.table().loc["batch", "max_output_usd"] == pytest.approx(expected_out)
    assert estimate.cost(batch=False) == pytest.approx(2 * estimate.cost())


def test_images_as_input_are_counted_and_billed_as_input(tmp_path: Path) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    body = {
        "model": "gpt-4o",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Caption:"}, image]}],
    }
    path = write_jsonl(tmp_path / "vision.jsonl", [line("cat", "/v1/chat/completions", body)])

    estimate = estimate_cost(path)

    # the URL is not fetched: it counts as 1024 x 1024 at gpt-4o's high detail, 85 + 4 x 170
    assert estimate.image_input_tokens == 765
    assert estimate.input_tokens > 765 and not estimate.image_output
