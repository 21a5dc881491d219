"""Fuzz the local server with schemathesis, against OpenAI's own OpenAPI spec.

Every operation in ``tests/fixtures/openapi_fuzz.json`` (Files, Batches and the five endpoints a
batch line can target: a slice of OpenAI's published spec, with the patches listed in
``tests/fixtures/openapi_fuzz.md``) gets generated requests, valid and invalid, all with a valid
bearer key, on a private server (pace: instant). Every response must pass four checks:

* ``not_a_server_error``: no 5xx;
* ``status_code_conformance``: the status is one the (patched) spec documents;
* ``content_type_conformance``: the content type is one the spec documents for that status;
* ``response_schema_conformance``: the body matches the spec's schema for that status (OpenAI's
  error envelope for the 4xx).

The run is bounded and repeatable: a fixed seed, derandomized generation, no example database,
``EXAMPLES`` generated cases per operation, plus the spec's own examples and, for Files and
Batches, schemathesis's deterministic "coverage" cases (boundary values, missing and wrong-typed
parameters, unexpected methods). Set ``FUZZ_SEED`` or ``FUZZ_EXAMPLES`` to explore further by
hand.

Random strings rarely name a real object, so the hooks below steer some cases, leaving the others
as generated: path ids are sometimes those of files and batches made before the run (a completed,
a failed, a cancelled and an expired batch; batch, result, user_data, evals and assistants files);
``POST /files`` sometimes uploads a valid batch JSONL file; ``POST /batches`` sometimes names a
real input file; the direct endpoints sometimes name a model of the server's catalog that serves
them. After the run the server must still be healthy, with no traceback in its log.

A server bug that fuzzing found is pinned by an explicit case below, marked ``xfail(strict=True)``
so that fixing it turns the mark into a failure to remove: ``POST /v1/responses`` echoes unchecked
built-in tools into ``Response.tools`` (``test_responses_tools``). Other seeds or more examples
will meet it in ``POST /responses`` too.

Run it alone: ``.venv/bin/pytest tests/reliability/test_rel_fuzz.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis.internal.conjecture.providers as hypothesis_providers
import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from openai import OpenAI
from openai.types import FilePurpose
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from batch_api_local import ServerInfo, ensure_server, expire_batch, stop_server
from batch_api_local.models import list_models

from support import (
    TEST_KEY,
    assert_clean_log,
    assert_healthy,
    chat_line,
    conn,
    free_port,
    hold,
    jsonl,
    log_since,
    release,
    sdk_client,
    wait_until,
)

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "openapi_fuzz.json"
SEED = int(os.environ.get("FUZZ_SEED", "20250917"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))  # generated cases per operation
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
DIRECT = ("/chat/completions", "/completions", "/embeddings", "/moderations", "/responses")
# the catalog models that serve each direct endpoint
MODELS = {path: sorted(m.id for m in list_models() if m.supports("/v1" + path)) for path in DIRECT}

# Hypothesis also draws constants it finds in the project's own (non-test) modules imported so
# far, so the cases would change with every edit of the server and with which other test modules
# were collected first. That pool stays empty while this module is collected (schemathesis makes
# its coverage cases then) and run; `restore_hypothesis` puts it back.
_local_constants = hypothesis_providers._get_local_constants
hypothesis_providers._get_local_constants = hypothesis_providers.Constants
hypothesis_providers.CONSTANTS_CACHE.cache.clear()

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",  # valid and invalid requests
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",  # no replay of earlier failures: every run is the same run
            # the key is the test's (AUTH), never generated nor left out
            "with-security-parameters": False,
        },
        "phases": {
            "examples": {"enabled": True},
            "fuzzing": {"enabled": True},
            "coverage": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "operations": [
            {
                # the coverage phase makes thousands of cases of their big request schemas
                "include-path": list(DIRECT),
                "phases": {"coverage": {"enabled": False}},
            }
        ],
    }
)
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG)

# ids of real objects, filled by the ``fuzz_server`` fixture before any case is generated
KNOWN: dict[str, list[str]] = {"file_id": [], "batch_id": [], "input_file_id": [], "delete": []}


# -- the server and its objects -------------------------------------------------------------------


def _seed(client: OpenAI) -> None:
    """Files of several purposes, and a batch in each ending a batch can have."""
    lines = jsonl([chat_line("a", "Hello."), chat_line("b", "Name a colour.")])
    batch_file = client.files.create(file=("input.jsonl", lines), purpose="batch")
    KNOWN["input_file_id"].append(batch_file.id)
    KNOWN["file_id"].append(batch_file.id)
    others: list[tuple[str, bytes, FilePurpose]] = [
        ("notes.txt", b"not downloadable", "user_data"),
        ("evals.jsonl", b'{"item": 1}\n', "evals"),
        ("doc.md", b"# a document\n", "assistants"),
    ]
    for name, data, purpose in others:
        KNOWN["file_id"].append(client.files.create(file=(name, data), purpose=purpose).id)
    # DELETE comes before the other file operations: it gets files of its own to delete
    for i in range(3):
        KNOWN["delete"].append(
            client.files.create(file=(f"old-{i}.txt", b"x"), purpose="user_data").id
        )

    def batch(input_file_id: str) -> str:
        created = client.batches.create(
            input_file_id=input_file_id,
            endpoint="/v1/chat/completions",
            completion_window="24h",
            metadata={"seeded": "yes"},
        )
        KNOWN["batch_id"].append(created.id)
        return created.id

    completed, failed = batch(batch_file.id), batch("file-does-not-exist")
    assert wait_until(client, failed).status == "failed"
    output_file_id = wait_until(client, completed).output_file_id
    assert output_file_id is not None
    KNOWN["file_id"].append(output_file_id)

    hold(client, "validating")  # while they are cancelled and expired
    cancelled, expired = batch(batch_file.id), batch(batch_file.id)
    client.batches.cancel(cancelled)
    expire_batch(expired, **conn(client))
    release(client)
    assert wait_until(client, cancelled).status == "cancelled"
    assert wait_until(client, expired).status == "expired"


@pytest.fixture(scope="module", autouse=True)
def restore_hypothesis() -> Iterator[None]:
    yield
    hypothesis_providers._get_local_constants = _local_constants
    hypothesis_providers.CONSTANTS_CACHE.cache.clear()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    """A private server (pace: instant) with a few real files and batches."""
    state_dir = tmp_path_factory.mktemp("fuzz-server-state")
    info = ensure_server(state_dir, port=free_port(), pace="instant")
    try:
        _seed(sdk_client(info.base_url))
        yield info
        assert_healthy(info.root_url)
        assert_clean_log(log_since(state_dir, 0))
    finally:
        stop_server(state_dir)
        for pool in KNOWN.values():
            pool.clear()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.trust_env = False  # never through a proxy
        yield s


# -- steering: sometimes a real id, a valid upload, a known model ---------------------------------


def _sometimes(value: Any, real: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The generated value, or one drawn from ``real``."""
    return st.one_of(st.just(value), real)


