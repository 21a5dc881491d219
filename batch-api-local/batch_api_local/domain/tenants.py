"""Tenants: what belongs to one namespace besides its files and batches, and how it changes.

Each namespace (one key of a keys file, or ``default``) has its own clock, pace,
enqueued-token limit and usage tier: one student's control calls change only their own. They start as the
server's start-up settings; what a control call changes is saved in the store (so it survives a
restart) and kept in memory. A saved value that is not valid is ignored, with a warning.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..config import Pace, Settings, pace_from
from ..constants import DAY, DEFAULT_NAMESPACE
from ..errors import BadRequest
from ..store import Store, setting_key
from ..tiers import request_limit, tier_limit, valid_tier

log = logging.getLogger("batch_api_local.tenants")

#: the pace value that means "this namespace's default": the class's pace, else the start-up one
DEFAULT_PACE = "default"
#: where the pace an instructor set for the whole class is saved
CLASS_PACE_KEY = "*/pace"  # "*" names no namespace
#: the largest enqueued-token limit a namespace may set
MAX_TOKEN_LIMIT = 10**15


class Clock:
    """A namespace's clock: real time, plus where the server started its clocks (``--clock``,
    ``base``), plus an offset that control calls can move forward."""

    #: the furthest the clock may be moved, in total
    MAX_OFFSET = 100 * 365 * DAY

    def __init__(self, store: Store, namespace: str = DEFAULT_NAMESPACE, base: float = 0.0) -> None:
        self._store = store
        self.base = base
        self._key = setting_key(namespace, "clock_offset")
        saved = store.get_setting(self._key, 0.0)
        valid = isinstance(saved, int | float) and math.isfinite(saved)
        self.offset = float(saved) if valid and 0 <= saved <= self.MAX_OFFSET else 0.0

    def now(self) -> int:
        return int(time.time() + self.base + self.offset)

    def advance(self, seconds: float) -> int:
        if not math.isfinite(seconds) or self.offset + seconds > self.MAX_OFFSET:
            raise BadRequest(
                "seconds must be a finite number; the clock moves at most 100 years in all.",
                param="seconds",
            )
        if seconds < 0:
            raise BadRequest("The clock only moves forward.", param="seconds")
        self._store.set_setting(self._key, self.offset + seconds)
        self.offset += seconds
        return self.now()

    def reset(self) -> None:
        self._store.set_setting(self._key, 0.0)
        self.offset = 0.0


@dataclass
class Tenant:
    """One namespace's clock, pace, enqueued-token limit and usage tier."""

    clock: Clock
    pace: Pace
    token_limit: int | None
    #: the usage tier whose queue limits apply (:mod:`..tiers`), or None
    tier: int | None = None
    #: whether ``token_limit`` was set by a control call (then it wins over the tier) rather
    #: than taken from the server's start-up settings
    token_limit_set: bool = False


def valid_token_limit(limit: Any) -> bool:
    return isinstance(limit, int) and not isinstance(limit, bool) and 1 <= limit <= MAX_TOKEN_LIMIT


