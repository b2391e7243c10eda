"""Test helpers for merchants: ``POST /v1/test_helpers/payments/<id>/simulate`` marks a slip
paid or expired through the gateway, as ``kessai sandbox simulate`` and the slip's buttons do."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from .. import csrf
from ..api import _json, authenticate, handle_api_error
from ..db import get_db
from ..models import Payment
from ..serialize import session_to_api
from ..session_params import ApiError
from .lifecycle import OUTCOMES, SimulationUnavailable, simulate, voucher_for_payment

test_api = Blueprint("voucher_test_api", __name__, url_prefix="/v1/test_helpers")


@csrf.csrf_exempt
@test_api.post("/payments/<payment_id>/simulate")
def simulate_api(payment_id: str) -> Response:
    """``{"outcome": "paid" | "expired"}`` → the session, after the gateway reported it."""
    db = get_db()
    payment = db.get(Payment, payment_id)
    if payment is None or payment.session.merchant_id != g.merchant.id:
        raise ApiError(404, "resource_missing", f"No such payment: {payment_id}.", "id")
    outcome = (request.get_json(silent=True) or {}).get("outcome")
    if outcome not in OUTCOMES:
        raise ApiError(400, "parameter_invalid", "outcome must be paid or expired.", "outcome")
    if voucher_for_payment(db, payment) is None:
        raise ApiError(409, "payment_not_voucher", "Only a voucher payment can be simulated.")
    try:
        simulate(payment, outcome)
    except SimulationUnavailable as exc:
        raise ApiError(409, "payment_not_pending", str(exc)) from exc
    checkout = payment.session
    db.refresh(checkout)
    return _json(session_to_api(checkout))


# The merchant API's own key check and JSON errors.
test_api.before_request(authenticate)
test_api.register_error_handler(ApiError, handle_api_error)


