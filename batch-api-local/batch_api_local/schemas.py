"""JSON Schemas in requests: the strict-mode check, and a placeholder instance of any schema.

Structured outputs (chat ``response_format: {"type": "json_schema"}``, Responses
``text.format``) and function tools carry a JSON Schema. The real API makes the model answer
with an instance of it; the local server makes one up, deterministically:

- :func:`instance` builds a value valid against the schema: every property (so every required
  one), enums and consts, ``anyOf``/``oneOf``/``allOf``, ``$ref``/``$defs`` (recursion ends at
  the first branch that can end it: ``null``, an empty array, a scalar), type lists, arrays with
  ``minItems``, numbers within their bounds, string formats (date, date-time, time, email,
  uuid, uri ...) and lengths, and strings that match a ``pattern``. Strings are short, honest
  placeholders (``"[local] summary"``).

  The work is bounded whatever the schema: a ``pattern`` is never run against a string (a
  string is built from the pattern's parse tree, so ``(a+)+b`` costs what its six characters
  cost); an instance holds at most :data:`MAX_INSTANCE_CHARS` characters, as a model's answer
  stops at its output limit, so ``minLength: 1000000000`` or ``minItems`` in the millions make
  a value cut short, not a gigabyte; and a schema whose value would nest past
  :data:`MAX_NESTING` levels (a required ``$ref`` cycle has no end) is refused, as is a
  keyword with a value of the wrong type (``"minItems": "x"``), with :class:`SchemaError`.
- :func:`strict_problem` applies strict mode's rules as the real API words them: the root is an
  object, every object has ``additionalProperties: false`` and lists every property in
  ``required``, and only the supported keywords appear.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import re
import uuid
from typing import Any

from . import errors

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
#: how deep generation may go (nesting, references, merges) before the schema is refused: far
#: past any schema a value of which can end (strict mode allows 10 levels of nesting), and well
#: short of Python's stack
MAX_NESTING = 100
#: the most characters of JSON a generated instance may hold (256 KiB, some 60,000 tokens: more
#: than most requests let a model write, and quick to make). Past it strings stop short and
#: arrays and objects stop growing, as a model's answer stops at its output limit; the endpoint
#: then cuts the answer at the request's limit, as it cuts any answer
MAX_INSTANCE_CHARS = 262_144

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
    if not isinstance(node, dict) or len(path) > 2 * MAX_NESTING:
        return None  # too deep for strict mode to matter: generation refuses it
    for keyword in NOT_PERMITTED:
        if keyword in node:
            return f"{_context(path)}, '{keyword}' is not permitted."
    types = node.get("type")
    is_object = types == "object" or (isinstance(types, list) and "object" in types)
    if is_object or "properties" in node:
        if node.get("additionalProperties") is not False:
            return f"{_context(path)}, 'additionalProperties' is required to be supplied and to be false."
        properties = node.get("properties")
        if not isinstance(properties, dict):
            properties = {}
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
    options = node.get("anyOf")
    for index, sub in enumerate(options if isinstance(options, list) else []):
        problem = _strict_node(sub, (*path, "anyOf", str(index)))
        if problem:
            return problem
    for keyword in ("$defs", "definitions"):
        defs = node.get(keyword)
        for name, sub in (defs if isinstance(defs, dict) else {}).items():
            problem = _strict_node(sub, (*path, keyword, name))
            if problem:
                return problem
    return None


# -- instances ---------------------------------------------------------------------------------


def instance(schema: Any, *, root: Any = None) -> Any:
    """A value valid against ``schema`` (a JSON Schema), the same every time for the same schema.

    At most :data:`MAX_INSTANCE_CHARS` characters of JSON: past them the value is cut short.
    Raises :class:`SchemaError` for a schema it cannot follow: a ``$ref`` it cannot resolve, a
    value that would nest past :data:`MAX_NESTING` levels, a keyword of the wrong type.
    """
    return _Generator(root if root is not None else schema).make(schema, "value", 0)


#: the keywords whose value must be a count (a non-negative integer)
_COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
#: the keywords whose value must be a list of schemas
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def _checked(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, once the keywords the generator reads have values of the right JSON type."""
    for keyword in _COUNTS:
        value = schema.get(keyword)
        if value is not None and _count(value) is None:
            raise SchemaError(errors.schema_keyword_type(keyword, "a non-negative integer", value))
    for keyword in _SCHEMA_LISTS:
        value = schema.get(keyword)
        if value is not None and not isinstance(value, list):
            raise SchemaError(errors.schema_keyword_type(keyword, "an array", value))
    for keyword in ("properties", "$defs", "definitions"):
        value = schema.get(keyword)
        if value is not None and not isinstance(value, dict):
            raise SchemaError(errors.schema_keyword_type(keyword, "an object", value))
    required = schema.get("required")
    if required is not None and not _names(required):
        raise SchemaError(errors.schema_keyword_type("required", "an array of strings", required))
    types = schema.get("type")
    if types is not None and not (
        isinstance(types, str)
        or (isinstance(types, list) and all(isinstance(t, str) for t in types))
    ):
        raise SchemaError(errors.schema_keyword_type("type", "a string or an array", types))
    if "$ref" in schema and not isinstance(schema["$ref"], str):
        raise SchemaError(errors.schema_keyword_type("$ref", "a string", schema["$ref"]))
    return schema


