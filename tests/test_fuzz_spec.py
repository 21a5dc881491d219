"""The fuzz test's spec (``tests/fixtures/openapi_fuzz.json``) and the script that makes it.

The full OpenAI spec is not in the repository, so the script cannot be re-run here; these tests
check that the committed output is whole (every operation, every reference resolves, every patch
listed) and that the script's copying and patching do what they say on small specs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import extract_fuzz_spec as efs  # noqa: E402

SPEC = json.loads(efs.OUT_JSON.read_text(encoding="utf-8"))
NOTES = efs.OUT_JSON.with_suffix(".md").read_text(encoding="utf-8")


def refs(node: Any) -> Iterator[str]:
    yield from efs._refs(node)


def test_every_operation_is_there_under_v1() -> None:
    assert SPEC["servers"] == [{"url": "/v1"}]
    copied = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert copied == set(efs.OPERATIONS)
    for path, method in efs.OPERATIONS:
        assert f"`{method.upper()} {path}`" in NOTES


def test_every_reference_resolves_and_every_component_is_used() -> None:
    used = set()
    todo = list(refs(SPEC["paths"]))
    while todo:
        ref = todo.pop()
        if ref in used:
            continue
        used.add(ref)
        todo.extend(refs(efs._resolve(SPEC, ref)))  # KeyError if it does not resolve
    copied = {
        f"#/components/{section}/{name}"
        for section, entries in SPEC["components"].items()
        if section != "securitySchemes"
        for name in entries
    }
    assert copied == used


def test_no_documentation_blocks_are_copied() -> None:
    assert '"x-oaiMeta"' not in efs.OUT_JSON.read_text(encoding="utf-8")


def test_every_patch_is_listed_with_its_reason() -> None:
    for number, func in enumerate(efs.PATCHES, 1):
        assert f"{number}. **{func.__name__}**: " in NOTES
        assert efs._doc(func).splitlines()[-1] in NOTES


def test_every_error_status_answers_the_error_envelope() -> None:
    envelope = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, method in efs.OPERATIONS:
        responses = SPEC["paths"][path][method]["responses"]
        errors = sorted(code for code in responses if code.startswith("4"))
        assert set(efs.OPERATION_ERRORS[(path, method)]) <= set(errors)
        for code in errors:
            response = responses[code]
            if "$ref" in response:  # the spec's own 429: components.responses.TooManyRequests
                response = efs._resolve(SPEC, response["$ref"])
            assert response["content"]["application/json"]["schema"] == envelope


def test_the_patches_are_in_the_committed_file() -> None:
    schemas = SPEC["components"]["schemas"]
    assert {"type": "null"} in schemas["Batch"]["properties"]["output_file_id"]["anyOf"]
    assert "output_file_id" not in schemas["Batch"].get("required", [])
    assert schemas["Batch"]["properties"]["id"] == {"type": "string"}  # required: untouched
    assert "evals" in schemas["OpenAIFile"]["properties"]["purpose"]["enum"]
    content = SPEC["paths"]["/files/{file_id}/content"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "application/octet-stream"} <= set(content)


# -- the script on small specs -------------------------------------------------------------------


def test_optional_properties_admit_null_at_any_depth_required_ones_do_not() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string"},
            "note": {"type": "string"},
            "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "inner": {
                "type": "object",
                "required": ["n"],
                "properties": {"n": {"type": "integer"}, "m": {"type": "integer"}},
            },
        },
    }
    efs._nullable_optionals(schema)
    props = schema["properties"]
    assert props["id"] == {"type": "string"}
    assert props["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert props["maybe"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}  # once only
    inner = props["inner"]["anyOf"][0]["properties"]
    assert inner["n"] == {"type": "integer"}
    assert inner["m"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}


def test_extract_copies_what_the_operations_reference_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    def answer(name: str) -> dict[str, Any]:
        return {"200": {"content": {"application/json": {"schema": ref(name)}}}}

    full = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "9"},
        "servers": [{"url": "https://example.invalid/v1"}],
        "paths": {
            "/things": {
                "get": {"x-oaiMeta": {"big": "docs"}, "responses": answer("ThingList")},
                "post": {"responses": answer("Other")},
            },
        },
        "components": {
            "schemas": {
                "ThingList": {"type": "array", "items": ref("Thing")},
                "Thing": {"type": "object", "properties": {"part": ref("Part")}},
                "Part": {"type": "string"},
                "Other": {"type": "string"},
                "Unused": {"type": "string"},
            },
            "securitySchemes": {
                "ApiKeyAuth": {"type": "http", "scheme": "bearer"},
                "AdminApiKeyAuth": {"type": "http", "scheme": "bearer"},
            },
        },
    }
    monkeypatch.setattr(efs, "OPERATIONS", [("/things", "get")])
    out = efs.extract(full)
    assert out["servers"] == [{"url": "/v1"}]
    assert out["paths"] == {"/things": {"get": {"responses": answer("ThingList")}}}
    assert sorted(out["components"]["schemas"]) == ["Part", "Thing", "ThingList"]
    assert list(out["components"]["securitySchemes"]) == ["ApiKeyAuth"]
    assert out["info"]["version"] == "9"
