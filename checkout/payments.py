"""Sending a shopper's payment to the gateway exactly once, and recording what it says.

Exactly-once rests on the database: a ``payments`` row is unique per (session, attempt) and
its idempotency key is ``<session id>:<attempt>``. The first request inserts the row and calls
the gateway; a double click, a reloaded POST or a second tab finds the row and either shows its
outcome or asks the gateway again *with the same key*, which the gateway answers with the same
payment. A decline moves the session to the next attempt so another card can be tried.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .db import get_db
from .gateway import (
    CardDetails,
    GatewayError,
    GatewayIdempotencyConflict,
    GatewayPayment,
    GatewayUnavailable,
    PaymentRequest,
    get_gateway,
)
from .gateway.base import (
    EXPIRED,
    FAILED,
    FINAL_STATUSES,
    PENDING,
    PROCESSING,
    REQUIRES_ACTION,
    SUCCEEDED,
)
from .ids import new_id, now
from .models import CheckoutSession, Payment
from .pricing import payable
from .sessions import complete_session

log = logging.getLogger(__name__)


class StaleAttempt(Exception):
    """The form was for an attempt that is no longer current and never reached the gateway."""


def charge_amount(checkout: CheckoutSession) -> tuple[int, str]:
    """What the gateway charges: always computed on the server, never taken from the form."""
    price = payable(checkout)
    return price.amount, price.currency


def idempotency_key(checkout: CheckoutSession, attempt: int) -> str:
    return f"{checkout.id}:{attempt}"


def submit_payment(
    checkout: CheckoutSession,
    attempt: int,
    method: str,
    return_url: str,
    card: CardDetails | None = None,
    details: dict[str, Any] | None = None,
) -> Payment:
    db = get_db()
    payment, replay = _claim_attempt(db, checkout, attempt, method, card, details)
    if replay and payment.status != PROCESSING:
        return payment  # its outcome is known: show it, send nothing
    request = PaymentRequest(
        idempotency_key=payment.idempotency_key,
        amount=payment.amount,
        currency=payment.currency,
        method=payment.method,
        return_url=return_url,
        description=_description(checkout),
        card=card,
        details=dict(payment.details or {}),
    )
    result = _send(request, replay)
    if result is not None:
        record_gateway_result(db, payment, result)
    return payment


def _claim_attempt(
    db: Session,
    checkout: CheckoutSession,
    attempt: int,
    method: str,
    card: CardDetails | None,
    details: dict[str, Any] | None,
) -> tuple[Payment, bool]:
    """Insert this attempt's payment row, or find the one that a double click, a reloaded
    POST or another tab inserted first: ``(payment, replay)``."""
    key = idempotency_key(checkout, attempt)
    if attempt != checkout.attempt:
        existing = _payment_with_key(db, key)
        if existing is None:
            raise StaleAttempt(key)
        return existing, True
    amount, currency = charge_amount(checkout)
    payment = Payment(
        id=new_id("pay"),
        session_id=checkout.id,
        attempt=attempt,
        idempotency_key=key,
        status=PROCESSING,
        method=method,
        amount=amount,
        currency=currency,
        card_brand=_brand(card),
        card_last4=card.number[-4:] if card else None,
        details=dict(details or {}),
    )
    db.add(payment)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        existing = _payment_with_key(db, key)
        if existing is None:
            raise
        return existing, True
    return payment, False


def _payment_with_key(db: Session, key: str) -> Payment | None:
    return db.scalar(select(Payment).where(Payment.idempotency_key == key))


def _send(request: PaymentRequest, replay: bool) -> GatewayPayment | None:
    """The gateway's answer for this attempt, or None when it cannot be reached (the outcome
    is unknown: the payment stays processing and a retry asks again with the same key)."""
    gateway = get_gateway()
    key = request.idempotency_key
    try:
        found = gateway.find_payment(key) if replay else None
        if found is not None:
            return found
        try:
            return gateway.create_payment(request)
        except GatewayIdempotencyConflict:
            # The gateway already holds this attempt (sent before a timeout, from another tab,
            # with another card): adopt the original instead of charging again.
            original = gateway.find_payment(key)
            if original is None:
                raise
            return original
    except GatewayUnavailable:
        log.warning("gateway unavailable for %s; payment stays processing", key)
        return None
    except GatewayError as exc:
        return GatewayPayment(id="", status=FAILED, method=request.method,
                              amount=request.amount, currency=request.currency,
                              failure_code=exc.code)


def record_gateway_result(db: Session, payment: Payment, result: GatewayPayment) -> None:
    """Store what the gateway said and move the session on; commits."""
    if result.id:
        payment.gateway_payment_id = result.id
    payment.status = result.status
    payment.failure_code = result.failure_code
    payment.next_action = result.next_action
    payment.card_brand = result.card_brand or payment.card_brand
    payment.card_last4 = result.card_last4 or payment.card_last4
    if result.details:
        payment.details = {**(payment.details or {}), **result.details}
    payment.updated = now()
    checkout = payment.session
    if result.status == SUCCEEDED:
        # Money was taken, so the merchant must hear of it even if the session expired while
        # the gateway was deciding: a confirmed payment completes an expired session too.
        complete_session(db, checkout, paid=True, from_statuses=("open", "expired"))
        if checkout.status == "complete" and checkout.payment_status == "unpaid":
            _mark_async_paid(db, checkout, payment)
        for hook in ASYNC_HOOKS.get("succeeded", []):
            hook(db, checkout, payment)
    elif result.status in (FAILED, EXPIRED):
        # Let the shopper try again with a fresh attempt (only once per failed attempt).
        db.execute(
            update(CheckoutSession)
            .where(CheckoutSession.id == checkout.id, CheckoutSession.attempt == payment.attempt)
            .values(attempt=payment.attempt + 1)
            .execution_options(synchronize_session=False)
        )
        _after_async_failure(db, checkout, payment)
    elif result.status == PENDING:
        _after_pending(db, checkout, payment)
    db.commit()
    db.refresh(checkout)


# Hooks for asynchronous methods (vouchers, wallets, bank transfers). Several flows register
# for the same event (a konbini slip and a Korean virtual account both wait as "pending"), so
# each event holds a list; every hook decides for itself whether the payment is one of its own
# (by ``payment.next_action`` type, method or details). Hooks run inside the transaction of
# ``record_gateway_result``: they may add rows and outbox events, and must not commit.
#   "pending": (db, checkout, payment)  — the gateway says: waiting for the shopper elsewhere
#   "paid":    (db, checkout, payment)  — a session completed while unpaid has now been paid
#   "failed":  (db, checkout, payment)  — a payment failed or expired
#   "succeeded": (db, checkout, payment) — any payment succeeded, sync or async (receipts)
ASYNC_HOOKS: dict[str, list[Any]] = {"pending": [], "paid": [], "failed": [], "succeeded": []}


def async_hook(event: str) -> Any:
    """Decorator: ``@async_hook("pending")`` registers a hook for that event."""

    def register(hook: Any) -> Any:
        ASYNC_HOOKS.setdefault(event, []).append(hook)
        return hook

    return register


def _mark_async_paid(db: Session, checkout: CheckoutSession, payment: Payment) -> None:
    for hook in ASYNC_HOOKS.get("paid", []):
        hook(db, checkout, payment)


def _after_async_failure(db: Session, checkout: CheckoutSession, payment: Payment) -> None:
    for hook in ASYNC_HOOKS.get("failed", []):
        hook(db, checkout, payment)


def _after_pending(db: Session, checkout: CheckoutSession, payment: Payment) -> None:
    for hook in ASYNC_HOOKS.get("pending", []):
        hook(db, checkout, payment)


def cancel_waiting_payment(payment: Payment) -> bool:
    """Give up a payment that waits for the shopper (a wallet QR nobody scanned, an abandoned
    3-D Secure page) at the gateway, so a late approval cannot charge; the session moves on to
    its next attempt. True once the payment is no longer waiting."""
    gateway = get_gateway()
    cancel = getattr(gateway, "cancel_payment", None)
    if cancel is None or not payment.gateway_payment_id:
        return False
    try:
        result = cancel(payment.gateway_payment_id)
    except GatewayError:  # unreachable or refused: the payment keeps waiting
        return False
    if result.status != payment.status:
        record_gateway_result(get_db(), payment, result)
    return payment.status not in (REQUIRES_ACTION, PENDING)


def refresh_from_gateway(payment: Payment) -> Payment:
    """Ask the gateway for a payment's state (return from 3-D Secure, status polling)."""
    db = get_db()
    gateway = get_gateway()
    try:
        if payment.gateway_payment_id:
            result = gateway.get_payment(payment.gateway_payment_id)
        else:
            found = gateway.find_payment(payment.idempotency_key)
            if found is None:
                return payment
            result = found
    except GatewayError as exc:  # unreachable, or it does not know the payment: ask later
        log.warning("could not refresh %s from the gateway: %s", payment.idempotency_key, exc)
        return payment
    if _changes(payment, result):
        record_gateway_result(db, payment, result)
    return payment


