"""Validate JSON objects against schemas copied from OpenAI's OpenAPI spec.

The schemas live in ``tests/fixtures/openapi_schemas.json``: a verbatim copy of
``components.schemas`` entries (plus everything they reference) taken from
OpenAI's published ``openapi.yaml``. The tests never read the original spec.

The spec says ``openapi: 3.1.0`` and mostly writes nullable values the 3.1 way
(``anyOf: [..., {type: "null"}]`` or ``type: [..., "null"]``), but it still
contains some OpenAPI 3.0 ``nullable: true`` leftovers. This module turns an
OpenAPI schema into plain JSON Schema 2020-12:

* ``nullable: true`` becomes ``"null"`` in ``type`` (or ``None`` in ``enum``),
  or an ``anyOf`` with ``{"type": "null"}`` when there is no ``type``;
* ``$ref: "#/components/schemas/X"`` becomes ``$ref: "#/$defs/X"`` and every
  copied schema is placed under ``$defs``;
* ``x-*`` extension keys, ``discriminator``, ``example``, ``xml`` and
  ``externalDocs`` are dropped (they are annotations, not constraints);
* the OpenAPI 3.0 boolean forms of ``exclusiveMinimum`` / ``exclusiveMaximum``
  become the numeric 2020-12 forms.

Required keys, types and enums are checked as strictly as the spec states them.

One deliberate relaxation, on by default: real API responses send ``null`` for
properties that the spec lists but does not require (``Batch.output_file_id``,
``Batch.errors``, ``OpenAIFile.status_details``...), while the spec types them
without ``null``. OpenAI's own SDKs, generated from this spec, treat such
properties as optional *and* nullable, so this module does the same. Pass
``strict_nulls=True`` to check the spec literally.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

__all__ = [
    "FIXTURE_PATH",
    "spec_required",
    "spec_schema",
    "spec_schema_names",
    "validate_against_spec",
]

FIXTURE_PATH = Path(__file__).resolve().parent / "fixtures" / "openapi_schemas.json"

_COMPONENT_PREFIX = "#/components/schemas/"
_DROPPED_KEYS = {"discriminator", "example", "xml", "externalDocs"}

# Keywords whose value is a single subschema.
_SCHEMA_KEYWORDS = {
    "additionalProperties",
    "items",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
}
# Keywords whose value is a list of subschemas.
_SCHEMA_LIST_KEYWORDS = {"allOf", "anyOf", "oneOf", "prefixItems"}
# Keywords whose value maps names to subschemas.
_SCHEMA_MAP_KEYWORDS = {"properties", "patternProperties", "dependentSchemas", "$defs"}


@cache
def _raw_schemas() -> dict[str, Any]:
    with FIXTURE_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)["schemas"]


def spec_schema_names() -> list[str]:
    """Names of all schemas available in the fixture."""
    return sorted(_raw_schemas())


def spec_schema(schema_name: str) -> dict[str, Any]:
    """A deep copy of the schema exactly as the OpenAPI spec writes it."""
    return copy.deepcopy(_lookup(schema_name))


def spec_required(schema_name: str) -> list[str]:
    """The ``required`` list of a schema, as the spec writes it ([] if none)."""
    return list(_lookup(schema_name).get("required", []))


def _lookup(schema_name: str) -> dict[str, Any]:
    schemas = _raw_schemas()
    if schema_name not in schemas:
        raise KeyError(
            f"schema {schema_name!r} is not in {FIXTURE_PATH.name}; "
            f"available: {', '.join(sorted(schemas))}"
        )
    return schemas[schema_name]


def _admits_null(schema: Any) -> bool:
    if schema is True or not isinstance(schema, dict) or not schema:
        return True
    type_ = schema.get("type")
    if type_ == "null" or (isinstance(type_, list) and "null" in type_):
        return True
    return any(_admits_null(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def _or_null(schema: Any) -> Any:
    if _admits_null(schema):
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _translate(schema: Any, *, strict_nulls: bool) -> Any:
    """Turn one OpenAPI schema object into a JSON Schema 2020-12 one."""
    if isinstance(schema, bool) or not isinstance(schema, dict):
        return schema

    out: dict[str, Any] = {}
    nullable = False
    for key, value in schema.items():
        if key.startswith("x-") or key in _DROPPED_KEYS:
            continue
        if key == "nullable":
            nullable = value is True
        elif key == "$ref":
            if isinstance(value, str) and value.startswith(_COMPONENT_PREFIX):
                value = "#/$defs/" + value[len(_COMPONENT_PREFIX) :]
            out[key] = value
        elif key in _SCHEMA_KEYWORDS:
            out[key] = _translate(value, strict_nulls=strict_nulls)
        elif key in _SCHEMA_LIST_KEYWORDS:
            out[key] = [_translate(v, strict_nulls=strict_nulls) for v in value]
        elif key in _SCHEMA_MAP_KEYWORDS:
            out[key] = {k: _translate(v, strict_nulls=strict_nulls) for k, v in value.items()}
        else:
            out[key] = copy.deepcopy(value)

    # OpenAPI 3.0: exclusiveMinimum/Maximum are booleans qualifying minimum/maximum.
    for excl, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(excl), bool):
            if out.pop(excl) and bound in out:
                out[excl] = out.pop(bound)

    if not strict_nulls and isinstance(out.get("properties"), dict):
        required = set(out.get("required", []))
        out["properties"] = {
            name: sub if name in required else _or_null(sub)
            for name, sub in out["properties"].items()
        }

    if nullable:
        if "$ref" in out or any(k in out for k in _SCHEMA_LIST_KEYWORDS) or "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
        else:
            type_ = out["type"]
            types = list(type_) if isinstance(type_, list) else [type_]
            if "null" not in types:
                out["type"] = types + ["null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = list(out["enum"]) + [None]
    return out


@cache
def _validator(schema_name: str, strict_nulls: bool) -> Draft202012Validator:
    _lookup(schema_name)  # clear KeyError for unknown names
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {
            name: _translate(schema, strict_nulls=strict_nulls)
            for name, schema in _raw_schemas().items()
        },
        "$ref": f"#/$defs/{schema_name}",
    }
    Draft202012Validator.check_schema(root)
    return Draft202012Validator(root)


def validate_against_spec(instance: Any, schema_name: str, *, strict_nulls: bool = False) -> None:
    """Raise ``jsonschema.ValidationError`` if ``instance`` breaks the spec schema.

    ``strict_nulls=False`` (default) accepts ``null`` for properties that the
    schema lists but does not require, as real API responses send them.
    """
    validator = _validator(schema_name, strict_nulls)
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise error
