"""Tests for helpers.tables: batches and validation errors as DataFrames."""

from __future__ import annotations

import json

import pandas as pd

from helpers import (
    batch_errors_table,
    batches_table,
    build_requests,
    check_batch_file,
    problems_table,
    wait_for_batch,
    write_jsonl,
)

from support import WAIT

COLUMNS = ["id", "status", "created", "total", "completed", "failed", "description"]


def run_batch(client, path, description=None):
    with open(path, "rb") as fh:
        file = client.files.create(file=fh, purpose="batch")
    batch = client.batches.create(
        input_file_id=file.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"description": description} if description else None,
    )
    return wait_for_batch(client, batch.id, poll_interval=0.05, timeout=WAIT, progress=False)


def test_batches_table_has_one_row_per_batch(client, tmp_path):
    good = write_jsonl(build_requests(["a", "b"], model="gpt-4o-mini"), tmp_path / "good.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text().replace("request-2", "request-1"))  # duplicate custom_id
    first = run_batch(client, good, description="nightly eval")
    second = run_batch(client, bad)

    table = batches_table(client.batches.list())

    assert list(table.columns) == COLUMNS
    assert table["id"].tolist() == [second.id, first.id]  # the API lists newest first
    rows = table.set_index("id")
    assert rows.loc[first.id, "status"] == "completed"
    assert (rows.loc[first.id, "total"], rows.loc[first.id, "completed"]) == (2, 2)
    assert rows.loc[first.id, "failed"] == 0
    assert rows.loc[first.id, "description"] == "nightly eval"
    assert rows.loc[second.id, "status"] == "failed"
    assert rows.loc[second.id, "description"] is None
    assert str(table["created"].dt.tz) == "UTC"
    assert table.loc[0, "created"] == pd.Timestamp(second.created_at, unit="s", tz="UTC")
    assert str(table["total"].dtype) == "Int64"


def test_batches_table_of_no_batches_is_empty_with_columns():
    table = batches_table([])
    assert table.empty and list(table.columns) == COLUMNS


def test_batch_errors_table_lists_a_failed_batch_errors_by_line(client, tmp_path):
    requests = build_requests(["a", "b", "c"], model="gpt-4o-mini")
    requests[2]["body"]["model"] = "gpt-4o"
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([json.dumps(requests[0]), "{oops", json.dumps(requests[2])]) + "\n")
    batch = run_batch(client, path)
    assert batch.status == "failed"

    table = batch_errors_table(batch)

    assert list(table.columns) == ["line", "code", "param", "message"]
    assert table["line"].tolist() == [2, 3]
    assert table["code"].tolist() == ["invalid_json_line", "mismatched_model"]
    pd.testing.assert_frame_equal(table, problems_table(check_batch_file(path)))


def test_batch_errors_table_of_a_good_batch_is_empty_with_columns(client, tmp_path):
    path = write_jsonl(build_requests(["a"], model="gpt-4o-mini"), tmp_path / "good.jsonl")
    table = batch_errors_table(run_batch(client, path))
    assert table.empty
    assert list(table.columns) == ["line", "code", "param", "message"]
