"""Twenty clients at once against one server, each running the whole batch lifecycle.

Every client has its own ``OpenAI`` instance and its own input file, and uploads, creates a
batch, polls it to ``completed``, downloads and checks its output, lists, and deletes its input
file. All must succeed with no 5xx (the clients never retry, so any 5xx raises) and the server
log must not mention a locked database or a traceback.

Nothing here is timed: a busy machine makes the run slower, not wrong. The waits are bounded
only so that a server that stops answering fails the test with a message.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import openai
from openai import OpenAI

from batch_api_local import ServerInfo, set_pace

from support import (
    CHAT,
    TEST_KEY,
    WAIT,
    assert_clean_log,
    assert_healthy,
    chat_line,
    file_lines,
    jsonl,
    log_offset,
    log_since,
    sdk_client,
    wait_until,
)

CLIENTS = 20


def _lifecycle(server: ServerInfo, worker: int, start: threading.Barrier) -> dict[str, Any]:
    """One client's whole lifecycle; returns what it saw. Raises on anything unexpected."""
    client = sdk_client(server.base_url)
    n = 3 + worker % 5
    ids = [f"w{worker:02d}-q{j}" for j in range(n)]
    data = jsonl(chat_line(cid, f"worker {worker} question {j}") for j, cid in enumerate(ids))
    start.wait(timeout=WAIT)

    file = client.files.create(file=(f"worker-{worker}.jsonl", data), purpose="batch")
    assert (file.bytes, file.filename) == (len(data), f"worker-{worker}.jsonl")
    assert client.files.content(file.id).content == data
    batch = client.batches.create(
        input_file_id=file.id,
        endpoint=CHAT,
        completion_window="24h",
        metadata={"worker": str(worker)},
    )
    final = wait_until(client, batch.id)
    assert final.status == "completed", final
    assert final.request_counts is not None
    assert (final.request_counts.total, final.request_counts.completed) == (n, n)
    assert final.request_counts.failed == 0 and final.error_file_id is None

    out = file_lines(client, final.output_file_id)
    assert [x["custom_id"] for x in out] == ids  # this client's requests, nobody else's
    for j, line in enumerate(out):
        reply = line["response"]["body"]["choices"][0]["message"]["content"]
        assert f"worker {worker} question {j}" in reply, reply

    listed = {b.id: b for b in client.batches.list(limit=100).data}
    assert batch.id in listed and listed[batch.id].metadata == {"worker": str(worker)}
    assert file.id in {f.id for f in client.files.list(purpose="batch").data}

    deleted = client.files.delete(file.id)
    assert (deleted.id, deleted.deleted) == (file.id, True)
    try:
        client.files.retrieve(file.id)
    except openai.NotFoundError:
        pass
    else:
        raise AssertionError(f"{file.id} still retrievable after delete")
    return {"worker": worker, "batch": batch.id, "output": final.output_file_id}


def _run_all(server: ServerInfo) -> list[dict[str, Any]]:
    start = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(_lifecycle, server, i, start) for i in range(CLIENTS)]
        errors, results = [], []
        for worker, future in enumerate(futures):
            try:
                results.append(future.result(timeout=3 * WAIT))
            except FutureTimeout:
                errors.append(f"client {worker} had not finished after {3 * WAIT:g} s")
            except Exception as exc:  # collect every failure, not just the first
                errors.append(f"client {worker}: {exc!r}")
    assert not errors, "\n".join(errors)
    return results


def _check_results(client: OpenAI, results: list[dict[str, Any]]) -> None:
    """Every client finished, each with its own completed batch, and only outputs are left."""
    assert sorted(r["worker"] for r in results) == list(range(CLIENTS))
    batches = client.batches.list(limit=100).data
    assert {b.id for b in batches} == {r["batch"] for r in results}
    assert all(b.status == "completed" for b in batches)
    # only the output files are left: every input file was deleted by its own client
    remaining = client.files.list().data
    assert {f.id for f in remaining} == {r["output"] for r in results}
    assert all(f.purpose == "batch_output" for f in remaining)


def test_twenty_clients_run_the_whole_lifecycle_at_once(
    client: OpenAI, local_server: ServerInfo
) -> None:
    offset = log_offset(local_server.state_dir)
    results = _run_all(local_server)
    _check_results(client, results)
    assert_healthy(local_server.root_url)
    assert_clean_log(log_since(local_server.state_dir, offset))


def test_twenty_clients_poll_and_list_while_batches_run(
    client: OpenAI, local_server: ServerInfo
) -> None:
    """The same lifecycle with the runner busy: requests take time, so polls meet its writes."""
    conn = {"base_url": local_server.base_url, "api_key": TEST_KEY}
    set_pace(validating=0.2, per_request=0.02, finalizing=0.2, cancelling=0, **conn)
    offset = log_offset(local_server.state_dir)
    try:
        results = _run_all(local_server)
    finally:
        set_pace("instant", **conn)
    _check_results(client, results)
    assert_healthy(local_server.root_url)
    assert_clean_log(log_since(local_server.state_dir, offset))
