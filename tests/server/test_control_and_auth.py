"""Authentication, key isolation, error envelopes for odd requests, and the control surface."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from openai import OpenAI

from batch_api_local import (
    PACES,
    ControlError,
    ServerInfo,
    advance_clock,
    ensure_server,
    reset,
    set_pace,
    set_token_limit,
    state,
    stop_server,
)

from support import (
    CHAT,
    TEST_KEY,
    assert_envelope,
    chat_line,
    conn,
    free_port,
    raw,
    sdk_client,
    sdk_error,
    start_batch,
    upload,
    wait_until,
)

MISSING_AUTH = "Missing bearer or basic authentication in header"


# -- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Token abc"}],
    ids=["absent", "empty", "bearer-no-key", "wrong-scheme"],
)
def test_missing_bearer_key_is_401(client: OpenAI, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/batches"), ("GET", "/files"), ("POST", "/batches")):
        response = raw(client, method, path, key=None, headers=headers)
        assert response.status_code == 401, path
        error = assert_envelope(response.json(), MISSING_AUTH)
        assert (error["type"], error["param"], error["code"]) == (
            "invalid_request_error",
            None,
            None,
        )


def test_sdk_sees_401_as_authentication_error(local_server: ServerInfo) -> None:
    anonymous = OpenAI(
        base_url=local_server.base_url,
        api_key="unused",
        max_retries=0,
        default_headers={"Authorization": ""},
    )
    with pytest.raises(openai.AuthenticationError) as exc:
        anonymous.batches.list()
    sdk_error(exc.value, MISSING_AUTH)


# -- envelopes for requests that cannot succeed --------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nope"), ("POST", "/batches/x/y/z"), ("DELETE", "/batches"), ("GET", "/")],
)
def test_unknown_route_is_404_envelope(client: OpenAI, method: str, path: str) -> None:
    response = raw(client, method, path)
    assert response.status_code in (404, 405)
    assert "Invalid URL" in assert_envelope(response.json())["message"]


def test_unknown_route_through_the_sdk(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as exc:
        client.get("/no/such/route", cast_to=object)
    assert sdk_error(exc.value)["message"] == "Invalid URL (GET /v1/no/such/route)"


def test_malformed_json_body_is_400(client: OpenAI) -> None:
    response = raw(
        client,
        "POST",
        "/batches",
        content=b'{"input_file_id": ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    error = assert_envelope(response.json())
    assert error["message"].startswith("We could not parse the JSON body of your request.")
    assert error["type"] == "invalid_request_error"


ODD_REQUESTS = [
    (
        "POST",
        "/batches",
        {"json": {"input_file_id": 5, "endpoint": CHAT, "completion_window": "24h"}},
    ),
    (
        "POST",
        "/batches",
        {"json": {"input_file_id": "f", "endpoint": 7, "completion_window": "24h"}},
    ),
    (
        "POST",
        "/batches",
        {"json": {"input_file_id": "f", "endpoint": CHAT, "completion_window": 1}},
    ),
    (
        "POST",
        "/batches",
        {
            "json": {
                "input_file_id": "f",
                "endpoint": CHAT,
                "completion_window": "24h",
                "metadata": ["a"],
            }
        },
    ),
    (
        "POST",
        "/batches",
        {
            "json": {
                "input_file_id": "f",
                "endpoint": CHAT,
                "completion_window": "24h",
                "metadata": {"k": None},
            }
        },
    ),
    (
        "POST",
        "/batches",
        {
            "json": {
                "input_file_id": "f",
                "endpoint": CHAT,
                "completion_window": "24h",
                "output_expires_after": {"anchor": "x", "seconds": "y"},
            }
        },
    ),
    (
        "POST",
        "/batches",
        {
            "json": {
                "input_file_id": "f",
                "endpoint": CHAT,
                "completion_window": "24h",
                "output_expires_after": 3,
            }
        },
    ),
    ("POST", "/batches", {"json": [1, 2]}),
    ("POST", "/batches", {"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}}),
    ("GET", "/batches?limit=abc", {}),
    ("GET", "/batches?limit=-1", {}),
    ("GET", "/files?limit=x", {}),
    ("GET", "/files?order=sideways", {}),
    ("GET", "/files/file-x/content", {}),
    ("DELETE", "/files/file-x", {}),
    ("POST", "/batches/batch_x/cancel", {}),
    ("POST", "/files", {"content": b"", "headers": {"Content-Type": "application/json"}}),
    ("POST", "/files", {"files": {"file": ("a.jsonl", b'{"a": 1}\n'), "purpose": (None, "")}}),
    (
        "POST",
        "/files",
        {
            "files": {
                "file": ("a.jsonl", b'{"a": 1}\n'),
                "purpose": (None, "batch"),
                "expires_after[anchor]": (None, "created_at"),
                "expires_after[seconds]": (None, "soon"),
            }
        },
    ),
    ("POST", "/files", {"data": {"file": "not a file", "purpose": "batch"}}),
    ("POST", "/chat/completions", {"json": []}),
    ("POST", "/chat/completions", {"json": {"model": "gpt-4o-mini", "messages": "hi"}}),
    ("POST", "/chat/completions", {"json": {"model": "nope", "messages": []}}),
    ("POST", "/embeddings", {"json": {"model": "text-embedding-3-small", "input": {"a": 1}}}),
    ("POST", "/embeddings", {"json": {"model": "text-embedding-3-small"}}),
    ("POST", "/responses", {"json": {"model": "gpt-4o-mini", "input": 3}}),
    ("POST", "/completions", {"json": {"model": "gpt-3.5-turbo-instruct", "prompt": None}}),
    ("POST", "/moderations", {"json": {"input": None}}),
    ("GET", "/models/not-a-model", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), ODD_REQUESTS)
def test_odd_requests_get_a_4xx_envelope_never_a_5xx(
    client: OpenAI, method: str, path: str, kwargs: dict
) -> None:
    response = raw(client, method, path, **kwargs)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert_envelope(response.json())
    assert response.headers["x-request-id"].startswith("req_")


# -- key isolation -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    """A server of its own with two keys, each with its own namespace."""
    tmp_path = tmp_path_factory.mktemp("keyed")
    keys = tmp_path / "keys.txt"
    keys.write_text("sk-alice-123456789\n# a comment\n\nsk-bob-987654321\n")
    state_dir = tmp_path / "state"
    info = ensure_server(
        state_dir, port=free_port(), pace="instant", extra_args=["--keys-file", str(keys)]
    )
    try:
        yield info
    finally:
        stop_server(state_dir)


def _client(info: ServerInfo, key: str) -> OpenAI:
    return sdk_client(info.base_url, key)


def test_each_key_sees_only_its_own_objects(keyed_server: ServerInfo) -> None:
    alice = _client(keyed_server, "sk-alice-123456789")
    bob = _client(keyed_server, "sk-bob-987654321")
    a_batch = wait_until(alice, start_batch(alice, [chat_line("a")]).id)
    b_batch = wait_until(bob, start_batch(bob, [chat_line("b")]).id)
    assert a_batch.status == b_batch.status == "completed"
    b_second = bob.batches.create(
        input_file_id=b_batch.input_file_id, endpoint=CHAT, completion_window="24h"
    )

    for me, other_batch, other_second in ((alice, b_batch, b_second), (bob, a_batch, None)):
        for file_id in (other_batch.input_file_id, other_batch.output_file_id):
            for call in (me.files.retrieve, me.files.content, me.files.delete):
                with pytest.raises(openai.NotFoundError) as exc:
                    call(file_id)
                sdk_error(exc.value, f"No such File object: {file_id}")
        for batch_id in filter(None, (other_batch.id, other_second and other_second.id)):
            with pytest.raises(openai.NotFoundError):
                me.batches.retrieve(batch_id)
            with pytest.raises(openai.NotFoundError):
                me.batches.cancel(batch_id)

    assert {f.id for f in alice.files.list()} == {a_batch.input_file_id, a_batch.output_file_id}
    assert [b.id for b in alice.batches.list()] == [a_batch.id]
    b_second = wait_until(bob, b_second.id)
    assert {f.id for f in bob.files.list()} == {
        b_batch.input_file_id,
        b_batch.output_file_id,
        b_second.output_file_id,
    }
    assert [b.id for b in bob.batches.list()] == [b_second.id, b_batch.id]
    # an ``after`` cursor from another key reveals nothing either
    assert [b.id for b in alice.batches.list(after=b_batch.id)] == [a_batch.id]

    # bob's objects survived alice's attempts, and alice's reset leaves them alone
    reset(base_url=keyed_server.base_url, api_key="sk-alice-123456789")
    assert alice.batches.list().data == [] and alice.files.list().data == []
    assert bob.batches.retrieve(b_batch.id).status == "completed"
    assert bob.files.content(b_batch.output_file_id).read()


def test_unknown_key_is_401_invalid_api_key(keyed_server: ServerInfo) -> None:
    stranger = _client(keyed_server, "sk-mallory-000000000")
    with pytest.raises(openai.AuthenticationError) as exc:
        stranger.batches.list()
    error = sdk_error(exc.value)
    assert error["code"] == "invalid_api_key"
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Incorrect API key provided: ")
    assert "sk-mallory-000000000" not in error["message"]  # the key is masked
    with pytest.raises(openai.AuthenticationError):
        stranger.files.create(file=("a.jsonl", b'{"a": 1}\n'), purpose="batch")

    response = raw(stranger, "GET", "/files", key=None)
    assert response.status_code == 401
    assert_envelope(response.json(), MISSING_AUTH)


# -- control surface -----------------------------------------------------------------------------


def test_control_calls(client: OpenAI) -> None:
    start = state(**conn(client))
    assert start["pace"] == PACES["instant"].as_dict()

    pace = set_pace(validating=0.3, per_request=0.2, **conn(client))
    assert pace == {"validating": 0.3, "per_request": 0.2, "finalizing": 1.0, "cancelling": 1.0}
    assert set_pace("slow", **conn(client)) == PACES["slow"].as_dict()
    # "default": the server's start-up pace (--pace), here "instant"
    assert set_pace("default", **conn(client)) == PACES["instant"].as_dict()
    assert set_pace("slow", **conn(client)) == PACES["slow"].as_dict()
    with pytest.raises(ControlError):
        set_pace("warp", **conn(client))
    with pytest.raises(ControlError):
        set_pace(validating=-1, **conn(client))
    with pytest.raises(ControlError):
        set_pace(sideways=1, **conn(client))

    before = state(**conn(client))["now"]
    assert advance_clock(hours=1, **conn(client)) >= before + 3600
    with pytest.raises(ControlError):
        advance_clock(-5, **conn(client))

    assert set_token_limit(None, **conn(client)) is None
    with pytest.raises(ControlError):
        set_token_limit(0, **conn(client))

    # reset puts pace, clock and token limit back
    after = reset(**conn(client))
    assert after["pace"] == PACES["instant"].as_dict()
    assert after["clock_offset"] == 0
    assert after["token_limit"] == start["token_limit"]


def test_control_wrappers_need_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ControlError, match="OPENAI_BASE_URL"):
        state()


def test_reset_clears_this_namespace(client: OpenAI) -> None:
    upload(client, [chat_line("a")])
    reset(**conn(client))
    assert client.files.list().data == []
    assert raw(client, "GET", "/files", key=TEST_KEY).json()["data"] == []