class Tenants:
    """Every namespace's settings, loaded on first use."""

    def __init__(self, store: Store, settings: Settings, wake: threading.Event) -> None:
        self._store = store
        self._settings = settings
        #: how far ``--clock`` moves every clock from the real time (fixed at start-up)
        self._base = 0.0 if settings.clock_start is None else settings.clock_start - time.time()
        self._wake = wake
        self._tenants: dict[str, Tenant] = {}
        self._loading = threading.Lock()

    def get(self, namespace: str) -> Tenant:
        """A namespace's settings: the start-up values, or those saved at run time for it."""
        found = self._tenants.get(namespace)
        if found is not None:
            return found
        with self._loading:
            found = self._tenants.get(namespace)
            if found is None:
                found = self._tenants[namespace] = self._load(namespace)
        return found

    def _load(self, namespace: str) -> Tenant:
        pace, limit = self._settings.pace, self._settings.token_limit
        saved = self._store.get_setting(setting_key(namespace, "pace"))
        if saved is not None:
            try:
                pace = pace_from(saved)
            except ValueError:
                log.warning("ignoring the saved pace %r of %s: not a valid pace", saved, namespace)
        saved = self._store.get_setting(setting_key(namespace, "token_limit"), limit)
        if saved is None or valid_token_limit(saved):
            limit = saved
        else:
            log.warning("ignoring the saved token limit %r of %s", saved, namespace)
        # a limit saved before this flag existed was set by a control call if it differs
        limit_set = self._store.get_setting(
            setting_key(namespace, "token_limit_set"), limit != self._settings.token_limit
        )
        tier = self._store.get_setting(setting_key(namespace, "tier"), self._settings.tier)
        if tier is not None and not valid_tier(tier):
            log.warning("ignoring the saved tier %r of %s", tier, namespace)
            tier = self._settings.tier
        clock = Clock(self._store, namespace, self._base)
        return Tenant(clock, pace, limit, tier, bool(limit_set))

    def now(self, namespace: str) -> int:
        """The time on a namespace's clock (Unix seconds)."""
        return self.get(namespace).clock.now()

    def pace(self, namespace: str) -> Pace:
        return self.get(namespace).pace

    def token_limit(self, namespace: str) -> int | None:
        return self.get(namespace).token_limit

    def tier(self, namespace: str) -> int | None:
        return self.get(namespace).tier

    def queue_limits(self, namespace: str, model: str) -> tuple[int | None, int | None]:
        """The enqueued-token and enqueued-request limits of a namespace's batches of
        ``model`` (None: no limit).

        A token limit set by a control call wins; otherwise, with a usage tier, the tier's
        figure for the model (:mod:`..tiers`); otherwise (no tier, or a model the tier table
        does not list) the server's start-up limit. The request limit (embeddings models)
        applies with a tier only.
        """
        tenant = self.get(namespace)
        if tenant.tier is None:
            return tenant.token_limit, None
        requests = request_limit(model)
        if tenant.token_limit_set:
            return tenant.token_limit, requests
        listed, limit = tier_limit(model, tenant.tier)
        return (limit if listed else tenant.token_limit), requests

    # -- what control calls change -------------------------------------------------------------

    def default_pace(self) -> Pace:
        """What ``"default"`` means for a namespace: the pace an instructor last set for the
        whole class (``namespace="*"``), else the server's start-up pace (``--pace``)."""
        saved = self._store.get_setting(CLASS_PACE_KEY)
        if saved is not None:
            try:
                return pace_from(saved)
            except ValueError:
                log.warning("ignoring the saved class pace %r: not a valid pace", saved)
        return self._settings.pace

    def set_class_pace(self, value: Any) -> Pace:
        """Remember a class-wide pace as what ``"default"`` means from now on."""
        pace = self.default_pace() if value == DEFAULT_PACE else self._pace(value)
        self._store.set_setting(CLASS_PACE_KEY, pace.as_dict())
        return pace

    @staticmethod
    def _pace(value: Any) -> Pace:
        try:
            return pace_from(value)
        except ValueError as exc:
            raise BadRequest(str(exc), param="pace") from None

    def set_pace(self, namespace: str, value: Any) -> Pace:
        """A preset name, seconds per status (missing ones from "normal"), a Pace, or
        ``"default"`` (see :meth:`default_pace`)."""
        if value == DEFAULT_PACE:
            pace = self.default_pace()
        else:
            pace = self._pace(value)
        self._store.set_setting(setting_key(namespace, "pace"), pace.as_dict())
        self.get(namespace).pace = pace
        self._wake.set()
        return pace

    def set_token_limit(self, namespace: str, limit: Any) -> int | None:
        """A limit (None: no limit) that wins over the tier, or ``"default"``: back to the
        server's start-up limit, and the tier (if any) decides again."""
        explicit = limit != "default"
        if not explicit:
            limit = self._settings.token_limit
        elif limit is not None and not valid_token_limit(limit):
            raise BadRequest(
                "token_limit must be a positive integer (at most 10**15), null (no limit) or "
                "'default' (the server's own, and the tier's figures again).",
                param="token_limit",
            )
        self._store.set_setting(setting_key(namespace, "token_limit"), limit)
        self._store.set_setting(setting_key(namespace, "token_limit_set"), explicit)
        tenant = self.get(namespace)
        tenant.token_limit, tenant.token_limit_set = limit, explicit
        return limit

    def set_tier(self, namespace: str, tier: Any) -> int | None:
        """A usage tier (1 to 5) whose queue limits apply; None: no tier (the server's single
        limit); ``"default"``: the server's start-up tier (``serve --tier``)."""
        if tier == "default":
            tier = self._settings.tier
        elif tier is not None and not valid_tier(tier):
            raise BadRequest(
                "tier must be a usage tier from 1 to 5, null (no tier) or 'default' (the "
                "server's own).",
                param="tier",
            )
        self._store.set_setting(setting_key(namespace, "tier"), tier)
        self.get(namespace).tier = tier
        return tier

    def advance_clock(self, namespace: str, seconds: Any) -> int:
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            raise BadRequest("seconds must be a number.", param="seconds")
        try:
            seconds = float(seconds)
        except OverflowError:  # an integer too large for a float
            seconds = math.inf
        now = self.get(namespace).clock.advance(seconds)
        self._wake.set()
        return now

    def reset(self, namespace: str) -> None:
        """Clock, pace, token limit and tier back to the server's start-up values."""
        self.get(namespace).clock.reset()
        self.set_pace(namespace, self._settings.pace)
        self.set_token_limit(namespace, "default")
        self.set_tier(namespace, "default")
