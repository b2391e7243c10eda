"""Merchant webhooks: a database outbox, HMAC signatures, delivery with retries and backoff.

An event is written in the same transaction as the change it reports, so it can never be lost
or sent for a change that rolled back. The worker (``kessai worker``) claims due events with a
lease, POSTs them, and reschedules failures with exponential backoff: at least once delivery;
merchants de-duplicate on the event id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx
from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .ids import new_ordered_id, now
from .models import CheckoutSession, Merchant, WebhookEvent

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Kessai-Signature"
LEASE_SECONDS = 60
MAX_BACKOFF_SECONDS = 6 * 3600


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


def enqueue_event(db: Session, checkout: CheckoutSession, event_type: str) -> WebhookEvent:
    """Add an event about ``checkout`` to the outbox (the caller commits)."""
    from .sessions import session_to_api

    event_id = new_ordered_id("evt")
    created = now()
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": created,
            "data": {"object": session_to_api(checkout)},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    event = WebhookEvent(
        id=event_id, merchant_id=checkout.merchant_id, type=event_type, body=body,
        created=created, next_attempt_at=created,
    )
    db.add(event)
    return event


def backoff_seconds(attempts: int) -> int:
    base = int(current_app.config.get("WEBHOOK_BACKOFF_SECONDS", 10))
    return int(min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def deliver_due(db: Session, limit: int = 20, client: httpx.Client | None = None) -> int:
    """Deliver the events that are due; returns how many were attempted."""
    due_ids = db.scalars(
        select(WebhookEvent.id)
        .join(Merchant, Merchant.id == WebhookEvent.merchant_id)
        .where(*_due(now()), Merchant.webhook_url.is_not(None), Merchant.webhook_url != "")
        # Oldest first: a merchant sees a session's events in the order they happened.
        .order_by(WebhookEvent.created, WebhookEvent.id)
        .limit(limit)
    ).all()
    attempted = 0
    http = client or httpx.Client(timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    try:
        for event_id in due_ids:
            if _claim(db, event_id):
                attempted += 1
                _deliver_one(db, event_id, http)
    finally:
        if client is None:
            http.close()
    return attempted


def _due(current: int) -> list[Any]:
    """What makes an event due: undelivered, not given up, its time come, nobody's lease on it."""
    return [
        WebhookEvent.delivered_at.is_(None),
        WebhookEvent.given_up.is_(False),
        WebhookEvent.next_attempt_at <= current,
        WebhookEvent.locked_until <= current,
    ]


def _claim(db: Session, event_id: str) -> bool:
    """Take a lease on one event. The UPDATE checks again that the event is due, so of several
    workers that selected it exactly one gets it, and one another worker already delivered is
    left alone. A crashed worker's lease simply runs out."""
    current = now()
    lease = max(LEASE_SECONDS, int(4 * float(current_app.config["WEBHOOK_TIMEOUT_SECONDS"])))
    claimed = db.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id, *_due(current))
        .values(locked_until=current + lease)
    )
    db.commit()
    return claimed.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def _deliver_one(db: Session, event_id: str, http: httpx.Client) -> None:
    event = db.get(WebhookEvent, event_id)
    assert event is not None
    merchant = db.get(Merchant, event.merchant_id)
    assert merchant is not None and merchant.webhook_url
    body = event.body.encode()
    timestamp = int(time.time())
    error: str | None = None
    try:
        response = http.post(
            merchant.webhook_url,
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(merchant.webhook_secret, body, timestamp),
                "User-Agent": "Kessai-Webhooks/1",
            },
        )
        if not 200 <= response.status_code < 300:
            error = f"HTTP {response.status_code}"
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # a bad URL is the merchant's failure too
        error = f"{type(exc).__name__}: {exc}"[:500]
    event.attempts += 1
    event.locked_until = 0
    if error is None:
        event.delivered_at = now()
        event.last_error = None
    else:
        event.last_error = error
        if event.attempts >= int(current_app.config["WEBHOOK_MAX_ATTEMPTS"]):
            event.given_up = True
            log.warning("webhook %s given up after %s attempts: %s", event.id, event.attempts,
                        error)
        else:
            event.next_attempt_at = now() + backoff_seconds(event.attempts)
    db.commit()


def pending_events(db: Session, merchant_id: str) -> list[WebhookEvent]:
    return list(
        db.scalars(
            select(WebhookEvent).where(
                WebhookEvent.merchant_id == merchant_id,
                or_(WebhookEvent.delivered_at.is_(None)),
            )
        )
    )


def event_payload(event: WebhookEvent) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(event.body)
    return data
