"""OpenAI's error envelope, raised by the domain and turned into HTTP responses in one place.

Every error the local server returns is an :class:`APIError`. Routes never build error JSON by
hand: they let the exception propagate and :func:`helpers.local_server.app.create_app` renders it
as ``{"error": {"message", "type", "param", "code"}}`` with the right HTTP status, exactly the
shape OpenAI's published spec calls ``ErrorResponse``.
"""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    """An error with the fields of OpenAI's ``Error`` object and an HTTP status."""

    status_code = 400
    error_type = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        if status_code is not None:
            self.status_code = status_code
        if error_type is not None:
            self.error_type = error_type
        self.should_retry = should_retry

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }

    def headers(self) -> dict[str, str]:
        if self.should_retry is None:
            return {}
        return {"x-should-retry": "true" if self.should_retry else "false"}


class BadRequest(APIError):
    status_code = 400


class Unauthorized(APIError):
    status_code = 401


class NotFound(APIError):
    status_code = 404


class Conflict(APIError):
    """HTTP 409. Sent with ``x-should-retry: false`` so the SDK does not retry it."""

    status_code = 409

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("should_retry", False)
        super().__init__(message, **kwargs)


def missing_parameter(name: str) -> BadRequest:
    return BadRequest(
        f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
    )


def invalid_value(name: str, value: Any, supported: list[str] | None = None) -> BadRequest:
    message = f"Invalid value: '{value}'."
    if supported:
        message += " Supported values are: " + ", ".join(f"'{s}'" for s in supported) + "."
    return BadRequest(message, param=name, code="invalid_value")


def invalid_type(name: str, expected: str, got: Any) -> BadRequest:
    return BadRequest(
        f"Invalid type for '{name}': expected {expected}, but got {json_type_name(got)} instead.",
        param=name,
        code="invalid_type",
    )


def json_type_name(value: Any) -> str:
    """How OpenAI names a JSON value's type in its messages ("an array", "a string", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "an unknown value"
