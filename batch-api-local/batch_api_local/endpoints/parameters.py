"""The body parameters of chat completions and Responses that a table describes, and their check.

Each :class:`Parameter` says, once, what one body field may hold (its kind: a boolean, an
integer or decimal in a range, a string up to a length, one of an enum's values, an array of
them, an object, ``stop``, ``metadata``, ``logit_bias``; or a field the endpoint does not have),
as OpenAI's published spec (``CreateChatCompletionRequest``, ``CreateResponse``) and the pinned
SDK's types state it. :func:`check` reads an endpoint's table in order and raises the first
problem in the real API's words (:mod:`..errors`). Nested fields are written with dots
(``reasoning.summary``); they are looked at only when their parent is an object, and each parent
comes before its children in a table, so a parent of the wrong type is reported first.

What depends on the model (reasoning efforts, sampling while a model reasons) is not here: see
:mod:`.reasoning`. The fields each endpoint checks in its own code (``messages``, ``input``,
``n``, the output limits, ``temperature``, ``top_p``, formats and tools) are not in the tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .. import errors
from ..errors import APIError, invalid_type

__all__ = ["Parameter", "check"]

Kind = Literal[
    "boolean",
    "string_or_object",
    "integer",
    "decimal",
    "string",
    "enum",
    "enum_list",
    "object",
    "stop",
    "metadata",
    "logit_bias",
    "unknown",
    "moved",
]

#: the most entries ``logit_bias`` may hold (observed: "Expected an object with at most 1024
#: properties")
LOGIT_BIAS_MAX_KEYS = 1024
LOGIT_BIAS_RANGE = (-100, 100)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Parameter:
    """What one body field may hold.

    Attributes:
        path: The field, dotted when nested (``"reasoning.summary"``).
        kind: What it holds (see the module docstring).
        values: The values of an ``enum`` or ``enum_list``; the members an ``object`` requires;
            for ``moved``, the new name.
        minimum: The smallest ``integer`` or ``decimal`` allowed (None: no bound).
        maximum: The largest ``integer`` or ``decimal`` allowed; the longest ``string`` or
            ``stop`` array (None: no bound).
        invalid: The error an ``enum`` value outside its values gets, when the endpoint words
            it in its own way (chat's ``prompt_cache_retention``); None: ``invalid_value``.
    """

    path: str
    kind: Kind
    values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    invalid: Callable[[], APIError] | None = None

    def check(self, body: dict[str, Any]) -> None:
        """Raise the real API's error when the field holds what it may not (absent and null
        are always fine)."""
        holder: Any = body
        *parents, name = self.path.split(".")
        for parent in parents:
            holder = holder.get(parent) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or name not in holder:
            return
        value = holder[name]
        if self.kind == "unknown":
            raise errors.unknown_parameter(self.path)
        if self.kind == "moved":
            raise errors.moved_parameter(self.path, self.values[0])
        if value is None:
            return
        _CHECKS[self.kind](self, value)


def _boolean(spec: Parameter, value: Any) -> None:
    if not isinstance(value, bool):
        raise invalid_type(spec.path, "a boolean", value)


def _integer(spec: Parameter, value: Any) -> None:
    if not _is_int(value):
        raise invalid_type(spec.path, "an integer", value)
    if spec.minimum is not None and value < spec.minimum:
        raise errors.integer_out_of_range(spec.path, value, int(spec.minimum), above=False)
    if spec.maximum is not None and value > spec.maximum:
        raise errors.integer_out_of_range(spec.path, value, int(spec.maximum), above=True)


def _decimal(spec: Parameter, value: Any) -> None:
    if not _is_number(value):
        raise invalid_type(spec.path, "a decimal", value)
    if math.isnan(value):
        raise errors.nan_value(spec.path)
    if spec.minimum is not None and value < spec.minimum:
        raise errors.decimal_out_of_range(spec.path, value, spec.minimum, above=False)
    if spec.maximum is not None and value > spec.maximum:
        raise errors.decimal_out_of_range(spec.path, value, spec.maximum, above=True)


def _string(spec: Parameter, value: Any) -> None:
    if not isinstance(value, str):
        raise invalid_type(spec.path, "a string", value)
    if spec.maximum is not None and len(value) > spec.maximum:
        raise errors.string_too_long(spec.path, int(spec.maximum), len(value))


def _enum(spec: Parameter, value: Any) -> None:
    if not isinstance(value, str):
        raise errors.enum_type(spec.path, spec.values, value)
    if value not in spec.values:
        if spec.invalid is not None:
            raise spec.invalid()
        raise errors.invalid_enum(spec.path, value, spec.values)


def _enum_list(spec: Parameter, value: Any) -> None:
    if not isinstance(value, list):
        raise errors.enum_list_type(spec.path, value)
    for index, item in enumerate(value):
        where = f"{spec.path}[{index}]"
        if not isinstance(item, str):
            raise errors.enum_type(where, spec.values, item)
        if item not in spec.values:
            raise errors.invalid_enum(where, item, spec.values)


def _object(spec: Parameter, value: Any) -> None:
    if not isinstance(value, dict):
        raise invalid_type(spec.path, "an object", value)
    for member in spec.values:
        if value.get(member) is None:
            raise errors.missing_parameter(f"{spec.path}.{member}")


def _string_or_object(spec: Parameter, value: Any) -> None:
    """A name, or an object that names its ``id`` (chat's ``audio.voice``: a built-in voice or
    a custom one)."""
    if isinstance(value, str):
        return
    if not isinstance(value, dict):
        raise invalid_type(spec.path, "one of a string or object", value)
    if not isinstance(value.get("id"), str):
        raise errors.missing_parameter(f"{spec.path}.id")


def _stop(spec: Parameter, value: Any) -> None:
    """A string, or an array of 1 to ``maximum`` strings."""
    if isinstance(value, str):
        return
    if not isinstance(value, list):
        raise invalid_type(spec.path, "one of a string or array of strings", value)
    if not value:
        raise errors.empty_array(spec.path)
    if spec.maximum is not None and len(value) > spec.maximum:
        raise errors.array_too_long(spec.path, int(spec.maximum), len(value))
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise invalid_type(f"{spec.path}[{index}]", "a string", item)


def _metadata(spec: Parameter, value: Any) -> None:
    """16 string values at most, keys up to 64 characters, values up to 512 (the limits of a
    batch's metadata, which the spec gives every ``metadata``)."""
    from .. import constants  # constants reads the endpoint registry: not at import time

    if not isinstance(value, dict):
        raise invalid_type(spec.path, "a metadata object", value)
    if len(value) > constants.METADATA_MAX_KEYS:
        raise errors.too_many_metadata_keys(constants.METADATA_MAX_KEYS, len(value))
    for key, item in value.items():
        if len(key) > constants.METADATA_MAX_KEY:
            raise errors.metadata_key_too_long(key, constants.METADATA_MAX_KEY)
        if not isinstance(item, str):
            raise invalid_type(f"{spec.path}.{key}", "a string", item)
        if len(item) > constants.METADATA_MAX_VALUE:
            raise errors.metadata_value_too_long(key, constants.METADATA_MAX_VALUE, len(item))


def _logit_bias(spec: Parameter, value: Any) -> None:
    """Token ids (as JSON keys: strings of digits) to a bias from -100 to 100."""
    if not isinstance(value, dict):
        raise invalid_type(spec.path, "an object", value)
    if len(value) > LOGIT_BIAS_MAX_KEYS:
        raise errors.too_many_properties(spec.path, LOGIT_BIAS_MAX_KEYS, len(value))
    low, high = LOGIT_BIAS_RANGE
    for key, bias in value.items():
        if not key.isascii() or not key.isdigit():
            raise errors.invalid_logit_bias_key(key)
        where = f"{spec.path}.{key}"
        if not _is_number(bias):
            raise invalid_type(where, "a decimal", bias)
        if math.isnan(bias):
            raise errors.nan_value(where)
        if bias < low:
            raise errors.decimal_out_of_range(where, bias, low, above=False)
        if bias > high:
            raise errors.decimal_out_of_range(where, bias, high, above=True)


_CHECKS: dict[str, Callable[[Parameter, Any], None]] = {
    "boolean": _boolean,
    "integer": _integer,
    "decimal": _decimal,
    "string": _string,
    "enum": _enum,
    "enum_list": _enum_list,
    "object": _object,
    "string_or_object": _string_or_object,
    "stop": _stop,
    "metadata": _metadata,
    "logit_bias": _logit_bias,
}


def check(body: dict[str, Any], table: tuple[Parameter, ...]) -> None:
    """Check every field of ``table`` in ``body``, in the table's order.

    Raises :class:`..errors.APIError` (a 400 in the real API's words) for the first field that
    holds what it may not.
    """
    for spec in table:
        spec.check(body)
