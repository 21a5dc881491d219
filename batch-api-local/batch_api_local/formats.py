"""What shape a reply must take: plain text, JSON mode, a JSON Schema, or a forced tool call.

The responder asks this module, for each chat or Responses request, what the request asked for
(``response_format`` / ``text.format``, ``tools`` / ``tool_choice``), checks those parameters the
way the real API does (JSON mode needs the word "json" in the messages; strict schemas must be in
the strict subset; a named tool must exist), and builds the reply's content: a JSON object, an
instance of the schema (:mod:`.schemas`), or a tool call whose arguments fit the function's
parameters. JSON mode follows the keys of a JSON object the prompt shows, when it shows one
(``Answer as JSON like {"sentiment": "positive|negative"}``). Everything is deterministic;
strings say they are local placeholders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import errors
from .errors import invalid_type, missing_parameter
from .schemas import SchemaError, instance, strict_problem


@dataclass(frozen=True)
class Format:
    """The reply's format: ``text``, ``json_object`` or ``json_schema`` (with its schema)."""

    type: str = "text"
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool = False
    #: the request's own format object, echoed back by Responses
    echo: dict[str, Any] | None = None


@dataclass(frozen=True)
class Tool:
    """A function the reply calls: its name and a JSON Schema of its arguments."""

    name: str
    parameters: dict[str, Any]
    #: named by ``tool_choice`` (finish_reason "stop" in chat) or only ``"required"``
    named: bool


def mentions_json(texts: list[str]) -> bool:
    return any("json" in text.lower() for text in texts)


def _schema_format(spec: dict[str, Any], where: str, kind: str) -> Format:
    """A json_schema format (chat's ``json_schema`` object, or Responses' ``text.format``)."""
    name = spec.get("name")
    if name is None:
        raise missing_parameter(f"{where}.name")
    if not isinstance(name, str):
        raise invalid_type(f"{where}.name", "a string", name)
    schema = spec.get("schema", {})
    if not isinstance(schema, dict):
        raise invalid_type(f"{where}.schema", "an object", schema)
    strict = spec.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise invalid_type(f"{where}.strict", "a boolean", strict)
    if strict:
        problem = strict_problem(schema)
        if problem is not None:
            raise errors.invalid_response_schema(name, problem, kind)
    return Format("json_schema", name, schema, bool(strict))


def chat_format(body: dict[str, Any], message_texts: list[str]) -> Format:
    """Check chat's ``response_format`` and say what the reply must be."""
    spec = body.get("response_format")
    if spec is None:
        return Format()
    if not isinstance(spec, dict):
        raise invalid_type("response_format", "an object", spec)
    kind = spec.get("type")
    if kind is None:
        raise missing_parameter("response_format.type")
    if kind == "text":
        return Format()
    if kind == "json_object":
        if not mentions_json(message_texts):
            raise errors.json_word_missing(responses=False)
        return Format("json_object")
    if kind == "json_schema":
        inner = spec.get("json_schema")
        if inner is None:
            raise missing_parameter("response_format.json_schema")
        if not isinstance(inner, dict):
            raise invalid_type("response_format.json_schema", "an object", inner)
        return _schema_format(inner, "response_format.json_schema", "response_format")
    raise errors.invalid_choice(
        "response_format.type", kind, ["text", "json_object", "json_schema"]
    )


def responses_format(body: dict[str, Any], input_texts: list[str]) -> Format:
    """Check Responses' ``text.format`` and say what the reply must be."""
    text = body.get("text")
    if text is None:
        return Format(echo={"type": "text"})
    if not isinstance(text, dict):
        raise invalid_type("text", "an object", text)
    spec = text.get("format")
    if spec is None:
        return Format(echo={"type": "text"})
    if not isinstance(spec, dict):
        raise invalid_type("text.format", "an object", spec)
    kind = spec.get("type")
    if kind is None:
        raise missing_parameter("text.format.type")
    if kind == "text":
        return Format(echo={"type": "text"})
    if kind == "json_object":
        if not mentions_json(input_texts):
            raise errors.json_word_missing(responses=True)
        return Format("json_object", echo={"type": "json_object"})
    if kind == "json_schema":
        found = _schema_format(spec, "text.format", "text.format.schema")
        echo = {
            "type": "json_schema",
            "description": spec.get("description"),
            "name": found.name,
            "schema": found.schema,
            "strict": found.strict,
        }
        return Format("json_schema", found.name, found.schema, found.strict, echo)
    raise errors.invalid_choice("text.format.type", kind, ["text", "json_object", "json_schema"])


