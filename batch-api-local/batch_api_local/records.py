"""A batch's private record: what the server keeps about a batch besides the Batch object.

The Batch object (a dict, exactly as the API returns it) is what clients see. Next to it the
store keeps a :class:`BatchRecord`, typed, with what only the server needs: when the batch
entered its status (the pace counts from there), the model and input tokens it enqueues, how
its result files expire, how it is ending, and the result files it is publishing. Both are
saved together in one row (``batches.object`` and ``batches.internal``), as JSON.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Publishing:
    """Decided before a batch's result files are published, and saved first, so that a restart
    in the middle of publishing finishes it the same way: the ids of its result files (by kind,
    ``output`` and ``error``), its final counts ``(completed, failed)`` and its usage (None
    when a batch ends without having run, so the counts and usage it has are kept)."""

    files: dict[str, str]
    counts: tuple[int, int] | None = None
    usage: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "files": dict(self.files),
            "counts": list(self.counts) if self.counts is not None else None,
            "usage": self.usage,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Publishing:
        counts = data.get("counts")
        return cls(
            files={str(k): str(v) for k, v in (data.get("files") or {}).items()},
            counts=(int(counts[0]), int(counts[1])) if counts is not None else None,
            usage=data.get("usage"),
        )


@dataclass
class BatchRecord:
    """The private fields of one batch (see the module docstring)."""

    #: when the batch entered its current status (``time.time()``): the pace counts from here
    entered: float = field(default_factory=time.time)
    #: seconds its result files live (``output_expires_after.seconds``); None: the default
    output_expiry: int | None = None
    #: the model its requests name (as written in the input file), once validated
    model: str | None = None
    #: the input tokens it enqueues for that model, once validated
    input_tokens: int = 0
    #: how it is ending ("expired" or "cancelled"), once that is decided: a cancel can no
    #: longer change it
    ending: str | None = None
    #: its result files, once publishing has begun
    publishing: Publishing | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as saved (the key names are those of state directories written before
        the record was typed, so an older state directory still loads)."""
        return {
            "entered": self.entered,
            "output_expiry": self.output_expiry,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "ending": self.ending,
            "publish": self.publishing.to_json() if self.publishing is not None else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BatchRecord:
        publish = data.get("publish")
        return cls(
            entered=float(data.get("entered") or 0.0),
            output_expiry=data.get("output_expiry"),
            model=data.get("model"),
            input_tokens=int(data.get("input_tokens") or 0),
            ending=data.get("ending"),
            publishing=Publishing.from_json(publish) if isinstance(publish, dict) else None,
        )

    def enter(self) -> None:
        """The batch has just entered a new status."""
        self.entered = time.time()

    def elapsed(self) -> float:
        """Seconds since the batch entered its status."""
        return time.time() - self.entered
