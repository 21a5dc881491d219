"""JSON text of a large value, made a piece at a time so that the rest of the server keeps going.

Python's JSON encoder holds the interpreter's lock (the GIL) for the whole of one call: the 130
MB answer to 2,048 inputs of ``text-embedding-3-large`` took one call of 9 s, in which no other
thread ran, the event loop included, so the server answered no one. :func:`pieces` writes the
same text as ``json.dumps`` in pieces: every container (object or array) is walked, and each
leaf (a number, a string, an array of numbers) is one ``json.dumps`` call, so the lock is free
between pieces (one embedding vector of 3,072 numbers takes some 3 ms).

Used wherever a value can be large: the direct calls' answers (:mod:`.http`) and a batch's
result lines (:mod:`.worklog`).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from typing import Any

#: a value is walked piece by piece only when it holds at least this many containers or
#: numbers, roughly; smaller ones are one ``json.dumps`` call, as fast as it gets
_LARGE = 4096
#: below this depth a part is one ``json.dumps`` call whatever its size (the walk's generators
#: would otherwise nest as deep as the value)
_DEEPEST = 64


def pieces(
    value: Any,
    *,
    separators: tuple[str, str] = (",", ":"),
    ensure_ascii: bool = False,
) -> Generator[str, None, None]:
    """The text of ``json.dumps(value, separators=..., ensure_ascii=..., allow_nan=False)``, in
    pieces (joined, they are exactly that text). Raises what ``json.dumps`` raises
    (ValueError for NaN, TypeError for a value JSON has no type for), possibly after some
    pieces were yielded."""
    item, key = separators

    def dumps(leaf: Any) -> str:
        return json.dumps(leaf, separators=separators, ensure_ascii=ensure_ascii, allow_nan=False)

    def walk(node: Any, depth: int) -> Iterator[str]:
        if depth >= _DEEPEST:
            yield dumps(node)
        elif isinstance(node, dict) and node and all(isinstance(k, str) for k in node):
            first = True
            for name, child in node.items():
                yield ("{" if first else item) + dumps(name) + key
                first = False
                yield from walk(child, depth + 1)
            yield "}"
        elif isinstance(node, list | tuple) and node and _has_containers(node):
            first = True
            for child in node:
                yield "[" if first else item
                first = False
                yield from walk(child, depth + 1)
            yield "]"
        else:  # a leaf: a scalar, an empty container, or an array of scalars
            yield dumps(node)

    if _small(value):
        yield json.dumps(value, separators=separators, ensure_ascii=ensure_ascii, allow_nan=False)
        return
    yield from walk(value, 0)


def dumps(
    value: Any, *, separators: tuple[str, str] = (",", ":"), ensure_ascii: bool = False
) -> str:
    """``json.dumps(value, separators=..., ensure_ascii=..., allow_nan=False)``, made in
    :func:`pieces`."""
    return "".join(pieces(value, separators=separators, ensure_ascii=ensure_ascii))


def _has_containers(items: list[Any] | tuple[Any, ...]) -> bool:
    return isinstance(items[0], dict | list | tuple)


def _small(value: Any) -> bool:
    """Whether ``value`` is small enough for one ``json.dumps`` call: a rough count of what it
    holds, looking no deeper than needed to tell."""
    budget = _LARGE
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            budget -= len(node)
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            budget -= len(node)
            if node and _has_containers(node):
                stack.extend(node)
        if budget < 0:
            return False
    return True
