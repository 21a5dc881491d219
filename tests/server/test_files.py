"""Files API: upload, retrieve, content, delete, list and the upload-time checks for batch files."""

from __future__ import annotations

import io
import json
import os
import re
import threading
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from openai import OpenAI
from openai.types import FileDeleted, FileObject

from batch_api_local.config import Settings
from batch_api_local.domain import Service
from batch_api_local.errors import APIError

from support import (
    WAIT,
    RawApi,
    assert_envelope,
    chat_line,
    jsonl,
    raw,
    sdk_error,
    service_upload,
    upload,
    wait_until,
    write_jsonl,
)

BAD_FORMAT = "Invalid file format for Batch API. Must be .jsonl"
THIRTY_DAYS = 30 * 86_400


def test_upload_retrieve_content_delete(client: OpenAI, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "batchinput.jsonl", [chat_line("request-1"), chat_line("r-2")])
    data = path.read_bytes()

    with open(path, "rb") as fh:
        file = client.files.create(file=fh, purpose="batch")

    assert re.fullmatch(r"file-[A-Za-z0-9]{22}", file.id)
    assert file.object == "file"
    assert file.purpose == "batch"
    assert file.filename == "batchinput.jsonl"
    assert file.bytes == len(data)
    assert file.status == "processed"
    assert file.status_details is None
    assert file.expires_at == file.created_at + THIRTY_DAYS

    assert client.files.retrieve(file.id) == file
    assert client.files.content(file.id).read() == data

    deleted = client.files.delete(file.id)
    assert deleted == FileDeleted(id=file.id, object="file", deleted=True)
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(file.id)
    assert file.id not in [f.id for f in client.files.list()]


def test_upload_keeps_only_the_base_name(client: OpenAI, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [chat_line("a")])
    file = client.files.create(file=("../../etc/evil.jsonl", path.read_bytes()), purpose="batch")
    assert file.filename == "evil.jsonl"


def test_later_bad_lines_are_accepted_at_upload(client: OpenAI) -> None:
    # only the first line is checked at upload; the rest fails later, at validation
    file = upload(client, [chat_line("ok"), "{not json", '{"custom_id": "x"}'])
    assert file.purpose == "batch"


def test_other_purposes_skip_the_batch_checks(client: OpenAI, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("plain text, not JSON\n")
    file = client.files.create(file=open(notes, "rb"), purpose="user_data")
    assert file.purpose == "user_data"
    assert file.expires_at is None
    with pytest.raises(openai.BadRequestError) as exc:
        client.files.content(file.id)
    assert exc.value.status_code == 400
    sdk_error(exc.value, "Not allowed to download files of purpose: user_data")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00", id="binary"),
        pytest.param("in.jsonl", b"not json at all\n" + b'{"custom_id": "a"}\n', id="first-line"),
        pytest.param("in.jsonl", b"[1, 2, 3]\n", id="first-line-not-object"),
        pytest.param("in.jsonl", b"", id="empty"),
        pytest.param("in.jsonl", b'{"custom_id": "caf\xe9"}\n', id="latin-1"),
        pytest.param(
            "in.jsonl", b'{"custom_id": "a"}\n{"custom_id": "\xff\xfe"}\n', id="utf8-later"
        ),
    ],
)
def test_upload_rejects_non_jsonl(client: OpenAI, name: str, content: bytes) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        client.files.create(file=(name, content), purpose="batch")
    assert exc.value.status_code == 400
    error = sdk_error(exc.value, BAD_FORMAT)
    assert error["type"] == "invalid_request_error"
    assert client.files.list().data == []


@pytest.mark.parametrize("name", ["notes.txt", "upload", "batch.JSON"])
def test_a_batch_upload_is_judged_by_content_not_by_name(client: OpenAI, name: str) -> None:
    file = client.files.create(file=(name, jsonl([chat_line("a")])), purpose="batch")
    assert (file.filename, file.purpose) == (name, "batch")


