"""Signed events from the gateway backend (asynchronous outcomes: slips paid, 3-D Secure done …).

``POST /gateway/events`` with ``Kessai-Gateway-Signature: t=<unix>,v1=<hex HMAC-SHA256(gateway
secret, "<t>.<raw body>")>``. Old timestamps are refused (replay window 5 minutes); an event id
already applied is acknowledged without being applied again.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import IntegrityError

from .csrf import csrf_exempt
from .db import get_db
from .gateway.base import GatewayPayment
from .models import GatewayEventReceipt
from .payments import apply_gateway_payment
from .webhooks import verify

bp = Blueprint("gateway_events", __name__)

SIGNATURE_HEADER = "Kessai-Gateway-Signature"


@csrf_exempt
@bp.post("/gateway/events")
def receive() -> Response:
    raw = request.get_data()
    if not verify(current_app.config["GATEWAY_SECRET"], raw, request.headers.get(SIGNATURE_HEADER, "")):
        return _answer(400, "signature_invalid")
    try:
        event = json.loads(raw)
        payment = GatewayPayment.from_json(event["data"]["object"])
        event_id = str(event["id"])
    except (ValueError, KeyError, TypeError):
        return _answer(400, "event_invalid")
    db = get_db()
    db.add(GatewayEventReceipt(id=event_id))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        return _answer(200, "duplicate")
    apply_gateway_payment(payment)
    return _answer(200, "applied")


def _answer(status: int, result: str) -> Response:
    return Response(json.dumps({"result": result}), status=status, mimetype="application/json")
