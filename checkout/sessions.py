"""Checkout sessions' states: creating one, completing and expiring it, and the signed redirect
back to the merchant. Validating a merchant's request is session_params.py; the API object,
serialize.py.

State changes are conditional updates (``WHERE status = 'open'``) so two processes can never
complete or expire a session twice, and each change writes its webhook in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import update
from sqlalchemy.orm import Session

from .fx.quotes import quote_new_session
from .ids import new_id, now
from .models import CheckoutSession, Merchant
from .session_params import SESSION_ID_PLACEHOLDER

# What a session id can look like; anything else is "not found" before touching the database
# (PostgreSQL answers a NUL in a query with an error, not with "no rows").
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_session_id(value: str) -> bool:
    return SESSION_ID.fullmatch(value) is not None


def create_session(db: Session, merchant: Merchant, fields: dict[str, Any]) -> CheckoutSession:
    checkout = CheckoutSession(id=new_id("cs", 24), merchant_id=merchant.id, **fields)
    checkout.merchant = merchant
    db.add(checkout)
    quote_new_session(checkout)  # when the presentment currency is already clear
    return checkout


# ---- state changes ------------------------------------------------------------------------

def complete_session(db: Session, checkout: CheckoutSession, paid: bool = True,
                     from_statuses: tuple[str, ...] = ("open",)) -> bool:
    """open → complete (exactly once). Returns True if this call made the change.

    ``from_statuses`` may add "expired" for a payment the gateway confirmed after the session
    expired: the shopper was charged, so the session completes and the merchant is told.
    """
    return _transition(db, checkout, from_statuses, "checkout.session.completed",
                       status="complete", payment_status="paid" if paid else "unpaid",
                       completed_at=now())


def expire_session(db: Session, checkout: CheckoutSession) -> bool:
    """open → expired (exactly once), with its webhook — only while no payment is live: a
    payment that may still take money must be settled or cancelled first (payments.py), so a
    session is never both expired and paid, and the merchant never gets both events."""
    return _transition(db, checkout, ("open",), "checkout.session.expired",
                       only_without_live_payment=True, status="expired")


def _transition(db: Session, checkout: CheckoutSession, from_statuses: tuple[str, ...],
                event_type: str, only_without_live_payment: bool = False,
                **values: Any) -> bool:
    """A conditional update, so two processes can never make the same change twice; the
    webhook is written in the same transaction (the caller commits)."""
    conditions = [CheckoutSession.id == checkout.id, CheckoutSession.status.in_(from_statuses)]
    if only_without_live_payment:
        conditions.append(CheckoutSession.live_payment_id.is_(None))
    result = db.execute(
        update(CheckoutSession)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    db.refresh(checkout)
    from .webhooks import enqueue_event

    enqueue_event(db, checkout, event_type)
    return True


def expire_if_overdue(db: Session, checkout: CheckoutSession) -> None:
    """On a page view or API read: expire an overdue session unless a payment is still live
    (the worker settles that one with the gateway first, then expires the session)."""
    if checkout.status == "open" and checkout.expires_at <= now():
        if expire_session(db, checkout):
            db.commit()
        else:
            db.refresh(checkout)


def redirect_signature(checkout: CheckoutSession, timestamp: int) -> str:
    """Signed redirects: the merchant can check ``kessai_signature`` with its webhook secret."""
    secret = checkout.merchant.webhook_secret.encode()
    message = f"{timestamp}.{checkout.id}.{checkout.status}.{checkout.payment_status}".encode()
    return f"t={timestamp},v1={hmac.new(secret, message, hashlib.sha256).hexdigest()}"


def success_redirect_url(checkout: CheckoutSession) -> str:
    url = checkout.success_url
    if SESSION_ID_PLACEHOLDER in url:
        url = url.replace(SESSION_ID_PLACEHOLDER, checkout.id)
        extra: list[tuple[str, str]] = []
    else:
        extra = [("session_id", checkout.id)]
    extra.append(("kessai_signature", redirect_signature(checkout, now())))
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + extra
    return urlunsplit(parts._replace(query=urlencode(query)))
