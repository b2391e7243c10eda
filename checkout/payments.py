"""Sending a shopper's payment to the gateway exactly once, and recording what it says.

Exactly-once rests on the database: a ``payments`` row is unique per (session, attempt) and
its idempotency key is ``<session id>:<attempt>``. The first request inserts the row and calls
the gateway; a double click, a reloaded POST or a second tab finds the row and either shows its
outcome or asks the gateway again *with the same key*, which the gateway answers with the same
payment. A decline moves the session to the next attempt so another card can be tried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import metrics, routing
from .db import get_db
from .declines import PAUSED_EVENT, starts_pause
from .flows import Flow
from .fx.pricing import payable
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
from .methods import CATALOG
from .models import CheckoutSession, Payment
from .sessions import complete_session
from .webhooks import enqueue_event

log = logging.getLogger(__name__)


class StaleAttempt(Exception):
    """The form was for an attempt that is no longer current and never reached the gateway."""


class PaymentInProgress(Exception):
    """Another payment of this session may still take money; nothing new was started."""


class SessionNotOpen(Exception):
    """The session was completed or expired meanwhile; nothing was started."""


def charge_amount(checkout: CheckoutSession) -> tuple[int, str]:
    """What the gateway charges: always computed on the server, never taken from the form."""
    price = payable(checkout)
    return price.amount, price.currency


def idempotency_key(checkout: CheckoutSession, attempt: int) -> str:
    return f"{checkout.id}:{attempt}"


@dataclass(frozen=True)
class SavedCharge:
    """A card from the gateway's vault: charged by its token, at the gateway that keeps it."""

    gateway: str
    token: str
    brand: str | None
    last4: str


