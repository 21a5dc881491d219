"""JSON Schemas in requests: the strict-mode check, and a placeholder instance of any schema.

Structured outputs (chat ``response_format: {"type": "json_schema"}``, Responses
``text.format``) and function tools carry a JSON Schema. The real API makes the model answer
with an instance of it; the local server makes one up, deterministically:

- :func:`instance` builds a value valid against the schema: every property (so every required
  one), enums and consts, ``anyOf``/``oneOf``/``allOf``, ``$ref``/``$defs`` (recursion ends at
  the first branch that can end it: ``null``, an empty array, a scalar), type lists, arrays with
  ``minItems``, numbers within their bounds, string formats (date, date-time, time, email,
  uuid, uri ...) and lengths. Strings are short, honest placeholders (``"[local] summary"``).
- :func:`strict_problem` applies strict mode's rules as the real API words them: the root is an
  object, every object has ``additionalProperties: false`` and lists every property in
  ``required``, and only the supported keywords appear.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

#: keywords strict mode refuses ("'<keyword>' is not permitted."); seen refused: minLength
#: (coder/mux#1220), uniqueItems (mastra-ai/mastra#23321), default; the rest follow OpenAI's
#: guide (UNCONFIRMED wording)
NOT_PERMITTED = (
    "default",
    "minLength",
    "maxLength",
    "uniqueItems",
    "patternProperties",
    "unevaluatedProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedItems",
    "allOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
)
#: how deep a generated instance may nest before it takes the shortest way out
MAX_DEPTH = 6

_FORMATS = {
    "date": "2025-01-01",
    "date-time": "2025-01-01T00:00:00Z",
    "time": "00:00:00",
    "duration": "P1D",
    "email": "placeholder@example.com",
    "idn-email": "placeholder@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/placeholder",
    "uri-reference": "https://example.com/placeholder",
    "iri": "https://example.com/placeholder",
    "url": "https://example.com/placeholder",
    "regex": ".*",
    "json-pointer": "/placeholder",
}


class SchemaError(ValueError):
    """A schema the generator cannot follow (a ``$ref`` that points nowhere, say)."""


# -- strict mode -------------------------------------------------------------------------------


def strict_problem(schema: Any) -> str | None:
    """What strict mode refuses in ``schema``, worded as the real API words it, or None.

    The message goes after ``Invalid schema for response_format '<name>': `` (or ``function``).
    """
    if not isinstance(schema, dict):
        return "schema must be a JSON Schema object."
    if schema.get("type") != "object" or "anyOf" in schema:
        got = schema.get("type", "anyOf" if "anyOf" in schema else None)
        return f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'."
    return _strict_node(schema, ())


def _context(path: tuple[str, ...]) -> str:
    inner = ", ".join(f"'{p}'" for p in path)
    return f"In context=({inner}{',' if len(path) == 1 else ''})"


def _strict_node(node: Any, path: tuple[str, ...]) -> str | None:
    if not isinstance(node, dict):
        return None
    for keyword in NOT_PERMITTED:
        if keyword in node:
            return f"{_context(path)}, '{keyword}' is not permitted."
    types = node.get("type")
    is_object = types == "object" or (isinstance(types, list) and "object" in types)
    if is_object or "properties" in node:
        if node.get("additionalProperties") is not False:
            return f"{_context(path)}, 'additionalProperties' is required to be supplied and to be false."
        properties = node.get("properties") or {}
        required = node.get("required")
        for key in properties:
            if not isinstance(required, list) or key not in required:
                return (
                    f"{_context(path)}, 'required' is required to be supplied and to be an array "
                    f"including every key in properties. Missing '{key}'."
                )
        for key, sub in properties.items():
            problem = _strict_node(sub, (*path, "properties", key))
            if problem:
                return problem
    items = node.get("items")
    if isinstance(items, dict):
        problem = _strict_node(items, (*path, "items"))
        if problem:
            return problem
    for keyword in ("anyOf",):
        for index, sub in enumerate(node.get(keyword) or []):
            problem = _strict_node(sub, (*path, keyword, str(index)))
            if problem:
                return problem
    for keyword in ("$defs", "definitions"):
        for name, sub in (node.get(keyword) or {}).items():
            problem = _strict_node(sub, (*path, keyword, name))
            if problem:
                return problem
    return None


# -- instances ---------------------------------------------------------------------------------


def instance(schema: Any, *, root: Any = None) -> Any:
    """A value valid against ``schema`` (a JSON Schema), the same every time for the same schema.

    Raises :class:`SchemaError` for a ``$ref`` it cannot resolve.
    """
    return _Generator(root if root is not None else schema).make(schema, "value", 0)


class _Generator:
    def __init__(self, root: Any) -> None:
        self.root = root

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise SchemaError(f"only local references are supported, not {ref!r}")
        node = self.root
        for part in filter(None, ref[1:].split("/")):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SchemaError(f"the reference {ref!r} points nowhere")
        return node

    def make(self, schema: Any, name: str, depth: int) -> Any:
        if schema is True or schema is None or schema == {}:
            return _text(name, {})
        if schema is False or not isinstance(schema, dict):
            raise SchemaError("no value is valid against the schema 'false'")
        if "$ref" in schema:
            target = self.resolve(schema["$ref"])
            merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            return self.make(merged, name, depth + 1)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return _pick(schema["enum"], name)
        if "allOf" in schema:
            merged = _merge([self.expand(s) for s in schema["allOf"]])
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.make(_merge([rest, merged]), name, depth + 1)
        for keyword in ("anyOf", "oneOf"):
            options = schema.get(keyword)
            if isinstance(options, list) and options:
                rest = {k: v for k, v in schema.items() if k != keyword}
                return self.make(_merge([rest, self.choose(options, depth)]), name, depth + 1)
        kind = _kind(schema, depth)
        if kind == "null":
            return None
        if kind == "boolean":
            return True
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer")
        if kind == "string":
            return _text(name, schema)
        if kind == "array":
            return self.array(schema, name, depth)
        return self.object(schema, depth)

    def expand(self, schema: Any) -> Any:
        """A subschema with its ``$ref`` followed (for merging)."""
        if isinstance(schema, dict) and "$ref" in schema:
            target = self.resolve(schema["$ref"])
            return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def choose(self, options: list[Any], depth: int) -> Any:
        """The first option, or deep in a recursion, the first that cannot recurse."""
        if depth < MAX_DEPTH:
            return self.expand(options[0])
        for option in options:
            option = self.expand(option)
            if isinstance(option, dict) and _kind(option, depth) in (
                "null",
                "boolean",
                "integer",
                "number",
                "string",
            ):
                return option
        return self.expand(options[0])

    def array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        low = int(schema.get("minItems", 0) or 0)
        high = schema.get("maxItems")
        count = low if depth >= MAX_DEPTH else max(low, 1)
        if isinstance(high, int):
            count = min(count, high)
        prefix = schema.get("prefixItems") or []
        items = schema.get("items", {})
        values = []
        for index in range(max(count, len(prefix) if count else 0)):
            sub = prefix[index] if index < len(prefix) else items
            value = self.make(sub, f"{_singular(name)} {index + 1}", depth + 1)
            if schema.get("uniqueItems") and value in values:
                value = _vary(value, index)
            values.append(value)
        return values

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = schema.get("required") or []
        value: dict[str, Any] = {}
        for key, sub in properties.items():
            if depth >= MAX_DEPTH and key not in required:
                continue
            value[key] = self.make(sub, key, depth + 1)
        for key in required:  # required but not described: any value will do
            if key not in value:
                value[key] = _text(key, {})
        low = schema.get("minProperties")
        extra = schema.get("additionalProperties", True)
        n = 1
        while isinstance(low, int) and len(value) < low and extra is not False:
            value[f"extra_{n}"] = self.make(
                extra if isinstance(extra, dict) else {}, "extra", depth + 1
            )
            n += 1
        return value


def _kind(schema: dict[str, Any], depth: int) -> str:
    types = schema.get("type")
    if isinstance(types, list):
        real = [t for t in types if t != "null"]
        if "null" in types and (depth >= MAX_DEPTH or not real):
            return "null"
        return real[0] if real else "null"
    if isinstance(types, str):
        return types
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema or "minItems" in schema:
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "multipleOf")):
        return "number"
    return "string"


def _merge(schemas: list[Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for schema in schemas:
        if not isinstance(schema, dict):
            continue
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required" and isinstance(value, list):
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            else:
                merged.setdefault(key, value)
    return merged


def _pick(options: list[Any], name: str) -> Any:
    """The first option: the same answer every time, and the most likely in a real reply."""
    return options[0]


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and len(name) > 3 else name


def _vary(value: Any, index: int) -> Any:
    if isinstance(value, str):
        return f"{value} {index + 1}"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + index
    return value


def _text(name: str, schema: dict[str, Any]) -> str:
    fmt = schema.get("format")
    if fmt == "uuid":
        digest = hashlib.sha256(name.encode()).digest()[:16]
        return str(uuid.UUID(bytes=digest, version=4))
    text = _FORMATS.get(fmt) if isinstance(fmt, str) else None
    if text is None:
        text = f"[local] {name}".strip()
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            text = _matching(pattern, text)
    low = schema.get("minLength")
    high = schema.get("maxLength")
    if isinstance(high, int) and len(text) > high:
        text = text[:high]
    if isinstance(low, int) and len(text) < low:
        text = text + "x" * (low - len(text))
    return text


def _matching(pattern: str, preferred: str) -> str:
    """A string the pattern matches: the preferred placeholder, or a simple guess."""
    try:
        regex = re.compile(pattern)
    except re.error:
        return preferred
    for candidate in (preferred, "placeholder", "local", "a", "A", "0", "a1", "aaa", "AAA", "000"):
        if regex.search(candidate):
            return candidate
    return preferred  # patterns beyond these guesses are not honoured (docs: deviations)


def _number(schema: dict[str, Any], *, integer: bool) -> int | float:
    low = schema.get("minimum")
    high = schema.get("maximum")
    xlow = schema.get("exclusiveMinimum")
    xhigh = schema.get("exclusiveMaximum")
    step = schema.get("multipleOf")
    value: float = 1
    if isinstance(low, int | float):
        value = max(value, low) if not isinstance(high, int | float) else low
    if isinstance(xlow, int | float) and not isinstance(xlow, bool) and value <= xlow:
        value = xlow + (1 if integer else 0.5)
    if isinstance(high, int | float) and value > high:
        value = high
    if isinstance(xhigh, int | float) and not isinstance(xhigh, bool) and value >= xhigh:
        value = xhigh - (1 if integer else 0.5)
        if isinstance(xlow, int | float) and not integer and value <= xlow:
            value = (xlow + xhigh) / 2
    if isinstance(step, int | float) and step > 0:
        value = (value // step) * step
        if isinstance(low, int | float) and value < low:
            value += step
        if isinstance(xlow, int | float) and value <= xlow:
            value += step
    if integer:
        return int(value) if float(value).is_integer() else int(value) + 1
    return value
