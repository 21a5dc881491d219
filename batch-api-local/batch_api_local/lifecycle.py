"""The batch lifecycle as an explicit table: which status may follow which, and what it stamps.

::

    validating ──► in_progress ──► finalizing ──► completed
        │               │
        ├──► failed     ├──► expired            (the 24 h window passed)
        ├──► expired    └──► cancelling ──► cancelled
        └──► cancelling

Every transition goes through :func:`transition`, which refuses anything not in the table and
sets the matching ``*_at`` timestamp, so no code path can forget one.
"""

from __future__ import annotations

from typing import Any

#: the statuses a batch never leaves
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
#: the statuses the runner still has to move a batch out of
ACTIVE = frozenset({"validating", "in_progress", "finalizing", "cancelling"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "validating": frozenset({"in_progress", "failed", "cancelling", "expired"}),
    "in_progress": frozenset({"finalizing", "cancelling", "expired"}),
    "finalizing": frozenset({"completed"}),
    "cancelling": frozenset({"cancelled"}),
    "completed": frozenset(),
    "failed": frozenset(),
    "expired": frozenset(),
    "cancelled": frozenset(),
}

#: the timestamp each status sets, in lifecycle order
STAMP = {
    "in_progress": "in_progress_at",
    "finalizing": "finalizing_at",
    "cancelling": "cancelling_at",
    "failed": "failed_at",
    "completed": "completed_at",
    "expired": "expired_at",
    "cancelled": "cancelled_at",
}

#: statuses from which ``POST /v1/batches/{id}/cancel`` starts cancelling
CANCELLABLE = frozenset({"validating", "in_progress"})
#: statuses for which cancel answers 200 and changes nothing
CANCEL_IS_NOOP = frozenset({"cancelling", "cancelled"})


class InvalidTransition(RuntimeError):
    pass


def transition(batch: dict[str, Any], status: str, now: int) -> dict[str, Any]:
    """Move ``batch`` (a Batch object as a dict) to ``status`` in place and stamp the time."""
    current = batch["status"]
    if status not in TRANSITIONS[current]:
        raise InvalidTransition(f"{batch['id']}: {current} -> {status} is not allowed")
    batch["status"] = status
    batch[STAMP[status]] = now
    return batch
