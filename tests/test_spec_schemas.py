"""What is ours in the spec check: the copied schemas, their null relaxation, and the wiring.

Validation itself is openapi-schema-validator's; these tests cover the fixture, the one patch
applied to it (spec_schemas.relax_nulls) and that the copy is served so its refs resolve.
"""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from openapi_schema_validator import OAS31Validator

from spec_schemas import FIXTURE_PATH, relax_nulls, spec_schemas, validate_against_spec

# Real objects returned by api.openai.com: the nulls in them are what the relaxation is for.
REAL_BATCH = {
    "id": "batch_6733120ddc8c81909868512632c838c4",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "errors": None,
    "input_file_id": "file-D0u3s4mvLZlvbggh9po37CVs",
    "completion_window": "24h",
    "status": "validating",
    "output_file_id": None,
    "error_file_id": None,
    "created_at": 1731400205,
    "in_progress_at": None,
    "expires_at": 1731486605,
    "finalizing_at": None,
    "completed_at": None,
    "failed_at": None,
    "expired_at": None,
    "cancelling_at": None,
    "cancelled_at": None,
    "request_counts": {"total": 0, "completed": 0, "failed": 0},
    "metadata": None,
}

REAL_FAILED_BATCH = {
    **REAL_BATCH,
    "status": "failed",
    "failed_at": 1731400206,
    "errors": {
        "object": "list",
        "data": [
            {
                "code": "invalid_json_line",
                "line": 1,
                "message": "This line is not parseable as valid JSON.",
                "param": None,
            }
        ],
    },
}

REAL_FILE = {
    "object": "file",
    "id": "file-D0u3s4mvLZlvbggh9po37CVs",
    "purpose": "batch",
    "filename": "batchinput.jsonl",
    "bytes": 516,
    "created_at": 1731400090,
    "expires_at": 1733992090,
    "status": "processed",
    "status_details": None,
}

REAL_ERROR = {
    "error": {
        "message": "No such File object: file-abc123",
        "type": "invalid_request_error",
        "param": "id",
        "code": None,
    }
}


def replaced(obj: dict, **changes) -> dict:
    return {**copy.deepcopy(obj), **changes}


def batch_list(*batches: dict) -> dict:
    return {
        "object": "list",
        "data": list(batches),
        "first_id": batches[0]["id"],
        "last_id": batches[-1]["id"],
        "has_more": False,
    }


# --- the fixture -----------------------------------------------------------


def _walk(node, key=None):
    if isinstance(node, dict):
        for k, value in node.items():
            yield k, value
            yield from _walk(value, k)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, key)


def test_fixture_is_self_contained():
    data = json.loads(FIXTURE_PATH.read_text(encoding="utf-8"))
    assert set(data) == {"source", "schemas"}
    names = set(spec_schemas())
    assert {
        "Batch",
        "BatchError",
        "BatchRequestCounts",
        "ListBatchesResponse",
        "OpenAIFile",
        "ListFilesResponse",
        "DeleteFileResponse",
        "Error",
        "ErrorResponse",
        "Metadata",
    } <= names
    for key, ref in _walk(data["schemas"]):
        if key == "$ref":
            assert ref.startswith("#/components/schemas/"), ref
            assert ref.rsplit("/", 1)[1] in names, ref


def test_fixture_is_openapi_31_as_the_validator_reads_it():
    # OAS31Validator reads 3.1 schemas: a 3.0 leftover would silently mean something else
    # (``nullable`` is not a 3.1 keyword; a boolean exclusiveMinimum is not a 2020-12 one)
    for name, schema in spec_schemas().items():
        OAS31Validator.check_schema(schema)
        keys = {key for key, _ in _walk(schema)}
        assert "nullable" not in keys, name
        for key, value in _walk(schema):
            if key in ("exclusiveMinimum", "exclusiveMaximum"):
                assert not isinstance(value, bool), name


