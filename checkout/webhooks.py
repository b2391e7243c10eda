"""Merchant webhooks: a database outbox, HMAC signatures, delivery with retries and backoff.

An event is written in the same transaction as the change it reports, so it can never be lost
or sent for a change that rolled back. The worker (``kessai worker``) claims due events with a
lease, POSTs them, and reschedules failures with exponential backoff: at least once delivery;
merchants de-duplicate on the event id. Each merchant has its own delivery lane
(``DeliveryLanes``), so one merchant's slow or dead endpoint never delays another's events,
and a failing endpoint backs off as a whole: its lane pauses (``merchants.webhook_paused_until``)
instead of spending a timeout on every queued event.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from flask import Flask, current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from .db import get_db
from .ids import new_ordered_id, now
from .logs import request_id, working_for
from .models import CheckoutSession, Merchant, WebhookEvent

# Re-exported: merchants' docs and the demo shop check signatures from here.
from .signatures import sign as sign
from .signatures import verify as verify

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Kessai-Signature"
REQUEST_ID_HEADER = "Kessai-Request-Id"
MAX_BACKOFF_SECONDS = 6 * 3600


def enqueue_event(db: Session, checkout: CheckoutSession, event_type: str) -> WebhookEvent:
    """Add an event about ``checkout`` to the outbox (the caller commits)."""
    from .serialize import session_to_api

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
        created=created, next_attempt_at=created, request_id=request_id(),
    )
    db.add(event)
    return event


def backoff_seconds(attempts: int) -> int:
    base = int(current_app.config.get("WEBHOOK_BACKOFF_SECONDS", 10))
    return int(min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def deliver_due(db: Session, limit: int = 20, client: httpx.Client | None = None) -> int:
    """One pass, waiting for it to end (tests, ``kessai worker --once``): every merchant with
    due events gets its lane, lanes run side by side; returns how many were attempted."""
    merchant_ids = merchants_with_due_events(db)
    if not merchant_ids:
        return 0
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    http = client or httpx.Client(timeout=app.config["WEBHOOK_TIMEOUT_SECONDS"])
    try:
        with ThreadPoolExecutor(max_workers=min(len(merchant_ids), _lane_count(app))) as pool:
            return sum(pool.map(lambda merchant_id: _lane(app, merchant_id, http, limit),
                                merchant_ids))
    finally:
        if client is None:
            http.close()


class DeliveryLanes:
    """The worker's webhook delivery: one lane per merchant, lanes side by side.

    A merchant's events go out one at a time, oldest first (a session's events arrive in
    order); merchants do not wait for each other. A lane whose endpoint hangs holds only its own
    merchant, each try for at most ``WEBHOOK_TIMEOUT_SECONDS``, and its failures back off; the
    worker's tick only starts lanes for merchants whose lane is free and never waits for one.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.size = _lane_count(app)
        self.pool = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="webhook-lane")
        self.http = httpx.Client(timeout=app.config["WEBHOOK_TIMEOUT_SECONDS"])
        self.busy: set[str] = set()
        self.lock = threading.Lock()
        self.closing = threading.Event()

    def start_due(self, db: Session) -> int:
        """Start a lane for each merchant with due events and a free lane; returns how many."""
        started = 0
        for merchant_id in merchants_with_due_events(db):
            with self.lock:
                if merchant_id in self.busy or len(self.busy) >= self.size:
                    continue
                self.busy.add(merchant_id)
            self.pool.submit(self._run, merchant_id)
            started += 1
        return started

    def _run(self, merchant_id: str) -> None:
        try:
            _lane(self.app, merchant_id, self.http, stop=self.closing)
        except Exception:  # a lane's failure must not end the worker; the next tick retries
            log.exception("webhook lane for %s failed", merchant_id)
        finally:
            with self.lock:
                self.busy.discard(merchant_id)

    def close(self) -> None:
        """Stop taking events; wait for the ones in flight (at most one timeout)."""
        self.closing.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.http.close()


def _lane(app: Flask, merchant_id: str, http: httpx.Client, limit: int = 20,
          stop: threading.Event | None = None) -> int:
    """One merchant's lane, on a thread of its own: its own app context and session."""
    with app.app_context():
        return deliver_merchant_due(get_db(), merchant_id, http, limit, stop)


def _lane_count(app: Flask) -> int:
    return max(1, int(app.config.get("WEBHOOK_LANES", 8)))


def merchants_with_due_events(db: Session) -> list[str]:
    """Merchants with an event due now, the one waiting longest first."""
    rows = db.execute(
        select(WebhookEvent.merchant_id, func.min(WebhookEvent.created))
        .join(Merchant, Merchant.id == WebhookEvent.merchant_id)
        .where(*_due(now()), Merchant.webhook_url.is_not(None), Merchant.webhook_url != "",
               Merchant.webhook_paused_until <= now())
        .group_by(WebhookEvent.merchant_id)
        .order_by(func.min(WebhookEvent.created))
    ).all()
    db.rollback()  # end the read transaction: lanes claim in their own
    return [merchant_id for merchant_id, _oldest in rows]


