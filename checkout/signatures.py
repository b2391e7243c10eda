"""HMAC signatures over a timestamped body: Kessai's webhooks to merchants
(``Kessai-Signature``) and a gateway's events to Kessai (``Kessai-Gateway-Signature``) use the
same scheme. Lives at the bottom of the house: the sandbox gateway signs with it too, without
knowing anything of webhooks."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, tolerance: int = 300,
           current_time: int | None = None) -> bool:
    """How a merchant checks ``Kessai-Signature`` (docs/webhooks.md shows the same code)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((current_time or int(time.time())) - timestamp) > tolerance:
        return False  # too old (or from the future): a replay
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