def submit_payment(
    checkout: CheckoutSession,
    attempt: int,
    method: str,
    return_url: str,
    card: CardDetails | None = None,
    details: dict[str, Any] | None = None,
    saved: SavedCharge | None = None,
) -> Payment:
    db = get_db()
    payment, replay = _claim_attempt(db, checkout, attempt, method, card, details, saved)
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
        card_token=saved.token if saved else None,
    )
    result = _send(db, checkout, payment, request, replay)
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
    saved: SavedCharge | None = None,
) -> tuple[Payment, bool]:
    """Insert this attempt's payment row, or find the one that a double click, a reloaded
    POST or another tab inserted first: ``(payment, replay)``.

    A new payment first claims the session's live-payment slot with one conditional UPDATE of
    the session row (open, this attempt, no live payment), in the same transaction as its
    insert: a payment can never start next to another live one, nor after the session was
    completed or expired, whichever request or process gets there first.
    """
    key = idempotency_key(checkout, attempt)
    if attempt != checkout.attempt:
        existing = _payment_with_key(db, key)
        if existing is None:
            raise StaleAttempt(key)
        return existing, True
    amount, currency = charge_amount(checkout)
    db.commit()  # the claim below must be the first statement of its transaction (SQLite)
    payment_id = new_id("pay")
    claimed = db.execute(
        update(CheckoutSession)
        .where(CheckoutSession.id == checkout.id, CheckoutSession.status == "open",
               CheckoutSession.attempt == attempt, CheckoutSession.live_payment_id.is_(None))
        .values(live_payment_id=payment_id)
        .execution_options(synchronize_session=False)
    ).rowcount == 1  # type: ignore[attr-defined]
    if not claimed:
        db.rollback()
        existing = _payment_with_key(db, key)
        if existing is not None:
            return existing, True
        db.refresh(checkout)
        if checkout.status != "open":
            raise SessionNotOpen(checkout.status)
        if checkout.attempt != attempt:
            raise StaleAttempt(key)
        raise PaymentInProgress(checkout.live_payment_id or "")
    payment = Payment(
        id=payment_id,
        session_id=checkout.id,
        attempt=attempt,
        idempotency_key=key,
        status=PROCESSING,
        method=method,
        amount=amount,
        currency=currency,
        card_brand=saved.brand if saved else _brand(card),
        card_last4=saved.last4 if saved else (card.number[-4:] if card else None),
        details=dict(details or {}),
        # A saved card lives in one gateway's vault: it is charged there, nowhere else.
        gateway=saved.gateway if saved else routing.choose(checkout, method, currency, amount)[0],
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
    db.refresh(checkout)
    return payment, False


def _payment_with_key(db: Session, key: str) -> Payment | None:
    return db.scalar(select(Payment).where(Payment.idempotency_key == key))


def _send(db: Session, checkout: CheckoutSession, payment: Payment, request: PaymentRequest,
          replay: bool) -> GatewayPayment | None:
    """The gateway's answer for this attempt, or None when the outcome is unknown (the payment
    stays processing with the gateway that may hold it; a retry or the worker asks it again).

    The gateways are tried in the route's order (checkout/routing.py), skipping any whose
    circuit breaker is open. The payment names the gateway before each call, so whatever
    happens next — a crash included — the record says where it may be. It moves on to the
    next gateway only when this one provably does not have it."""
    route = routing.choose(checkout, payment.method, payment.currency, payment.amount)
    holder = payment.gateway or routing.default_gateway()
    if request.card_token:  # a token means nothing to another gateway: no failover
        route = [holder]
    if replay:  # a repeat of this attempt: the gateway that may already hold it comes first
        route = [holder, *(name for name in route if name != holder)]
    for name in route:
        if not routing.allows(name):
            if replay and name == holder:
                return None  # it may hold this attempt already: never moved past unasked
            continue  # its breaker is open: the call is not even tried
        if name != holder:
            _move_to_gateway(db, payment, holder, name)
            holder = name
        gateway = get_gateway(name)
        try:
            result = _ask(gateway, request, replay)
        except GatewayUnavailable as exc:
            routing.record_failure(name)
            if exc.reached and not _provably_absent(gateway, request.idempotency_key):
                log.warning("gateway %s unavailable for %s and may have it; payment stays "
                            "processing", name, request.idempotency_key)
                return None
            log.warning("gateway %s did not take %s (%s); trying the next", name,
                        request.idempotency_key, exc)
            replay = False  # the next gateway has never seen this key
            continue
        except GatewayError as exc:  # an answer: the gateway refused the request
            routing.record_success(name)
            return GatewayPayment(id="", status=FAILED, method=request.method,
                                  amount=request.amount, currency=request.currency,
                                  failure_code=exc.code)
        routing.record_success(name)
        return result
    log.warning("no gateway could take %s; payment stays processing", request.idempotency_key)
    return None


def _ask(gateway: Any, request: PaymentRequest, replay: bool) -> GatewayPayment:
    key = request.idempotency_key
    found = gateway.find_payment(key) if replay else None
    if found is not None:
        return found  # type: ignore[no-any-return]
    try:
        return gateway.create_payment(request)  # type: ignore[no-any-return]
    except GatewayIdempotencyConflict:
        # The gateway already holds this attempt (sent before a timeout, from another tab,
        # with another card): adopt the original instead of charging again.
        original = gateway.find_payment(key)
        if original is None:
            raise
        return original  # type: ignore[no-any-return]


def _provably_absent(gateway: Any, key: str) -> bool:
    """After a timeout: the gateway itself says it has no payment under this key."""
    try:
        return gateway.find_payment(key) is None
    except GatewayError:
        return False  # still unreachable: it may have it


def _move_to_gateway(db: Session, payment: Payment, previous: str, name: str) -> None:
    """Name the next gateway on the payment before calling it (only while still processing)."""
    db.execute(update(Payment)
               .where(Payment.id == payment.id, Payment.status == PROCESSING)
               .values(gateway=name, updated=now())
               .execution_options(synchronize_session=False))
    db.commit()
    db.refresh(payment)
    metrics.failover(previous, name)
    log.warning("payment %s fails over from gateway %s to %s", payment.idempotency_key,
                previous, name)


def record_gateway_result(db: Session, payment: Payment, result: GatewayPayment) -> None:
    """Store what the gateway said and move the session on; commits.

    Two rules hold here for every path (a return from 3-D Secure, status polling, a gateway
    event, the worker's reconciliation, a cancellation): an answer that does not match what
    Kessai asked the gateway for is never applied, and a final payment stays final — the
    UPDATE only matches a payment that is still live, so of two racing answers (an approval
    and a cancellation) the first one written wins and the other changes nothing.
    """
    if not agrees(payment, result):
        log.error("gateway answer for %s does not match the payment (amount %s %s, method %s);"
                  " not applied", payment.idempotency_key, result.amount, result.currency,
                  result.method)
        db.rollback()
        return
    values: dict[str, Any] = {
        "status": result.status,
        "failure_code": result.failure_code,
        "next_action": result.next_action,
        "updated": now(),
    }
    if result.id:
        values["gateway_payment_id"] = result.id
    if result.card_brand:
        values["card_brand"] = result.card_brand
    if result.card_last4:
        values["card_last4"] = result.card_last4
    if result.details:
        values["details"] = {**(payment.details or {}), **result.details}
    moved = db.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.not_in(FINAL_STATUSES))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1  # type: ignore[attr-defined]
    db.refresh(payment)
    checkout = payment.session
    if not moved:  # already final: a late or losing answer changes nothing
        db.commit()
        db.refresh(checkout)
        return
    if result.status in FINAL_STATUSES:
        db.execute(
            update(CheckoutSession)
            .where(CheckoutSession.id == checkout.id,
                   CheckoutSession.live_payment_id == payment.id)
            .values(live_payment_id=None)
            .execution_options(synchronize_session=False)
        )
    if result.status == SUCCEEDED:
        # Money was taken, so the merchant must hear of it even if the session expired while
        # the gateway was deciding: a confirmed payment completes an expired session too.
        complete_session(db, checkout, paid=True, from_statuses=("open", "expired"))
        if checkout.status == "complete" and checkout.payment_status == "unpaid":
            _flow(payment).on_paid_later(db, checkout, payment)
        for listener in SUCCESS_LISTENERS:
            listener(db, checkout, payment)
    elif result.status in (FAILED, EXPIRED):
        # Let the shopper try again with a fresh attempt (only once per failed attempt).
        db.execute(
            update(CheckoutSession)
            .where(CheckoutSession.id == checkout.id, CheckoutSession.attempt == payment.attempt)
            .values(attempt=payment.attempt + 1)
            .execution_options(synchronize_session=False)
        )
        _flow(payment).on_failed(db, checkout, payment)
        if payment.method == "card":
            # Card testing: a run of declines pauses the session; the merchant hears of it.
            if starts_pause(db, checkout):
                enqueue_event(db, checkout, PAUSED_EVENT)
    elif result.status == PENDING:
        _flow(payment).on_pending(db, checkout, payment)
    db.commit()
    if result.status in FINAL_STATUSES:  # counted once: only the answer that moved it
        metrics.payment_finished(payment.gateway or routing.default_gateway(),
                                 payment.method, payment.currency, result.status)
    db.refresh(checkout)