@schema.hook("flatmap_path_parameters")
def real_ids(context: schemathesis.HookContext, path_parameters: Any) -> st.SearchStrategy[Any]:
    if not isinstance(path_parameters, dict) or context.operation is None:
        return st.just(path_parameters)
    name = next((n for n in ("file_id", "batch_id") if n in path_parameters), "")
    pool = KNOWN["delete" if context.operation.method.lower() == "delete" else name] if name else []
    if not pool:
        return st.just(path_parameters)
    ids = st.sampled_from(pool)
    return _sometimes(path_parameters, ids.map(lambda v: {**path_parameters, name: v}))


@st.composite
def _batch_upload(draw: st.DrawFn) -> dict[str, Any]:
    """A valid ``purpose=batch`` upload: 1 to 3 chat lines with unique custom ids."""
    custom_ids = draw(
        st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3, unique=True)
    )
    model = draw(st.sampled_from(MODELS["/chat/completions"]))
    lines = [chat_line(c, draw(st.text(max_size=20)), model=model) for c in custom_ids]
    body: dict[str, Any] = {"file": jsonl(lines), "purpose": "batch"}
    if draw(st.booleans()):
        # as the SDK sends it: one form field per key, not the object as JSON text
        body["expires_after[anchor]"] = "created_at"
        body["expires_after[seconds]"] = str(draw(st.integers(3600, 2592000)))
    return body


@schema.hook("flatmap_body")
def real_bodies(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    operation = context.operation
    if operation is None or not isinstance(body, dict):
        return st.just(body)
    path = operation.path
    if path == "/files" and operation.method.lower() == "post":
        return _sometimes(body, _batch_upload())
    if path == "/batches" and KNOWN["input_file_id"]:
        files = st.sampled_from(KNOWN["input_file_id"])
        return _sometimes(body, files.map(lambda v: {**body, "input_file_id": v}))
    if path in DIRECT:
        # /responses also needs an input, which its schema does not require
        extra = {"input": "Hello."} if path == "/responses" and "input" not in body else {}
        models = st.sampled_from(MODELS[path])
        return _sometimes(body, models.map(lambda m: {**body, **extra, "model": m}))
    return st.just(body)


# -- the test -------------------------------------------------------------------------------------


@schema.parametrize()
def test_fuzz(case: schemathesis.Case, fuzz_server: ServerInfo, session: requests.Session) -> None:
    case.call_and_validate(
        base_url=fuzz_server.base_url,
        session=session,
        headers=AUTH,
        checks=CHECKS,
        timeout=30,
    )


# -- what the fuzzing found once, kept as explicit cases ------------------------------------


@pytest.mark.parametrize(
    "tool",
    [
        pytest.param({"type": "web_search"}, id="web_search"),
        pytest.param({"type": "file_search", "vector_store_ids": ["vs_1"]}, id="file_search"),
        pytest.param({"type": "no_such_tool"}, id="unknown-type"),
        pytest.param({"type": "web_search", "search_context_size": "huge"}, id="outside-enum"),
        pytest.param({"type": "file_search"}, id="missing-vector_store_ids"),
    ],
)
def test_responses_tools(
    tool: dict[str, Any], fuzz_server: ServerInfo, session: requests.Session
) -> None:
    """A built-in tool is either refused (4xx) or echoed in a Response that fits the spec."""
    case = schema["/responses"]["POST"].Case(
        body={"model": "gpt-4o-mini", "input": "Hello.", "tools": [tool]},
        media_type="application/json",
    )
    case.call_and_validate(
        base_url=fuzz_server.base_url,
        session=session,
        headers=AUTH,
        checks=CHECKS,
        timeout=30,
    )
