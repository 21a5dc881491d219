"""Tests for helpers.batch_files: building, writing, checking and splitting batch input files."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pandas as pd
import pytest

from batch_api_local.validation import BatchError
from helpers import (
    build_requests,
    check_batch_file,
    problems_table,
    split_batch_file,
    wait_for_batch,
    write_jsonl,
)

from support import WAIT


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- build_requests --------------------------------------------------------------------------


def test_chat_requests_from_a_list_number_custom_ids_from_one():
    requests = build_requests(
        ["Hi", "Bye"], model="gpt-6-luna", system="Be brief.", max_output_tokens=50, n=1
    )
    assert [r["custom_id"] for r in requests] == ["request-1", "request-2"]
    first = requests[0]
    assert first["method"] == "POST" and first["url"] == "/v1/chat/completions"
    assert first["body"] == {
        "model": "gpt-6-luna",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
        ],
        "max_completion_tokens": 50,  # what reasoning models take (max_tokens is refused)
        "n": 1,
    }


def test_a_body_field_passed_by_name_goes_into_the_body_as_it_is():
    (request,) = build_requests(["Hi"], model="gpt-4o-mini", max_tokens=50, temperature=0)
    assert request["body"]["max_tokens"] == 50 and request["body"]["temperature"] == 0


def test_chat_without_system_or_max_tokens_has_only_the_user_message():
    (request,) = build_requests(["Hi"], model="gpt-4o-mini", custom_id_prefix="q")
    assert request["custom_id"] == "q1"
    assert request["body"] == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Hi"}],
    }


def test_responses_requests_use_input_instructions_and_max_output_tokens():
    (request,) = build_requests(
        ["Hi"],
        model="gpt-6-luna",
        endpoint="/v1/responses",
        system="Be brief.",
        max_output_tokens=20,
    )
    assert request["url"] == "/v1/responses"
    assert request["body"] == {
        "model": "gpt-6-luna",
        "input": "Hi",
        "instructions": "Be brief.",
        "max_output_tokens": 20,
    }


def test_embedding_requests_use_input_and_refuse_system_and_max_tokens():
    (request,) = build_requests(
        ["a cat"], model="text-embedding-3-small", endpoint="/v1/embeddings", dimensions=8
    )
    assert request["body"] == {"model": "text-embedding-3-small", "input": "a cat", "dimensions": 8}
    with pytest.raises(ValueError, match="system"):
        build_requests(["x"], model="text-embedding-3-small", endpoint="/v1/embeddings", system="s")
    with pytest.raises(ValueError, match="max_output_tokens"):
        build_requests(
            ["x"], model="text-embedding-3-small", endpoint="/v1/embeddings", max_output_tokens=5
        )


def test_unknown_endpoint_is_refused():
    with pytest.raises(ValueError, match="unknown endpoint"):
        build_requests(["x"], model="gpt-4o-mini", endpoint="/v1/chat")


def test_dataframe_custom_ids_come_from_its_column_or_its_index():
    frame = pd.DataFrame({"question": ["Q1", "Q2"], "custom_id": ["a", "b"]}, index=[10, 20])
    requests = build_requests(frame, model="gpt-4o-mini", column="question")
    assert [r["custom_id"] for r in requests] == ["a", "b"]
    assert [r["body"]["messages"][-1]["content"] for r in requests] == ["Q1", "Q2"]

    by_index = build_requests(
        frame.drop(columns="custom_id"), model="gpt-4o-mini", column="question"
    )
    assert [r["custom_id"] for r in by_index] == ["request-10", "request-20"]

    with pytest.raises(ValueError, match="'prompt'"):
        build_requests(frame, model="gpt-4o-mini")


# -- write_jsonl -----------------------------------------------------------------------------


def test_write_jsonl_writes_one_request_per_line_and_creates_directories(tmp_path):
    requests = build_requests(["Héllo", "Bye"], model="gpt-4o-mini")
    path = write_jsonl(requests, tmp_path / "deep" / "dir" / "input.jsonl")
    assert path == tmp_path / "deep" / "dir" / "input.jsonl"
    assert read_lines(path) == requests
    assert "Héllo" in path.read_text(encoding="utf-8")  # readable, not \u-escaped
    assert check_batch_file(path) == []


def test_write_jsonl_refuses_duplicate_custom_ids_and_names_them(tmp_path):
    requests = build_requests(["a", "b", "c"], model="gpt-4o-mini")
    requests[2]["custom_id"] = "request-1"
    target = tmp_path / "input.jsonl"
    with pytest.raises(ValueError, match="'request-1'") as info:
        write_jsonl(requests, target)
    assert "request-2" not in str(info.value)
    assert not target.exists()


# -- check_batch_file --------------------------------------------------------------------------


def chat_line(
    custom_id: str, *, model: str = "gpt-4o-mini", url: str = "/v1/chat/completions"
) -> str:
    body = {"model": model, "messages": [{"role": "user", "content": f"Say {custom_id}"}]}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body})


def four_problem_file(path: Path) -> Path:
    """Lines 2-5 each break one rule: duplicate id, second model, bad JSON, wrong url."""
    lines = [
        chat_line("request-1"),
        chat_line("request-1"),
        chat_line("request-3", model="gpt-4o"),
        '{"custom_id": "request-4", "method": "POST", "url": ',
        chat_line("request-5", url="/v1/completions"),
        chat_line("request-6"),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_check_batch_file_reports_each_bad_line_with_its_code_and_number(tmp_path):
    problems = check_batch_file(four_problem_file(tmp_path / "bad.jsonl"))
    assert [(p.line, p.code, p.param) for p in problems] == [
        (2, "duplicate_custom_id", "custom_id"),
        (3, "mismatched_model", "body.model"),
        (4, "invalid_json_line", None),
        (5, "invalid_url", "url"),
    ]
    assert all(isinstance(p, BatchError) and p.message for p in problems)


def test_check_batch_file_uses_the_given_endpoint(tmp_path):
    path = write_jsonl(build_requests(["a", "b"], model="gpt-4o-mini"), tmp_path / "in.jsonl")
    assert check_batch_file(path) == []
    problems = check_batch_file(path, endpoint="/v1/responses")
    assert [(p.line, p.code) for p in problems] == [(1, "invalid_url"), (2, "invalid_url")]


def test_unknown_models_are_reported_unless_any_model_is_allowed(tmp_path):
    path = write_jsonl(build_requests(["a", "b"], model="gpt-9-preview"), tmp_path / "in.jsonl")
    assert [(p.line, p.code) for p in check_batch_file(path)] == [
        (1, "model_not_found"),
        (2, "model_not_found"),
    ]
    assert check_batch_file(path, any_model=True) == []
    path.write_text(path.read_text() + chat_line("request-3", model="gpt-10") + "\n")
    assert [(p.line, p.code) for p in check_batch_file(path, any_model=True)] == [
        (3, "mismatched_model")
    ]


def test_check_batch_file_reports_an_empty_file_and_a_missing_one(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    # a file of blank lines is refused by the upload itself
    [problem] = check_batch_file(empty)
    assert problem.as_dict() == {
        "code": None,
        "message": "Invalid file format for Batch API. Must be .jsonl",
        "param": None,
        "line": None,
    }
    with pytest.raises(FileNotFoundError):
        check_batch_file(tmp_path / "missing.jsonl")


BAD_UPLOADS = {
    "photo.jsonl": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",  # binary
    "latin1.jsonl": '{"custom_id": "caf\u00e9"}\n'.encode("latin-1"),  # not UTF-8
    "pretty.jsonl": b'{\n  "custom_id": "a"\n}\n',  # first line is not an object
    "list.jsonl": b'[1, 2]\n{"custom_id": "a"}\n',
    "empty.jsonl": b"",
}


@pytest.mark.parametrize("name", sorted(BAD_UPLOADS))
def test_check_batch_file_reports_what_the_upload_refuses_as_the_upload_does(
    client, tmp_path, name
):
    path = tmp_path / name
    path.write_bytes(BAD_UPLOADS[name])
    [problem] = check_batch_file(path)
    with open(path, "rb") as fh, pytest.raises(openai.BadRequestError) as refused:
        client.files.create(file=fh, purpose="batch")
    error = refused.value.response.json()["error"]
    assert (problem.code, problem.message, problem.param) == (
        error["code"],
        error["message"],
        error["param"],
    )


def test_check_batch_file_agrees_with_the_server_field_by_field(client, tmp_path):
    path = four_problem_file(tmp_path / "bad.jsonl")
    expected = check_batch_file(path)
    assert len(expected) == 4

    with open(path, "rb") as fh:
        uploaded = client.files.create(file=fh, purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    batch = wait_for_batch(client, batch.id, poll_interval=0.05, timeout=WAIT, progress=False)

    assert batch.status == "failed"
    reported = [(e.line, e.code, e.param, e.message) for e in batch.errors.data]
    assert reported == [(p.line, p.code, p.param, p.message) for p in expected]


# -- problems_table --------------------------------------------------------------------------


def test_problems_table_has_one_row_per_problem(tmp_path):
    table = problems_table(check_batch_file(four_problem_file(tmp_path / "bad.jsonl")))
    assert list(table.columns) == ["line", "code", "param", "message"]
    assert table["line"].tolist() == [2, 3, 4, 5]
    assert str(table["line"].dtype) == "Int64"
    assert table.loc[0, "code"] == "duplicate_custom_id"
    assert table.loc[2, "param"] is None  # a bad JSON line has no param, as in the API


def test_problems_table_accepts_dicts_and_is_empty_with_columns_for_no_problems():
    table = problems_table([{"code": "empty_file", "message": "m", "param": None, "line": None}])
    assert table.loc[0, "code"] == "empty_file" and pd.isna(table.loc[0, "line"])
    empty = problems_table([])
    assert empty.empty and list(empty.columns) == ["line", "code", "param", "message"]


# -- split_batch_file --------------------------------------------------------------------------


def test_split_by_request_count_keeps_every_line_in_order(tmp_path):
    requests = build_requests([f"prompt {n}" for n in range(7)], model="gpt-4o-mini")
    source = write_jsonl(requests, tmp_path / "work.jsonl")
    parts = split_batch_file(source, tmp_path / "parts", max_requests=3)
    assert [p.name for p in parts] == [
        "work.part001.jsonl",
        "work.part002.jsonl",
        "work.part003.jsonl",
    ]
    assert [len(read_lines(p)) for p in parts] == [3, 3, 1]
    assert [r for p in parts for r in read_lines(p)] == requests
    assert all(check_batch_file(p) == [] for p in parts)


def test_split_by_bytes_never_cuts_a_line(tmp_path):
    source = write_jsonl(
        build_requests([f"prompt {n}" for n in range(5)], model="gpt-4o-mini"), tmp_path / "w.jsonl"
    )
    line_sizes = [len(line) for line in source.read_bytes().splitlines(keepends=True)]
    limit = line_sizes[0] * 2 + 1  # two lines fit, three do not
    parts = split_batch_file(source, tmp_path, max_bytes=limit)
    assert [len(read_lines(p)) for p in parts] == [2, 2, 1]
    assert all(p.stat().st_size <= limit for p in parts)
    assert b"".join(p.read_bytes() for p in parts) == source.read_bytes()


def test_split_counts_embedding_inputs(tmp_path):
    requests = build_requests(
        [["a", "b", "c"], ["d", "e"], ["f"]],
        model="text-embedding-3-small",
        endpoint="/v1/embeddings",
    )
    source = write_jsonl(requests, tmp_path / "emb.jsonl")
    parts = split_batch_file(source, tmp_path / "out", max_embedding_inputs=4)
    assert [[r["custom_id"] for r in read_lines(p)] for p in parts] == [
        ["request-1"],
        ["request-2", "request-3"],
    ]


def test_split_of_a_file_that_fits_is_one_part_and_old_parts_are_removed(tmp_path):
    source = write_jsonl(build_requests(["a", "b", "c"], model="gpt-4o-mini"), tmp_path / "w.jsonl")
    out = tmp_path / "out"
    assert len(split_batch_file(source, out, max_requests=1)) == 3
    parts = split_batch_file(source, out)
    assert [p.name for p in parts] == ["w.part001.jsonl"]
    assert sorted(p.name for p in out.iterdir()) == ["w.part001.jsonl"]


def test_split_refuses_a_line_larger_than_the_limit(tmp_path):
    source = write_jsonl(build_requests(["a" * 500], model="gpt-4o-mini"), tmp_path / "w.jsonl")
    with pytest.raises(ValueError, match="line 1"):
        split_batch_file(source, tmp_path / "out", max_bytes=100)