def agrees(payment: Payment, result: GatewayPayment) -> bool:
    """Whether a gateway answer is about this payment as Kessai asked for it: same amount,
    currency and method, and (where the answer names them) the same key and gateway id."""
    if (result.amount, result.currency, result.method) != \
            (payment.amount, payment.currency, payment.method):
        return False
    if result.idempotency_key and result.idempotency_key != payment.idempotency_key:
        return False
    return not (result.id and payment.gateway_payment_id
                and result.id != payment.gateway_payment_id)


def _flow(payment: Payment) -> Flow:
    """The flow of the payment's own method; a method no longer offered keeps a plain flow."""
    method = CATALOG.get(payment.method)
    return method.flow if method is not None else Flow()


# Add-ons that follow every successful payment, whatever its method (Korea's SMS receipt).
# Each is told of a payment once, when it succeeds; a method's own behaviour is its flow's.
SuccessListener = Callable[[Session, CheckoutSession, Payment], None]
SUCCESS_LISTENERS: list[SuccessListener] = []


def on_success(listener: SuccessListener) -> SuccessListener:
    """Decorator: ``@on_success`` runs ``listener(db, checkout, payment)`` inside the
    transaction that recorded the success (it may add rows, never commits)."""
    SUCCESS_LISTENERS.append(listener)
    return listener


def cancel_waiting_payment(payment: Payment) -> bool:
    """Give up a payment that waits for the shopper (a wallet QR nobody scanned, an abandoned
    3-D Secure page) at the gateway, so a late approval cannot charge; the session moves on to
    its next attempt. True once the payment is no longer waiting."""
    gateway = get_gateway(payment.gateway)
    cancel = getattr(gateway, "cancel_payment", None)
    if cancel is None or not payment.gateway_payment_id:
        return False
    try:
        result = cancel(payment.gateway_payment_id)
    except GatewayError:  # unreachable or refused: the payment keeps waiting
        return False
    if _changes(payment, result):
        record_gateway_result(get_db(), payment, result)
    return payment.status not in (REQUIRES_ACTION, PENDING, PROCESSING)


