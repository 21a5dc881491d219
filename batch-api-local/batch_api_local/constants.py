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

#: endpoints a batch can target: those of the endpoint registry, in its order (the SDK's).
#: /v1/videos, listed until SDK 3.57.0, is no longer accepted: "The Videos API shut down on
#: September 24, 2026. Batch creation no longer accepts this endpoint." (SDK 3.63.0)
BATCH_ENDPOINTS: tuple[str, ...] = tuple(ENDPOINTS)
#: the same endpoints in the order the real API's 400 for an unknown ``endpoint`` lists them:
#: observed for the first five ("'/v1/chat/completions', '/v1/completions', '/v1/embeddings',
#: '/v1/responses', and '/v1/moderations'", in public client tests recording the real answer;
#: llama-stack's of 2025-08 without moderations); where the image endpoints come is UNCONFIRMED
ENDPOINTS_IN_ERRORS: tuple[str, ...] = (
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/responses",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
)
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
