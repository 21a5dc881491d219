"""A picture of one batch's life: which status it was in, from when to when.

A ``Batch`` records when it entered each status in its ``*_at`` fields (``created_at`` is when it
started ``validating``). :func:`plot_timeline` draws one horizontal bar per status it passed
through, in seconds since creation, and marks the final status with a point. Any subset of the
timestamps may be set: a batch still running ends at its last known change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from batch_api_local import STATUS_TIMESTAMPS as STAMP
from batch_api_local import TERMINAL_STATUSES as TERMINAL

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from openai.types import Batch

#: (status, the Batch field holding when it began), in lifecycle order
STATUS_TIMESTAMPS: tuple[tuple[str, str], ...] = (("validating", "created_at"), *STAMP.items())
_FINAL = TERMINAL
_COLORS = {
    "validating": "tab:blue",
    "in_progress": "tab:cyan",
    "finalizing": "tab:purple",
    "cancelling": "tab:olive",
    "failed": "tab:red",
    "completed": "tab:green",
    "expired": "tab:orange",
    "cancelled": "tab:gray",
}


def status_changes(batch: Batch | Any) -> list[tuple[str, float]]:
    """Return (status, seconds since ``created_at``) for each status change the batch records.

    Sorted by time (ties keep lifecycle order); statuses whose timestamp is not set are left out.
    """
    created = batch.created_at
    changes = []
    for status, field in STATUS_TIMESTAMPS:
        at = getattr(batch, field, None)
        if at is not None:
            changes.append((status, float(at - created)))
    order = {status: n for n, (status, _) in enumerate(STATUS_TIMESTAMPS)}
    return sorted(changes, key=lambda change: (change[1], order[change[0]]))


def plot_timeline(batch: Batch | Any, ax: Axes | None = None) -> Axes:
    """Draw a timeline of the batch's statuses on ``ax`` (a new figure when None).

    Each status the batch passed through is a horizontal bar from when it began to when the next
    one began, on its own labelled row, with seconds since ``created_at`` on the x axis; a final
    status (completed, failed, expired, cancelled) is a point. The title is the batch id and its
    current status. Returns the Axes (end the notebook cell with ``;`` to hide its repr).
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 2.5))
    changes = status_changes(batch)
    end = changes[-1][1] if changes else 0.0
    rows = [status for status, _ in changes]
    for n, (status, start) in enumerate(changes):
        y = n
        color = _COLORS.get(status, "tab:blue")
        stop = changes[n + 1][1] if n + 1 < len(changes) else None
        if status in _FINAL or stop is None:
            ax.plot([start], [y], marker="o", markersize=8, color=color, linestyle="none")
        if stop is not None:
            ax.barh(y, stop - start, left=start, height=0.5, color=color, alpha=0.8)
            ax.annotate(
                f"{stop - start:g} s",
                (stop, y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
    ax.set_yticks(range(len(rows)), rows)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(-max(end, 1.0) * 0.02, max(end, 1.0) * 1.12)
    ax.set_xlabel("seconds since the batch was created")
    ax.set_title(f"{batch.id}: {batch.status}")
    ax.grid(axis="x", alpha=0.3)
    return ax
