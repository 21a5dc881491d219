"""``batches.retrieve`` on the hot path answers exactly what the routes answer.

A known key asking for one of its own batches is answered before the framework
(:mod:`batch_api_local.routes.hot`); every other case goes on to the routes. Either way the
client sees the same thing: the same object, a request id, and the same errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from batch_api_local import ServerInfo, stop_server

from support import (
    CHAT,
    RawApi,
    assert_error,
    chat_line,
    raw,
    sdk_client,
    start_class_server,
    upload,
    wait_until,
)

ALICE, BOB, ADMIN = "sk-hot-alice-0001", "sk-hot-bob-0002", "sk-hot-admin-0003"


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    folder = tmp_path_factory.mktemp("hot")
    info = start_class_server(folder, [(ALICE, "alice"), (BOB, "bob")], ADMIN)
    try:
        yield info
    finally:
        stop_server(Path(folder) / "state")


@pytest.fixture(scope="module")
def batch_id(classroom: ServerInfo) -> str:
    alice = sdk_client(classroom.base_url, ALICE)
    file = upload(alice, [chat_line("a"), chat_line("b")])
    batch = alice.batches.create(input_file_id=file.id, endpoint=CHAT, completion_window="24h")
    return wait_until(alice, batch.id).id


def test_the_hot_path_answers_the_routes_object(classroom: ServerInfo, batch_id: str):
    with RawApi(classroom.base_url, ALICE) as api:
        hot = api.get(f"/batches/{batch_id}")
        listed = api.get("/batches").json()["data"]  # through the routes
    assert hot.status_code == 200
    assert hot.headers["content-type"] == "application/json"
    assert hot.headers["x-request-id"].startswith("req_")
    assert json.loads(hot.content) == listed[0]
    assert sdk_client(classroom.base_url, ALICE).batches.retrieve(batch_id).status == "completed"


def test_what_the_hot_path_does_not_answer_the_routes_do(classroom: ServerInfo, batch_id: str):
    path = f"/batches/{batch_id}"
    # another key's batch: as if it did not exist
    error = assert_error(raw(classroom.base_url, "GET", path, key=BOB), 404)
    assert error["message"] == f"No batch found with id '{batch_id}'."
    # no key, a key that is not the class's
    assert_error(raw(classroom.base_url, "GET", path, key=None), 401)
    assert_error(raw(classroom.base_url, "GET", path, key="sk-nobody-at-all-999"), 401)
    # a query string, a batch that does not exist
    with_query = raw(classroom.base_url, "GET", path + "?x=1", key=ALICE)
    assert with_query.status_code == 200 and with_query.json()["id"] == batch_id
    missing = "batch_" + "0" * 32
    assert_error(raw(classroom.base_url, "GET", f"/batches/{missing}", key=ALICE), 404)
    # the Host check comes first, as for every call
    foreign = raw(classroom.base_url, "GET", path, key=ALICE, headers={"Host": "evil.example"})
    assert_error(foreign, 400)
