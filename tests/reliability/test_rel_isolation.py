"""Keys-file mode: each key is its own namespace, and no key can reach another's objects.

Key B can neither list, retrieve, download, cancel, expire, reset away nor delete key A's files
and batches: every such call answers 404 as for an id that does not exist, lists leave them out,
and A's objects are unchanged afterwards. An unknown key and a missing key answer 401.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from openai import OpenAI

from batch_api_local import (
    ServerInfo,
    ensure_server,
    reset,
    stop_server,
)

from support import (
    CHAT,
    RawApi,
    assert_clean_log,
    assert_error,
    assert_healthy,
    chat_line,
    file_lines,
    free_port,
    hold,
    jsonl,
    log_since,
    raw,
    release,
    sdk_client,
    wait_until,
)

KEY_A = "sk-alice-rel-0001"
KEY_B = "sk-bob-rel-0002"
STRANGER = "sk-stranger-1234"
MISSING_AUTH = "Missing bearer or basic authentication in header"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    """A server of our own whose keys file lists exactly KEY_A and KEY_B."""
    root = tmp_path_factory.mktemp("isolation")
    keys = root / "keys.txt"
    keys.write_text(f"{KEY_A}\n{KEY_B}\n")
    state_dir = root / "state"
    info = ensure_server(
        state_dir, port=free_port(), pace="instant", extra_args=["--keys-file", str(keys)]
    )
    try:
        yield info
    finally:
        stop_server(state_dir)
    assert_clean_log(log_since(state_dir, 0))


def _client(info: ServerInfo, key: str) -> OpenAI:
    return sdk_client(info.base_url, key)


def _conn(info: ServerInfo, key: str) -> dict[str, str]:
    return {"base_url": info.base_url, "api_key": key}


def test_key_b_cannot_reach_key_a_objects(keyed: ServerInfo) -> None:
    alice, bob = _client(keyed, KEY_A), _client(keyed, KEY_B)
    data = jsonl([chat_line("a1"), chat_line("a2", "Name a colour.")])

    # key A: a finished batch (with an output file), a user_data file, a batch still validating
    a_input = alice.files.create(file=("alice.jsonl", data), purpose="batch")
    a_done = wait_until(
        alice,
        alice.batches.create(input_file_id=a_input.id, endpoint=CHAT, completion_window="24h").id,
    )
    assert a_done.status == "completed" and a_done.output_file_id is not None
    a_output = a_done.output_file_id
    a_notes = alice.files.create(file=("notes.txt", b"private"), purpose="user_data")
    hold(alice, "validating")
    try:
        a_pending = alice.batches.create(
            input_file_id=a_input.id, endpoint=CHAT, completion_window="24h"
        )
        a_files = {f.id: f.model_dump() for f in alice.files.list().data}
        a_batches = {b.id: b.model_dump() for b in alice.batches.list().data}
        assert set(a_files) == {a_input.id, a_output, a_notes.id}
        assert set(a_batches) == {a_done.id, a_pending.id}
        a_output_bytes = alice.files.content(a_output).content

        # key B: its own file, then every way of reaching A's objects
        b_file = bob.files.create(file=("bob.jsonl", data), purpose="batch")
        assert [f.id for f in bob.files.list().data] == [b_file.id]
        assert bob.batches.list().data == []
        b_raw = RawApi(keyed.base_url, KEY_B)
        b_root = RawApi(keyed.root_url, KEY_B)
        for file_id in a_files:
            missing = f"No such File object: {file_id}"
            assert_error(b_raw.get(f"/files/{file_id}"), 404, missing, param="id", code=None)
            assert_error(
                b_raw.get(f"/files/{file_id}/content"), 404, missing, param="id", code=None
            )
            assert_error(
                b_raw.request("DELETE", f"/files/{file_id}"), 404, missing, param="id", code=None
            )
            for sdk_call in (bob.files.retrieve, bob.files.content, bob.files.delete):
                with pytest.raises(openai.NotFoundError):
                    sdk_call(file_id)
        for batch_id in a_batches:
            missing = f"No batch found with id '{batch_id}'."
            assert_error(
                b_raw.get(f"/batches/{batch_id}"), 404, missing, param="batch_id", code=None
            )
            # a completed batch of A's must not answer 409: that would tell B it exists
            assert_error(
                b_raw.post(f"/batches/{batch_id}/cancel"),
                404,
                missing,
                param="batch_id",
                code=None,
            )
            assert_error(
                b_root.post(f"/_local/batches/{batch_id}/expire"),
                404,
                missing,
                param="batch_id",
                code=None,
            )
            with pytest.raises(openai.NotFoundError):
                bob.batches.cancel(batch_id)
        # cursors of A's objects do not open A's pages
        after = b_raw.get(f"/files?after={a_input.id}&order=asc").json()["data"]
        assert [f["id"] for f in after] == [b_file.id]
        assert b_raw.get(f"/batches?after={a_pending.id}").json()["data"] == []
        b_raw.close()
        b_root.close()
        # B empties its own namespace, and only its own
        reset(**_conn(keyed, KEY_B))
        assert bob.files.list().data == [] and bob.batches.list().data == []

        # key A: everything as it was
        assert {f.id: f.model_dump() for f in alice.files.list().data} == a_files
        assert {b.id: b.model_dump() for b in alice.batches.list().data} == a_batches
        assert alice.files.content(a_output).content == a_output_bytes
        assert alice.files.content(a_input.id).content == data
        still = alice.batches.retrieve(a_pending.id)
        assert still.status == "validating" and still.cancelling_at is None
        # A still owns and controls it
        assert wait_until(alice, alice.batches.cancel(a_pending.id).id).status == "cancelled"
    finally:
        release(alice)
    assert [x["custom_id"] for x in file_lines(alice, a_output)] == ["a1", "a2"]
    assert_healthy(keyed.root_url)


def test_b_cannot_use_a_input_file(keyed: ServerInfo) -> None:
    alice, bob = _client(keyed, KEY_A), _client(keyed, KEY_B)
    a_input = alice.files.create(file=("alice.jsonl", jsonl([chat_line("a1")])), purpose="batch")
    stolen = bob.batches.create(input_file_id=a_input.id, endpoint=CHAT, completion_window="24h")
    failed = wait_until(bob, stolen.id)
    assert failed.status == "failed" and failed.errors is not None
    assert [(e.code, e.param, e.line, e.message) for e in failed.errors.data] == [
        (
            "invalid_request",
            "file_id",
            None,
            f"Cannot find file {a_input.id}, or organization org-local does not have access to it.",
        )
    ]
    assert alice.files.retrieve(a_input.id).id == a_input.id


ROUTES = [
    ("GET", "/v1/files"),
    ("POST", "/v1/files"),
    ("GET", "/v1/batches"),
    ("POST", "/v1/batches"),
    ("GET", "/v1/batches/batch_x"),
    ("POST", "/v1/batches/batch_x/cancel"),
    ("GET", "/v1/files/file-x/content"),
    ("DELETE", "/v1/files/file-x"),
    ("GET", "/_local/state"),
    ("POST", "/_local/reset"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_unknown_key_is_401_invalid_api_key(keyed: ServerInfo, method: str, path: str) -> None:
    response = raw(keyed.root_url, method, path, key=STRANGER)
    assert_error(
        response,
        401,
        "Incorrect API key provided: sk-*********1234. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        param=None,
        code="invalid_api_key",
    )


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic c2stYWxpY2U6", f"Token {KEY_A}", KEY_A],
    ids=["no-header", "empty", "bearer-no-key", "basic", "token", "bare-key"],
)
@pytest.mark.parametrize(("method", "path"), ROUTES[:3])
def test_missing_key_is_401(
    keyed: ServerInfo, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = raw(keyed.root_url, method, path, key=None, headers=headers)
    assert_error(response, 401, MISSING_AUTH, param=None, code=None)


def test_sdk_sees_401_as_authentication_error(keyed: ServerInfo) -> None:
    with pytest.raises(openai.AuthenticationError) as exc:
        _client(keyed, STRANGER).files.list()
    assert exc.value.status_code == 401 and exc.value.code == "invalid_api_key"
    # the key that failed is not echoed back in full
    assert STRANGER not in exc.value.response.text
    assert_healthy(keyed.root_url)  # health needs no key
