"""Tests for helpers.jobs (BatchJob), against the session's local server through the real SDK."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openai import OpenAI

from batch_api_local import force_line, request_input_tokens, set_token_limit
from helpers import BatchJob

from support import chat_line, conn, hold, release, wait_until, write_jsonl

#: every request of these tests: the same prompt, so the same number of input tokens
PROMPT = "Label this review: the kettle boils fast and switches itself off."


def job_file(tmp_path: Path, count: int = 12) -> tuple[Path, int]:
    """A batch input file of ``count`` chat requests; returns it and one request's tokens."""
    lines = [chat_line(f"r{n:02d}", PROMPT) for n in range(1, count + 1)]
    path = write_jsonl(tmp_path / "labels.jsonl", lines)
    return path, request_input_tokens(lines[0]["url"], lines[0]["body"])


def job_batches(client: OpenAI, job: BatchJob) -> list:
    return [b for b in client.batches.list(limit=100) if (b.metadata or {}).get("job") == job.name]


def completed_per_part(client: OpenAI, job: BatchJob) -> dict[str, int]:
    counts: dict[str, int] = {}
    for batch in job_batches(client, job):
        if batch.status == "completed":
            counts[batch.metadata["part"]] = counts.get(batch.metadata["part"], 0) + 1
    return counts


def test_create_splits_by_tokens_in_order_and_saves_a_manifest(tmp_path: Path) -> None:
    path, each = job_file(tmp_path, 10)

    job = BatchJob.create(path, tmp_path / "job", budget=12 * each, part_tokens=4 * each)

    assert [p["requests"] for p in job.parts] == [4, 4, 2]
    assert [p["input_tokens"] for p in job.parts] == [4 * each, 4 * each, 2 * each]
    assert all(p["status"] == "pending" and p["batch_id"] is None for p in job.parts)
    copied = b"".join((job.directory / p["path"]).read_bytes() for p in job.parts)
    assert copied == path.read_bytes()  # every line, unchanged and in order
    assert BatchJob.open(tmp_path / "job").manifest == job.manifest
    assert job.manifest["endpoint"] == "/v1/chat/completions"
    assert job.manifest["model"] == "gpt-4o-mini"


def test_a_part_takes_a_third_of_the_budget_unless_told(tmp_path: Path) -> None:
    path, each = job_file(tmp_path, 9)

    job = BatchJob.create(path, tmp_path / "job", budget=9 * each)

    assert [p["requests"] for p in job.parts] == [3, 3, 3]


def test_a_new_job_replaces_the_parts_of_the_old_one(tmp_path: Path) -> None:
    path, each = job_file(tmp_path, 9)
    first = BatchJob.create(path, tmp_path / "job", budget=9 * each, part_tokens=each)
    second = BatchJob.create(path, tmp_path / "job", budget=9 * each, part_tokens=3 * each)

    assert len(first.parts) == 9 and len(second.parts) == 3
    assert sorted(p.name for p in (tmp_path / "job").glob("part-*")) == [
        "part-001.jsonl",
        "part-002.jsonl",
        "part-003.jsonl",
    ]
    assert second.name != first.name


@pytest.mark.parametrize(
    ("budget", "part_tokens", "message"),
    [(0, None, "at least 1"), (100, 200, "more than budget"), (10, 1, "more than part_tokens")],
)
def test_create_refuses_limits_that_cannot_work(
    tmp_path: Path, budget: int, part_tokens: int | None, message: str
) -> None:
    path, _ = job_file(tmp_path, 2)
    with pytest.raises(ValueError, match=message):
        BatchJob.create(path, tmp_path / "job", budget=budget, part_tokens=part_tokens)