def deliver_merchant_due(db: Session, merchant_id: str, http: httpx.Client,
                         limit: int = 20, stop: threading.Event | None = None) -> int:
    """One merchant's due events, oldest first, one at a time; returns how many were tried.
    ``stop`` (the worker shutting down) ends the lane after the event in flight."""
    attempted = 0
    while attempted < limit and not (stop and stop.is_set()):
        event_id = _claim_next(db, merchant_id)
        if event_id is None:
            break
        attempted += 1
        if not _deliver_one(db, event_id, http):
            break  # the endpoint failed: the merchant is paused; its other events wait
    return attempted


def _due(current: int) -> list[Any]:
    """What makes an event due: undelivered, not given up, its time come, nobody's lease on it."""
    return [
        WebhookEvent.delivered_at.is_(None),
        WebhookEvent.given_up.is_(False),
        WebhookEvent.next_attempt_at <= current,
        WebhookEvent.locked_until <= current,
    ]


def _claim_next(db: Session, merchant_id: str) -> str | None:
    """Take a lease on the merchant's oldest due event. On PostgreSQL the row is picked with
    ``FOR UPDATE SKIP LOCKED``, so workers never queue behind each other's claims; the UPDATE
    checks again that the event is due, so of several workers exactly one gets it (SQLite,
    which ignores SKIP LOCKED, relies on that alone). A crashed worker's lease runs out."""
    current = now()
    # Longer than a delivery can take, so a live worker's claim never runs out under it.
    lease = max(int(current_app.config["WEBHOOK_LEASE_SECONDS"]),
                int(4 * float(current_app.config["WEBHOOK_TIMEOUT_SECONDS"])))
    event_id = db.scalar(
        select(WebhookEvent.id)
        .join(Merchant, Merchant.id == WebhookEvent.merchant_id)
        .where(WebhookEvent.merchant_id == merchant_id, *_due(current),
               Merchant.webhook_paused_until <= current)  # another worker's lane may pause it
        .order_by(WebhookEvent.created, WebhookEvent.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=WebhookEvent)
    )
    if event_id is None:
        db.rollback()
        return None
    claimed = db.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id, *_due(current))
        .values(locked_until=current + lease)
    )
    db.commit()
    return event_id if claimed.rowcount == 1 else None  # type: ignore[attr-defined]


def _deliver_one(db: Session, event_id: str, http: httpx.Client) -> bool:
    """Send one claimed event; True when the merchant's endpoint took it."""
    event = db.get(WebhookEvent, event_id)
    assert event is not None
    merchant = db.get(Merchant, event.merchant_id)
    assert merchant is not None and merchant.webhook_url
    body = event.body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(merchant.webhook_secret, body, timestamp),
        "User-Agent": "Kessai-Webhooks/1",
    }
    if event.request_id:
        headers[REQUEST_ID_HEADER] = event.request_id
    with working_for(event.request_id):  # this delivery's log lines carry the request's id
        return _post(db, event, merchant, http, body, headers)


def _post(db: Session, event: WebhookEvent, merchant: Merchant, http: httpx.Client,
          body: bytes, headers: dict[str, str]) -> bool:
    error: str | None = None
    try:
        response = http.post(str(merchant.webhook_url), content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            error = f"HTTP {response.status_code}"
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # a bad URL is the merchant's failure too
        error = f"{type(exc).__name__}: {exc}"[:500]
    event.attempts += 1
    event.locked_until = 0
    if error is None:
        event.delivered_at = now()
        event.last_error = None
        merchant.webhook_failures_in_a_row = 0
        merchant.webhook_paused_until = 0
    else:
        # The endpoint backs off as a whole, not event by event: a dead endpoint costs one try
        # (one timeout) per pause, however many events queue behind it, and the first try
        # after the pause is the probe that resumes them all.
        merchant.webhook_failures_in_a_row += 1
        merchant.webhook_paused_until = now() + backoff_seconds(merchant.webhook_failures_in_a_row)
        event.last_error = error
        if event.attempts >= int(current_app.config["WEBHOOK_MAX_ATTEMPTS"]):
            event.given_up = True
            log.warning("webhook %s given up after %s attempts: %s", event.id, event.attempts,
                        error)
        else:
            event.next_attempt_at = now() + backoff_seconds(event.attempts)
            log.info("webhook %s to %s failed (attempt %s): %s; the merchant's deliveries "
                     "pause until %s", event.id, merchant.id, event.attempts, error,
                     merchant.webhook_paused_until)
    db.commit()
    return error is None


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
