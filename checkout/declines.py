"""Declines in a row: card testing against one session meets a pause.

After ``DECLINES_BEFORE_PAUSE`` declined card payments in a row a session pauses card payments
for ``DECLINE_PAUSE_SECONDS`` after the last one; the pay page says so in the shopper's
language, the API shows ``payment_attempts_paused_until`` and the merchant gets
``checkout.session.payment_attempts_paused`` each time a pause starts. Kept in the database,
because it is the session's state, not a rate (request rates: ``checkout/limits.py``).
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from .ids import now
from .models import CheckoutSession, Payment

PAUSED_EVENT = "checkout.session.payment_attempts_paused"
# Failures that say nothing about the card (the shopper gave up, the gateway never answered):
# they neither count towards a pause nor break a run of declines.
NOT_DECLINES = frozenset({"payment_canceled", "gateway_never_received", "expired"})


def _recent_declines(db: Session, checkout: CheckoutSession) -> list[Payment]:
    """The session's latest card payments while they are declines, newest first."""
    threshold = current_app.config["DECLINES_BEFORE_PAUSE"]
    rows = db.scalars(select(Payment).where(Payment.session_id == checkout.id)
                      .order_by(Payment.created.desc(), Payment.attempt.desc())
                      .limit(threshold * 3)
                      .execution_options(populate_existing=True)).all()
    run: list[Payment] = []
    for payment in rows:
        if payment.status == "failed" and payment.failure_code in NOT_DECLINES:
            continue
        if payment.method != "card" or payment.status != "failed":
            break
        run.append(payment)
    return run


def paused_until(db: Session, checkout: CheckoutSession) -> int | None:
    """When card payments on this session may resume, if they are paused now."""
    run = _recent_declines(db, checkout)
    if len(run) < current_app.config["DECLINES_BEFORE_PAUSE"]:
        return None
    until = run[0].updated + current_app.config["DECLINE_PAUSE_SECONDS"]
    return until if until > now() else None


def starts_pause(db: Session, checkout: CheckoutSession) -> bool:
    """Whether the decline just recorded starts a pause (the merchant hears of each one): the
    run reaches the threshold, or a decline comes after a pause ran out (the run is still
    unbroken, so that decline pauses the session again). A decline that raced into an
    ongoing pause starts none."""
    run = _recent_declines(db, checkout)
    threshold = current_app.config["DECLINES_BEFORE_PAUSE"]
    if len(run) < threshold:
        return False
    pause = current_app.config["DECLINE_PAUSE_SECONDS"]
    return len(run) == threshold or run[1].updated + pause <= run[0].updated
