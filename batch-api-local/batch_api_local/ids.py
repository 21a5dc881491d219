"""Identifier formats, in one place (the seam tests and the sanitizer rely on).

The formats follow what the real API returns today:

- batches: ``batch_`` + 32 lowercase hex, the first 8 being the creation time in hex;
- batch request lines: ``batch_req_`` + 32 hex with the same structure;
- files: ``file-`` + 22 base62 characters;
- request ids: 32 lowercase hex;
- webhook events: ``evt_`` + 32 hex, and their deliveries' ``webhook-id``: ``wh_`` + 32 hex,
  with the same structure as batch ids.
"""

from __future__ import annotations

import random
import secrets
import string

_BASE62 = string.digits + string.ascii_letters
#: ids only need to be unique, not secret (a key's namespace, not its ids, keeps its objects
#: private), so they come from a fast generator seeded from the system's randomness
_random = random.Random(secrets.randbits(128))


def _timed_hex(now: int) -> str:
    # 8 hex of time, 4 random, the constant "8190" seen in every real sample, 16 random
    bits = _random.getrandbits(80)
    return f"{now & 0xFFFFFFFF:08x}{bits >> 64:04x}8190{bits & 0xFFFFFFFFFFFFFFFF:016x}"


def batch_id(now: int) -> str:
    return "batch_" + _timed_hex(now)


def batch_request_id(now: int) -> str:
    return "batch_req_" + _timed_hex(now)


def file_id() -> str:
    return "file-" + "".join(_random.choice(_BASE62) for _ in range(22))


def request_id() -> str:
    return f"{_random.getrandbits(128):032x}"


def event_id(now: int) -> str:
    return "evt_" + _timed_hex(now)


def webhook_id(now: int) -> str:
    return "wh_" + _timed_hex(now)
