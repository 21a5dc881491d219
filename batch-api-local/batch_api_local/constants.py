"""The numbers and names the real API fixes, written once.

Limits of files and batches, the endpoints a batch can target (named by the endpoint registry,
:mod:`.endpoints`), the completion windows, and the default enqueued-token limit. Every other module imports them from here; the statuses of a batch
live with its transition table in :mod:`.lifecycle`. Sources for each figure are in
``docs/local-server.md``.
"""

from __future__ import annotations

from importlib import metadata

from .endpoints import ENDPOINTS

try:
    #: the version of this package, as installed
    VERSION = metadata.version("batch-api-local")
except metadata.PackageNotFoundError:  # run from a checkout without installing
    VERSION = "0+unknown"

DAY = 86_400

#: endpoints a batch can target on the local server: those of the endpoint registry, in its
#: order (the real API also accepts /v1/images/generations, /v1/images/edits and /v1/videos,
#: which it does not emulate)
BATCH_ENDPOINTS: tuple[str, ...] = tuple(ENDPOINTS)
COMPLETION_WINDOWS: tuple[str, ...] = ("24h",)
#: how long a batch may run before it expires
BATCH_WINDOW = DAY

MAX_REQUESTS = 50_000
MAX_EMBEDDING_INPUTS = 50_000
MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024  # 209,715,200
MAX_FILE_BYTES = 512 * 1024 * 1024
#: the real API's cap on ``errors.data`` entries is unknown (UNCONFIRMED); the local server
#: reports the first 1,000 so that a failed batch of a huge broken file stays readable
MAX_REPORTED_ERRORS = 1_000

FILE_PURPOSES: tuple[str, ...] = (
    "assistants",
    "batch",
    "fine-tune",
    "vision",
    "user_data",
    "evals",
)
#: purpose=batch files, and result files, are deleted this long after creation
DEFAULT_FILE_EXPIRY = 30 * DAY
#: the range ``expires_after.seconds`` (and ``output_expires_after.seconds``) may take
FILE_EXPIRY_RANGE = (3_600, 2_592_000)

#: the largest JSON request body the local server reads (the real limit is UNCONFIRMED)
MAX_JSON_BODY_BYTES = 32 * 1024 * 1024
#: room for the multipart framing and fields around an upload's file
MAX_FORM_OVERHEAD = 1024 * 1024

METADATA_MAX_KEYS = 16
METADATA_MAX_KEY = 64
METADATA_MAX_VALUE = 512

#: enqueued-token limit per model: the published tier-1 figure for gpt-4o-mini
DEFAULT_TOKEN_LIMIT = 2_000_000
ORGANIZATION = "org-local"
#: the namespace of every key on a server without a keys file
DEFAULT_NAMESPACE = "default"