def _count(value: Any) -> int | None:
    """A JSON Schema count (an integer >= 0; 2.0 is one too), or None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if value >= 0 else None


def _json_size(value: Any) -> int:
    """The characters ``value`` takes as JSON (a const or an enum's value, from the request)."""
    return len(json.dumps(value, ensure_ascii=False, default=str))


class _Generator:
    def __init__(self, root: Any) -> None:
        self.root = root
        #: characters of JSON the instance may still take (see MAX_INSTANCE_CHARS)
        self.left = MAX_INSTANCE_CHARS
        #: the schemas already checked by :func:`_checked`, by id (held, so no id is reused)
        self.checked: dict[int, dict[str, Any]] = {}

    def spend(self, characters: int) -> None:
        self.left -= characters

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise SchemaError(errors.schema_not_local_ref(ref))
        node = self.root
        for part in filter(None, ref[1:].split("/")):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif (
                isinstance(node, list)
                and part.isascii()
                and part.isdigit()
                and int(part) < len(node)
            ):
                node = node[int(part)]
            else:
                raise SchemaError(errors.schema_ref_nowhere(ref))
        return node

    def make(self, schema: Any, name: str, depth: int) -> Any:
        if depth > MAX_NESTING:
            raise SchemaError(errors.schema_without_end(MAX_NESTING))
        if schema is True or schema is None or schema == {}:
            return self.text(name, {})
        if not isinstance(schema, dict):
            raise SchemaError(errors.schema_false())
        if id(schema) not in self.checked:
            self.checked[id(schema)] = _checked(schema)
        if self.left <= 0:  # the instance is as long as an answer can be: cut short
            return _shortest(schema, depth)
        if "$ref" in schema:
            return self.make(self.expand(schema), name, depth + 1)
        if "const" in schema:
            self.spend(_json_size(schema["const"]))
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            value = _pick(schema["enum"], name)
            self.spend(_json_size(value))
            return value
        if schema.get("allOf"):
            merged = _merge([self.expand(s) for s in schema["allOf"]])
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.make(_merge([rest, merged]), name, depth + 1)
        for keyword in ("anyOf", "oneOf"):
            options = schema.get(keyword)
            if options:
                rest = {k: v for k, v in schema.items() if k != keyword}
                return self.make(_merge([rest, self.choose(options, depth)]), name, depth + 1)
        kind = _kind(schema, depth)
        if kind == "null":
            self.spend(4)
            return None
        if kind == "boolean":
            self.spend(4)
            return True
        if kind in ("integer", "number"):
            try:
                value = _number(schema, integer=kind == "integer")
            except (OverflowError, ValueError):  # bounds past what a float holds
                value = 0
            if isinstance(value, float) and not math.isfinite(value):
                value = 0
            self.spend(len(repr(value)))
            return value
        if kind == "string":
            return self.text(name, schema)
        if kind == "array":
            return self.array(schema, name, depth)
        return self.object(schema, depth)

    def expand(self, schema: Any) -> Any:
        """A subschema with its ``$ref`` followed (for merging)."""
        if isinstance(schema, dict) and "$ref" in schema:
            ref = _checked(schema)["$ref"]
            target = self.resolve(ref)
            if not isinstance(target, dict):
                return target
            return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def choose(self, options: list[Any], depth: int) -> Any:
        """The first option, or deep in a recursion, the first that cannot recurse."""
        if depth < MAX_DEPTH:
            return self.expand(options[0])
        for option in options:
            option = self.expand(option)
            if isinstance(option, dict) and _kind(_checked(option), depth) in (
                "null",
                "boolean",
                "integer",
                "number",
                "string",
            ):
                return option
        return self.expand(options[0])

    def text(self, name: str, schema: dict[str, Any]) -> str:
        value = _text(name, schema, room=max(self.left - 2, 0))
        self.spend(len(value) + 2)
        return value

    def array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        low = _count(schema.get("minItems")) or 0
        high = _count(schema.get("maxItems"))
        count = low if depth >= MAX_DEPTH else max(low, 1)
        if high is not None:
            count = min(count, high)
        prefix = schema.get("prefixItems") or []
        items = schema.get("items", {})
        if isinstance(items, list):  # the tuple form of earlier drafts
            prefix, items = prefix or items, {}
        values: list[Any] = []
        seen: set[str] = set()
        #: once two items of ``items`` in a row come out the same, every later one is that value
        #: again (and its size): a long array costs little more than its first items
        repeat: tuple[Any, int] | None = None
        unique = bool(schema.get("uniqueItems"))
        self.spend(2)
        for index in range(max(count, len(prefix) if count else 0)):
            if self.left <= 0:  # as long as an answer can be: the array stops here
                break
            if repeat is not None:
                value = _vary(repeat[0], index) if unique else repeat[0]
                self.spend(repeat[1] + (len(str(index)) + 1 if unique else 0))
                values.append(value)
                continue
            sub = prefix[index] if index < len(prefix) else items
            value = self.make(sub, f"{_singular(name)} {index + 1}", depth + 1)
            if index > len(prefix) and value == values[-1] and not unique:
                repeat = (value, _json_size(value) + 1)
            if unique:
                key = json.dumps(value, sort_keys=True, default=str)
                if key in seen:
                    if index > len(prefix):
                        repeat = (value, _json_size(value) + 1)
                    value = _vary(value, index)
                    key = json.dumps(value, sort_keys=True, default=str)
                seen.add(key)
            values.append(value)
            self.spend(1)
        return values

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = schema.get("required") or []
        value: dict[str, Any] = {}
        self.spend(2)
        for key, sub in properties.items():
            if depth >= MAX_DEPTH and key not in required:
                continue
            self.spend(len(key) + 4)
            value[key] = self.make(sub, key, depth + 1)
        for key in required:  # required but not described: any value will do
            if key not in value:
                self.spend(len(key) + 4)
                value[key] = self.text(key, {})
        low = _count(schema.get("minProperties"))
        extra = schema.get("additionalProperties", True)
        n = 1
        while low is not None and len(value) < low and extra is not False and self.left > 0:
            key = f"extra_{n}"
            if key not in value:
                self.spend(len(key) + 4)
                value[key] = self.make(extra if isinstance(extra, dict) else {}, "extra", depth + 1)
            n += 1
        return value


def _shortest(schema: dict[str, Any], depth: int) -> Any:
    """The shortest value of the kind ``schema`` names, made without looking further: what an
    instance gets once it is as long as an answer can be (it is cut short there anyway)."""
    if "const" in schema:
        return None
    return {
        "null": None,
        "boolean": True,
        "integer": 0,
        "number": 0,
        "string": "",
        "array": [],
    }.get(_kind(schema, depth), {})


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
            before = merged.get(key)
            if key == "properties" and isinstance(value, dict) and isinstance(before, dict | None):
                merged["properties"] = {**(before or {}), **value}
            elif key == "required" and _names(value) and _names(before or []):
                merged["required"] = list(dict.fromkeys([*(before or []), *value]))
            else:
                merged.setdefault(key, value)
    return merged


def _names(value: Any) -> bool:
    """Whether ``value`` is a list of property names (what ``required`` holds)."""
    return isinstance(value, list) and all(isinstance(k, str) for k in value)


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


def _text(name: str, schema: dict[str, Any], room: int = MAX_INSTANCE_CHARS) -> str:
    """A string for ``schema``: its format's example, a string its pattern matches, or the
    placeholder; then cut to ``maxLength`` or padded to ``minLength``, never past ``room``."""
    fmt = schema.get("format")
    if fmt == "uuid":
        digest = hashlib.sha256(name.encode()).digest()[:16]
        return str(uuid.UUID(bytes=digest, version=4))
    text = _FORMATS.get(fmt) if isinstance(fmt, str) else None
    if text is None:
        text = f"[local] {name}".strip()
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            text = _matching(pattern, text, room)
    low = _count(schema.get("minLength"))
    high = _count(schema.get("maxLength"))
    if high is not None and len(text) > high:
        text = text[:high]
    if low is not None and len(text) < low:
        text = text + "x" * (min(low, room) - len(text))
    return text[: max(room, 0)] if len(text) > room else text


def _matching(pattern: str, preferred: str, room: int) -> str:
    """A string ``pattern`` matches, built from its parse tree (see :class:`_PatternText`), or
    the preferred placeholder when the pattern holds what that does not follow."""
    built = _PatternText(room).build(pattern)
    return preferred if built is None else built


# -- strings a pattern matches -----------------------------------------------------------------

#: Python's own regular-expression parser (``re._parser``, since Python 3.11): it turns a
#: pattern into a tree without compiling or running it
_re_parser: Any = importlib.import_module("re._parser")


class _Unfollowed(Exception):
    """The pattern holds something :class:`_PatternText` does not follow, or the string would
    be longer than its room."""


#: characters tried, in order, for a class such as ``[^a-z]``
_CANDIDATES = "aA0_-x. Z9z!@"
_CATEGORIES: dict[str, Any] = {
    "CATEGORY_DIGIT": str.isdigit,
    "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_SPACE": str.isspace,
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


class _PatternText:
    """Builds a string a regular expression matches by walking its parse tree: a literal is
    itself, a class gives one of its characters, a repeat its minimum count, an alternation its
    first branch, a back-reference what its group gave. No regex is ever run against a string,
    so no pattern can make this backtrack: the work is bounded by the pattern's length and the
    room given. Lookarounds and word boundaries are not followed (the string may then not
    match; see the deviations in ``docs/local-server.md``)."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.groups: dict[int, str] = {}

    def build(self, pattern: str) -> str | None:
        try:
            tree = _re_parser.parse(pattern)
            return self.sequence(tree)
        except (_Unfollowed, re.error, RecursionError, OverflowError, ValueError, TypeError):
            return None

    def sequence(self, items: Any) -> str:
        out: list[str] = []
        size = 0
        for op, value in items:
            piece = self.item(getattr(op, "name", str(op)), value)
            size += len(piece)
            if size > self.room:
                raise _Unfollowed
            out.append(piece)
        return "".join(out)

    def item(self, op: str, value: Any) -> str:
        if op == "LITERAL":
            return chr(value)
        if op == "NOT_LITERAL":
            return "a" if value != ord("a") else "b"
        if op == "ANY":
            return "a"
        if op == "IN":
            return self.one_of(value)
        if op == "BRANCH":
            return self.sequence(value[1][0])
        if op == "SUBPATTERN":
            group, _, _, inner = value
            text = self.sequence(inner)
            if group is not None:
                self.groups[group] = text
            return text
        if op == "ATOMIC_GROUP":
            return self.sequence(value)
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _, inner = value
            if low == 0:
                return ""
            once = self.sequence(inner)
            if len(once) * low > self.room:
                raise _Unfollowed
            return once * low
        if op == "GROUPREF":
            return self.groups.get(value, "")
        if op == "GROUPREF_EXISTS":
            group, yes, no = value
            chosen = yes if group in self.groups else no
            return self.sequence(chosen) if chosen is not None else ""
        if op in ("AT", "ASSERT", "ASSERT_NOT"):
            return ""  # anchors hold at the ends of the string; lookarounds are not followed
        raise _Unfollowed

    def one_of(self, items: list[Any]) -> str:
        """A character of a class (``[a-z]``, ``\\d``, ``[^,]``)."""
        negated = bool(items) and getattr(items[0][0], "name", "") == "NEGATE"
        if negated:
            items = items[1:]
        if not negated:
            op, value = items[0]
            name = getattr(op, "name", str(op))
            if name == "LITERAL":
                return chr(value)
            if name == "RANGE":
                return chr(value[0])
        for candidate in _CANDIDATES:
            if self.in_class(candidate, items) != negated:
                return candidate
        raise _Unfollowed

    @staticmethod
    def in_class(char: str, items: list[Any]) -> bool:
        code = ord(char)
        for op, value in items:
            name = getattr(op, "name", str(op))
            if name == "LITERAL" and value == code:
                return True
            if name == "RANGE" and value[0] <= code <= value[1]:
                return True
            if name == "CATEGORY":
                test = _CATEGORIES.get(getattr(value, "name", str(value)))
                if test is not None and test(char):
                    return True
        return False


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
