"""Tests for helpers.setup: local mode by default, live mode only behind the explicit switch."""

from __future__ import annotations

import os

import pytest
from openai import OpenAI

from helpers import Mode, is_local, setup
from helpers.local_server import find_server

STRAY_KEY = "sk-a-real-key-that-must-stay-home"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No mode switch, no base URL, no proxy exceptions; monkeypatch restores them afterwards."""
    for name in ("BATCH_TUTORIAL_MODE", "OPENAI_BASE_URL", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", STRAY_KEY)
    return monkeypatch


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