def test_an_in_memory_upload_of_valid_jsonl_is_accepted(client: OpenAI) -> None:
    # what a batch library does: no file on disk, so the SDK sends the name "upload"
    file = client.files.create(file=io.BytesIO(jsonl([chat_line("a")])), purpose="batch")
    batch = client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert wait_until(client, batch.id).status == "completed"


def test_upload_rejects_files_over_200_mb(client: OpenAI, tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    with open(big, "wb") as fh:
        fh.truncate(200 * 1024 * 1024 + 1)  # sparse: instant to make
    with pytest.raises(openai.BadRequestError) as exc, open(big, "rb") as fh:
        client.files.create(file=fh, purpose="batch")
    assert exc.value.status_code == 400
    assert sdk_error(exc.value, "File is too large.")["param"] is None
    assert client.files.list().data == []


def test_upload_missing_parts(client: OpenAI) -> None:
    no_file = raw(client, "POST", "/files", files={"purpose": (None, "batch")})
    assert no_file.status_code == 400
    assert assert_envelope(no_file.json())["param"] == "file"

    no_purpose = raw(client, "POST", "/files", files={"file": ("a.jsonl", b'{"a": 1}\n')})
    assert no_purpose.status_code == 400
    error = assert_envelope(no_purpose.json())
    assert (error["param"], error["code"]) == ("purpose", "missing_required_parameter")

    bad_purpose = raw(
        client, "POST", "/files", files={"file": ("a.jsonl", b"{}\n"), "purpose": (None, "x")}
    )
    assert bad_purpose.status_code == 400
    assert assert_envelope(bad_purpose.json())["code"] == "invalid_value"

    garbage = raw(
        client,
        "POST",
        "/files",
        content=b"--nope\r\nthis is not multipart",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert garbage.status_code == 400
    assert_envelope(garbage.json())


@pytest.mark.parametrize("call", ["retrieve", "content", "delete"])
def test_unknown_file_is_404(client: OpenAI, call: str) -> None:
    with pytest.raises(openai.NotFoundError) as exc:
        getattr(client.files, call)("file-x")
    assert exc.value.status_code == 404
    error = sdk_error(exc.value, "No such File object: file-x")
    assert error["param"] == "id"
    assert error["type"] == "invalid_request_error"


def _upload_many(client: OpenAI, n: int) -> list[FileObject]:
    return [
        client.files.create(file=(f"f{i}.jsonl", b'{"custom_id": "a"}\n'), purpose="batch")
        for i in range(n)
    ]


def test_list_files_pagination(client: OpenAI) -> None:
    files = _upload_many(client, 5)
    ids = [f.id for f in files]

    newest_first = client.files.list()
    assert [f.id for f in newest_first.data] == ids[::-1]
    assert newest_first.has_more is False
    assert (newest_first.first_id, newest_first.last_id) == (ids[4], ids[0])

    page = client.files.list(limit=2, order="asc")
    assert [f.id for f in page.data] == ids[:2]
    assert page.has_more is True
    assert (page.first_id, page.last_id) == (ids[0], ids[1])

    page2 = client.files.list(limit=2, order="asc", after=ids[1])
    assert [f.id for f in page2.data] == ids[2:4]
    assert page2.has_more is True
    last = client.files.list(limit=2, order="asc", after=ids[3])
    assert [f.id for f in last.data] == ids[4:]
    assert last.has_more is False

    desc = client.files.list(limit=2, order="desc", after=ids[3])
    assert [f.id for f in desc.data] == [ids[2], ids[1]]
    assert desc.has_more is True

    # the SDK follows has_more / after on its own
    assert [f.id for f in client.files.list(limit=2, order="asc")] == ids
    assert [f.id for f in client.files.list(limit=1)] == ids[::-1]


def test_list_files_purpose_filter(client: OpenAI) -> None:
    batch_files = _upload_many(client, 2)
    other = client.files.create(file=("notes.txt", b"hello"), purpose="user_data")

    batch_only = client.files.list(purpose="batch")
    assert sorted(f.id for f in batch_only) == sorted(f.id for f in batch_files)
    assert [f.id for f in client.files.list(purpose="user_data")] == [other.id]
    assert client.files.list(purpose="batch_output").data == []
    assert len(client.files.list().data) == 3


def test_list_files_bad_parameters(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        client.files.list(order="sideways")  # type: ignore[arg-type]
    assert exc.value.body["param"] == "order"
    for limit in (0, 10_001):
        with pytest.raises(openai.BadRequestError) as exc:
            client.files.list(limit=limit)
        assert exc.value.body["param"] == "limit"


# -- a download while the same file is deleted ---------------------------------------------------


def test_a_download_racing_a_delete_gets_the_whole_file_or_a_404(client: OpenAI) -> None:
    """The review's race, 1,800 tries: 85 answers were 500 (``File at path ... does not
    exist``) and 119 were cut after their headers. Each answer must be the whole file with 200,
    or the 404 of a file that does not exist."""
    data = jsonl([chat_line(f"r{i}", "x" * 2000) for i in range(200)])  # about 450 KB
    answers: dict[str, int] = {}
    with RawApi(client) as api:
        for _ in range(60):
            file = upload(client, data)
            results: list[tuple[int, bytes] | str] = []

            def download(file_id: str = file.id, results: list[Any] = results) -> None:
                for _ in range(3):
                    try:
                        response = api.get(f"/files/{file_id}/content")
                        results.append((response.status_code, response.content))
                    except httpx2.HTTPError as exc:  # an answer cut after its headers
                        results.append(f"{type(exc).__name__}: {exc}")

            reader = threading.Thread(target=download)
            reader.start()
            client.files.delete(file.id)
            reader.join(WAIT)
            for result in results:
                assert not isinstance(result, str), result
                status, body = result
                if status == 200:
                    assert body == data, f"{len(body)} of {len(data)} bytes"
                else:
                    assert status == 404, body[:500]
                    assert_envelope(json.loads(body), f"No such File object: {file.id}")
                answers[str(status)] = answers.get(str(status), 0) + 1
    assert set(answers) <= {"200", "404"}, answers


class InUse(PermissionError):
    """What Windows raises for a file another handle holds open (ERROR_SHARING_VIOLATION)."""

    winerror = 32


def test_a_file_windows_holds_open_is_deleted_and_its_bytes_removed_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows refuses to move or remove a file that a download has open: the delete still
    succeeds (the file is gone for every call), and its bytes go once nothing holds them."""
    service = Service(Settings(state_dir=tmp_path / "state"))
    kept = service_upload(service, "ns", jsonl([chat_line("b")]))
    file = service_upload(service, "ns", jsonl([chat_line("a")]))
    path = service.store.file_path(file["id"])

    replace, unlink = os.replace, Path.unlink

    def move_unless_open(source: Any, target: Any) -> None:
        if Path(source) == path:
            raise InUse(13, "The process cannot access the file")
        replace(source, target)

    def unlink_unless_open(self: Path, missing_ok: bool = False) -> None:
        if self == path:
            raise InUse(13, "The process cannot access the file")
        unlink(self, missing_ok=missing_ok)

    handle = service.files.open_content("ns", file["id"])
    monkeypatch.setattr("batch_api_local.store.os.replace", move_unless_open)
    monkeypatch.setattr(Path, "unlink", unlink_unless_open)
    assert service.files.delete("ns", file["id"])["deleted"] is True
    monkeypatch.undo()
    assert handle.read() == jsonl([chat_line("a")])  # the download goes on
    handle.close()
    with pytest.raises(APIError) as caught:
        service.files.get("ns", file["id"])
    assert caught.value.status_code == 404
    assert path.exists()  # still marked, until the next delete or start sweeps it

    service.files.delete("ns", kept["id"])
    assert sorted(p.name for p in service.store.files_dir.iterdir()) == []
    service.store.close()
