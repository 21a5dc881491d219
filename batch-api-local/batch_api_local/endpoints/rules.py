"""The rules every request to a batch endpoint must pass before it is answered, written once.

A batch line meets them when its batch validates (:func:`..validation.check_line`), a direct
call when it is answered (:class:`..responder.LocalResponder`). Each rule here is a function of
the registry that finds the problem, if any; the :class:`Problem` renders it both ways: as the
entry of ``batch.errors.data`` a line gets (:meth:`Problem.batch_error`, wording in
``errors.BATCH_MESSAGES``) and as the HTTP error a direct call gets (:meth:`Problem.api_error`).
Each caller applies them in its own order (a batch line's model is checked before its ``stream``
flag, a direct call's ``stream`` flag first), and only a batch line is also checked against the
rest of its file (one model, unique custom ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .. import errors
from ..errors import APIError, BatchError, batch_error, json_type_name
from ..models import ModelInfo, retired
from . import ENDPOINTS, Endpoint

__all__ = [
    "Problem",
    "Rule",
    "model_name",
    "required_parameter",
    "served_model",
    "streaming",
]

Rule = Literal[
    "stream",
    "model_missing",
    "model_empty",
    "model_type",
    "model_unknown",
    "model_shut_down",
    "model_unserved",
    "parameter_missing",
]


@dataclass(frozen=True)
class Problem:
    """What a rule found wrong with a request to ``url``.

    Attributes:
        rule: Which rule it broke.
        url: The endpoint the request is for.
        value: What the rule looked at: the model given (``model_*``) or the missing parameter's
            name (``parameter_missing``).
        info: The catalog entry of a model that does not serve the endpoint (``model_unserved``).
    """

    rule: Rule
    url: str
    value: Any = None
    info: ModelInfo | None = None

    @property
    def endpoint(self) -> Endpoint | None:
        return ENDPOINTS.get(self.url)

    def batch_error(self, line: int | None = None) -> BatchError:
        """The problem as a batch line gets it, in ``batch.errors.data``."""
        if self.rule == "stream":
            label = self.endpoint.label if self.endpoint is not None else "Batch"
            return batch_error("streaming_unsupported", param="body.stream", line=line, label=label)
        if self.rule in ("model_missing", "model_empty"):
            return batch_error("parameter_required", param="body.model", line=line, name="Model")
        if self.rule == "model_type":
            return batch_error(
                "invalid_type",
                param="body.model",
                line=line,
                expected="a string",
                got=json_type_name(self.value),
            )
        if self.rule in ("model_unknown", "model_unserved"):
            return batch_error("model_not_found", param="body.model", line=line, model=self.value)
        if self.rule == "model_shut_down":
            return batch_error("model_shut_down", param="body.model", line=line, model=self.value)
        name = str(self.value)  # parameter_missing
        return batch_error("parameter_required", param=f"body.{name}", line=line, name=name.title())

    def api_error(self) -> APIError:
        """The problem as a direct call gets it: the HTTP error of the real endpoint."""
        if self.rule == "stream":
            return errors.streaming_unsupported()
        if self.rule == "model_missing":
            return errors.model_required()
        if self.rule == "model_type":
            return errors.invalid_type("model", "a string", self.value)
        if self.rule in ("model_empty", "model_unknown"):
            return errors.model_not_found(str(self.value))
        if self.rule == "model_shut_down":
            return errors.model_shut_down(str(self.value))
        if self.rule == "model_unserved":
            endpoint = self.endpoint
            if endpoint is not None and self.info is not None:
                return endpoint.refuse(str(self.value), self.info)
            return errors.endpoint_unsupported(str(self.value), self.url)
        return errors.missing_parameter(str(self.value))  # parameter_missing


def streaming(url: str, body: dict[str, Any]) -> Problem | None:
    """A request may not ask for a stream (``"stream": true``): a batch line cannot be one, and
    the local server streams nothing."""
    return Problem("stream", url) if body.get("stream") is True else None


def model_name(url: str, body: dict[str, Any], *, use_default: bool = False) -> str | Problem:
    """The model a request names, as a string, or the problem with it.

    With ``use_default`` (a direct call) a request that names none gets the endpoint's default
    model, if it has one (moderations). An empty name is a problem of its own: a batch line
    reports it as a missing model, a direct call as a model that does not exist.
    """
    model = body.get("model")
    if model is None:
        endpoint = ENDPOINTS.get(url)
        if use_default and endpoint is not None and endpoint.default_model is not None:
            return endpoint.default_model
        return Problem("model_missing", url)
    if model == "":
        return Problem("model_empty", url, value=model)
    if not isinstance(model, str):
        return Problem("model_type", url, value=model)
    return model


def served_model(
    url: str, model: str, info: ModelInfo | None, now: float | None = None
) -> ModelInfo | Problem:
    """The catalog entry of ``model`` (``info``, None when unknown) when it serves ``url``, or
    the problem: a model that has shut down by ``now`` (the server's clock; None: not looked
    at), an unknown model, or one of a kind the endpoint does not serve."""
    if now is not None and retired(model, now):
        return Problem("model_shut_down", url, value=model)
    if info is None:
        return Problem("model_unknown", url, value=model)
    if not info.supports(url):
        return Problem("model_unserved", url, value=model, info=info)
    return info


def required_parameter(url: str, body: dict[str, Any]) -> Problem | None:
    """The body holds the parameter the endpoint cannot run without (null counts as absent)."""
    endpoint = ENDPOINTS.get(url)
    if endpoint is not None and body.get(endpoint.required) is None:
        return Problem("parameter_missing", url, value=endpoint.required)
    return None
