"""Verify a Kessai webhook in your own server (docs/webhooks.md).

Standard library only: copy this function into your code. Kessai signs each delivery with
``Kessai-Signature: t=<unix time>,v1=<hex HMAC-SHA256(webhook_secret, "<t>.<raw body>")>``.
Verify the *raw* request body (before any JSON parsing), compare in constant time, and refuse
old timestamps so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    pass


def verify_webhook(raw_body: bytes, signature_header: str, webhook_secret: str,
                   now: int | None = None) -> dict[str, Any]:
    """Return the event if the signature is valid and fresh; raise ``InvalidSignature``."""
    fields = dict(part.split("=", 1) for part in signature_header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
        received = fields["v1"]
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("malformed Kessai-Signature header") from exc
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > TOLERANCE_SECONDS:
        raise InvalidSignature("timestamp outside the tolerance: a replay?")
    signed = f"{timestamp}.".encode() + raw_body
    expected = hmac.new(webhook_secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received):
        raise InvalidSignature("signature mismatch")
    event: dict[str, Any] = json.loads(raw_body)
    return event


# In a Flask app, for example:
#
#     @app.post("/hooks/kessai")
#     def kessai_webhook():
#         try:
#             event = verify_webhook(request.get_data(), request.headers["Kessai-Signature"],
#                                    os.environ["KESSAI_WEBHOOK_SECRET"])
#         except (KeyError, InvalidSignature):
#             return "", 400
#         if already_handled(event["id"]):      # deliveries are at least once
#             return "", 200
#         if event["type"] == "checkout.session.completed":
#             fulfil(event["data"]["object"])
#         return "", 200
