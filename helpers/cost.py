"""Estimate what a batch will cost before you submit it: its input file times a price table.

Input tokens are counted offline with the tokenizer the local server uses
(:mod:`batch_api_local.tokens`: the ``bpe-openai`` package, which ships the models' own
vocabularies, so nothing is downloaded and no key is needed), with the rule the API bills chat
prompts by. For plain text messages the count is the ``prompt_tokens`` the API reports. Images
a request carries (a chat ``image_url`` part, a Responses ``input_image``, an edit's input
images) count by the model's vision formula, at the size a ``data:`` URL's header gives, or as
a 1024 x 1024 image when the size is not known offline (an ``http(s)`` URL, a file id:
:func:`batch_api_local.request_image_tokens`). What else a request may carry (a JSON schema,
tools) is not counted.

Output tokens cannot be counted before a model writes them. Each request is bounded instead by
the output limit it sets (``max_completion_tokens`` or ``max_tokens`` for chat,
``max_output_tokens`` for Responses, ``max_tokens`` for completions, times the answers it asks
for), by the endpoint's default (16 tokens per answer for completions), or by the model's own
maximum when it sets none: :func:`batch_api_local.output_bound`, which reads the same registry
entry as the local server's answer. A reasoning model's hidden reasoning tokens count within
that limit. An image generation or edit is bounded by the output image tokens of its quality
and size, times ``n`` (``auto`` at ``high`` and the dearest size). So the estimate is exact for
text input and an upper bound for output.

Prices come from a table: by default the OpenAI prices of the ``genai-prices`` package (pinned
in ``requirements.txt``; its figures are dated, and it works offline), or one you pass
(:func:`load_prices` says which forms). The Batch API's price is the package's batch price where
it has one, else half the synchronous price. A request whose input passes a model's long-context
threshold (272,000 tokens for the newest models) is priced at that model's long-context rates.
Image models have rates of their own for image input and image output tokens (the package's
``input_image_mtok`` and ``output_image_mtok``): an image request's text input, image input and
output images are each priced at theirs; a chat model's image input is billed as input tokens,
at its input rate. Prices change: the table says when its figures were checked.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from batch_api_local import (
    output_bound,
    request_image_tokens,
    request_input_tokens,
    request_lines,
    resolve_model,
    writes_images,
)

#: where the default prices come from
PRICES_PACKAGE = "genai-prices"
#: OpenAI's moderation models are free [DOC]; the price package leaves them out
FREE_MODELS = ("omni-moderation-latest", "text-moderation-latest", "text-moderation-stable")
#: models the price package does not have yet, priced as another: gpt-image-2.6 as
#: gpt-image-2.5 (a third-party changelog, dreamforSh/linksyncx custom-v0.2.11.16, 2026-11-05:
#: "2.6 is priced as 2.5"; UNCONFIRMED by an OpenAI page)
PRICED_AS = {
    "gpt-image-2.6-sunburst": "gpt-image-2.5-sunburst",
    "gpt-image-2.6-flare": "gpt-image-2.5-flare",
}
#: the Batch API's price, as a share of the synchronous one, when a table gives no batch price
BATCH_DISCOUNT = 0.5
#: tokens per price unit: prices are per million tokens
PER = 1_000_000
#: the columns of :attr:`CostEstimate.lines`
LINE_COLUMNS = ["custom_id", "input_tokens", "max_output_tokens", "output_limit"]
#: the columns of :meth:`CostEstimate.table`
TABLE_COLUMNS = ["input_tokens", "input_usd", "max_output_tokens", "max_output_usd", "max_usd"]


@dataclass(frozen=True)
class Price:
    """One model's prices, in US dollars per million tokens, synchronous and batch.

    An image model also has rates for image tokens: ``image_input`` (the input images of an
    edit), ``image_output`` (the images it makes) and their batch rates; None means the text
    rate (``input``, ``output``) applies, as for a chat model's image input.
    """

    model: str
    input: float
    output: float
    batch_input: float
    batch_output: float
    #: a request with more input tokens than this is priced at :attr:`long_context`'s rates
    long_context_from: int | None = None
    long_context: Price | None = None
    image_input: float | None = None
    image_output: float | None = None
    batch_image_input: float | None = None
    batch_image_output: float | None = None

    def cost(
        self,
        input_tokens: int,
        output_tokens: int = 0,
        *,
        batch: bool = True,
        image_input_tokens: int = 0,
        image_output: bool = False,
    ) -> float:
        """Return the dollars ``input_tokens`` and ``output_tokens`` cost, at the batch price
        (or, with ``batch=False``, at the synchronous one), at these rates.

        ``image_input_tokens`` of the input tokens are images, priced at the image input rate;
        with ``image_output`` the output tokens are images, priced at the image output rate
        (each the text rate when the model has no image rate).
        """
        if batch:
            text_in, text_out = self.batch_input, self.batch_output
            image_in, image_out = self.batch_image_input, self.batch_image_output
        else:
            text_in, text_out = self.input, self.output
            image_in, image_out = self.image_input, self.image_output
        images = min(max(image_input_tokens, 0), input_tokens)
        rate_in = text_in if image_in is None else image_in
        rate_out = text_out if image_out is None or not image_output else image_out
        return (
            (input_tokens - images) * text_in + images * rate_in + output_tokens * rate_out
        ) / PER

    def request_cost(
        self,
        input_tokens: int,
        output_tokens: int = 0,
        *,
        batch: bool = True,
        image_input_tokens: int = 0,
        image_output: bool = False,
    ) -> float:
        """What one request costs: like :meth:`cost`, at the long-context rates when its input
        passes the model's threshold."""
        rates: Price = self
        long = self.long_context
        if long is not None and self.long_context_from is not None:
            if input_tokens > self.long_context_from:
                rates = long
        return rates.cost(
            input_tokens,
            output_tokens,
            batch=batch,
            image_input_tokens=image_input_tokens,
            image_output=image_output,
        )