def settle_live_payment(checkout: CheckoutSession) -> None:
    """Before a session may expire: ask the gateway about its live payment, and cancel it
    there if it is still waiting for the shopper. A payment in flight stays live (the session
    then cannot expire yet); one the gateway confirmed completes the session instead."""
    if not checkout.live_payment_id:
        return
    payment = get_db().get(Payment, checkout.live_payment_id)
    if payment is None:
        return
    refresh_from_gateway(payment)
    if payment.status in (REQUIRES_ACTION, PENDING) and checkout.status == "open":
        cancel_waiting_payment(payment)


def reconcile_stale_payments(older_than_seconds: int, limit: int = 100) -> int:
    """The worker's safety net: every payment still live after ``older_than_seconds`` is
    looked up at the gateway and settled (a timeout left it ``processing`` while the gateway
    went on and decided). A ``processing`` payment the gateway never received is failed, so
    the shopper can pay again. Returns how many payments moved."""
    db = get_db()
    stale = db.scalars(
        select(Payment)
        .where(Payment.status.in_((PROCESSING, REQUIRES_ACTION)),
               Payment.updated <= now() - older_than_seconds)
        .order_by(Payment.updated)
        .limit(limit)
    ).all()
    moved = 0
    for payment in stale:
        before = payment.status
        gateway = get_gateway(payment.gateway)
        try:
            if payment.gateway_payment_id:
                result: GatewayPayment | None = gateway.get_payment(payment.gateway_payment_id)
            else:
                result = gateway.find_payment(payment.idempotency_key)
        except GatewayError as exc:
            log.warning("reconciling %s: gateway unreachable (%s)", payment.idempotency_key, exc)
            continue
        if result is None:
            # The gateway has no payment under this key, and no request is still in flight
            # (older than the whole gateway deadline): nothing was charged.
            result = GatewayPayment(id="", status=FAILED, method=payment.method,
                                    amount=payment.amount, currency=payment.currency,
                                    failure_code="gateway_never_received")
        if _changes(payment, result):
            record_gateway_result(db, payment, result)
        else:
            db.execute(update(Payment).where(Payment.id == payment.id).values(updated=now())
                       .execution_options(synchronize_session=False))
            db.commit()
        moved += payment.status != before
    return moved


def refresh_from_gateway(payment: Payment) -> Payment:
    """Ask the gateway for a payment's state (return from 3-D Secure, status polling)."""
    db = get_db()
    gateway = get_gateway(payment.gateway)
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
    """The embedded sandbox tells us a payment changed (in process: its answer is the
    gateway's own record, so it is applied as it is — still only if it agrees)."""
    payment = find_local_payment(result)
    if payment is None:
        log.info("gateway event for unknown payment %s ignored", result.id)
        return
    if _changes(payment, result):
        record_gateway_result(get_db(), payment, result)


def confirm_gateway_event(hint: GatewayPayment) -> str:
    """A signed event from a remote gateway is only a hint that a payment changed: its state
    is read back from the gateway (as Stripe integrations re-fetch the object) and applied
    only if it agrees with the payment Kessai asked for. Returns what happened."""
    payment = find_local_payment(hint)
    if payment is None:
        log.info("gateway event for unknown payment %s ignored", hint.id)
        return "ignored"
    gateway = get_gateway(payment.gateway)  # GatewayError propagates: it redelivers later
    if payment.gateway_payment_id:
        confirmed: GatewayPayment | None = gateway.get_payment(payment.gateway_payment_id)
    else:
        confirmed = gateway.find_payment(payment.idempotency_key)
    if confirmed is None or not _changes(payment, confirmed):
        return "unchanged"
    record_gateway_result(get_db(), payment, confirmed)
    return "applied" if payment.status == confirmed.status else "refused"


def find_local_payment(result: GatewayPayment) -> Payment | None:
    db = get_db()
    payment = None
    if result.id:
        payment = db.scalar(select(Payment).where(Payment.gateway_payment_id == result.id))
    if payment is None and result.idempotency_key:
        payment = _payment_with_key(db, result.idempotency_key)
    return payment


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
