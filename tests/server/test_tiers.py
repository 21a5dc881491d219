"""Usage tiers: ``serve --tier N`` and ``POST /_local/tier`` apply each model's published batch
queue limit at that tier, and the embeddings' enqueued-request limit, through the SDK.

gpt-4o's tier-1 figure (90,000 enqueued tokens) is small enough for fast tests: a request of
about 50,000 tokens fits alone, two do not.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from batch_api_local import (
    ControlError,
    ServerInfo,
    ensure_server,
    reset,
    set_tier,
    set_token_limit,
    state,
    stop_server,
    temporarily,
    whoami,
)
from batch_api_local.constants import DEFAULT_TOKEN_LIMIT
from batch_api_local.tiers import EMBEDDINGS_REQUEST_LIMIT, QUEUE_LIMITS, request_limit, tier_limit

from support import (
    ROOT,
    chat_line,
    conn,
    free_port,
    hold,
    move_to,
    release,
    sdk_client,
    server_command,
    server_env,
    start_batch,
    start_class_server,
    stop,
    wait_for_models,
    wait_until,
)

#: about 50,000 input tokens for gpt-4o: one fits under tier 1's 90,000, two do not
BIG = "word " * 50_000
EMBEDDINGS = "/v1/embeddings"


def gpt4o(custom_id: str) -> dict[str, Any]:
    return chat_line(custom_id, BIG, model="gpt-4o")


def limit_message(model: str, limit: int) -> str:
    return (
        f"Enqueued token limit reached for {model} in organization org-local. "
        f"Limit: {limit:,} enqueued tokens. "
        "Please try again once some in_progress batches have been completed."
    )


def errors_of(batch: Any) -> list[dict[str, Any]]:
    assert batch.status == "failed", batch
    assert batch.errors is not None and batch.errors.data is not None
    return [e.model_dump() for e in batch.errors.data]


def token_limit_failure(model: str, limit: int) -> list[dict[str, Any]]:
    return [
        {
            "code": "token_limit_exceeded",
            "line": None,
            "param": None,
            "message": limit_message(model, limit),
        }
    ]


# -- the table -----------------------------------------------------------------------------------


def test_the_table_has_the_published_figures() -> None:
    assert tier_limit("gpt-4o", 1) == (True, 90_000)
    assert tier_limit("gpt-4o-2024-08-06", 1) == (True, 90_000)  # a snapshot: its alias's row
    assert tier_limit("gpt-4o", 5) == (True, 5_000_000_000)
    assert tier_limit("gpt-6-luna", 1) == (True, 5_000_000)
    assert tier_limit("gpt-4o-mini", 1) == (True, DEFAULT_TOKEN_LIMIT)
    assert tier_limit("text-embedding-3-small", 4) == (True, 500_000_000)
    assert tier_limit("omni-moderation-latest", 1) == (True, None)  # no queue published
    assert tier_limit("no-such-model", 1) == (False, None)  # the server's own limit
    assert request_limit("text-embedding-3-large") == EMBEDDINGS_REQUEST_LIMIT == 1_000_000
    assert request_limit("gpt-4o") is None
    for figures in QUEUE_LIMITS.values():
        assert figures is None or (len(figures) == 5 and list(figures) == sorted(figures))


def test_every_batch_model_of_the_catalog_has_a_row() -> None:
    from batch_api_local.models import MODELS

    missing = {info.id for info in MODELS.values() if info.batch} - set(QUEUE_LIMITS)
    assert not missing, f"models without a tier row: {sorted(missing)}"


# -- a namespace's tier, through the SDK ---------------------------------------------------------


def test_without_a_tier_nothing_changes(client: OpenAI) -> None:
    start = state(**conn(client))
    assert start["tier"] is None and start["token_limit"] == DEFAULT_TOKEN_LIMIT
    assert start["token_limit_set"] is False
    done = wait_until(client, start_batch(client, [gpt4o("a"), gpt4o("b")]).id)
    assert done.status == "completed", done  # 100,000 tokens under the single 2,000,000


def test_tier_1_refuses_a_batch_over_gpt_4o_s_90000(client: OpenAI) -> None:
    assert set_tier(1, **conn(client)) == 1
    assert state(**conn(client))["tier"] == 1
    done = wait_until(client, start_batch(client, [gpt4o("a"), gpt4o("b")]).id)
    assert errors_of(done) == token_limit_failure("gpt-4o", 90_000)
    assert done.request_counts is not None and done.request_counts.total == 0

    # gpt-4o-mini's tier-1 figure is 2,000,000: the same requests pass for it
    lines = [chat_line("a", BIG), chat_line("b", BIG)]
    assert wait_until(client, start_batch(client, lines).id).status == "completed"


def test_tier_1_refuses_a_batch_that_fits_alone_but_not_with_one_running(client: OpenAI) -> None:
    set_tier(1, **conn(client))
    hold(client, "in_progress")
    first = start_batch(client, [gpt4o("first")])
    move_to(client, first.id, "in_progress")
    second = wait_until(client, start_batch(client, [gpt4o("second")]).id)
    assert errors_of(second) == token_limit_failure("gpt-4o", 90_000)
    release(client)
    assert wait_until(client, first.id).status == "completed"

    # once the first has completed its tokens no longer count
    again = wait_until(client, start_batch(client, [gpt4o("again")]).id)
    assert again.status == "completed", again


def test_tier_5_accepts_the_same(client: OpenAI) -> None:
    set_tier(5, **conn(client))
    hold(client, "in_progress")
    first = start_batch(client, [gpt4o("first"), gpt4o("first-b")])
    move_to(client, first.id, "in_progress")
    second = start_batch(client, [gpt4o("second")])
    move_to(client, second.id, "in_progress")  # validated while the first one runs
    release(client)
    assert wait_until(client, first.id).status == "completed"
    assert wait_until(client, second.id).status == "completed"


def test_a_token_limit_set_by_a_control_call_wins_over_the_tier(client: OpenAI) -> None:
    set_tier(1, **conn(client))
    assert set_token_limit(200_000, **conn(client)) == 200_000
    assert state(**conn(client))["token_limit_set"] is True
    lines = [gpt4o("a"), gpt4o("b")]
    assert wait_until(client, start_batch(client, lines).id).status == "completed"

    assert set_token_limit(50, **conn(client)) == 50  # for every model, gpt-4o-mini included
    small = wait_until(client, start_batch(client, [chat_line("s", "word " * 100)]).id)
    assert errors_of(small) == token_limit_failure("gpt-4o-mini", 50)

    # "default": the server's own limit again, and the tier's figures decide
    assert set_token_limit("default", **conn(client)) == DEFAULT_TOKEN_LIMIT
    assert state(**conn(client))["token_limit_set"] is False
    done = wait_until(client, start_batch(client, lines).id)
    assert errors_of(done) == token_limit_failure("gpt-4o", 90_000)


def test_temporarily_sets_the_tier_for_a_block(client: OpenAI) -> None:
    with temporarily(tier=1, **conn(client)):
        assert state(**conn(client))["tier"] == 1
        done = wait_until(client, start_batch(client, [gpt4o("a"), gpt4o("b")]).id)
        assert errors_of(done) == token_limit_failure("gpt-4o", 90_000)
    assert state(**conn(client))["tier"] is None

    # a token limit set for a block goes back to "not set": the tier decides again after it
    set_tier(1, **conn(client))
    with temporarily(token_limit=500_000, **conn(client)):
        assert state(**conn(client))["token_limit_set"] is True
    after = state(**conn(client))
    assert (after["tier"], after["token_limit"], after["token_limit_set"]) == (
        1,
        DEFAULT_TOKEN_LIMIT,
        False,
    )


def test_a_tier_changed_during_the_block_is_kept(client: OpenAI) -> None:
    with temporarily(tier=1, **conn(client)):
        set_tier(3, **conn(client))
    assert state(**conn(client))["tier"] == 3


def test_reset_puts_the_tier_back(client: OpenAI) -> None:
    set_tier(2, **conn(client))
    set_token_limit(77, **conn(client))
    after = reset(**conn(client))
    assert (after["tier"], after["token_limit"], after["token_limit_set"]) == (
        None,
        DEFAULT_TOKEN_LIMIT,
        False,
    )


@pytest.mark.parametrize("tier", [0, 6, -1, "1", 2.0, True, [1]])
def test_a_tier_that_is_not_1_to_5_is_refused(client: OpenAI, tier: Any) -> None:
    with pytest.raises(ControlError, match="tier must be a usage tier from 1 to 5"):
        set_tier(tier, **conn(client))
    assert state(**conn(client))["tier"] is None


def test_a_tier_needs_a_value(client: OpenAI) -> None:
    import httpx2

    response = httpx2.post(
        str(client.base_url).removesuffix("/v1/") + "/_local/tier",
        json={},
        headers={"Authorization": f"Bearer {client.api_key}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "tier"


# -- serve --tier, and the embeddings' request limit ---------------------------------------------


@pytest.fixture(scope="module")
def tier1_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    state_dir = tmp_path_factory.mktemp("tier-1")
    info = ensure_server(state_dir, port=free_port(), pace="instant", tier=1)
    try:
        yield info
    finally:
        stop_server(state_dir)


def test_serve_tier_1(tier1_server: ServerInfo) -> None:
    client = sdk_client(tier1_server.base_url)
    now = reset(**conn(client))
    assert now["tier"] == 1 and now["token_limit_set"] is False
    done = wait_until(client, start_batch(client, [gpt4o("a"), gpt4o("b")]).id)
    assert errors_of(done) == token_limit_failure("gpt-4o", 90_000)

    # None: no tier for this namespace; "default": the server's tier again
    assert set_tier(None, **conn(client)) is None
    assert wait_until(client, start_batch(client, [gpt4o("a"), gpt4o("b")]).id).status == (
        "completed"
    )
    assert set_tier("default", **conn(client)) == 1
    assert reset(**conn(client))["tier"] == 1


@pytest.mark.parametrize("tier", ["0", "6", "one", "1.5"])
def test_serve_refuses_a_tier_outside_1_to_5(tmp_path: Path, tier: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "batch_api_local", "serve", "--tier", tier],
        capture_output=True,
        text=True,
        env=server_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 2
    assert f"argument --tier: {tier!r} is not a usage tier: give 1, 2, 3, 4 or 5" in run.stderr
    assert not (tmp_path / ".local-batch-api").exists()


#: a server process whose embeddings request limit is 5 instead of 1,000,000 (a batch holds at
#: most 50,000 requests, so the real figure needs 21 batches of 50,000 lines)
SMALL_REQUEST_LIMIT = "import batch_api_local.tiers as tiers\ntiers.EMBEDDINGS_REQUEST_LIMIT = 5\n"


def embedding_line(custom_id: str) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": EMBEDDINGS,
        "body": {"model": "text-embedding-3-small", "input": f"penguin {custom_id}"},
    }


def test_the_embeddings_request_limit(tmp_path: Path) -> None:
    port = free_port()
    command = server_command(SMALL_REQUEST_LIMIT, port, tmp_path / "state")
    process = subprocess.Popen(
        [*command, "--tier", "5", "--pace", "instant"],
        env=server_env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_models(process, port)
        client = sdk_client(f"http://127.0.0.1:{port}/v1")
        hold(client, "in_progress")
        first = start_batch(
            client, [embedding_line(f"a{i}") for i in range(3)], endpoint=EMBEDDINGS
        )
        move_to(client, first.id, "in_progress")
        # 3 running + 3 > 5
        second = start_batch(
            client, [embedding_line(f"b{i}") for i in range(3)], endpoint=EMBEDDINGS
        )
        refused = wait_until(client, second.id)
        assert errors_of(refused) == [
            {
                "code": "request_limit_exceeded",
                "line": None,
                "param": None,
                "message": "Enqueued request limit reached for text-embedding-3-small in "
                "organization org-local. Limit: 5 enqueued requests. Please try again once "
                "some in_progress batches have been completed.",
            }
        ]
        # 3 + 2 fits; chat batches do not count requests
        fits = start_batch(client, [embedding_line(f"c{i}") for i in range(2)], endpoint=EMBEDDINGS)
        move_to(client, fits.id, "in_progress")
        chat = start_batch(client, [chat_line(f"d{i}") for i in range(6)])
        move_to(client, chat.id, "in_progress")
        release(client)
        for batch in (first, fits, chat):
            assert wait_until(client, batch.id).status == "completed"

        # without a tier there is no request limit
        set_tier(None, **conn(client))
        six = start_batch(client, [embedding_line(f"e{i}") for i in range(6)], endpoint=EMBEDDINGS)
        assert wait_until(client, six.id).status == "completed"
    finally:
        stop(process)


# -- a class: each student's own tier, and the instructor's ------------------------------------

ADMIN_KEY = "sk-class-instructor-tiers-000001"
STUDENTS = [
    ("sk-class-tier-alice-0000000001", "student-a"),
    ("sk-class-tier-bob-00001", "student-b"),
]


@pytest.fixture(scope="module")
def class_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    folder = tmp_path_factory.mktemp("tier-class")
    info = start_class_server(folder, STUDENTS, ADMIN_KEY)
    try:
        yield info
    finally:
        stop_server(folder / "state")


def test_a_students_tier_is_their_own_and_the_instructor_may_set_any(
    class_server: ServerInfo,
) -> None:
    a, b = (sdk_client(class_server.base_url, key) for key, _ in STUDENTS)
    admin = {"base_url": class_server.base_url, "api_key": ADMIN_KEY}
    for client in (a, b):
        reset(**conn(client))

    assert set_tier(1, **conn(a)) == 1
    assert state(**conn(b))["tier"] is None
    assert wait_until(b, start_batch(b, [gpt4o("x"), gpt4o("y")]).id).status == "completed"
    done = wait_until(a, start_batch(a, [gpt4o("x"), gpt4o("y")]).id)
    assert errors_of(done) == token_limit_failure("gpt-4o", 90_000)

    # a student may not name a namespace
    with pytest.raises(ControlError, match="Only an instructor's key"):
        set_tier(5, namespace="student-b", **conn(a))

    # the instructor: one student by label, or the whole class
    assert set_tier(3, namespace="student-b", **admin) == 3
    assert state(**conn(b))["tier"] == 3 and state(**conn(a))["tier"] == 1
    set_tier(4, namespace="*", **admin)
    assert state(**conn(a))["tier"] == state(**conn(b))["tier"] == 4
    seen = state(namespace="*", **admin)
    namespaces = {whoami(**conn(a))["namespace"], whoami(**conn(b))["namespace"]}
    assert {row["namespace"]: row["tier"] for row in seen["data"]}.items() >= {
        ns: 4 for ns in namespaces
    }.items()
    reset(namespace="*", **admin)
    assert state(**conn(a))["tier"] is None


def test_a_namespaces_tier_survives_a_restart(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    info = ensure_server(state_dir, port=free_port(), pace="instant")
    try:
        set_tier(2, base_url=info.base_url, api_key="sk-x")
        set_token_limit(1234, base_url=info.base_url, api_key="sk-x")
    finally:
        stop_server(state_dir)
    info = ensure_server(state_dir, port=free_port(), pace="instant")
    try:
        now = state(base_url=info.base_url, api_key="sk-x")
        assert (now["tier"], now["token_limit"], now["token_limit_set"]) == (2, 1234, True)
    finally:
        stop_server(state_dir)
