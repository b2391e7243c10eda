"""Unguessable identifiers and secrets (prefix + 128+ bits from ``secrets``)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

_ordered_lock = threading.Lock()
_last_ordered_ns = 0


def new_id(prefix: str, nbytes: int = 18) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes).replace('-', 'x').replace('_', 'z')}"


def new_ordered_id(prefix: str) -> str:
    """An id that sorts after every id this process made before it (nanosecond time first,
    then randomness), so events written in the same second still have an order."""
    global _last_ordered_ns
    with _ordered_lock:
        _last_ordered_ns = max(time.time_ns(), _last_ordered_ns + 1)
        stamp = _last_ordered_ns
    return f"{prefix}_{stamp:016x}{secrets.token_hex(8)}"


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


def hash_secret(secret: str) -> str:
    # API keys are 192 random bits: a fast hash is enough (no dictionary to guess from),
    # and it lets us look a key up by its hash.
    return hashlib.sha256(secret.encode()).hexdigest()


def now() -> int:
    return int(time.time())
