"""Who is calling: bearer keys, their namespaces and labels, and the instructor's (admin) keys.

Without a keys file every key is accepted and all share the namespace ``default``: one learner,
one server. With a keys file (``serve --keys-file FILE``) only its keys are accepted, and each
key is a namespace of its own: its files, batches, clock, pace, token limit and forced outcomes.
A keys file has one key per line, optionally followed by a label (the text after the key);
``#`` starts a comment::

    sk-class-3k9f...   student-01
    sk-class-p2Lq...   student-02

Admin keys (``serve --admin-key KEY``, repeatable, or ``$BATCH_LOCAL_ADMIN_KEY``, several
separated by commas) are accepted too, with a namespace of their own, and may also act on any
other namespace, or on all of them (see ``docs/classroom.md``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .constants import DEFAULT_NAMESPACE
from .errors import Forbidden, NotFound, incorrect_key, missing_key

ADMIN_KEY_ENV = "BATCH_LOCAL_ADMIN_KEY"
#: what a class-wide control call names as its target
EVERYONE = "*"
INSTRUCTOR_LABEL = "instructor"


@dataclass(frozen=True)
class Caller:
    """The owner of a request's key."""

    namespace: str
    label: str
    admin: bool = False


def namespace_of(key: str) -> str:
    """The namespace a key of a keys file gets: stable, and revealing nothing of the key."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def mask(key: str) -> str:
    """A key as OpenAI shows it in errors: the first 3 and last 4 characters."""
    return key[:3] + "*" * max(0, len(key) - 7) + key[-4:] if len(key) > 8 else "*" * len(key)


def read_keys_file(path: Path) -> dict[str, str]:
    """key → label, in file order. A key without a label is labelled by its namespace.

    A byte-order mark at the start (Notepad saves UTF-8 with one) is not part of the first key.
    """
    keys: dict[str, str] = {}
    for raw in Path(path).read_text(encoding="utf-8-sig").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, *rest = line.split(None, 1)  # a key, then (after spaces or tabs) its label
        keys[key] = rest[0].strip() if rest else namespace_of(key)
    return keys


def admin_keys_from_env() -> list[str]:
    return [k.strip() for k in os.environ.get(ADMIN_KEY_ENV, "").split(",") if k.strip()]


class Keys:
    """Resolves a request's bearer key to a :class:`Caller`, and a control call's target."""

    def __init__(self, keys_file: Path | None, admin_keys: Iterable[str] = ()) -> None:
        self.students = read_keys_file(keys_file) if keys_file is not None else None
        self.admins = {k for k in admin_keys if k}
        self._callers: dict[str, Caller] = {}
        if self.students is not None:
            for key, label in self.students.items():
                self._callers[key] = Caller(namespace_of(key), label)
        for key in self.admins:
            namespace = DEFAULT_NAMESPACE if self.students is None else namespace_of(key)
            self._callers[key] = Caller(namespace, INSTRUCTOR_LABEL, admin=True)

    @property
    def shared(self) -> bool:
        """Whether several people share this server (it has a keys file)."""
        return self.students is not None

    def caller(self, authorization: str) -> Caller:
        """The caller behind an ``Authorization`` header, or 401 as OpenAI words it."""
        scheme, _, key = authorization.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise missing_key()
        found = self._callers.get(key)
        if found is not None:
            return found
        if self.students is None:
            return Caller(DEFAULT_NAMESPACE, DEFAULT_NAMESPACE)
        raise incorrect_key(mask(key))

    def namespaces(self) -> dict[str, str]:
        """namespace → label of every student (the default namespace without a keys file)."""
        if self.students is None:
            return {DEFAULT_NAMESPACE: DEFAULT_NAMESPACE}
        return {namespace_of(key): label for key, label in self.students.items()}

    def targets(self, caller: Caller, target: str | None) -> list[str]:
        """The namespaces a control call acts on: the caller's own, or (admins only) the one
        named by label or namespace, or every student's for ``*``."""
        if target is None or target == "":
            return [caller.namespace]
        if not caller.admin:
            raise Forbidden(
                "Only an instructor's key (an admin key of this server) may act on another "
                "namespace.",
                param="namespace",
                code="admin_key_required",
            )
        everyone = self.namespaces()
        if target == EVERYONE:
            return list(everyone)
        for namespace, label in everyone.items():
            if target in (namespace, label):
                return [namespace]
        if target in (caller.namespace, caller.label):
            return [caller.namespace]
        raise NotFound(f"No student or namespace named '{target}'.", param="namespace")

    def require_admin(self, caller: Caller) -> None:
        if not caller.admin:
            raise Forbidden(
                "This call needs an instructor's key (an admin key of this server).",
                code="admin_key_required",
            )


def new_key() -> str:
    """A random key, long enough to be a secret (192 bits)."""
    return "sk-class-" + secrets.token_urlsafe(24)


def class_keys(students: int) -> tuple[str, list[tuple[str, str]]]:
    """An admin key and ``students`` (key, label) pairs labelled student-01, student-02 ..."""
    width = max(2, len(str(students)))
    return new_key(), [(new_key(), f"student-{n:0{width}d}") for n in range(1, students + 1)]
