"""Settings of one local server: where state lives, how fast batches move, what is enforced.

Everything a user may want to change is here, with the command-line flag or control call that
changes it. Defaults are chosen so that a tutorial batch visibly passes through every status in
about ten seconds, slowly enough to be cancelled while it runs.
"""

from __future__ import annotations

import datetime
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .constants import DEFAULT_TOKEN_LIMIT, ORGANIZATION

DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"
#: each key's storage quota on a class server (one with a keys file), in MiB: room for a batch
#: input file of the largest size the API takes (200 MB) and its results, while 30 students
#: can fill at most 7.5 GB of the instructor's disk (``--quota-mb``)
DEFAULT_QUOTA_MB = 256
#: the state directory used when none is given (and ``$BATCH_LOCAL_STATE_DIR`` is not set): a
#: folder of the current directory, resolved when it is used
DEFAULT_STATE_DIR = Path(".local-batch-api")


@dataclass(frozen=True)
class Pace:
    """How long a batch spends in each status, in real seconds.

    ``per_request`` is the time one request takes while ``in_progress`` (requests run one after
    another), so a batch of n requests stays ``in_progress`` for about n * per_request seconds.
    """

    validating: float
    per_request: float
    finalizing: float
    cancelling: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


PACES: dict[str, Pace] = {
    # everything happens as fast as the machine allows (tests, benchmarks)
    "instant": Pace(0.0, 0.0, 0.0, 0.0),
    # the default. A 3-request batch validates for 1 s, completes a request at 3.5, 6 and 8.5 s
    # and is completed at 9.5 s: every status shows, a progress bar moves, and the cancel cell
    # of the walkthrough this project grew from (create, sleep 5 s, cancel) finds the batch
    # running, with one request done and 3.5 s to spare, as the real service would
    "normal": Pace(1.0, 2.5, 1.0, 1.0),
    # twice as slow: time to cancel a batch by hand, or to talk over a progress bar in class
    "slow": Pace(2.0, 5.0, 2.0, 2.0),
}


#: the environment variable that starts a server's clocks at a date (``--clock``'s default)
CLOCK_ENV = "BATCH_LOCAL_CLOCK"


def parse_clock(value: str) -> float:
    """A date (``YYYY-MM-DD``) or date and time (``YYYY-MM-DDTHH:MM:SS``), UTC unless it says
    otherwise, as Unix seconds. Raises ValueError for anything else."""
    try:
        moment = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date: give YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def clock_from_env() -> float | None:
    """``$BATCH_LOCAL_CLOCK`` as Unix seconds, or None when it is not set."""
    value = os.environ.get(CLOCK_ENV, "").strip()
    return parse_clock(value) if value else None


#: the longest any status may be made to last, in seconds (a pace is for demonstrations)
MAX_PACE_SECONDS = 86_400.0


def pace_from(value: str | dict | Pace | None) -> Pace:
    """A Pace from a preset name, a dict of fields (missing ones from "normal"), or a Pace.

    Raises ValueError for an unknown preset or field, and for a value that is not a finite
    number of seconds between 0 and :data:`MAX_PACE_SECONDS`.
    """
    if value is None:
        return PACES["normal"]
    if isinstance(value, Pace):
        return pace_from(value.as_dict())
    if isinstance(value, str):
        if value not in PACES:
            raise ValueError(f"unknown pace {value!r}; choose one of {', '.join(PACES)}")
        return PACES[value]
    if not isinstance(value, dict):
        raise ValueError("a pace is a preset name or an object of seconds per status")
    base = asdict(PACES["normal"])
    unknown = set(value) - set(base)
    if unknown:
        raise ValueError(f"unknown pace fields: {', '.join(sorted(map(str, unknown)))}")
    for name, seconds in value.items():
        if (
            not isinstance(seconds, int | float)
            or isinstance(seconds, bool)
            or not math.isfinite(seconds)
            or not 0 <= seconds <= MAX_PACE_SECONDS
        ):
            raise ValueError(
                f"pace field {name!r} must be a number of seconds from 0 to {MAX_PACE_SECONDS:g}"
            )
        base[name] = float(seconds)
    return Pace(**base)


