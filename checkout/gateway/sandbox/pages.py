"""The sandbox gateway's own pages: a 3-D Secure challenge and a wallet's approval page.

Served by Kessai when the sandbox is embedded, and by ``kessai sandbox-gateway`` when it runs
as its own HTTP server. They are the *gateway's* pages, so they only talk to the ledger.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, request

from ... import security
from ...navigation import hand_off
from ...pages import render_page
from ..base import FAILED, REQUIRES_ACTION, SUCCEEDED, GatewayError
from .ledger import SandboxLedger, embedded_ledger
from .wallets import CANCELED, method_name

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


def current_ledger() -> SandboxLedger:
    """The HTTP sandbox's own ledger, or (embedded) the one in Kessai's database."""
    ledger = current_app.extensions.get("sandbox.ledger")
    return ledger if ledger is not None else embedded_ledger()  # type: ignore[no-any-return]


@bp.get("/challenge/<payment_id>")
def challenge(payment_id: str) -> Any:
    ledger = current_ledger()
    try:
        payment = ledger.get(payment_id)
    except GatewayError:
        abort(404)
    g.theme = "default"
    security.allow_any_frame()  # like an issuer's challenge, shown inside the checkout's frame
    return render_page("sandbox/challenge.html", payment=payment,
                       waiting=payment.status == REQUIRES_ACTION)


@bp.post("/challenge/<payment_id>")
def answer_challenge(payment_id: str) -> Any:
    ledger = current_ledger()
    approve = request.form.get("outcome") == "approve"
    try:
        ledger.resolve(payment_id, SUCCEEDED if approve else FAILED,
                       None if approve else "authentication_failed",
                       from_statuses=(REQUIRES_ACTION,))
    except GatewayError:
        abort(404)
    # The return URL leads on to the merchant, which this page's form-action cannot name.
    return hand_off(ledger.return_url(payment_id) or "/")


# ---- the wallet's approval page: opened by redirect on a phone, or from a computer's QR -----

@bp.get("/wallet/<payment_id>")
def wallet(payment_id: str) -> Any:
    payment = _payment_or_404(payment_id)
    g.theme = "default"
    security.allow_any_frame()  # a wallet page opened inside a merchant's checkout frame
    return render_page("sandbox/wallet.html", payment=payment, method_name=method_name(payment),
                       waiting=payment.status == REQUIRES_ACTION,
                       via=request.args.get("via", ""))


@bp.post("/wallet/<payment_id>")
def answer_wallet(payment_id: str) -> Any:
    """Approve or cancel. Scanned from a computer's QR, the phone stays here (the computer's
    page moves on by itself); opened by redirect, the shopper goes back to the shop."""
    ledger = current_ledger()
    approve = request.form.get("outcome") == "approve"
    try:
        payment = ledger.resolve(payment_id, SUCCEEDED if approve else FAILED,
                                 None if approve else CANCELED,
                                 from_statuses=(REQUIRES_ACTION,))
    except GatewayError:
        abort(404)
    if request.form.get("via") == "qr":
        g.theme = "default"
        return render_page("sandbox/wallet.html", payment=payment, waiting=False, via="qr",
                           method_name=method_name(payment), answered=True)
    return hand_off(ledger.return_url(payment_id) or "/")


def _payment_or_404(payment_id: str) -> Any:
    try:
        return current_ledger().get(payment_id)
    except GatewayError:
        abort(404)
