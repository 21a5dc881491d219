"""The storage quota of a class server: each key's files may hold so many bytes.

One student uploading three 200 MB files took 600 MB of the instructor's disk in 7 s, and
nothing stopped a fourth. Here a server of our own with a keys file and ``--quota-mb 1``: an
upload that would take a key past 1 MiB is refused with the real API's words for a storage
limit, as soon as it does (declared too big, or mid-stream), counting the key's other uploads
still streaming in and its batches' result files, while the other students upload as before
and an instructor's key has no quota.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2
import openai
import pytest

from batch_api_local import ServerInfo, ensure_server, reset, stop_server
from batch_api_local.config import DEFAULT_QUOTA_MB, Settings

from support import (
    RawApi,
    assert_clean_log,
    assert_error,
    chat_line,
    file_lines,
    free_port,
    jsonl,
    log_since,
    run_batch,
    sdk_client,
    upload,
)

KEY_A = "sk-quota-alice-0001"
KEY_B = "sk-quota-bob-0002"
ADMIN = "sk-quota-instructor-0003"
MIB = 1024 * 1024
REFUSED = (
    "You have exceeded your file storage quota. Each key of this server is limited to 1 MB of "
    "files. Please delete old files or attempt with a smaller file size."
)


def _file(kib: int, tag: str = "x") -> bytes:
    """A valid batch input file of about ``kib`` KiB."""
    line = json.dumps(chat_line(tag, "q" * 900)).encode() + b"\n"
    return line * (kib * 1024 // len(line))


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    root = tmp_path_factory.mktemp("quota")
    keys = root / "keys.txt"
    keys.write_text(f"{KEY_A} alice\n{KEY_B} bob\n")
    state_dir = root / "state"
    info = ensure_server(
        state_dir,
        port=free_port(),
        pace="instant",
        extra_args=["--keys-file", str(keys), "--admin-key", ADMIN, "--quota-mb", "1"],
    )
    try:
        yield info
    finally:
        stop_server(state_dir)
    assert_clean_log(log_since(state_dir, 0))


@pytest.fixture
def server(classroom: ServerInfo) -> ServerInfo:
    """The class server, every key's files gone."""
    for key in (KEY_A, KEY_B, ADMIN):
        reset(base_url=classroom.base_url, api_key=key)
    return classroom


def _message(exc: openai.APIStatusError) -> str:
    message: str = exc.response.json()["error"]["message"]
    return message


def _leftovers(info: ServerInfo) -> list[str]:
    return [p.name for p in (Path(info.state_dir) / "files").glob(".upload-*")]


def test_an_upload_past_the_quota_is_refused_while_others_still_upload(server: ServerInfo):
    alice, bob = sdk_client(server.base_url, KEY_A), sdk_client(server.base_url, KEY_B)
    first = upload(alice, _file(400, "a1"))
    upload(alice, _file(400, "a2"))
    with pytest.raises(openai.BadRequestError) as refused:
        upload(alice, _file(400, "a3"))
    assert_error(refused.value.response, 400, REFUSED, param=None, code=None)
    assert len(alice.files.list().data) == 2
    assert _leftovers(server) == []

    # another student's room is their own
    upload(bob, _file(400, "b1"))
    upload(bob, _file(400, "b2"))

    # a file deleted makes room again
    alice.files.delete(first.id)
    upload(alice, _file(400, "a4"))


def test_an_upload_declared_past_the_quota_is_refused_before_it_is_read(server: ServerInfo):
    request = (
        "POST /v1/files HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {KEY_A}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {5 * MIB}\r\n\r\n--x\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(request)  # then nothing more: the answer must not wait for the rest
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after answering
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(body)["error"]["message"] == REFUSED


def test_an_endless_upload_is_cut_off_once_it_passes_the_quota(server: ServerInfo):
    sent = {"bytes": 0}

    def endless() -> Iterator[bytes]:
        yield (
            b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jsonl"\r\n\r\n'
        )
        block = _file(64)
        while sent["bytes"] < 1024 * MIB:  # 1 GB: far past the quota
            sent["bytes"] += len(block)
            yield block

    with RawApi(server.base_url, KEY_A) as api:
        try:
            response = api.post(
                "/files",
                headers={"content-type": "multipart/form-data; boundary=b"},
                content=endless(),
            )
            assert_error(response, 400, REFUSED)
        except httpx2.TransportError:
            pass  # the server may close the connection as it answers
    assert sent["bytes"] < 64 * MIB  # stopped near the quota, not at the end of the body
    assert _leftovers(server) == []


def test_uploads_at_the_same_time_cannot_each_fill_the_same_room(server: ServerInfo):
    alice = sdk_client(server.base_url, KEY_A)
    outcomes: list[str] = []

    def send(n: int) -> None:
        try:
            upload(alice, _file(700, f"c{n}"))
            outcomes.append("stored")
        except openai.BadRequestError as exc:
            assert _message(exc) == REFUSED
            outcomes.append("refused")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes.count("stored") <= 1 and len(outcomes) == 3, outcomes
    assert sum(f.bytes for f in alice.files.list().data) <= MIB
    assert _leftovers(server) == []


def test_result_files_count_against_the_quota(server: ServerInfo):
    alice = sdk_client(server.base_url, KEY_A)
    # about 170 KB of requests whose answers (a quote of each prompt) take over 1 MiB
    batch = run_batch(alice, [chat_line(f"r{i}", "q" * 700) for i in range(1200)])
    assert batch.status == "completed"  # results are always kept
    assert len(file_lines(alice, batch.output_file_id)) == 1200
    with pytest.raises(openai.BadRequestError) as refused:
        upload(alice, jsonl([chat_line("one")]))
    assert _message(refused.value) == REFUSED
    assert batch.output_file_id is not None
    alice.files.delete(batch.output_file_id)
    upload(alice, jsonl([chat_line("one")]))


def test_an_instructors_key_has_no_quota(server: ServerInfo):
    instructor = sdk_client(server.base_url, ADMIN)
    for n in range(3):
        upload(instructor, _file(400, f"i{n}"))
    assert len(instructor.files.list().data) == 3


def test_the_default_quota_applies_to_class_servers(tmp_path: Path):
    keys = tmp_path / "keys.txt"
    keys.write_text(f"{KEY_A}\n")
    assert Settings(state_dir=tmp_path, keys_file=keys).storage_quota == DEFAULT_QUOTA_MB * MIB
    assert Settings(state_dir=tmp_path).storage_quota is None  # one learner's own server
    assert Settings(state_dir=tmp_path, keys_file=keys, quota_mb=0).storage_quota is None
    assert Settings(state_dir=tmp_path, quota_mb=0.5).storage_quota == MIB // 2
