"""Validate JSON objects against schemas copied from OpenAI's OpenAPI spec.

The schemas live in ``tests/fixtures/openapi_schemas.json``: a verbatim copy of
``components.schemas`` entries (plus everything they reference) taken from OpenAI's published
``openapi.yaml``, which says ``openapi: 3.1.0``. The tests never read the original spec.

Validation is openapi-schema-validator's ``OAS31Validator`` (JSON Schema 2020-12 with the
OpenAPI 3.1 vocabulary: ``discriminator``, ``example``, ``xml`` and ``externalDocs`` are
annotations, ``x-*`` keys are ignored). The copied schemas are served as one document, so their
``$ref: "#/components/schemas/X"`` resolve through a ``referencing`` registry as they do in the
spec. Required keys, types and enums are checked as strictly as the spec states them.

One documented patch, on by default (:func:`relax_nulls`): real API responses send ``null`` for
properties that the spec lists but does not require (``Batch.output_file_id``, ``Batch.errors``,
``OpenAIFile.status_details``...), while the spec types them without ``null``. OpenAI's own
SDKs, generated from this spec, treat such properties as optional *and* nullable, so the copy
validated against does the same. Pass ``strict_nulls=True`` to check the spec literally.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["FIXTURE_PATH", "relax_nulls", "spec_schemas", "validate_against_spec"]

FIXTURE_PATH = Path(__file__).resolve().parent / "fixtures" / "openapi_schemas.json"
#: where the copied schemas are registered; their own refs are relative to it
SPEC_URI = "urn:openai-openapi"

# the JSON Schema keywords whose value is a subschema, a list of them, or a map of names to them
_SUBSCHEMA = (
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
)
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("patternProperties", "dependentSchemas", "$defs")


@cache
def _raw_schemas() -> dict[str, Any]:
    with FIXTURE_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)["schemas"]


def spec_schemas() -> dict[str, Any]:
    """A deep copy of every schema in the fixture, exactly as the spec writes them."""
    return copy.deepcopy(_raw_schemas())


def _admits_null(schema: Any) -> bool:
    if schema is True or not isinstance(schema, dict) or not schema:
        return True
    type_ = schema.get("type")
    if type_ == "null" or (isinstance(type_, list) and "null" in type_):
        return True
    return any(_admits_null(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def relax_nulls(schema: Any) -> Any:
    """A copy of ``schema`` in which every property not in its object's ``required`` list
    also accepts ``null`` (``anyOf: [the property's schema, {type: null}]``), at every depth.

    Required properties, and properties that already accept null, are left as they are.
    """
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    for key in _SUBSCHEMA:
        if key in out:
            out[key] = relax_nulls(out[key])
    for key in _SUBSCHEMA_LISTS:
        if key in out:
            out[key] = [relax_nulls(sub) for sub in out[key]]
    for key in _SUBSCHEMA_MAPS:
        if key in out:
            out[key] = {name: relax_nulls(sub) for name, sub in out[key].items()}
    if isinstance(out.get("properties"), dict):
        required = set(out.get("required", ()))
        relaxed = {}
        for name, sub in out["properties"].items():
            sub = relax_nulls(sub)
            if name not in required and not _admits_null(sub):
                sub = {"anyOf": [sub, {"type": "null"}]}
            relaxed[name] = sub
        out["properties"] = relaxed
    return out


@cache
def _registry(strict_nulls: bool) -> Registry:
    schemas = _raw_schemas()
    if not strict_nulls:
        schemas = {name: relax_nulls(schema) for name, schema in schemas.items()}
    for schema in schemas.values():
        OAS31Validator.check_schema(schema)
    document = {"components": {"schemas": schemas}}
    return Registry().with_resource(SPEC_URI, Resource(document, DRAFT202012))


@cache
def _validator(schema_name: str, strict_nulls: bool) -> OAS31Validator:
    if schema_name not in _raw_schemas():
        raise KeyError(
            f"schema {schema_name!r} is not in {FIXTURE_PATH.name}; "
            f"available: {', '.join(sorted(_raw_schemas()))}"
        )
    root = {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}
    return OAS31Validator(root, registry=_registry(strict_nulls))


def validate_against_spec(instance: Any, schema_name: str, *, strict_nulls: bool = False) -> None:
    """Raise ``jsonschema.ValidationError`` if ``instance`` breaks the spec schema.

    ``strict_nulls=False`` (default) accepts ``null`` for properties that the schema lists but
    does not require, as real API responses send them (see :func:`relax_nulls`).
    """
    error = best_match(_validator(schema_name, strict_nulls).iter_errors(instance))
    if error is not None:
        raise error
