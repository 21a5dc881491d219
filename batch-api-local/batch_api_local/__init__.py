"""A local, faithful emulation of OpenAI's Files and Batch APIs (FastAPI on uvicorn, SQLite).

Run it with ``batch-api-local serve`` (or ``python -m batch_api_local serve``), or from Python
with :func:`ensure_server`, which reuses a healthy server for the same state directory. Point
the ``openai`` SDK at it with ``OPENAI_BASE_URL=http://127.0.0.1:8765/v1`` and any
``OPENAI_API_KEY``. In a pytest suite, the ``local_batch_api`` fixture starts a private one.

What this package offers besides the server, all importable without loading the server itself:

- starting, finding and stopping a server (:func:`ensure_server`, :func:`find_server`,
  :func:`stop_server`);
- its control surface, from Python (:func:`set_pace`, :func:`temporarily`, :func:`force_line`,
  :func:`advance_clock`, :func:`expire_batch`, ...): they act on a running server only;
- the rules it applies, for use before a request is sent: checking a batch input file
  (:func:`check_upload`, :func:`validate_file`), counting a request's input tokens offline
  (:func:`request_input_tokens`, of which its images' :func:`request_image_tokens`), the most
  output tokens a request may produce (:func:`output_bound`), the field that sets it
  (:func:`limit_field`) and whether they are images (:func:`writes_images`), the models it knows
  (:func:`resolve_model`) and a batch's statuses;
- talking to a local server: what counts as loopback (:func:`is_loopback`), ``NO_PROXY`` for
  it (:func:`bypass_proxy`), a proxy-less opener (:func:`direct_opener`), the root of a base
  URL (:func:`api_root`).

See ``docs/local-server.md`` for the endpoints, the control surface, configuration and the
known deviations from the real API.
"""

from .config import DEFAULT_PORT, DEFAULT_STATE_DIR, PACES, Pace, Settings
from .constants import (
    BATCH_ENDPOINTS,
    MAX_BATCH_FILE_BYTES,
    MAX_EMBEDDING_INPUTS,
    MAX_REQUESTS,
    VERSION,
)
from .control import (
    ControlError,
    advance_clock,
    class_view,
    expire_batch,
    force_line,
    force_validation_failure,
    reset,
    set_pace,
    set_tier,
    set_token_limit,
    set_webhook,
    state,
    temporarily,
    webhook_events,
    webhook_settings,
    whoami,
)
from .endpoints import limit_field, output_bound, writes_images
from .errors import BatchError
from .keys import mask as mask_key
from .launcher import ServerInfo, ensure_server, find_server, stop_server
from .lifecycle import STAMP as STATUS_TIMESTAMPS
from .lifecycle import TERMINAL as TERMINAL_STATUSES
from .lifecycle import TRANSITIONS as STATUS_TRANSITIONS
from .models import ModelInfo, resolve_model
from .net import api_root, bypass_proxy, direct_opener, is_loopback
from .tokens import count_tokens, request_image_tokens, request_input_tokens
from .validation import (
    ValidationReport,
    check_upload,
    count_embedding_inputs,
    duplicates,
    request_lines,
    validate_file,
)

__version__ = VERSION

__all__ = [
    "BATCH_ENDPOINTS",
    "DEFAULT_PORT",
    "DEFAULT_STATE_DIR",
    "MAX_BATCH_FILE_BYTES",
    "MAX_EMBEDDING_INPUTS",
    "MAX_REQUESTS",
    "PACES",
    "STATUS_TIMESTAMPS",
    "STATUS_TRANSITIONS",
    "TERMINAL_STATUSES",
    "BatchError",
    "ControlError",
    "ModelInfo",
    "Pace",
    "ServerInfo",
    "Settings",
    "ValidationReport",
    "advance_clock",
    "api_root",
    "bypass_proxy",
    "check_upload",
    "class_view",
    "count_embedding_inputs",
    "count_tokens",
    "direct_opener",
    "duplicates",
    "ensure_server",
    "expire_batch",
    "find_server",
    "force_line",
    "force_validation_failure",
    "is_loopback",
    "limit_field",
    "mask_key",
    "output_bound",
    "request_image_tokens",
    "request_input_tokens",
    "request_lines",
    "reset",
    "resolve_model",
    "set_pace",
    "set_tier",
    "set_token_limit",
    "set_webhook",
    "state",
    "stop_server",
    "temporarily",
    "validate_file",
    "webhook_events",
    "webhook_settings",
    "whoami",
    "writes_images",
]
