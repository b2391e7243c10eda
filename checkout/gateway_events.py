"""Signed events from the gateway backend (asynchronous outcomes: slips paid, 3-D Secure done …).

``POST /gateway/events`` with ``Kessai-Gateway-Signature: t=<unix>,v1=<hex HMAC-SHA256(gateway
secret, "<t>.<raw body>")>``. Old timestamps are refused (replay window 5 minutes); an event id
already applied is acknowledged without being applied again.

An event is a hint, never the truth: the payment's state is read back from the gateway and
applied only if it agrees with what Kessai asked for (payments.confirm_gateway_event). The
endpoint exists only with a remote gateway (``KESSAI_GATEWAY_URL``): the embedded sandbox tells
Kessai in process and needs no public door.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import IntegrityError

from .csrf import csrf_exempt
from .db import get_db
from .gateway.base import (
    EXPIRED,
    FAILED,
    PENDING,
    PROCESSING,
    REQUIRES_ACTION,
    SUCCEEDED,
    GatewayError,
    GatewayPayment,
)
from .models import GatewayEventReceipt
from .payments import confirm_gateway_event
from .routing import default_gateway, is_remote
from .signatures import verify

bp = Blueprint("gateway_events", __name__)

SIGNATURE_HEADER = "Kessai-Gateway-Signature"
PAYMENT_STATUSES = frozenset({SUCCEEDED, FAILED, EXPIRED, PENDING, PROCESSING, REQUIRES_ACTION})


@csrf_exempt
@bp.post("/gateway/events")
@bp.post("/gateway/events/<gateway>")
def receive(gateway: str | None = None) -> Response:
    """The default gateway posts to ``/gateway/events``; another one configured in
    ``KESSAI_GATEWAYS`` to ``/gateway/events/<its name>``, signed with its own secret."""
    raw = request.get_data()
    if gateway is None or gateway == default_gateway():
        secret, receipt_prefix = current_app.config["GATEWAY_SECRET"], ""
    else:
        spec = (current_app.config.get("GATEWAYS") or {}).get(gateway)
        if spec is None or not is_remote(spec):
            return _answer(404, "gateway_unknown")
        if spec.get("type") == "stripe":
            return _stripe_event(gateway, spec, raw)
        secret = spec.get("secret") or current_app.config["GATEWAY_SECRET"]
        receipt_prefix = f"{gateway}:"  # two gateways' event ids may look alike
    if not verify(secret, raw, request.headers.get(SIGNATURE_HEADER, "")):
        return _answer(400, "signature_invalid")
    try:
        event_id, payment = parse_event(raw)
    except ValueError:
        return _answer(400, "event_invalid")
    return _apply(receipt_prefix + event_id, payment)


def _stripe_event(gateway: str, spec: dict[str, Any], raw: bytes) -> Response:
    """Stripe's webhook: ``Stripe-Signature`` checked with the endpoint's signing secret."""
    import stripe

    from .gateway.stripe_adapter import payment_from_event

    try:
        event = stripe.Webhook.construct_event(raw, request.headers.get("Stripe-Signature", ""),
                                               spec.get("webhook_secret") or "")
    except (ValueError, stripe.SignatureVerificationError):
        return _answer(400, "signature_invalid")
    payment = payment_from_event(event)
    if payment is None:
        return _answer(200, "ignored")  # not about a PaymentIntent
    return _apply(f"{gateway}:{event.id}", payment)


def _apply(event_id: str, payment: GatewayPayment) -> Response:
    db = get_db()
    # The receipt and the change it records commit together: if applying fails, nothing is
    # kept and the gateway's redelivery is applied; if it succeeded, a redelivery (or the same
    # event arriving twice at once: the second INSERT waits for the first) is a no-op.
    db.add(GatewayEventReceipt(id=event_id))
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        return _answer(200, "duplicate")
    try:
        outcome = confirm_gateway_event(payment)
    except GatewayError:
        # The event cannot be confirmed now: keep no receipt, so the redelivery is looked at.
        db.rollback()
        return _answer(503, "gateway_unreachable")
    db.commit()
    return _answer(200, outcome)


def parse_event(raw: bytes) -> tuple[str, GatewayPayment]:
    """``(event id, payment)`` from a signed body; ValueError for anything malformed."""
    try:
        event = json.loads(raw)
        event_id = event["id"]
        data = event["data"]["object"]
        payment = GatewayPayment.from_json(data)
    except (RecursionError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed event: {exc}") from exc
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 80:
        raise ValueError("event id must be a string of 1-80 characters")
    if not all(isinstance(v, str) and v for v in (payment.id, payment.status, payment.method)):
        raise ValueError("payment id, status and method must be strings")
    if payment.status not in PAYMENT_STATUSES:
        raise ValueError(f"unknown payment status {payment.status!r}")
    optional_text = (payment.idempotency_key, payment.failure_code, payment.card_brand,
                     payment.card_last4)
    if not all(v is None or isinstance(v, str) for v in optional_text):
        raise ValueError("idempotency_key, failure_code and card fields must be strings")
    if not isinstance(payment.details, dict) or not isinstance(payment.next_action, dict | None):
        raise ValueError("details and next_action must be objects")
    return event_id, payment


def _answer(status: int, result: str) -> Response:
    return Response(json.dumps({"result": result}), status=status, mimetype="application/json")
