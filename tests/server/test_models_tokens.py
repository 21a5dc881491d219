"""The model catalog and the offline token counter."""

from __future__ import annotations

import dataclasses

import bpe_openai
import pytest

from batch_api_local import tokens
from batch_api_local.models import MODELS, ModelInfo, list_models, resolve_model
from batch_api_local.tokens import (
    chat_prompt_tokens,
    count_tokens,
    request_input_tokens,
    truncate_to_tokens,
)

O200K = bpe_openai.get_encoding("o200k_base")
CL100K = bpe_openai.get_encoding("cl100k_base")


def n_o200k(text: str) -> int:
    return len(O200K.encode(text))


def n_cl100k(text: str) -> int:
    return len(CL100K.encode(text))


# ---------------------------------------------------------------------------
# models.py
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "snapshot", "context", "output", "encoding"),
    [
        ("gpt-4o", "gpt-4o-2024-08-06", 128_000, 16_384, "o200k_base"),
        ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", 128_000, 16_384, "o200k_base"),
        ("gpt-4.1", "gpt-4.1-2025-04-14", 1_047_576, 32_768, "o200k_base"),
        ("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14", 1_047_576, 32_768, "o200k_base"),
        ("gpt-4.1-nano", "gpt-4.1-nano-2025-04-14", 1_047_576, 32_768, "o200k_base"),
        ("gpt-5", "gpt-5-2025-08-07", 400_000, 128_000, "o200k_base"),
        ("gpt-5-mini", "gpt-5-mini-2025-08-07", 400_000, 128_000, "o200k_base"),
        ("gpt-5-nano", "gpt-5-nano-2025-08-07", 400_000, 128_000, "o200k_base"),
        ("gpt-3.5-turbo", "gpt-3.5-turbo-0125", 16_385, 4_096, "cl100k_base"),
    ],
)
def test_chat_models_resolve_by_alias_and_snapshot(
    alias: str, snapshot: str, context: int, output: int, encoding: str
) -> None:
    info = resolve_model(alias)
    assert info is not None
    assert resolve_model(snapshot) is info
    assert (info.id, info.snapshot, info.kind) == (alias, snapshot, "chat")
    assert (info.context_window, info.max_output_tokens, info.encoding) == (
        context,
        output,
        encoding,
    )
    assert info.dimensions is None
    assert set(info.endpoints) == {"/v1/chat/completions", "/v1/responses"}


@pytest.mark.parametrize(
    ("alias", "dimensions"),
    [
        ("text-embedding-3-small", 1536),
        ("text-embedding-3-large", 3072),
        ("text-embedding-ada-002", 1536),
    ],
)
def test_embedding_models(alias: str, dimensions: int) -> None:
    info = resolve_model(alias)
    assert info is not None
    assert info.kind == "embedding"
    assert info.dimensions == dimensions
    assert info.context_window == 8191
    assert info.encoding == "cl100k_base"
    assert info.endpoints == ("/v1/embeddings",)


def test_completion_and_moderation_models() -> None:
    instruct = resolve_model("gpt-3.5-turbo-instruct")
    assert instruct is not None
    assert instruct.kind == "completion"
    assert (instruct.context_window, instruct.encoding) == (4096, "cl100k_base")
    assert instruct.endpoints == ("/v1/completions",)

    omni = resolve_model("omni-moderation-latest")
    assert omni is not None
    assert omni.snapshot == "omni-moderation-2024-09-26"
    assert resolve_model("omni-moderation-2024-09-26") is omni
    text_mod = resolve_model("text-moderation-latest")
    assert text_mod is not None
    for info in (omni, text_mod):
        assert info.kind == "moderation"
        assert info.endpoints == ("/v1/moderations",)


@pytest.mark.parametrize("name", ["gpt-9", "", "GPT-4O", " gpt-4o", None, 4, ["gpt-4o"], {}])
def test_resolve_model_unknown_or_not_a_string(name: object) -> None:
    assert resolve_model(name) is None  # type: ignore[arg-type]


def test_model_info_is_frozen() -> None:
    info = resolve_model("gpt-4o")
    assert info is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.context_window = 1  # type: ignore[misc]


def test_models_dict_has_aliases_and_snapshots() -> None:
    for info in list_models():
        assert MODELS[info.id] is info
        assert MODELS[info.snapshot].snapshot == info.snapshot  # two aliases may share one
        assert all(MODELS[name].snapshot == MODELS[name].snapshot for name in info.snapshots)
        assert isinstance(info, ModelInfo)
        assert info.created > 1_600_000_000
        assert info.endpoints


def test_list_models_one_per_alias_in_stable_order() -> None:
    first = [m.id for m in list_models()]
    assert first == [m.id for m in list_models()]
    assert len(first) == len(set(first))
    assert set(first) == {info.id for info in MODELS.values()}
    # the models with no announced shutdown come first, newest first
    assert first[:2] == ["gpt-6.2-sol", "gpt-6.2-astra"]
    assert not any(MODELS[name].shutdown for name in first[: first.index("gpt-5.4-nano")])


