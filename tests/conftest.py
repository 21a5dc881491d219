"""Shared fixtures: one local server for the whole test session, and SDK clients for it.

The server runs as a real subprocess (``python -m helpers.local_server serve``) on a free port
with its own temporary state directory and the "instant" pace; each test starts from an empty
namespace (``reset``, which also puts the pace back). Clients never retry, so that a wrong status
shows up as a failure, not as a wait. The helpers the tests share are in ``support.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from openai import OpenAI

from helpers.local_server import ServerInfo, ensure_server, reset, stop_server

from support import TEST_KEY, WAIT, free_port

os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["no_proxy"] = "127.0.0.1,localhost"


def sdk_client(base_url: str, key: str = TEST_KEY) -> OpenAI:
    return OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=WAIT)


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
