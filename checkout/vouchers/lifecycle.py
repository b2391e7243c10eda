"""A voucher's life: issued when the gateway answers ``pending`` with a voucher, paid or
expired later (the gateway's event, or test mode's simulation), and the worker's ticks: the
embedded sandbox's expiry and the reminder the day before the deadline."""

from __future__ import annotations

import logging

from flask import current_app, has_request_context
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import get_db
from ..gateway import GatewayError, get_gateway
from ..gateway.base import EXPIRED, FAILED, PENDING, SUCCEEDED, VOUCHER
from ..i18n import current_locale
from ..ids import new_id, now
from ..models import CheckoutSession, Payment, Voucher
from ..payments import apply_gateway_payment, refresh_from_gateway
from ..sessions import complete_session
from ..webhooks import enqueue_event

log = logging.getLogger(__name__)

# What the shopper sees, derived from the payment's status.
AWAITING, PAID, EXPIRED_STATE, FAILED_STATE = "awaiting", "paid", "expired", "failed"


def voucher_state(voucher: Voucher) -> str:
    status = voucher.payment.status
    if status == SUCCEEDED:
        return PAID
    if status == EXPIRED:
        return EXPIRED_STATE
    if status == FAILED:
        return FAILED_STATE
    return AWAITING


def is_final(voucher: Voucher) -> bool:
    return voucher_state(voucher) != AWAITING


def slip_url(voucher_id: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/slip/{voucher_id}"


def voucher_for_payment(db: Session, payment: Payment) -> Voucher | None:
    return db.scalar(select(Voucher).where(Voucher.payment_id == payment.id))



# ---- the flow's hooks (run inside record_gateway_result's transaction) -----------------------

def issue_voucher(db: Session, checkout: CheckoutSession, payment: Payment) -> None:
    action = payment.next_action or {}
    if action.get("type") != VOUCHER:
        return  # waiting on something else (a konbini payment is always issued a slip)
    if voucher_for_payment(db, payment) is not None:
        return
    data = dict(action.get("voucher") or {})
    if has_request_context():  # the shopper's own request: the reminder speaks their language
        data["shopper_locale"] = current_locale()
    try:
        expires_at = int(data.get("expires_at") or 0)
    except (TypeError, ValueError):
        expires_at = 0
    if expires_at <= 0:
        log.warning("voucher for %s came without a deadline; using 3 days", payment.id)
        expires_at = now() + 3 * 86400
    voucher = Voucher(id=new_id("slip", 24), payment_id=payment.id, session_id=checkout.id,
                      kind=str(data.get("kind") or "generic")[:40], data=data,
                      expires_at=expires_at, created=now())
    db.add(voucher)
    # Before the session completes, so the completed webhook already carries the slip URL.
    payment.details = {**(payment.details or {}), "voucher_url": slip_url(voucher.id),
                       "voucher_expires_at": expires_at}
    complete_session(db, checkout, paid=False)


def voucher_paid(db: Session, checkout: CheckoutSession, payment: Payment) -> None:
    if voucher_for_payment(db, payment) is None:
        return
    result = db.execute(
        update(CheckoutSession)
        .where(CheckoutSession.id == checkout.id, CheckoutSession.status == "complete",
               CheckoutSession.payment_status == "unpaid")
        .values(payment_status="paid")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        db.refresh(checkout)
        enqueue_event(db, checkout, "checkout.session.async_payment_succeeded")


def voucher_failed(db: Session, checkout: CheckoutSession, payment: Payment) -> None:
    if voucher_for_payment(db, payment) is None:
        return
    db.refresh(checkout)
    if checkout.status == "complete" and checkout.payment_status == "unpaid":
        enqueue_event(db, checkout, "checkout.session.async_payment_failed")


# ---- simulating the outside world (test mode) ----------------------------------------------

class SimulationUnavailable(Exception):
    """The gateway in use cannot simulate (a live gateway), or the payment is not waiting."""


OUTCOMES = {"paid": SUCCEEDED, "expired": EXPIRED}


def can_simulate(payment: Payment | None = None) -> bool:
    return get_gateway(payment.gateway if payment else None).test_controls() is not None


def simulate(payment: Payment, outcome: str) -> None:
    """Test mode: the shopper paid at the store / the deadline passed. The gateway reports it
    the way it reports a real outcome (its event), so the same code path runs."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if payment.status != PENDING or not payment.gateway_payment_id:
        raise SimulationUnavailable("this payment is not waiting to be paid")
    status = OUTCOMES[outcome]
    failure = None if status == SUCCEEDED else "expired"
    # The gateway this payment went to (routing.py), if it is a test-mode one.
    controls = get_gateway(payment.gateway).test_controls()
    if controls is None:
        raise SimulationUnavailable("the gateway in use cannot simulate outcomes")
    answer = controls.settle(payment.gateway_payment_id, status, failure)
    if answer is not None:
        apply_gateway_payment(answer)
    get_db().refresh(payment)


def expire_overdue_vouchers(limit: int = 50) -> int:
    """Worker tick: ask the gateway about slips past their deadline. A real gateway reports the
    expiry itself; the embedded sandbox has no clock of its own, so the worker plays it."""
    db = get_db()
    overdue = db.scalars(
        select(Voucher).join(Payment, Payment.id == Voucher.payment_id)
        .where(Voucher.expires_at <= now(), Payment.status == PENDING)
        .limit(limit)
    ).all()
    count = 0
    for voucher in overdue:
        payment = refresh_from_gateway(voucher.payment)
        controls = get_gateway(payment.gateway).test_controls()
        if payment.status == PENDING and controls is not None and controls.plays_the_clock:
            try:
                simulate(payment, "expired")
            except (SimulationUnavailable, GatewayError) as exc:
                log.warning("could not expire voucher %s: %s", voucher.id, exc)
                continue
        count += payment.status != PENDING
    return count