# ---------------------------------------------------------------------------
# tokens.py: plain text
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "hello", "Hello, world!", "日本語のテキスト", "emoji 😀🎉", "code:\n  x = 1\n"],
)
def test_count_tokens_matches_bpe_openai(text: str) -> None:
    assert count_tokens(text) == n_o200k(text)
    assert count_tokens(text, "cl100k_base") == n_cl100k(text)


def test_encodings_really_differ() -> None:
    text = "Tokenizers differ: 日本語, naïve café, 12345678."
    assert count_tokens(text, "o200k_base") != count_tokens(text, "cl100k_base")


def test_special_token_text_is_counted_as_plain_text() -> None:
    assert count_tokens("<|endoftext|>") == len(
        O200K.encode("<|endoftext|>", disallowed_special=())
    )


def test_count_tokens_of_non_strings_is_zero() -> None:
    for value in (None, 3, 2.5, [], {}, ["a"]):
        assert count_tokens(value) == 0  # type: ignore[arg-type]


def test_unknown_encoding_falls_back_to_o200k() -> None:
    assert count_tokens("hello there", "no-such-encoding") == n_o200k("hello there")


def test_very_long_text_is_counted_in_pieces() -> None:
    # bpe-openai itself refuses strings of a million characters or more.
    unit = "Emperor penguins huddle together through the winter. " * 2_000
    text = unit * 10  # about 1.1 million characters
    with pytest.raises(ValueError):
        O200K.encode(text)
    # Cutting at whitespace keeps the count within a token or two per piece.
    assert abs(count_tokens(text) - 10 * n_o200k(unit)) <= 20


def test_count_tokens_uses_an_lru_cache() -> None:
    tokens._get_encoding.cache_clear()
    count_tokens("a")
    count_tokens("b")
    info = tokens._get_encoding.cache_info()
    assert info.misses == 1
    assert info.hits >= 1


def test_truncate_to_tokens() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    cut = truncate_to_tokens(text, 3)
    assert cut == O200K.decode(O200K.encode(text)[:3])
    assert truncate_to_tokens(text, 1000) == text
    # A cut inside a multi-byte character drops it instead of leaving U+FFFD.
    emoji = "😀😀😀"
    for limit in range(len(O200K.encode(emoji)) + 1):
        assert "\ufffd" not in truncate_to_tokens(emoji, limit)


# ---------------------------------------------------------------------------
# tokens.py: chat prompts (cookbook rule)
# ---------------------------------------------------------------------------


def test_chat_prompt_tokens_cookbook_rule() -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Name three penguins.", "name": "ana"},
    ]
    expected = (
        3
        + n_o200k("system")
        + n_o200k("You are terse.")
        + 3
        + n_o200k("user")
        + n_o200k("Name three penguins.")
        + n_o200k("ana")
        + 1
        + 3
    )
    assert chat_prompt_tokens(messages, "o200k_base") == expected


def test_chat_prompt_tokens_single_message() -> None:
    # 3 framing + "user" (1) + "Hello" (1) + 3 reply priming.
    assert chat_prompt_tokens([{"role": "user", "content": "Hello"}], "o200k_base") == 8


def test_chat_prompt_tokens_content_parts_ignore_images() -> None:
    parts = [
        {"type": "text", "text": "Describe this picture."},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "text", "text": "Briefly."},
    ]
    messages = [{"role": "user", "content": parts}]
    expected = 3 + n_o200k("user") + n_o200k("Describe this picture.") + n_o200k("Briefly.") + 3
    assert chat_prompt_tokens(messages, "o200k_base") == expected


def test_chat_prompt_tokens_uses_the_given_encoding() -> None:
    messages = [{"role": "user", "content": "日本語のテキスト"}]
    assert chat_prompt_tokens(messages, "cl100k_base") == 3 + 1 + n_cl100k("日本語のテキスト") + 3


@pytest.mark.parametrize(
    "messages",
    [None, "hello", 42, [], [1, 2, "x", None], {"role": "user", "content": "hi"}],
)
def test_chat_prompt_tokens_of_malformed_messages_is_zero(messages: object) -> None:
    assert chat_prompt_tokens(messages, "o200k_base") == 0  # type: ignore[arg-type]


def test_chat_prompt_tokens_skips_junk_inside_a_list() -> None:
    good = {"role": "user", "content": "hi"}
    odd = {"role": 5, "content": {"x": 1}, "name": None}
    assert chat_prompt_tokens([good, "junk", 7, odd], "o200k_base") == (3 + 1 + 1) + 3 + 3


# ---------------------------------------------------------------------------
# tokens.py: request_input_tokens for every endpoint shape
# ---------------------------------------------------------------------------


