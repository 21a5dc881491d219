"""A local, faithful emulation of OpenAI's Files and Batch APIs (FastAPI on uvicorn).

Start it with ``python -m helpers.local_server serve`` or, from Python, with
:func:`ensure_server`, which reuses a healthy server for the same state directory. Point the
``openai`` SDK at it with ``OPENAI_BASE_URL=http://127.0.0.1:8765/v1`` and any
``OPENAI_API_KEY``. See ``docs/local-server.md`` for the endpoints, the control surface,
configuration and the known deviations from the real API.
"""

from .config import DEFAULT_PORT, DEFAULT_STATE_DIR, PACES, Pace, Settings
from .control import (
    ControlError,
    advance_clock,
    class_view,
    expire_batch,
    force_line,
    force_validation_failure,
    reset,
    set_pace,
    set_token_limit,
    set_webhook,
    state,
    temporarily,
    webhook_events,
    webhook_settings,
    whoami,
)
from .launcher import ServerInfo, ensure_server, find_server, stop_server

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_STATE_DIR",
    "PACES",
    "ControlError",
    "Pace",
    "ServerInfo",
    "Settings",
    "advance_clock",
    "class_view",
    "ensure_server",
    "expire_batch",
    "find_server",
    "force_line",
    "force_validation_failure",
    "reset",
    "set_pace",
    "set_token_limit",
    "set_webhook",
    "state",
    "temporarily",
    "webhook_events",
    "webhook_settings",
    "whoami",
    "stop_server",
]
