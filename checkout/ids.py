"""Unguessable identifiers and secrets (prefix + 128+ bits from ``secrets``)."""

from __future__ import annotations

import hashlib
import secrets
import time


def new_id(prefix: str, nbytes: int = 18) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes).replace('-', 'x').replace('_', 'z')}"


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


def hash_secret(secret: str) -> str:
    # API keys are 192 random bits: a fast hash is enough (no dictionary to guess from),
    # and it lets us look a key up by its hash.
    return hashlib.sha256(secret.encode()).hexdigest()


def now() -> int:
    return int(time.time())
