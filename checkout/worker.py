"""The background worker: settles payments the gateway left undecided, expires overdue
sessions, and delivers webhooks from the outbox.

Runs as ``kessai worker`` (its own process; ``make run`` starts one next to gunicorn). Several
workers may run at once: events are claimed with a lease and state changes are conditional.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from flask import Flask
from sqlalchemy import select

from .db import get_db
from .ids import now
from .models import CheckoutSession
from .payments import reconcile_stale_payments, settle_live_payment
from .sessions import expire_session
from .webhooks import DeliveryLanes, deliver_due

log = logging.getLogger(__name__)


def expire_overdue_sessions(limit: int = 100) -> int:
    db = get_db()
    overdue = db.scalars(
        select(CheckoutSession)
        .where(CheckoutSession.status == "open", CheckoutSession.expires_at <= now())
        .limit(limit)
    ).all()
    count = 0
    for checkout in overdue:
        # A session whose payment may still take money is settled with the gateway first: it
        # completes if the gateway took the money, and expires only once nothing is live.
        settle_live_payment(checkout)
        if expire_session(db, checkout):
            db.commit()
            count += 1
    return count


def run_once(app: Flask, lanes: DeliveryLanes | None = None) -> dict[str, int]:
    """One tick. With ``lanes`` (the running worker) webhooks go out in the background, one
    lane per merchant, and "webhooks" counts the lanes started; without, this tick delivers
    what is due and waits ("webhooks": events attempted)."""
    with app.app_context():
        settled = reconcile_stale_payments(int(app.config["RECONCILE_AFTER_SECONDS"]))
        expired = expire_overdue_sessions()
        for hook in app.extensions.get("kessai.worker_hooks", []):
            hook()
        delivered = lanes.start_due(get_db()) if lanes else deliver_due(get_db())
    return {"settled": settled, "expired": expired, "webhooks": delivered}


def run_forever(app: Flask, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()

    def _stop(*_args: Any) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    poll = float(app.config["WORKER_POLL_SECONDS"])
    lanes = DeliveryLanes(app)
    log.info("kessai worker started (poll every %ss, %s webhook lanes)", poll, lanes.size)
    try:
        while not stop.is_set():
            try:
                run_once(app, lanes)
            except Exception:  # keep the worker alive; the next tick retries
                log.exception("worker tick failed")
            stop.wait(poll)
    finally:
        lanes.close()