@dataclass
class Settings:
    """Start-up settings of one server process (``batch-api-local serve``)."""

    state_dir: Path = field(default_factory=lambda: DEFAULT_STATE_DIR)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    pace: Pace = field(default_factory=lambda: PACES["normal"])
    #: enqueued-token limit per model (in_progress batches plus the new one); None: no limit.
    #: 2,000,000 is the published tier-1 figure for gpt-4o-mini.
    token_limit: int | None = DEFAULT_TOKEN_LIMIT
    #: a usage tier (1 to 5): the published batch queue limit of each model at that tier, and
    #: the embeddings' enqueued-request limit, apply instead of ``token_limit`` (which stays for
    #: models the tier table does not list; see :mod:`.tiers`). None: ``token_limit`` only.
    tier: int | None = None
    #: answer like the real service where the SDK's types allow (``--like-live``): optional
    #: fields left out, refusals in structured answers (see docs/local-server.md)
    like_live: bool = False
    #: a file with one bearer key per line; each key gets its own namespace. None: any key.
    keys_file: Path | None = None
    #: instructors' keys: they may act on any namespace (``--admin-key``)
    admin_keys: tuple[str, ...] = ()
    #: the most megabytes (MiB) of files each key may hold (``--quota-mb``); None: the default,
    #: :data:`DEFAULT_QUOTA_MB` on a server with a keys file and none without; 0: none
    quota_mb: float | None = None
    #: an OpenAI-compatible base URL (".../v1") that answers batch lines instead of the
    #: local responder
    upstream: str | None = None
    upstream_key: str | None = field(default_factory=lambda: os.environ.get("UPSTREAM_API_KEY"))
    upstream_concurrency: int = 8
    #: tries after the first for a line the upstream answers 408, 429 or 5xx (or not at all)
    upstream_retries: int = 4
    #: seconds one line may take upstream, every try and wait included; then an error line
    upstream_timeout: float = 120.0
    #: a cassette (JSON Lines of recorded exchanges) that answers matching requests
    replay: Path | None = None
    #: with ``replay``: a request the cassette lacks gets an error instead of another answer
    replay_strict: bool = False
    #: append every exchange the upstream answers to this cassette
    record: Path | None = None
    #: accept any model name (a test double for code using models the catalog lacks): unknown
    #: ones are answered like a chat model of the catalog
    any_model: bool = False
    #: "input" keeps result lines in input order; "shuffled" mixes them, as the real API may
    output_order: str = "input"
    organization: str = ORGANIZATION
    #: how often the runner wakes up when nothing else wakes it, in seconds
    tick: float = 0.05
    #: where a batch's end is sent as a signed webhook event, and the ``whsec_...`` secret it
    #: is signed with (``--webhook-url``, ``--webhook-secret``); a namespace may set its own
    #: at run time (``POST /_local/webhook``). None: no events unless a namespace sets one.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    #: accept webhook URLs other than http:// on a loopback address
    webhook_allow_remote: bool = False
    #: delivery attempts per event before it is marked failed; the first retry waits
    #: ``webhook_retry_base`` seconds, each later one twice as long as the one before
    webhook_max_attempts: int = 8
    webhook_retry_base: float = 2.0
    #: seconds one delivery attempt may take before it counts as failed
    webhook_timeout: float = 10.0
    #: the time (Unix seconds) every namespace's clock shows when the server starts (``--clock``,
    #: or ``$BATCH_LOCAL_CLOCK``): a date in the past serves the models of that day. None: now
    clock_start: float | None = field(default_factory=lambda: clock_from_env())

    def __post_init__(self) -> None:
        self.state_dir = Path(self.state_dir).resolve()
        if self.keys_file is not None:
            self.keys_file = Path(self.keys_file).resolve()
        if self.output_order not in ("input", "shuffled"):
            raise ValueError("output_order must be 'input' or 'shuffled'")
        if self.tier is not None and self.tier not in (1, 2, 3, 4, 5):
            raise ValueError("tier must be a usage tier from 1 to 5, or None")

    @property
    def storage_quota(self) -> int | None:
        """The bytes of files each key may hold, or None for no quota (admin keys have none)."""
        megabytes = self.quota_mb
        if megabytes is None:
            megabytes = DEFAULT_QUOTA_MB if self.keys_file is not None else 0
        return int(megabytes * 1024 * 1024) if megabytes > 0 else None

    @property
    def responder(self) -> str:
        """Which kind of answer batch lines and direct calls get: ``"replay"`` (from a
        cassette), ``"upstream"`` (forwarded), or ``"local"`` (the placeholder responder)."""
        if self.replay is not None:
            return "replay"
        return "upstream" if self.upstream else "local"