def _tool_choice_name(choice: Any, *, chat: bool) -> str | None:
    """The function a ``tool_choice`` object names (chat nests it under ``function``)."""
    where = "tool_choice.function.name" if chat else "tool_choice.name"
    holder = choice.get("function") if chat else choice
    name = holder.get("name") if isinstance(holder, dict) else None
    if name is None:
        raise missing_parameter(where)
    if not isinstance(name, str):
        raise invalid_type(where, "a string", name)
    return name


#: Responses' tool types: the fields each requires and the values its enums allow (from OpenAI's
#: published spec). The local server runs none of the built-in tools; it only checks them.
RESPONSES_TOOLS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "function": (("name",), {}),
    "file_search": (("vector_store_ids",), {}),
    "computer": ((), {}),
    "computer_use_preview": (("environment", "display_width", "display_height"), {}),
    "web_search": ((), {"search_context_size": ("low", "medium", "high")}),
    "web_search_2025_08_26": ((), {"search_context_size": ("low", "medium", "high")}),
    "web_search_preview": ((), {"search_context_size": ("low", "medium", "high")}),
    "web_search_preview_2025_03_11": ((), {"search_context_size": ("low", "medium", "high")}),
    "mcp": (("server_label",), {}),
    "code_interpreter": (("container",), {}),
    "programmatic_tool_calling": ((), {}),
    "image_generation": (
        (),
        {
            "quality": ("low", "medium", "high", "auto"),
            "output_format": ("png", "webp", "jpeg"),
            "moderation": ("auto", "low"),
            "background": ("transparent", "opaque", "auto"),
        },
    ),
    "local_shell": ((), {}),
    "shell": ((), {}),
    "custom": (("name",), {}),
    "namespace": (("name", "description", "tools"), {}),
    "tool_search": ((), {}),
    "apply_patch": ((), {}),
}
#: chat's tool types
CHAT_TOOLS = ("function", "custom")


def _check_tool(tool: dict[str, Any], where: str, *, chat: bool) -> None:
    """A tool's type is one the endpoint knows, with the fields that type requires."""
    kind = tool.get("type")
    if kind is None:
        raise missing_parameter(f"{where}.type")
    if not isinstance(kind, str):
        raise invalid_type(f"{where}.type", "a string", kind)
    known = CHAT_TOOLS if chat else tuple(RESPONSES_TOOLS)
    if kind not in known:
        raise errors.invalid_value(f"{where}.type", kind, list(known))
    if chat:
        return
    required, enums = RESPONSES_TOOLS[kind]
    for name in required:
        if tool.get(name) is None:
            raise missing_parameter(f"{where}.{name}")
    for name, allowed in enums.items():
        value = tool.get(name)
        if value is not None and value not in allowed:
            raise errors.invalid_value(f"{where}.{name}", value, list(allowed))


