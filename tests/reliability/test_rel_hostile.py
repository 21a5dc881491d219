"""Hostile and odd input over HTTP: lone surrogates, deep nesting, endless and huge bodies,
malformed content parts, a foreign Host header, what the server tells strangers, and the small
things (HEAD, odd integers). Every answer is a clean 4xx in OpenAI's envelope, nothing bad is
stored, and a batch completed before the attacks keeps its exact files and counts.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from openai import OpenAI

from batch_api_local import ServerInfo
from batch_api_local.constants import MAX_JSON_BODY_BYTES
from batch_api_local.schemas import MAX_INSTANCE_CHARS, MAX_NESTING

from support import ANY, CHAT, assert_error, assert_healthy, chat_line, sdk_client, wait_until

KEY = "sk-local-hostile"
CHAT_PATH = "/chat/completions"  # the same endpoint under the client's base URL (…/v1)
DEEP = 10_000


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.fixture(scope="module")
def api(local_server: ServerInfo) -> Iterator[httpx2.Client]:
    with httpx2.Client(
        base_url=local_server.base_url,
        headers={"Authorization": f"Bearer {KEY}"},
        trust_env=False,
        timeout=60,
    ) as http:
        yield http


@pytest.fixture(scope="module")
def sdk(local_server: ServerInfo) -> OpenAI:
    return sdk_client(local_server.base_url, KEY)


@pytest.fixture(scope="module")
def survivor(sdk: OpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A batch completed before the attacks; after them its files and counts are unchanged."""
    path = tmp_path_factory.mktemp("survivor") / "in.jsonl"
    path.write_text("".join(json.dumps(chat_line(f"s{i}")) + "\n" for i in range(3)))
    with open(path, "rb") as fh:
        file = sdk.files.create(file=fh, purpose="batch")
    batch = sdk.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h")
    assert wait_until(sdk, batch.id).status == "completed"
    before = _fingerprint(sdk, batch.id)
    yield before
    assert _fingerprint(sdk, batch.id) == before


def _fingerprint(sdk: OpenAI, batch_id: str) -> dict[str, Any]:
    batch = sdk.batches.retrieve(batch_id)
    files = [batch.input_file_id, batch.output_file_id, batch.error_file_id]
    return {
        "batch": batch.model_dump(),
        "bytes": [
            hashlib.sha256(sdk.files.content(f).content).hexdigest() if f else None for f in files
        ],
    }


def envelope(response: httpx2.Response, status: int) -> dict[str, Any]:
    """OpenAI's envelope with ``status``, and no Python exception name in its message."""
    error = assert_error(response, status, error_type=ANY)
    assert "Error" not in error["message"] and "Traceback" not in error["message"]
    return error


pytestmark = pytest.mark.usefixtures("survivor")


# -- lone surrogates -------------------------------------------------------------------------


def test_a_lone_surrogate_in_metadata_is_refused_and_nothing_is_stored(api, sdk, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(chat_line("a")) + "\n")
    with open(path, "rb") as fh:
        file = sdk.files.create(file=fh, purpose="batch")
    before = api.get("/batches").json()["data"]
    body = (
        f'{{"input_file_id": "{file.id}", "endpoint": "/v1/chat/completions", '
        '"completion_window": "24h", "metadata": {"k": "\\ud800"}}'
    )
    error = envelope(api.post("/batches", content=body), 400)
    assert error["message"].startswith("We could not parse the JSON body")
    listed = api.get("/batches")
    assert listed.status_code == 200 and listed.json()["data"] == before


@pytest.mark.parametrize("path", [CHAT_PATH, "/responses"])
def test_a_lone_surrogate_in_a_request_body_is_a_400(api, path):
    body = (
        '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a\\udc00b"}], '
        '"input": "a\\udc00b"}'
    )
    envelope(api.post(path, content=body), 400)


def test_a_proper_surrogate_pair_is_just_an_emoji(api):
    body = '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "\\ud83d\\ude00"}]}'
    assert api.post(CHAT_PATH, content=body).status_code == 200


