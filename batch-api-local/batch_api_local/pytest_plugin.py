"""A pytest plugin: the ``local_batch_api`` fixture, a private local Batch API server for a test run.

Installing this package registers the plugin (entry point ``pytest11``), so in any project::

    def test_my_pipeline(local_batch_api):
        client = local_batch_api.client()          # an openai.OpenAI pointed at the server
        batch = my_pipeline.submit(client, "requests.jsonl")
        local_batch_api.force_line("request-2", status_code=500)
        ...

One server starts for the whole test session, on a free port, with its state in a temporary
directory, and stops at the end. Before each test the fixture resets the server's state (files,
batches, forced outcomes, clock, pace), so tests do not see each other's work. Batches run at
the ``instant`` pace unless the ``local_batch_api_pace`` ini option (or a test's
:meth:`LocalBatchAPI.set_pace`) says otherwise; the ``local_batch_api_like_live`` ini option
(true/false) starts it with ``--like-live``. Nothing here needs a key or the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from . import control
from .launcher import ServerInfo, ensure_server, stop_server
from .net import bypass_proxy

if TYPE_CHECKING:
    import openai

#: the key the fixture's client sends (the server accepts any key without a keys file)
API_KEY = "sk-local-test"
PACE_OPTION = "local_batch_api_pace"
LIKE_LIVE_OPTION = "local_batch_api_like_live"


@dataclass
class LocalBatchAPI:
    """A running local server, and the calls that drive it.

    ``base_url`` (``http://127.0.0.1:<port>/v1``) and ``api_key`` are what an ``openai`` client
    needs; :meth:`client` makes one. The other methods are the server's control surface (see
    :mod:`batch_api_local.control`), acting on this server.
    """

    base_url: str
    api_key: str
    state_dir: Path

    @property
    def _conn(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "api_key": self.api_key}

    def client(self, **kwargs: Any) -> openai.OpenAI:
        """An ``openai.OpenAI`` pointed at this server: no proxy, no retries, a short timeout
        (``kwargs`` override them). The SDK is imported only when this is called."""
        import httpx2
        import openai

        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 30.0)
        kwargs.setdefault("http_client", httpx2.Client(trust_env=False))
        return openai.OpenAI(base_url=self.base_url, api_key=self.api_key, **kwargs)

    def set_pace(self, preset: str | None = None, **seconds: float) -> dict[str, float]:
        """A preset (``"instant"``, ``"normal"``, ``"slow"``), or seconds per status
        (``validating=``, ``per_request=``, ``finalizing=``, ``cancelling=``)."""
        fields: dict[str, Any] = {**seconds, **self._conn}
        return control.set_pace(preset, **fields)

    def set_token_limit(self, limit: int | None | Literal["default"]) -> int | None:
        """The enqueued-token limit per model (None: no limit; "default": the server's)."""
        return control.set_token_limit(limit, **self._conn)

    def set_tier(self, tier: int | None) -> int | None:
        """Act as an organization of usage tier ``tier`` (1 to 5; None: the server's limit)."""
        return control.set_tier(tier, **self._conn)

    def temporarily(self, **settings: Any) -> AbstractContextManager[None]:
        """Change the pace, token limit or tier for a ``with`` block only."""
        return control.temporarily(**settings, **self._conn)

    def advance_clock(self, seconds: float) -> int:
        """Move the server's clock forward; returns the new time (Unix seconds)."""
        return control.advance_clock(seconds, **self._conn)

    def force_line(self, custom_id: str, **outcome: Any) -> dict[str, Any]:
        """Decide the outcome of the next request with ``custom_id`` (``status_code=``,
        ``error=``, ``batch_id=``)."""
        return control.force_line(custom_id, **outcome, **self._conn)

    def force_validation_failure(self, code: str = "token_limit_exceeded", **details: Any) -> Any:
        """Make the next batch validated (or ``batch_id=``) fail with ``code``."""
        return control.force_validation_failure(code, **details, **self._conn)

    def expire_batch(self, batch_id: str) -> dict[str, Any]:
        """Expire a validating or running batch now, as if its 24 hours had passed."""
        return control.expire_batch(batch_id, **self._conn)

    def reset(self) -> dict[str, Any]:
        """Delete every file, batch and forced outcome; clock, pace and limit as at start."""
        return control.reset(**self._conn)

    def state(self) -> dict[str, Any]:
        """The server's clock, pace and token limit."""
        return control.state(**self._conn)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        PACE_OPTION,
        "pace of the local_batch_api fixture's server: instant, normal or slow",
        default="instant",
    )
    parser.addini(
        LIKE_LIVE_OPTION,
        "start the local_batch_api fixture's server with --like-live (answers like the real "
        "service where the SDK's types allow)",
        type="bool",
        default=False,
    )


@pytest.fixture(scope="session")
def local_batch_api_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerInfo]:
    """The session's server: started on first use, stopped when the session ends."""
    state_dir = tmp_path_factory.mktemp("local-batch-api")
    pace = str(request.config.getini(PACE_OPTION) or "instant")
    bypass_proxy()  # the SDK must not send loopback traffic through a proxy
    like_live = bool(request.config.getini(LIKE_LIVE_OPTION))
    info = ensure_server(state_dir, port=0, pace=pace, like_live=like_live)
    try:
        yield info
    finally:
        stop_server(state_dir)


@pytest.fixture
def local_batch_api(local_batch_api_server: ServerInfo) -> LocalBatchAPI:
    """The session's local Batch API server, reset for this test (see the module docstring)."""
    server = LocalBatchAPI(
        local_batch_api_server.base_url, API_KEY, Path(local_batch_api_server.state_dir)
    )
    server.reset()
    return server