def test_the_refs_are_followed():
    # a broken item two refs away (ListBatchesResponse -> Batch -> its status enum) is found
    broken = batch_list(REAL_BATCH, replaced(REAL_BATCH, status="bogus"))
    with pytest.raises(jsonschema.ValidationError, match="'bogus' is not one of"):
        validate_against_spec(broken, "ListBatchesResponse")
    with pytest.raises(jsonschema.ValidationError, match="'failed' is a required property"):
        validate_against_spec(
            replaced(REAL_BATCH, request_counts={"total": 1, "completed": 1}), "Batch"
        )


def test_unknown_schema_name_is_a_key_error():
    with pytest.raises(KeyError, match="NoSuchSchema"):
        validate_against_spec({}, "NoSuchSchema")


# --- the null relaxation ---------------------------------------------------


@pytest.mark.parametrize(
    ("instance", "schema_name"),
    [
        (REAL_BATCH, "Batch"),
        (REAL_FAILED_BATCH, "Batch"),
        (REAL_FILE, "OpenAIFile"),
        (REAL_ERROR, "ErrorResponse"),
        (batch_list(REAL_BATCH, REAL_FAILED_BATCH), "ListBatchesResponse"),
    ],
    ids=["batch", "failed-batch", "file", "error-response", "batch-list"],
)
def test_real_objects_validate(instance, schema_name):
    validate_against_spec(instance, schema_name)


def test_strict_nulls_shows_where_real_responses_differ_from_the_spec():
    # The spec types output_file_id, errors, in_progress_at... as plain
    # string/object/integer, but the real API sends null for them.
    with pytest.raises(jsonschema.ValidationError, match="None is not of type"):
        validate_against_spec(REAL_BATCH, "Batch", strict_nulls=True)
    with pytest.raises(jsonschema.ValidationError, match="None is not of type 'string'"):
        validate_against_spec(REAL_FILE, "OpenAIFile", strict_nulls=True)
    # Nulls the spec does declare (Metadata, Error.code/param) pass even when strict.
    validate_against_spec(REAL_ERROR, "ErrorResponse", strict_nulls=True)
    strict_ok = {k: v for k, v in REAL_BATCH.items() if v is not None or k == "metadata"}
    validate_against_spec(strict_ok, "Batch", strict_nulls=True)


def test_required_keys_are_never_relaxed_to_null():
    required = spec_schemas()["Batch"]["required"]
    assert set(required) == {
        "id",
        "object",
        "endpoint",
        "input_file_id",
        "completion_window",
        "status",
        "created_at",
    }
    for key in required:
        with pytest.raises(jsonschema.ValidationError):
            validate_against_spec(replaced(REAL_BATCH, **{key: None}), "Batch")
    with pytest.raises(jsonschema.ValidationError, match="None is not of type 'integer'"):
        validate_against_spec(replaced(REAL_FILE, bytes=None), "OpenAIFile")


def test_a_relaxed_property_keeps_its_type():
    for changes in ({"output_file_id": 7}, {"in_progress_at": "soon"}, {"errors": []}):
        with pytest.raises(jsonschema.ValidationError):
            validate_against_spec(replaced(REAL_BATCH, **changes), "Batch")
    line_as_string = {"object": "list", "data": [{"code": "x", "line": "1"}]}
    with pytest.raises(jsonschema.ValidationError):
        validate_against_spec(replaced(REAL_FAILED_BATCH, errors=line_as_string), "Batch")


def test_relax_nulls_on_a_schema():
    schema = {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string"},
            "note": {"type": "string"},
            "ref": {"$ref": "#/components/schemas/Other"},
            "either": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "tags": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
        },
    }
    original = copy.deepcopy(schema)
    relaxed = relax_nulls(schema)
    assert schema == original  # a copy: the fixture's schemas are never changed
    props = relaxed["properties"]
    assert props["id"] == {"type": "string"}  # required: left alone
    assert props["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert props["ref"] == {"anyOf": [{"$ref": "#/components/schemas/Other"}, {"type": "null"}]}
    assert props["either"] == original["properties"]["either"]  # already nullable
    item = props["tags"]["anyOf"][0]["items"]  # nested objects are relaxed too
    assert item["properties"]["name"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert relaxed["required"] == ["id"]
