"""One rule for waiting before trying again: exponential backoff, capped, optionally jittered.

Three things in the server try again, each with its own bounds (named where it is used): the
runner, after a step of a batch failed (:data:`..runner.STEP_RETRY`); the upstream responder,
after the upstream did not answer a line (:data:`..upstream.UPSTREAM_RETRY`); webhook delivery,
after an endpoint refused an event (from ``--webhook-retry-base``, :data:`..webhooks`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Wait ``first`` seconds after the first failure, twice as long after each next one, never
    more than ``maximum``. With ``jitter``, that share of each wait is random (0.5: "equal
    jitter", half fixed and half random), so that many clients do not retry in step."""

    first: float
    maximum: float
    jitter: float = 0.0

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after ``failures`` failures in a row (1 or more)."""
        step = min(self.maximum, self.first * 2 ** min(max(failures - 1, 0), 64))
        if not self.jitter:
            return step
        share = (rng or random).uniform(0, step * self.jitter)
        return step * (1 - self.jitter) + share