@dataclass(frozen=True)
class PriceTable:
    """Prices by model, with the date and source of the figures (None when not given)."""

    models: dict[str, Price]
    date: str | None = None
    source: str | None = None
    note: str | None = None

    def price(self, model: str) -> Price:
        """Return the prices of ``model``, found by its name or, for a snapshot such as
        ``gpt-4o-mini-2024-07-18``, by its alias. Raises KeyError when the table has neither."""
        if model in self.models:
            return self.models[model]
        info = resolve_model(model)
        if info is not None and info.id in self.models:
            return self.models[info.id]
        dated = f" (dated {self.date})" if self.date else ""
        raise KeyError(
            f"the price table{dated} has no price for {model!r}: pass your own, for example "
            f"prices={{{model!r}: {{'input': 0.15, 'output': 0.60}}}} (dollars per 1M tokens)"
        )

    def frame(self) -> pd.DataFrame:
        """Return the table as a DataFrame: one row per model, dollars per million tokens."""
        rows = [
            {
                "model": p.model,
                "input": p.input,
                "output": p.output,
                "batch_input": p.batch_input,
                "batch_output": p.batch_output,
            }
            for p in self.models.values()
        ]
        return pd.DataFrame(rows).set_index("model")


def _dollars(entry: Mapping[str, Any], key: str, model: str, default: float | None) -> float:
    value = entry.get(key, default)
    if value is None:
        raise ValueError(f"the price of {model!r} has no {key!r}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"the {key!r} price of {model!r} must be a number, not {value!r}")
    if value < 0:
        raise ValueError(f"the {key!r} price of {model!r} must not be negative")
    return float(value)


def _optional_dollars(
    entry: Mapping[str, Any], key: str, model: str, default: float | None
) -> float | None:
    if entry.get(key) is None and default is None:
        return None
    return _dollars(entry, key, model, default)


def _half(value: float | None) -> float | None:
    return None if value is None else value * BATCH_DISCOUNT


def _price(model: str, entry: Any) -> Price:
    if isinstance(entry, Price):
        return entry
    if not isinstance(entry, Mapping):
        raise ValueError(f"the price of {model!r} must be a mapping such as {{'input': 0.15}}")
    standard_in = _dollars(entry, "input", model, None)
    standard_out = _dollars(entry, "output", model, 0.0)
    image_in = _optional_dollars(entry, "image_input", model, None)
    image_out = _optional_dollars(entry, "image_output", model, None)
    return Price(
        model=model,
        input=standard_in,
        output=standard_out,
        batch_input=_dollars(entry, "batch_input", model, standard_in * BATCH_DISCOUNT),
        batch_output=_dollars(entry, "batch_output", model, standard_out * BATCH_DISCOUNT),
        image_input=image_in,
        image_output=image_out,
        batch_image_input=_optional_dollars(entry, "batch_image_input", model, _half(image_in)),
        batch_image_output=_optional_dollars(entry, "batch_image_output", model, _half(image_out)),
    )


def _dollars_per_million(value: Any, tier: int | None = None) -> float:
    """A price of the price package (a Decimal, or tiered prices) as a float; ``tier``: the
    rate of that tier (its index) instead of the base rate."""
    if value is None:
        return 0.0
    if isinstance(value, Decimal):
        return float(value)
    if tier is not None and getattr(value, "tiers", None):
        return float(value.tiers[tier].price)
    return float(value.base)


def _image_rate(prices: Any, name: str) -> float | None:
    """An image rate of the price package (``input_image_mtok``, ``output_image_mtok``), or None
    when it has none."""
    value = getattr(prices, name, None)
    return None if value is None else _dollars_per_million(value)


def _package_price(model: str, prices: Any, batch: Any, tier: int | None = None) -> Price:
    standard_in = _dollars_per_million(prices.input_mtok, tier)
    standard_out = _dollars_per_million(prices.output_mtok, tier)
    image_in = _image_rate(prices, "input_image_mtok")
    image_out = _image_rate(prices, "output_image_mtok")
    if batch is not None and batch.input_mtok is not None:
        batch_in = _dollars_per_million(batch.input_mtok, tier)
        batch_out = _dollars_per_million(batch.output_mtok, tier)
        batch_image_in = _image_rate(batch, "input_image_mtok")
        batch_image_out = _image_rate(batch, "output_image_mtok")
    else:  # the package has no batch rates for it: the Batch API's half price [DOC]
        batch_in, batch_out = standard_in * BATCH_DISCOUNT, standard_out * BATCH_DISCOUNT
        batch_image_in, batch_image_out = _half(image_in), _half(image_out)
    return Price(
        model,
        standard_in,
        standard_out,
        batch_in,
        batch_out,
        image_input=image_in,
        image_output=image_out,
        batch_image_input=batch_image_in,
        batch_image_output=batch_image_out,
    )


def _current(prices: Any) -> Any:
    """A model's prices today: a price history (prices with start dates) gives its latest
    entry that has started."""
    if not isinstance(prices, list):
        return prices
    today = datetime.date.today()
    started = [
        entry
        for entry in prices
        if getattr(entry.constraint, "start_date", None) is None
        or entry.constraint.start_date <= today
    ]
    return (started or prices)[-1].prices


@cache
def package_prices() -> PriceTable:
    """OpenAI's prices as the pinned ``genai-prices`` package has them (no network): every
    OpenAI model it prices by the token, its batch rates, and its long-context rates. The
    table's date is the latest date the package says its OpenAI figures were checked on."""
    from genai_prices import data_snapshot  # imported here: a second or so, once

    snapshot = data_snapshot.get_snapshot()
    provider = next(p for p in snapshot.providers if p.id == "openai")
    models: dict[str, Price] = {}
    checked: list[str] = []
    for info in provider.models:
        prices = _current(info.prices)
        if getattr(prices, "input_mtok", None) is None:
            continue  # not priced by the token: left out
        batch = next(
            (v.prices for v in info.price_variants or [] if v.when == {"processing": "batch"}),
            None,
        )
        price = _package_price(info.id, prices, batch)
        tiers = getattr(prices.input_mtok, "tiers", None)
        if tiers:  # a request past the first tier's start is priced at its rates
            price = dataclasses.replace(
                price,
                long_context_from=int(tiers[0].start),
                long_context=_package_price(info.id, prices, batch, tier=0),
            )
        models[info.id] = price
        checked += re.findall(
            r"verified (?:on|from) (\d{4}-\d{2}-\d{2})", info.price_comments or ""
        )
    for name in FREE_MODELS:
        models.setdefault(name, Price(name, 0.0, 0.0, 0.0, 0.0))
    for name, same in PRICED_AS.items():
        if name not in models and same in models:
            models[name] = dataclasses.replace(models[same], model=name)
    version = metadata.version(PRICES_PACKAGE)
    return PriceTable(
        models=models,
        date=max(checked) if checked else None,
        source=f"{PRICES_PACKAGE} {version} (https://github.com/pydantic/genai-prices)",
        note="Batch prices are the package's where it has them, else half the synchronous "
        "price; moderations are free; gpt-image-2.6 is priced as gpt-image-2.5.",
    )


def load_prices(prices: str | Path | Mapping[str, Any] | PriceTable | None = None) -> PriceTable:
    """Return a price table: the price package's, or yours.

    ``prices`` may be None (:func:`package_prices`: the ``genai-prices`` package's OpenAI
    prices), the path of a JSON file, a mapping of the same form (``{"date": ..., "source":
    ..., "models": {...}}``), a plain mapping of models (``{"gpt-4o-mini": {"input": 0.15,
    "output": 0.60}}``), or a PriceTable. Each model gives ``input`` and ``output`` (dollars per
    million tokens; ``output`` defaults to 0, for embeddings) and may give ``batch_input`` and
    ``batch_output``, which default to half; an image model may give ``image_input`` and
    ``image_output`` (and their ``batch_`` rates, half by default), else its images are priced
    at the text rates.

    Raises ValueError for a price that is missing, negative or not a number, and
    FileNotFoundError for a missing file.
    """
    if isinstance(prices, PriceTable):
        return prices
    if prices is None:
        return package_prices()
    if isinstance(prices, str | Path):
        data: Mapping[str, Any] = json.loads(Path(prices).read_text(encoding="utf-8"))
    else:
        data = prices
    if "models" in data and isinstance(data["models"], Mapping):
        models, date, source, note = (
            data["models"],
            data.get("date"),
            data.get("source"),
            data.get("note"),
        )
    else:
        models, date, source, note = data, None, None, None
    return PriceTable(
        models={str(name): _price(str(name), entry) for name, entry in models.items()},
        date=date,
        source=source,
        note=note,
    )


@dataclass(frozen=True)
class CostEstimate:
    """What a batch input file will cost: tokens per request, and dollars at a model's prices.

    ``lines`` has one row per request: ``custom_id``, ``input_tokens`` (counted offline),
    ``max_output_tokens`` (the bound) and ``output_limit`` (the body field the bound came from,
    ``"default max_tokens"`` for a completions request that sets none, ``"model maximum"`` for
    another that sets none, or None for endpoints that write no tokens).
    """

    path: Path
    endpoint: str
    model: str
    price: Price
    prices_date: str | None
    lines: pd.DataFrame
    #: the input tokens of each request's images (part of ``lines.input_tokens``, in its order),
    #: priced at the model's image input rate where it has one; empty: none
    image_tokens: tuple[int, ...] = ()
    #: the requests make images (generations, edits): their output is priced at the model's
    #: image output rate
    image_output: bool = False

    @property
    def requests(self) -> int:
        """How many requests the file holds."""
        return len(self.lines)

    @property
    def input_tokens(self) -> int:
        """Input tokens of every request together."""
        return int(self.lines["input_tokens"].sum())

    @property
    def max_output_tokens(self) -> int:
        """The most output tokens the requests together may produce."""
        return int(self.lines["max_output_tokens"].sum())

    @property
    def image_input_tokens(self) -> int:
        """The input tokens of every request's images together (part of :attr:`input_tokens`)."""
        return sum(self.image_tokens)

    def _dollars(self, *, batch: bool, output: bool) -> float:
        """The requests' input dollars, or (``output``) the dollars of their output bound, each
        request at its own rates (a long prompt costs more; images at the image rates)."""
        total = 0.0
        images = self.image_tokens or (0,) * len(self.lines)
        for tokens_in, tokens_out, image_in in zip(
            self.lines["input_tokens"], self.lines["max_output_tokens"], images, strict=True
        ):
            tokens_in, tokens_out = int(tokens_in), int(tokens_out)
            whole = self.price.request_cost(
                tokens_in,
                tokens_out,
                batch=batch,
                image_input_tokens=image_in,
                image_output=self.image_output,
            )
            input_only = self.price.request_cost(
                tokens_in, 0, batch=batch, image_input_tokens=image_in
            )
            total += whole - input_only if output else input_only
        return total

    def cost(self, *, batch: bool = True) -> float:
        """The most the file may cost, in dollars: at the batch price, or the synchronous one."""
        return self._dollars(batch=batch, output=False) + self._dollars(batch=batch, output=True)

    def table(self) -> pd.DataFrame:
        """Return the estimate as two rows, ``batch`` and ``synchronous``, with the columns
        input_tokens, input_usd, max_output_tokens, max_output_usd and max_usd."""
        rows = {}
        for label, batch in (("batch", True), ("synchronous", False)):
            input_usd = self._dollars(batch=batch, output=False)
            output_usd = self._dollars(batch=batch, output=True)
            rows[label] = {
                "input_tokens": self.input_tokens,
                "input_usd": input_usd,
                "max_output_tokens": self.max_output_tokens,
                "max_output_usd": output_usd,
                "max_usd": input_usd + output_usd,
            }
        return pd.DataFrame.from_dict(rows, orient="index", columns=TABLE_COLUMNS)


def estimate_cost(
    path: str | Path, prices: str | Path | Mapping[str, Any] | PriceTable | None = None
) -> CostEstimate:
    """Estimate what the batch input file at ``path`` will cost, before you upload it.

    Every request's input tokens are counted offline (see the module's docstring); its output
    tokens are bounded by its output limit, by the endpoint's default, or by the model's maximum
    when it sets none. Both are priced with ``prices`` (anything :func:`load_prices` takes; by
    default the price package's), at the batch price and at the synchronous one: see
    :meth:`CostEstimate.table`.

    Returns a :class:`CostEstimate`. Raises ValueError for a line that is not a request (check
    the file with ``helpers.check_batch_file`` first), a file that mixes endpoints or models, an
    empty file, or a request that sets no output limit for a model the local server does not
    know; KeyError when the table has no price for the file's model; FileNotFoundError for a
    missing file.
    """
    path = Path(path)
    table = load_prices(prices)
    rows = []
    images: list[int] = []
    endpoint = model = None
    for number, raw in request_lines(path):  # a BOM is fine, as for the API
        try:
            request = json.loads(raw)
        except ValueError:
            request = None
        body = request.get("body") if isinstance(request, dict) else None
        url = request.get("url") if isinstance(request, dict) else None
        if not isinstance(body, dict) or not isinstance(url, str):
            raise ValueError(
                f"line {number} of {path.name} is not a request with a url and a body: "
                "check the file with helpers.check_batch_file"
            )
        if endpoint is None:
            endpoint, model = url, str(body.get("model"))
        elif url != endpoint or str(body.get("model")) != model:
            raise ValueError(
                f"line {number} of {path.name} is for {url} and {body.get('model')!r}, the "
                f"first for {endpoint} and {model!r}: a batch has one endpoint and one model"
            )
        bound, limit = output_bound(url, body, str(model))
        images.append(request_image_tokens(url, body))
        rows.append(
            {
                "custom_id": request.get("custom_id"),
                "input_tokens": request_input_tokens(url, body),
                "max_output_tokens": bound,
                "output_limit": limit,
            }
        )
    if endpoint is None or model is None:
        raise ValueError(f"{path.name} holds no request")
    lines = pd.DataFrame(rows, columns=LINE_COLUMNS)
    lines = lines.astype({"input_tokens": "int64", "max_output_tokens": "int64"})
    return CostEstimate(
        path=path,
        endpoint=endpoint,
        model=model,
        price=table.price(model),
        prices_date=table.date,
        lines=lines,
        image_tokens=tuple(images) if any(images) else (),
        image_output=writes_images(endpoint),
    )
