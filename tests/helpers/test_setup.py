"""Tests for helpers.setup: local mode by default, live mode only behind the explicit switch."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator

import pytest
from openai import OpenAI

from helpers import Mode, is_local, setup
from helpers.local_server import find_server

STRAY_KEY = "sk-a-real-key-that-must-stay-home"
#: every variable setup() may write (it writes os.environ directly, not through monkeypatch)
SETUP_WRITES = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "NO_PROXY", "no_proxy")
#: the module, not the function of the same name that ``helpers`` exports
setup_impl = importlib.import_module("helpers.setup")


def _env() -> dict[str, str]:
    """The process environment, less the variable pytest itself changes between phases."""
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


@pytest.fixture(autouse=True)
def no_leak() -> Iterator[None]:
    """Each test leaves the process environment and setup()'s memory as it found them.

    Autouse and requested by nothing else, so it is set up first and torn down last: after
    monkeypatch has undone its changes. It puts things back itself before it complains, so a
    leak fails this test only and never changes what a later test sees.
    """
    env_before = _env()
    remembered_before = dict(setup_impl._ORIGINAL_ENV)
    yield
    env_after = _env()
    remembered_after = dict(setup_impl._ORIGINAL_ENV)
    changed = {
        name: (env_before.get(name), env_after.get(name))
        for name in set(env_before) | set(env_after)
        if env_before.get(name) != env_after.get(name)
    }
    for name, (before, _) in changed.items():
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before
    setup_impl._ORIGINAL_ENV.clear()
    setup_impl._ORIGINAL_ENV.update(remembered_before)
    assert not changed, f"environment leaked past the test (before, after): {changed}"
    assert remembered_after == remembered_before, "helpers.setup._ORIGINAL_ENV left filled"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No mode switch, no base URL, no proxy exceptions; monkeypatch restores them afterwards.

    setup() writes OPENAI_BASE_URL, OPENAI_API_KEY and NO_PROXY/no_proxy into os.environ
    itself. monkeypatch only restores what it touched, and ``delenv`` of a variable that is not
    set records nothing, so each is first set (recording its original value, or its absence)
    and then removed. setup()'s memory of the user's values starts empty and is put back.
    """
    for name in ("BATCH_TUTORIAL_MODE", *SETUP_WRITES):
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    monkeypatch.setenv("OPENAI_API_KEY", STRAY_KEY)
    remembered = dict(setup_impl._ORIGINAL_ENV)
    setup_impl._ORIGINAL_ENV.clear()
    yield monkeypatch
    setup_impl._ORIGINAL_ENV.clear()
    setup_impl._ORIGINAL_ENV.update(remembered)


@pytest.fixture
def local_env(clean_env, local_server):
    """Local mode on the session's server (its state directory), so no second server starts."""
    clean_env.setenv("BATCH_LOCAL_STATE_DIR", local_server.state_dir)
    return clean_env


def test_local_mode_points_the_sdk_at_the_local_server(local_env, local_server, capsys):
    mode = setup()

    assert mode == Mode("local", local_server.base_url)
    assert capsys.readouterr().out == (
        f"Local mode: requests go to the local Batch API server at {local_server.base_url} "
        "(no key, no cost).\n"
    )
    assert os.environ["OPENAI_BASE_URL"] == local_server.base_url
    assert os.environ["OPENAI_API_KEY"] == "sk-local"
    assert is_local()
    for name in ("NO_PROXY", "no_proxy"):
        assert {"127.0.0.1", "localhost"} <= set(os.environ[name].split(","))
    # a bare client now reaches the local server
    page = OpenAI(max_retries=0, timeout=10).batches.list(limit=1)
    assert page.object == "list"


def test_a_stray_api_key_without_the_switch_never_leaves_the_machine(local_env):
    assert os.environ["OPENAI_API_KEY"] == STRAY_KEY
    assert setup(quiet=True).name == "local"
    assert os.environ["OPENAI_API_KEY"] != STRAY_KEY
    assert os.environ["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")


def test_calling_setup_twice_reuses_the_same_server(local_env, local_server, capsys):
    first = setup(quiet=True)
    second = setup(quiet=True)
    assert first == second
    assert capsys.readouterr().out == ""
    assert find_server(local_server.state_dir).pid == local_server.pid


def test_local_mode_keeps_existing_no_proxy_entries(local_env):
    local_env.setenv("NO_PROXY", "corp.example")
    setup(quiet=True)
    assert os.environ["NO_PROXY"] == "corp.example,127.0.0.1,localhost"


def test_live_mode_leaves_the_environment_alone(clean_env, tmp_path, capsys):
    clean_env.setenv("BATCH_TUTORIAL_MODE", "live")
    unused_state = tmp_path / "no-server-here"
    clean_env.setenv("BATCH_LOCAL_STATE_DIR", str(unused_state))

    mode = setup()

    assert mode == Mode("live", "https://api.openai.com/v1")
    assert capsys.readouterr().out == (
        "Live mode: requests go to api.openai.com and are billed to your account.\n"
    )
    assert "OPENAI_BASE_URL" not in os.environ
    assert os.environ["OPENAI_API_KEY"] == STRAY_KEY
    assert "NO_PROXY" not in os.environ
    assert not unused_state.exists()  # no local server was started
    assert not is_local()


def test_live_mode_keeps_a_base_url_that_is_already_set(clean_env):
    clean_env.setenv("BATCH_TUTORIAL_MODE", "live")
    clean_env.setenv("OPENAI_BASE_URL", "https://gateway.example/v1")
    assert setup(quiet=True) == Mode("live", "https://gateway.example/v1")
    assert os.environ["OPENAI_BASE_URL"] == "https://gateway.example/v1"


def test_live_mode_without_a_key_is_refused(clean_env):
    clean_env.setenv("BATCH_TUTORIAL_MODE", "live")
    clean_env.delenv("OPENAI_API_KEY")
    with pytest.raises(RuntimeError, match="OPENAI_API_KEY"):
        setup()


def test_an_unknown_mode_is_refused(clean_env):
    clean_env.setenv("BATCH_TUTORIAL_MODE", "production")
    with pytest.raises(ValueError, match="'production'"):
        setup()


def test_switching_to_live_in_the_same_process_restores_the_users_values(local_env, capsys):
    setup(quiet=True)  # local first: replaces the key and sets a loopback base URL
    assert os.environ["OPENAI_API_KEY"] == "sk-local"
    local_env.setenv("BATCH_TUTORIAL_MODE", "live")
    mode = setup()
    assert mode.name == "live"
    assert os.environ["OPENAI_API_KEY"] == STRAY_KEY  # the user's own key again
    assert "OPENAI_BASE_URL" not in os.environ  # so the SDK's default, api.openai.com
    assert "api.openai.com" in capsys.readouterr().out