def test_a_batch_line_with_a_lone_surrogate_fails_as_invalid_json(sdk, tmp_path):
    path = tmp_path / "in.jsonl"
    good = json.dumps(chat_line("a"))
    bad = json.dumps(chat_line("b", "x")).replace('"x"', '"\\udfff"')
    path.write_text(good + "\n" + bad + "\n")
    with open(path, "rb") as fh:
        file = sdk.files.create(file=fh, purpose="batch")
    batch = wait_until(
        sdk, sdk.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h").id
    )
    assert batch.status == "failed"
    assert [(e.code, e.line) for e in batch.errors.data] == [("invalid_json_line", 2)]


# -- NaN and Infinity ------------------------------------------------------------------------

#: Python's JSON parser takes these three words; JSON has no such values
NOT_JSON_NUMBERS = ("NaN", "Infinity", "-Infinity")


@pytest.mark.parametrize("constant", NOT_JSON_NUMBERS)
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/responses", '{"model": "gpt-5", "input": "hi", "reasoning": {"effort": %s}}'),
        (CHAT_PATH, '{"model": "gpt-4o-mini", "messages": [], "temperature": %s}'),
        ("/embeddings", '{"model": "text-embedding-3-small", "input": "a", "dimensions": %s}'),
        ("/batches", '{"input_file_id": "file-x", "endpoint": %s, "completion_window": "24h"}'),
    ],
)
def test_nan_and_infinity_in_a_body_are_not_json(api, path, body, constant):
    error = envelope(api.post(path, content=body % constant), 400)
    assert error["message"].startswith("We could not parse the JSON body")


@pytest.mark.parametrize("constant", NOT_JSON_NUMBERS)
def test_a_batch_line_with_nan_fails_as_invalid_json(sdk, tmp_path, constant):
    path = tmp_path / "in.jsonl"
    good = json.dumps(chat_line("a"))
    bad = json.dumps(chat_line("b", temperature=0.5)).replace("0.5", constant)
    path.write_text(good + "\n" + bad + "\n")
    with open(path, "rb") as fh:
        file = sdk.files.create(file=fh, purpose="batch")
    batch = wait_until(
        sdk, sdk.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h").id
    )
    assert batch.status == "failed"
    assert [(e.code, e.line) for e in batch.errors.data] == [("invalid_json_line", 2)]


# -- deep nesting ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/batches", CHAT_PATH, "/responses", "/embeddings"])
def test_json_nested_ten_thousand_deep_is_a_400(api, path):
    envelope(api.post(path, content=deep(DEEP)), 400)


def test_an_upload_whose_first_line_is_nested_deep_is_refused(api):
    files = {"file": ("deep.jsonl", deep(DEEP).encode() + b"\n", "application/jsonl")}
    error = envelope(api.post("/files", data={"purpose": "batch"}, files=files), 400)
    assert error["message"] == "Invalid file format for Batch API. Must be .jsonl"


def test_a_batch_line_nested_deep_fails_as_invalid_json(sdk, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(chat_line("a")) + "\n" + '{"custom_id": ' + deep(DEEP) + "}\n")
    with open(path, "rb") as fh:
        file = sdk.files.create(file=fh, purpose="batch")
    batch = wait_until(
        sdk, sdk.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h").id
    )
    assert [(e.code, e.line) for e in batch.errors.data] == [("invalid_json_line", 2)]


# -- sizes -----------------------------------------------------------------------------------


def test_a_json_body_over_the_limit_is_a_413(api):
    padding = "x" * (MAX_JSON_BODY_BYTES + 1)
    error = envelope(api.post(CHAT_PATH, content=f'{{"model": "{padding}"}}'), 413)
    assert error["code"] == "request_too_large"


def test_a_json_body_over_the_limit_without_a_length_is_a_413(api):
    def chunks():
        for _ in range(MAX_JSON_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    envelope(api.post(CHAT_PATH, content=chunks()), 413)


def test_an_upload_declared_too_large_is_refused_before_it_is_read(local_server: ServerInfo):
    request = (
        "POST /v1/files HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{local_server.port}\r\n"
        f"Authorization: Bearer {KEY}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {10**12}\r\n\r\n--x\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", local_server.port), timeout=60) as sock:
        sock.sendall(request)  # then send nothing more: the answer must not wait for the rest
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after answering
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(body)["error"]["message"] == "File is too large."


