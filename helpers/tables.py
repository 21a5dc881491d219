"""Batches as pandas DataFrames: a list of batches, and the validation errors of one batch.

``client.batches.list()`` and ``batch.errors`` are SDK objects that print as long reprs; these
functions turn them into small tables a notebook can show, sort and filter. They only read what
they are given: fetching stays in the notebook (``list(client.batches.list())`` for all of them,
``client.batches.list(limit=10).data`` for the newest ten).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from openai.types import Batch

from .batch_files import problems_table

#: the columns of :func:`batches_table`
BATCH_COLUMNS = ["id", "status", "created", "total", "completed", "failed", "description"]


def batches_table(batches: Iterable[Batch]) -> pd.DataFrame:
    """Return one row per batch: id, status, created, total, completed, failed, description.

    ``batches`` is any iterable of ``Batch`` (a list, or ``client.batches.list()``, which pages
    through every batch). ``created`` is a UTC datetime; the counts are Int64 (NA when the batch
    has no ``request_counts``); ``description`` is ``metadata["description"]`` or None. Rows keep
    the order given (the API lists newest first).
    """
    rows = []
    for batch in batches:
        counts = batch.request_counts
        rows.append(
            {
                "id": batch.id,
                "status": batch.status,
                "created": batch.created_at,
                "total": counts.total if counts else None,
                "completed": counts.completed if counts else None,
                "failed": counts.failed if counts else None,
                "description": (batch.metadata or {}).get("description"),
            }
        )
    table = pd.DataFrame(rows, columns=BATCH_COLUMNS)
    table["created"] = pd.to_datetime(table["created"], unit="s", utc=True)
    for column in ("total", "completed", "failed"):
        table[column] = table[column].astype("Int64")
    descriptions = [row["description"] for row in rows]
    table["description"] = pd.Series(descriptions, index=table.index, dtype=object)
    return table


def batch_errors_table(batch: Batch) -> pd.DataFrame:
    """Return a batch's validation errors (``batch.errors.data``): line, code, param, message.

    These are the reasons a batch ``failed``; a batch that passed validation has none, and the
    table is then empty (with the same columns). Per-request failures are not here: they are in
    the batch's error file (see :func:`helpers.read_results`).
    """
    data = batch.errors.data if batch.errors is not None else None
    return problems_table(data or [])