def _changes(payment: Payment, result: GatewayPayment) -> bool:
    """Whether the gateway's answer moves the payment on. A final payment stays final: a late
    or out-of-order answer (an old "requires_action" after "succeeded") never undoes it."""
    if payment.status in FINAL_STATUSES:
        return False
    return result.status != payment.status or result.id != payment.gateway_payment_id


def apply_gateway_payment(result: GatewayPayment) -> None:
    """A gateway told us a payment changed (signed event, or the embedded sandbox)."""
    db = get_db()
    payment = None
    if result.id:
        payment = db.scalar(select(Payment).where(Payment.gateway_payment_id == result.id))
    if payment is None and result.idempotency_key:
        payment = _payment_with_key(db, result.idempotency_key)
    if payment is None:
        log.info("gateway event for unknown payment %s ignored", result.id)
        return
    if _changes(payment, result):
        record_gateway_result(db, payment, result)


def latest_payment(checkout: CheckoutSession) -> Payment | None:
    return checkout.payments[-1] if checkout.payments else None


def _brand(card: CardDetails | None) -> str | None:
    if card is None:
        return None
    from .cards import detect_brand

    return detect_brand(card.number)


def _description(checkout: CheckoutSession) -> str:
    items = checkout.line_items or []
    if items:
        return str(items[0]["name"])[:60]
    return checkout.merchant.name[:60]
