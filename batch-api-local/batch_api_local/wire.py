"""The objects the API returns, built in one place: File and Batch objects and list pages.

Each carries every key the real API sends, with explicit nulls, so that the ``openai`` SDK's
types parse it and a printed object looks like the real one. Errors have their own module
(:mod:`.errors`).
"""

from __future__ import annotations

import copy
from typing import Any

from .constants import BATCH_WINDOW

#: a batch's ``usage`` before any request has run
ZERO_USAGE: dict[str, Any] = {
    "input_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 0,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 0,
}


def file_object(
    file_id: str, size: int, now: int, filename: str, purpose: str, expires_at: int | None
) -> dict[str, Any]:
    """A File object as the real API returns it."""
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": now,
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "expires_at": expires_at,
        "status_details": None,
    }


def batch_object(
    batch_id: str,
    endpoint: str,
    input_file_id: str,
    window: str,
    metadata: dict[str, str] | None,
    now: int,
) -> dict[str, Any]:
    """A Batch object as the real API returns it at creation (status ``validating``)."""
    return {
        "id": batch_id,
        "object": "batch",
        "endpoint": endpoint,
        "errors": None,
        "input_file_id": input_file_id,
        "completion_window": window,
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "created_at": now,
        "in_progress_at": None,
        "expires_at": now + BATCH_WINDOW,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": metadata,
        "model": None,
        "usage": copy.deepcopy(ZERO_USAGE),
    }


def page(data: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    """One page of a cursor-paginated list."""
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": more,
    }


def deleted(object_type: str, object_id: str) -> dict[str, Any]:
    """What a DELETE answers."""
    return {"id": object_id, "object": object_type, "deleted": True}