def test_create_and_open_say_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no batch input file"):
        BatchJob.create(tmp_path / "none.jsonl", tmp_path / "job", budget=100)
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no request"):
        BatchJob.create(tmp_path / "empty.jsonl", tmp_path / "job", budget=100)
    (tmp_path / "bad.jsonl").write_text('{"custom_id": "a"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 1 of bad.jsonl is not a request"):
        BatchJob.create(tmp_path / "bad.jsonl", tmp_path / "job", budget=100)
    with pytest.raises(FileNotFoundError, match="manifest.json is missing"):
        BatchJob.open(tmp_path / "nowhere")


def test_parts_go_in_as_the_budget_allows_and_the_rest_when_they_end(
    client: OpenAI, tmp_path: Path
) -> None:
    path, each = job_file(tmp_path, 12)
    job = BatchJob.create(path, tmp_path / "job", budget=9 * each, part_tokens=3 * each)
    hold(client, "in_progress")  # running parts stay running

    assert job.submit_what_fits(client, log=None) == ["1", "2", "3"]
    assert job.queued_tokens() == 9 * each
    assert job.parts[3]["batch_id"] is None  # part 4 waits
    assert BatchJob.open(job.directory).parts[2]["batch_id"] == job.parts[2]["batch_id"]

    release(client)
    job.run(client, poll_interval=0.05, log=None)

    assert job.done
    assert [p["status"] for p in job.parts] == ["completed"] * 4
    assert completed_per_part(client, job) == {"1": 1, "2": 1, "3": 1, "4": 1}
    batch = client.batches.retrieve(job.parts[0]["batch_id"])
    assert batch.metadata == {"job": job.name, "part": "1"}


def test_a_part_refused_for_the_queue_waits_and_goes_in_again(
    client: OpenAI, tmp_path: Path
) -> None:
    path, each = job_file(tmp_path, 9)
    # the job plans with room for three parts; the service's queue holds two
    job = BatchJob.create(path, tmp_path / "job", budget=9 * each, part_tokens=3 * each)
    set_token_limit(6 * each, **conn(client))
    hold(client, "in_progress")  # running parts stay running
    for part in job.parts[:2]:  # parts 1 and 2 run
        job.submit(client, part)
        wait_until(client, part["batch_id"], lambda b: b.status == "in_progress")
    lines: list[str] = []

    # part 3 is refused; while neither running part ends, it is not submitted again
    with pytest.raises(TimeoutError):
        job.run(client, poll_interval=0.05, timeout=2.0, log=lines.append)

    assert [p["status"] for p in job.parts] == ["in_progress", "in_progress", "pending"]
    assert job.parts[2]["batch_id"] is None and job.parts[2]["refusals"] == 1
    refusals = [line for line in lines if "refused" in line]
    assert len(refusals) == 1
    assert refusals[0].startswith("part 3: refused: Enqueued token limit reached for gpt-4o-mini")
    assert BatchJob.open(job.directory).parts[2]["refusals"] == 1  # saved

    release(client)  # a new kernel resumes: it waits, as the manifest says, for 1 or 2 to end
    resumed = BatchJob.open(job.directory)
    assert resumed.manifest["hold"] == sorted(p["batch_id"] for p in job.parts[:2])
    resumed.run(client, poll_interval=0.05, log=lines.append)
    job = resumed

    assert [p["status"] for p in job.parts] == ["completed"] * 3
    assert job.manifest["hold"] is None
    assert completed_per_part(client, job) == {"1": 1, "2": 1, "3": 1}
    statuses = sorted(b.status for b in job_batches(client, job))
    assert statuses == ["completed", "completed", "completed", "failed"]


def test_a_batch_whose_id_was_never_saved_is_found_not_created_again(
    client: OpenAI, tmp_path: Path
) -> None:
    path, each = job_file(tmp_path, 6)
    job = BatchJob.create(path, tmp_path / "job", budget=6 * each, part_tokens=2 * each)
    job.submit(client, job.parts[0])
    # part 2: uploaded and saved, its batch created, and the kernel dies before the save
    part = job.parts[1]
    with open(job.directory / part["path"], "rb") as fh:
        part["file_id"] = client.files.create(file=fh, purpose="batch").id
    job.save()
    lost = client.batches.create(
        input_file_id=part["file_id"],
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"job": job.name, "part": "2"},
    )

    resumed = BatchJob.open(job.directory)
    lines: list[str] = []
    resumed.run(client, poll_interval=0.05, log=lines.append)

    assert resumed.parts[1]["batch_id"] == lost.id
    assert lines[0] == f"part 2: found {lost.id}, created before"
    assert completed_per_part(client, resumed) == {"1": 1, "2": 1, "3": 1}
    assert len(job_batches(client, resumed)) == 3


def test_a_part_uploaded_but_never_created_is_submitted(client: OpenAI, tmp_path: Path) -> None:
    path, each = job_file(tmp_path, 2)
    job = BatchJob.create(path, tmp_path / "job", budget=2 * each, part_tokens=2 * each)
    with open(job.directory / job.parts[0]["path"], "rb") as fh:
        job.parts[0]["file_id"] = client.files.create(file=fh, purpose="batch").id
    job.save()

    assert job.find_lost(client, log=None) == []
    job.run(client, poll_interval=0.05, log=None)

    assert completed_per_part(client, job) == {"1": 1}
    assert (
        client.batches.retrieve(job.parts[0]["batch_id"]).input_file_id == job.parts[0]["file_id"]
    )


def test_results_and_a_retry_part_for_what_failed(client: OpenAI, tmp_path: Path) -> None:
    path, each = job_file(tmp_path, 6)
    job = BatchJob.create(path, tmp_path / "job", budget=6 * each, part_tokens=2 * each)
    force_line("r02", status_code=500, **conn(client))
    force_line("r05", status_code=500, **conn(client))
    job.run(client, poll_interval=0.05, log=None)

    results = job.results(client)
    failed = results.loc[results["status_code"] != 200, "custom_id"].tolist()
    assert sorted(failed) == ["r02", "r05"]
    assert len(results) == 6 and set(results["part"]) == {"1", "2", "3"}

    retry = job.add_retry_part(failed)
    assert retry is not None and retry["part"] == "4" and retry["requests"] == 2
    assert retry["input_tokens"] == 2 * each
    retried = [
        json.loads(line) for line in (job.directory / retry["path"]).read_text().splitlines()
    ]
    assert [r["custom_id"] for r in retried] == ["r02", "r05"]
    assert job.add_retry_part(["nobody"]) is None
    job.run(client, poll_interval=0.05, log=None)

    results = job.results(client)
    assert (results["status_code"] == 200).all() and len(results) == 6
    assert results.set_index("custom_id").loc[["r02", "r05"], "part"].tolist() == ["4", "4"]
    assert list(job.results(client, parts=["4"])["custom_id"]) == ["r02", "r05"]
    used = job.usage(client)
    assert used["input_tokens"] == 6 * each  # the failed requests used nothing
    assert used["output_tokens"] > 0


def test_run_stops_waiting_after_its_timeout_and_resumes_later(
    client: OpenAI, tmp_path: Path
) -> None:
    path, each = job_file(tmp_path, 2)
    job = BatchJob.create(path, tmp_path / "job", budget=2 * each, part_tokens=2 * each)
    hold(client, "in_progress")

    with pytest.raises(TimeoutError, match="BatchJob.open"):
        job.run(client, poll_interval=0.05, timeout=0.2, log=None)

    release(client)
    BatchJob.open(job.directory).run(client, poll_interval=0.05, log=None)
    assert completed_per_part(client, job) == {"1": 1}