def test_request_input_tokens_chat_follows_the_model_encoding() -> None:
    messages = [{"role": "user", "content": "日本語のテキストを数える"}]
    assert request_input_tokens(
        "/v1/chat/completions", {"model": "gpt-4o", "messages": messages}
    ) == chat_prompt_tokens(messages, "o200k_base")
    assert request_input_tokens(
        "/v1/chat/completions", {"model": "gpt-3.5-turbo", "messages": messages}
    ) == chat_prompt_tokens(messages, "cl100k_base")
    # Unknown model: o200k_base.
    assert request_input_tokens(
        "/v1/chat/completions", {"model": "who-knows", "messages": messages}
    ) == chat_prompt_tokens(messages, "o200k_base")


def test_request_input_tokens_responses() -> None:
    text = "Write a haiku about batches."
    body = {"model": "gpt-4.1-mini", "input": text}
    as_chat = [{"role": "user", "content": text}]
    assert request_input_tokens("/v1/responses", body) == chat_prompt_tokens(as_chat)

    body = {"model": "gpt-4.1-mini", "input": text, "instructions": "Be brief."}
    with_instructions = [{"role": "developer", "content": "Be brief."}, *as_chat]
    assert request_input_tokens("/v1/responses", body) == chat_prompt_tokens(with_instructions)

    items = [
        {"role": "user", "content": [{"type": "input_text", "text": "Look:"}]},
        {"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]},
        {"type": "message", "role": "assistant", "content": "Seen."},
    ]
    expected = (
        (3 + n_o200k("user") + n_o200k("Look:"))
        + (3 + n_o200k("user"))
        + (3 + n_o200k("assistant") + n_o200k("Seen."))
        + 3
    )
    # the image, a URL the server does not fetch, counts as 1024 x 1024 at gpt-5's auto (high)
    # detail: 70 base tokens and 4 tiles of 140
    image = 70 + 4 * 140
    body = {"model": "gpt-5", "input": items}
    assert request_input_tokens("/v1/responses", body) == expected + image


def test_request_input_tokens_embeddings_shapes() -> None:
    url = "/v1/embeddings"
    model = "text-embedding-3-small"  # cl100k_base
    assert request_input_tokens(url, {"model": model, "input": "penguins"}) == n_cl100k("penguins")
    assert request_input_tokens(url, {"model": model, "input": ["a cat", "two dogs"]}) == (
        n_cl100k("a cat") + n_cl100k("two dogs")
    )
    assert request_input_tokens(url, {"model": model, "input": [1, 2, 3, 4]}) == 4
    assert request_input_tokens(url, {"model": model, "input": [[1, 2], [3, 4, 5]]}) == 5
    assert request_input_tokens(url, {"model": model, "input": ["abc", [1, 2], None, 7.5]}) == (
        n_cl100k("abc") + 2
    )


def test_request_input_tokens_completions_and_moderations() -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "Once upon a time"}
    assert request_input_tokens("/v1/completions", body) == n_cl100k("Once upon a time")
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": ["one", "two three"]}
    assert request_input_tokens("/v1/completions", body) == n_cl100k("one") + n_cl100k("two three")
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": [10, 20, 30]}
    assert request_input_tokens("/v1/completions", body) == 3

    body = {"model": "omni-moderation-latest", "input": "I like turtles"}
    assert request_input_tokens("/v1/moderations", body) == n_o200k("I like turtles")
    body = {"input": ["one", "two"]}
    assert request_input_tokens("/v1/moderations", body) == n_o200k("one") + n_o200k("two")
    body = {
        "model": "omni-moderation-latest",
        "input": [
            {"type": "text", "text": "caption"},
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
        ],
    }
    assert request_input_tokens("/v1/moderations", body) == n_o200k("caption")


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/v1/chat/completions", {"model": "gpt-4o", "messages": "hello"}),
        ("/v1/chat/completions", {"model": "gpt-4o", "messages": None}),
        ("/v1/chat/completions", {"model": 5, "messages": [1, 2.5, None]}),
        ("/v1/chat/completions", {}),
        ("/v1/responses", {"model": "gpt-4o", "input": 12}),
        ("/v1/responses", {"input": [None, 3, "x"]}),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": {"a": 1}}),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": []}),
        ("/v1/completions", {"prompt": 3.14}),
        ("/v1/moderations", {"input": None}),
        ("/v1/unknown", {"model": "gpt-4o", "input": "hello"}),
        ("/v1/chat/completions", None),
        ("/v1/chat/completions", [1, 2, 3]),
        ("/v1/chat/completions", "not a dict"),
        (None, {"model": "gpt-4o"}),
    ],
)
def test_request_input_tokens_never_raises_on_odd_bodies(url: object, body: object) -> None:
    assert request_input_tokens(url, body) == 0  # type: ignore[arg-type]


def test_request_input_tokens_counts_what_it_can() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}, 3, None]}
    assert request_input_tokens("/v1/chat/completions", body) == 3 + 1 + 1 + 3