@pytest.mark.slow
def test_an_endless_upload_is_cut_off_at_the_limit_and_leaves_nothing(
    api, local_server: ServerInfo
):
    """A chunked upload that never ends: the server stops reading once the 200 MB batch limit
    is passed. Before, it read on and on (311 MB and counting)."""
    sent = {"bytes": 0}

    def endless():
        yield (
            b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jsonl"\r\n\r\n'
        )
        line = json.dumps(chat_line("x")).encode() + b"\n"
        block = line * (1024 * 1024 // len(line))
        while sent["bytes"] < 2 * 1024**3:  # 2 GB: far past any limit
            sent["bytes"] += len(block)
            yield block

    headers = {"content-type": "multipart/form-data; boundary=b"}
    try:
        response = api.post("/files", headers=headers, content=endless())
        error = envelope(response, 400)
        assert error["message"] == "File is too large."
    except httpx2.TransportError:
        pass  # the server may close the connection as it answers
    assert sent["bytes"] < 400 * 1024 * 1024
    state = Path(local_server.state_dir)
    assert not list((state / "files").glob(".upload-*"))
    assert api.get("/models").status_code == 200


# -- schemas that would cost the server its time or memory -----------------------------------


def schema_request(schema: dict[str, Any], **body: Any) -> dict[str, Any]:
    """A chat request whose answer must be an instance of ``schema`` (not strict)."""
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Fill in the form."}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "form", "schema": schema},
        },
        **body,
    }


def test_a_pattern_that_backtracks_is_answered_and_freezes_nothing(api, local_server):
    # the review's request had 28 a's and froze the whole server 34 s, x3.5 per two more a's:
    # with 34 the answer would take some 20 minutes, far past this client's timeout
    name = "a" * 34
    schema = {"type": "object", "properties": {name: {"type": "string", "pattern": "(a+)+b"}}}
    response = api.post(CHAT_PATH, json=schema_request(schema))
    assert response.status_code == 200, response.text
    value = json.loads(response.json()["choices"][0]["message"]["content"])
    assert re.search("(a+)+b", value[name])  # the answer is short: matching it is instant
    assert_healthy(local_server.root_url)


def test_a_huge_min_length_makes_an_answer_no_longer_than_a_model_could_write(api):
    # the review's 250-byte request made a 1 GB answer (5.9 GB resident, 56 s)
    schema = {"properties": {"s": {"type": "string", "minLength": 1_000_000_000}}}
    response = api.post(CHAT_PATH, json=schema_request(schema))
    assert response.status_code == 200, response.text
    assert len(response.content) < 4 * MAX_INSTANCE_CHARS
    limited = api.post(CHAT_PATH, json=schema_request(schema, max_completion_tokens=50))
    assert limited.json()["choices"][0]["finish_reason"] == "length"
    assert limited.json()["usage"]["completion_tokens"] == 50


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (
            {"type": "object", "properties": {"tags": {"type": "array", "minItems": "x"}}},
            "Invalid type for 'minItems': expected a non-negative integer, but got a string "
            "instead.",
        ),
        (
            {"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]},
            f"a value of it must nest more than {MAX_NESTING} levels deep (a required "
            "reference to itself never ends).",
        ),
    ],
)
def test_a_schema_without_a_value_is_a_400(api, schema, problem):
    error = envelope(api.post(CHAT_PATH, json=schema_request(schema)), 400)
    assert error["message"] == f"Invalid schema for response_format 'form': {problem}"
    assert error["code"] == "invalid_json_schema"
    responses = {
        "model": "gpt-4o-mini",
        "input": "Fill in the form.",
        "text": {"format": {"type": "json_schema", "name": "form", "schema": schema}},
    }
    envelope(api.post("/responses", json=responses), 400)


