"""Control: what the ``/_local`` surface does besides a namespace's settings (:mod:`.tenants`).

Forced outcomes (a request's result, a batch's validation; a batch's expiry is
:meth:`.batches.Batches.expire`), a namespace's reset, its state as the control surface shows
it, its webhook setting and events, and the instructor's view of a whole class. Each acts on the
namespaces the route names (its own, or, for an admin key, another's or everyone's).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..config import PACES, Settings
from ..errors import BadRequest, invalid_type, missing_parameter
from ..store import Store
from ..webhooks import Outbox
from .tenants import Tenants


class Control:
    """Forced outcomes, reset, state and the class view."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        tenants: Tenants,
        outbox: Outbox,
        wake: threading.Event,
    ) -> None:
        self.store = store
        self.settings = settings
        self.tenants = tenants
        self.outbox = outbox
        self._wake = wake

    def reset(self, namespace: str) -> dict[str, Any]:
        """Delete a namespace's files, batches and forced outcomes (and their work files), and
        put its clock, pace, token limit and tier back to the server's start-up values. Its webhook
        events go too, and its webhook endpoint back to the server's."""
        self.store.reset(namespace)
        self.outbox.reset(namespace)
        self.tenants.reset(namespace)
        return self.state(namespace)

    def force_line(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Decide the outcome of the request with ``custom_id`` the next time one runs."""
        custom_id = body.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            raise missing_parameter("custom_id")
        batch_id = _optional_str(body, "batch_id")
        status_code = body.get("status_code")
        error = body.get("error")
        if status_code is None and error is None:
            raise BadRequest("Give status_code (with an optional error body) or error.")
        if status_code is not None:
            if not isinstance(status_code, int) or not 400 <= status_code <= 599:
                raise BadRequest(
                    "status_code must be an HTTP error status, from 400 to 599.",
                    param="status_code",
                )
            if error is not None:
                error = _forced_error_body(error)
        else:
            error = _forced_line_error(error)
        outcome = {"status_code": status_code, "error": error}
        self.store.add_force(namespace, "line", batch_id, custom_id, outcome)
        return {"custom_id": custom_id, "batch_id": batch_id, **outcome}

    def force_validation(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Make a batch (or the next one validated) fail validation with the given errors."""
        code = body.get("code")
        if not isinstance(code, str) or not code:
            raise missing_parameter("code")
        line = body.get("line")
        if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 1):
            raise BadRequest("line must be a line number (1 or more) or null.", param="line")
        outcome = {
            "code": code,
            "message": _optional_str(body, "message"),
            "param": _optional_str(body, "param"),
            "line": line,
        }
        batch_id = _optional_str(body, "batch_id")
        self.store.add_force(namespace, "validation", batch_id, None, outcome)
        self._wake.set()
        return outcome

    def state(self, namespace: str, *, details: bool = True) -> dict[str, Any]:
        """A namespace's clock, pace, token limit and tier; with ``details``, also where the server
        keeps its state and what it talks to (for its owner or an instructor only)."""
        tenant = self.tenants.get(namespace)
        state: dict[str, Any] = {
            "object": "local_server.state",
            "namespace": namespace,
            "now": tenant.clock.now(),
            "clock_offset": tenant.clock.offset,
            "pace": tenant.pace.as_dict(),
            "paces": {name: p.as_dict() for name, p in PACES.items()},
            "token_limit": tenant.token_limit,
            "token_limit_set": tenant.token_limit_set,
            "tier": tenant.tier,
            "like_live": self.settings.like_live,
            "responder": self.settings.responder,
        }
        if details:
            settings = self.settings
            state["state_dir"] = str(settings.state_dir)
            state["pid"] = os.getpid()
            state["upstream"] = settings.upstream
            state["replay"] = str(settings.replay) if settings.replay else None
            state["record"] = str(settings.record) if settings.record else None
            state["keys_file"] = str(settings.keys_file) if settings.keys_file else None
        return state

    def class_view(self, students: dict[str, str]) -> dict[str, Any]:
        """One row per student (namespace → label): files, batches by status, last activity
        and the notebooks their batches came from (``metadata["notebook"]``)."""
        rows = []
        for namespace, label in students.items():
            now = self.tenants.now(namespace)
            summary = self.store.summary(namespace, now)
            notebooks = sorted(summary["notebooks"])
            rows.append(
                {
                    "label": label,
                    "namespace": namespace,
                    "files": summary["files"],
                    "batches": dict(sorted(summary["batches"].items())),
                    "last_activity": summary["last_activity"],
                    "notebooks": notebooks,
                    "furthest_notebook": notebooks[-1] if notebooks else None,
                    "now": now,
                }
            )
        return {"object": "local_server.class", "data": rows}


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid_type(name, "a string", value)
    return value


def _forced_error_body(error: Any) -> dict[str, Any]:
    """A forced line's HTTP error body, ``{"error": {...}}`` (or just the inner object)."""
    if not isinstance(error, dict):
        raise invalid_type("error", "an object", error)
    inner = error.get("error", error)
    if not isinstance(inner, dict) or not isinstance(inner.get("message"), str):
        raise BadRequest(
            "error must be an error body: an object with a string 'message'.", param="error"
        )
    return {
        "error": {
            "message": inner["message"],
            "type": str(inner.get("type") or "invalid_request_error"),
            "param": inner.get("param") if isinstance(inner.get("param"), str) else None,
            "code": inner.get("code") if isinstance(inner.get("code"), str) else None,
        }
    }


def _forced_line_error(error: Any) -> dict[str, str]:
    """A forced line's ``error`` when it got no HTTP answer: ``{"code", "message"}`` strings."""
    if not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
    ):
        raise BadRequest(
            "error must be an object with a string 'code' and a string 'message'.", param="error"
        )
    return {"code": error["code"], "message": error["message"]}