def forced_tool(body: dict[str, Any], *, chat: bool) -> Tool | None:
    """Check ``tools`` and ``tool_choice``; the tool the reply must call, if one is forced.

    With ``tool_choice`` ``"auto"``, ``"none"`` or absent the reply is text (a placeholder is
    never a decision to call a tool).
    """
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise invalid_type("tools", "an array", tools)
    functions: dict[str, dict[str, Any]] = {}
    for index, tool in enumerate(tools or []):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise invalid_type(where, "an object", tool)
        _check_tool(tool, where, chat=chat)
        if tool.get("type") != "function":
            continue  # built-in tools (web search, files ...) are never forced here
        spec = tool.get("function") if chat else tool
        inner = f"{where}.function" if chat else where
        if not isinstance(spec, dict):
            raise missing_parameter(inner)
        name = spec.get("name")
        if not isinstance(name, str):
            raise (
                missing_parameter(f"{inner}.name")
                if name is None
                else invalid_type(f"{inner}.name", "a string", name)
            )
        parameters = spec.get("parameters") or {"type": "object", "properties": {}}
        if not isinstance(parameters, dict):
            raise invalid_type(f"{inner}.parameters", "an object", parameters)
        if spec.get("strict") is True:
            problem = strict_problem(parameters)
            if problem is not None:
                raise errors.invalid_function_schema(name, problem, f"{inner}.parameters")
        functions[name] = parameters
    choice = body.get("tool_choice")
    if choice is None or choice in ("auto", "none"):
        return None
    if choice == "required":
        if not functions:
            raise errors.required_tool_choice_without_tools()
        name, parameters = next(iter(functions.items()))
        return Tool(name, parameters, named=False)
    if isinstance(choice, dict) and choice.get("type", "function") != "function":
        # a hosted tool (file_search, web_search_preview ...), allowed_tools, custom, mcp:
        # the local server runs none of them, so the reply is text
        return None
    if isinstance(choice, dict):
        name = _tool_choice_name(choice, chat=chat)
        if name is None or name not in functions:
            raise errors.tool_choice_not_found(name)
        return Tool(name, functions[name], named=True)
    if isinstance(choice, str):
        raise errors.invalid_choice("tool_choice", choice, ["none", "auto", "required"])
    raise invalid_type("tool_choice", "one of a string or an object", choice)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def example_object(texts: list[str]) -> dict[str, Any] | None:
    """The first JSON object with keys that ``texts`` show (``Answer as JSON like {"sentiment":
    "positive|negative", "score": 0.5}``), or None.

    Each ``{`` is tried, in the order of the texts, as the start of a JSON value; text that is
    not JSON (a brace in prose, a Python dict) is skipped.
    """
    decoder = json.JSONDecoder()
    for text in texts:
        start = text.find("{")
        while start != -1:
            try:
                value, _ = decoder.raw_decode(text, start)
            except ValueError:
                value = None
            if isinstance(value, dict) and value:
                return value
            start = text.find("{", start + 1)
    return None


#: an alternation a string offers (``"positive|negative"``): short words, at least two
_MAX_CHOICE_WORDS = 3


def _first_choice(text: str) -> str | None:
    """The first of an ``a|b|c`` alternation, when ``text`` is obviously one."""
    options = [part.strip() for part in text.split("|")]
    if len(options) < 2 or not all(options):
        return None
    if any(len(option.split()) > _MAX_CHOICE_WORDS for option in options):
        return None
    return options[0]


def placeholder_like(example: Any, key: str = "value") -> Any:
    """A placeholder of the same JSON type as ``example``, at every depth: the first choice of
    an ``a|b`` string or ``"[local] placeholder <key>"``, 0 or 0.0, false, null, an array of
    one placeholder item (empty stays empty), an object with the same keys."""
    if isinstance(example, dict):
        return {name: placeholder_like(item, name) for name, item in example.items()}
    if isinstance(example, list):
        return [placeholder_like(example[0], key)] if example else []
    if isinstance(example, bool):
        return False
    if isinstance(example, int):
        return 0
    if isinstance(example, float):
        return 0.0
    if isinstance(example, str):
        return _first_choice(example) or f"[local] placeholder {key}"
    return None


def json_content(
    fmt: Format, *, model: str, quoted: str | None, texts: list[str] | None = None
) -> str | None:
    """The reply's text for a JSON format, or None for plain text.

    JSON mode answers with the keys of a JSON object the prompt's ``texts`` show, when they
    show one (:func:`example_object`), with placeholder values of the same types; otherwise
    with a note that says it is a placeholder and the last message quoted.
    """
    if fmt.type == "json_object":
        example = example_object(texts or [])
        if example is not None:
            return _json(placeholder_like(example))
        value: dict[str, Any] = {
            "note": f"[local server] A placeholder JSON reply, not from {model}.",
            "your_last_message": quoted,
        }
        return _json(value)
    if fmt.type == "json_schema":
        try:
            return _json(instance(fmt.schema or {}))
        except SchemaError as exc:
            raise errors.invalid_response_schema(fmt.name, f"{exc}.", "response_format") from None
    return None


def tool_arguments(tool: Tool) -> str:
    """The call's ``arguments``: a JSON object valid for the function's parameters."""
    try:
        return _json(instance(tool.parameters))
    except SchemaError as exc:
        raise errors.invalid_function_schema(tool.name, f"{exc}.", "tools") from None