# -- malformed content parts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "param", "code"),
    [
        ({"type": {}}, "messages[0].content[0].type", "invalid_type"),
        ({"type": 5, "text": "a"}, "messages[0].content[0].type", "invalid_type"),
        ("text", "messages[0].content[0]", "invalid_type"),
        ({"text": "a"}, "messages[0].content[0].type", "missing_required_parameter"),
        ({"type": "image"}, "messages[0].content[0].type", "invalid_value"),
    ],
)
def test_a_malformed_content_part_is_a_400_naming_it(api, part, param, code):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": [part]}]}
    error = envelope(api.post(CHAT_PATH, json=body), 400)
    assert (error["param"], error["code"]) == (param, code)


def test_the_real_message_for_a_content_part_of_an_unknown_type(api):
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "assistant", "content": [{"type": "image_url"}]}],
    }
    error = envelope(api.post(CHAT_PATH, json=body), 400)
    assert (
        error["message"]
        == "Invalid value: 'image_url'. Supported values are: 'text' and 'refusal'."
    )


def test_a_batch_line_with_a_malformed_content_part_gets_a_400_line(sdk, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(chat_line("a", [{"type": {}}])) + "\n")
    with open(path, "rb") as fh:
        file = sdk.files.create(file=fh, purpose="batch")
    batch = wait_until(
        sdk, sdk.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h").id
    )
    assert batch.status == "completed" and batch.request_counts.failed == 1
    [line] = [json.loads(x) for x in sdk.files.content(batch.error_file_id).text.splitlines()]
    assert line["response"]["status_code"] == 400
    assert line["response"]["body"]["error"]["code"] == "invalid_type"


# -- who may talk to the server, and what it says --------------------------------------------


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8765", "10.0.0.1", "127.0.0.1.nip.io"]
)
def test_a_foreign_host_header_is_refused(api, host):
    error = envelope(api.get("/models", headers={"host": host}), 400)
    assert "host" in error["message"].lower()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_loopback_host_names_are_answered_with_or_without_port(api, local_server, host):
    for value in (host, f"{host}:{local_server.port}"):
        assert api.get("/models", headers={"host": value}).status_code == 200


def test_health_says_only_that_it_is_up(local_server):
    health = httpx2.get(local_server.root_url + "/_local/health", trust_env=False).json()
    assert set(health) == {"status", "version", "instance"}
    assert health["status"] == "ok"
    assert str(local_server.state_dir) not in json.dumps(health)


def test_a_non_loopback_address_needs_a_keys_file(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "batch_api_local", "serve", "--host", "0.0.0.0"]
        + ["--port", "0", "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "0.0.0.0" in line and "--keys-file" in line


def test_an_unusable_state_directory_is_named_in_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = subprocess.run(
        [sys.executable, "-m", "batch_api_local", "serve", "--port", "0"]
        + ["--state-dir", str(blocker / "state")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert str(blocker / "state") in line and "Traceback" not in result.stderr


# -- small ones ------------------------------------------------------------------------------


def test_head_on_a_get_route_says_what_is_allowed(api):
    response = api.head("/batches")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize("value", ["1_0", " 5", "5 ", "٥", "+5", "0x10", "1e1"])
def test_a_limit_that_is_not_plain_digits_is_refused(api, value):
    error = envelope(api.get("/batches", params={"limit": value}), 400)
    assert error["param"] == "limit"


def test_an_sdk_call_with_a_bad_limit_raises_the_sdk_error(sdk):
    with pytest.raises(openai.BadRequestError):
        sdk.batches.list(extra_query={"limit": "1_0"})


@pytest.mark.parametrize("digits", ["²", "①", "١٠"])
def test_digits_that_are_not_ascii_are_not_numbers(api, digits):
    """``str.isdigit`` accepts superscripts and other scripts' digits, which ``int`` refuses: an
    upload's expiry written with them is a 400, never a 500. (A Content-Length written so never
    reaches the server's code: the HTTP parser refuses it.)"""
    upload = api.post(
        "/files",
        data={
            "purpose": "batch",
            "expires_after[anchor]": "created_at",
            "expires_after[seconds]": digits,
        },
        files={"file": ("in.jsonl", json.dumps(chat_line("a")).encode() + b"\n")},
    )
    assert_error(upload, 400, ANY, param="expires_after.seconds")
