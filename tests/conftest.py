"""Shared fixtures: one local server for the whole test session, and SDK clients for it.

The server runs as a real subprocess (``batch-api-local serve``) on a free port
with its own temporary state directory and the "instant" pace; each test starts from an empty
namespace (``reset``, which also puts the pace back). Clients never retry, so that a wrong status
shows up as a failure, not as a wait. The helpers the tests share are in ``support.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from openai import OpenAI

from batch_api_local import ServerInfo, ensure_server, reset, stop_server
from batch_api_local.config import CLOCK_ENV

from support import (
    TEST_CLOCK,
    TEST_KEY,
    Gate,
    Gated,
    GatedServer,
    contains_held,
    free_port,
    sdk_client,
    start_gated_server,
)

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"
# The day every server the tests start (and every Service they build) believes it is: the models
# the tests name were all served then, so the suite passes whatever the real date, long after
# they shut down. Tests of what changes with the date set their own clock.
os.environ[CLOCK_ENV] = TEST_CLOCK


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    state_dir = tmp_path_factory.mktemp("local-server-state")
    info = ensure_server(state_dir, port=free_port(), pace="instant")
    yield info
    stop_server(state_dir)


@pytest.fixture
def client(local_server: ServerInfo) -> OpenAI:
    """An SDK client on an empty namespace of the shared test server (pace: instant)."""
    reset(base_url=local_server.base_url, api_key=TEST_KEY)
    return sdk_client(local_server.base_url)


@pytest.fixture
def server_env(local_server: ServerInfo, monkeypatch: pytest.MonkeyPatch) -> ServerInfo:
    """OPENAI_BASE_URL/OPENAI_API_KEY pointing at the test server, as helpers.setup() would."""
    monkeypatch.setenv("OPENAI_BASE_URL", local_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    reset(base_url=local_server.base_url, api_key=TEST_KEY)
    return local_server


@pytest.fixture(scope="session")
def gated_server(
    local_server: ServerInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatedServer]:
    gate = Gate(local_server.root_url)
    state_dir = tmp_path_factory.mktemp("gated-server-state")
    info = start_gated_server(gate, state_dir)
    try:
        yield GatedServer(info, gate)
    finally:
        gate.open()
        stop_server(state_dir)
        gate.shutdown()


@pytest.fixture
def gated(gated_server: GatedServer) -> Iterator[Gated]:
    """A client whose batches stop at the first chunk with a HELD request, until gate.open().

    The gate is open while the namespace is reset (a reset waits for the runner's step, which a
    held request would block), closed for the test, and opened again afterwards.
    """
    gate = gated_server.gate
    gate.open()
    gate.holds = contains_held
    reset(base_url=gated_server.info.base_url, api_key=TEST_KEY)
    gate.close()
    try:
        yield Gated(sdk_client(gated_server.info.base_url), gate)
    finally:
        gate.open()
