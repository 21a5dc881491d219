"""The spec validator accepts real OpenAI objects and rejects broken ones."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from spec_schemas import (
    FIXTURE_PATH,
    _translate,
    spec_required,
    spec_schema,
    spec_schema_names,
    validate_against_spec,
)

# Real objects returned by api.openai.com.
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


def batch_list(*batches: dict) -> dict:
    return {
        "object": "list",
        "data": list(batches),
        "first_id": batches[0]["id"],
        "last_id": batches[-1]["id"],
        "has_more": False,
    }


def file_list(*files: dict) -> dict:
    return {
        "object": "list",
        "data": list(files),
        "first_id": files[0]["id"],
        "last_id": files[-1]["id"],
        "has_more": False,
    }


def without(obj: dict, key: str) -> dict:
    out = copy.deepcopy(obj)
    del out[key]
    return out


def replaced(obj: dict, **changes) -> dict:
    return {**copy.deepcopy(obj), **changes}


# --- real objects validate -------------------------------------------------


@pytest.mark.parametrize(
    ("instance", "schema_name"),
    [
        (REAL_BATCH, "Batch"),
        (REAL_FAILED_BATCH, "Batch"),
        (REAL_FILE, "OpenAIFile"),
        (REAL_ERROR, "ErrorResponse"),
        (REAL_ERROR["error"], "Error"),
        (REAL_FAILED_BATCH["errors"]["data"][0], "BatchError"),
        (batch_list(REAL_BATCH, REAL_FAILED_BATCH), "ListBatchesResponse"),
        (file_list(REAL_FILE), "ListFilesResponse"),
        ({"id": REAL_FILE["id"], "object": "file", "deleted": True}, "DeleteFileResponse"),
        (replaced(REAL_BATCH, metadata={"customer_id": "user_123"}), "Batch"),
    ],
    ids=[
        "batch",
        "failed-batch",
        "file",
        "error-response",
        "error",
        "batch-error",
        "batch-list",
        "file-list",
        "file-deleted",
        "batch-with-metadata",
    ],
)
def test_real_objects_validate(instance, schema_name):
    validate_against_spec(instance, schema_name)


# --- broken objects fail ---------------------------------------------------


@pytest.mark.parametrize(
    ("instance", "schema_name", "needle"),
    [
        (without(REAL_BATCH, "id"), "Batch", "'id' is a required property"),
        (without(REAL_FILE, "id"), "OpenAIFile", "'id' is a required property"),
        (replaced(REAL_BATCH, status="bogus"), "Batch", "'bogus' is not one of"),
        (replaced(REAL_BATCH, created_at="1731400205"), "Batch", "is not of type 'integer'"),
        (replaced(REAL_FILE, created_at="1731400090"), "OpenAIFile", "is not of type 'integer'"),
        (replaced(REAL_FILE, purpose="nope"), "OpenAIFile", "'nope' is not one of"),
        (replaced(REAL_BATCH, object="batches"), "Batch", "'batches' is not one of"),
        (replaced(REAL_FILE, bytes=None), "OpenAIFile", "None is not of type 'integer'"),
        (
            {"error": without(REAL_ERROR["error"], "message")},
            "ErrorResponse",
            "'message' is a required property",
        ),
        ({}, "ErrorResponse", "'error' is a required property"),
        (
            without(batch_list(REAL_BATCH), "has_more"),
            "ListBatchesResponse",
            "'has_more' is a required property",
        ),
        (
            without(file_list(REAL_FILE), "has_more"),
            "ListFilesResponse",
            "'has_more' is a required property",
        ),
        (
            batch_list(replaced(REAL_BATCH, status="bogus")),
            "ListBatchesResponse",
            "'bogus' is not one of",
        ),
        (
            file_list(without(REAL_FILE, "purpose")),
            "ListFilesResponse",
            "'purpose' is a required property",
        ),
        (
            replaced(REAL_BATCH, request_counts={"total": 1, "completed": 1}),
            "Batch",
            "'failed' is a required property",
        ),
        (
            replaced(REAL_BATCH, metadata={"n": 1}),
            "Batch",
            "1 is not of type 'string'",
        ),
        (
            replaced(
                REAL_FAILED_BATCH,
                errors={"object": "list", "data": [{"code": "x", "line": "1"}]},
            ),
            "Batch",
            "'1' is not valid under any of the given schemas",
        ),
        ({"id": "file-x", "object": "file", "deleted": "yes"}, "DeleteFileResponse", "'yes'"),
    ],
    ids=[
        "batch-missing-id",
        "file-missing-id",
        "batch-status-bogus",
        "batch-created_at-string",
        "file-created_at-string",
        "file-purpose-nope",
        "batch-object-wrong",
        "file-required-bytes-null",
        "error-without-message",
        "error-response-empty",
        "batch-list-without-has_more",
        "file-list-without-has_more",
        "batch-list-item-broken",
        "file-list-item-broken",
        "request-counts-incomplete",
        "metadata-non-string-value",
        "batch-error-line-string",
        "deleted-not-boolean",
    ],
)
def test_broken_objects_fail(instance, schema_name, needle):
    with pytest.raises(jsonschema.ValidationError) as excinfo:
        validate_against_spec(instance, schema_name)
    assert needle in excinfo.value.message


def test_unknown_schema_name_is_a_key_error():
    with pytest.raises(KeyError, match="NoSuchSchema"):
        validate_against_spec({}, "NoSuchSchema")


# --- the spec's own null handling ------------------------------------------


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
    for key in spec_required("Batch"):
        with pytest.raises(jsonschema.ValidationError):
            validate_against_spec(replaced(REAL_BATCH, **{key: None}), "Batch")


# --- required lists and enums the tests rely on ----------------------------


def test_spec_required_lists():
    assert set(spec_required("Batch")) == {
        "id",
        "object",
        "endpoint",
        "input_file_id",
        "completion_window",
        "status",
        "created_at",
    }
    assert set(spec_required("OpenAIFile")) == {
        "id",
        "object",
        "bytes",
        "created_at",
        "filename",
        "purpose",
        "status",
    }
    assert set(spec_required("ListBatchesResponse")) == {"object", "data", "has_more"}
    assert set(spec_required("ListFilesResponse")) == {
        "object",
        "data",
        "first_id",
        "last_id",
        "has_more",
    }
    assert set(spec_required("Error")) == {"type", "message", "param", "code"}
    assert spec_required("BatchError") == []
    assert spec_required("Metadata") == []


def test_enums():
    assert spec_schema("Batch")["properties"]["status"]["enum"] == [
        "validating",
        "failed",
        "in_progress",
        "finalizing",
        "completed",
        "expired",
        "cancelling",
        "cancelled",
    ]
    purposes = spec_schema("OpenAIFile")["properties"]["purpose"]["enum"]
    assert {"batch", "batch_output"} <= set(purposes)
    for status in spec_schema("Batch")["properties"]["status"]["enum"]:
        validate_against_spec(replaced(REAL_BATCH, status=status), "Batch")
    for purpose in purposes:
        validate_against_spec(replaced(REAL_FILE, purpose=purpose), "OpenAIFile")


# --- the fixture -----------------------------------------------------------


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_fixture_is_self_contained():
    data = json.loads(FIXTURE_PATH.read_text(encoding="utf-8"))
    assert set(data) == {"source", "schemas"}
    names = set(spec_schema_names())
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
    for ref in _refs(data["schemas"]):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in names, ref


# --- OpenAPI -> JSON Schema translation ------------------------------------


def _check(schema: dict, instance) -> bool:
    translated = _translate(schema, strict_nulls=True)
    return jsonschema.Draft202012Validator(translated).is_valid(instance)


def test_translate_openapi_30_nullable():
    schema = {"type": "string", "nullable": True}
    assert _check(schema, None)
    assert _check(schema, "x")
    assert not _check(schema, 1)
    assert not _check({"type": "string"}, None)
    enum = {"type": "string", "enum": ["a"], "nullable": True}
    assert _check(enum, None)
    assert not _check(enum, "b")
    assert not _check({"type": "string", "nullable": False}, None)
    composed = {"allOf": [{"type": "integer"}], "nullable": True}
    assert _check(composed, None)
    assert not _check(composed, "x")


def test_translate_openapi_31_null_forms():
    assert _check({"type": ["string", "null"]}, None)
    assert _check({"anyOf": [{"type": "string"}, {"type": "null"}]}, None)
    assert not _check({"anyOf": [{"type": "string"}, {"type": "null"}]}, 1)


def test_translate_drops_extensions_and_discriminator_but_keeps_property_names():
    schema = {
        "type": "object",
        "x-oaiMeta": {"name": "thing"},
        "discriminator": {"propertyName": "kind"},
        "properties": {
            "x-custom": {"type": "integer", "x-stainless-const": True},
            "nullable": {"type": "boolean"},
        },
        "required": ["x-custom", "nullable"],
    }
    translated = _translate(schema, strict_nulls=True)
    assert "x-oaiMeta" not in translated
    assert "discriminator" not in translated
    assert set(translated["properties"]) == {"x-custom", "nullable"}
    assert translated["properties"]["x-custom"] == {"type": "integer"}
    assert _check(schema, {"x-custom": 1, "nullable": True})
    assert not _check(schema, {"x-custom": "1", "nullable": True})


def test_translate_rewrites_component_refs():
    translated = _translate({"items": {"$ref": "#/components/schemas/Batch"}}, strict_nulls=False)
    assert translated == {"items": {"$ref": "#/$defs/Batch"}}


def test_translate_openapi_30_exclusive_bounds():
    assert not _check({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, 0)
    assert _check({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, 1)
    assert _check({"type": "integer", "maximum": 5, "exclusiveMaximum": False}, 5)
