"""The sandbox's wallet: the behaviour for wallet methods and the wallet's approval page.

A wallet payment waits (``requires_action``) until the shopper approves or cancels it on the
wallet's page: opened by redirect on a phone, or by scanning the QR that a computer shows.
Attached to the sandbox pages blueprint, so Kessai serves it when the sandbox is embedded and
``kessai sandbox-gateway`` serves it over HTTP.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, request
from flask_babel import lazy_gettext as _l

from ... import security
from ...navigation import hand_off
from ...pages import render_page
from ..base import FAILED, REQUIRES_ACTION, SUCCEEDED, GatewayError, PaymentRequest
from .ledger import Outcome, SandboxLinks, sandbox_method
from .pages import bp, current_ledger

CANCELED = "payment_canceled"

# The wallets (and carrier billing) this sandbox plays, with the name its page shows.
WALLETS: dict[str, Any] = {
    "kakao_pay": _l("Kakao Pay"), "samsung_pay": _l("Samsung Pay"), "naver_pay": _l("Naver Pay"),
    "toss_pay": _l("Toss Pay"), "payco": _l("PAYCO"),
    "paypay": _l("PayPay"), "rakuten_pay": _l("Rakuten Pay"), "merpay": _l("Merpay"),
    "au_pay": _l("au PAY"), "docomo_carrier": _l("d Payment (docomo)"),
    "au_carrier": _l("au Easy Payment"), "softbank_carrier": _l("SoftBank Carrier Billing"),
    # 계좌이체 and 휴대폰 결제 confirm on the same page (their behaviours: korea.py).
    "kr_bank_transfer": _l("Real-time bank transfer"),
    "kr_mobile_carrier": _l("Mobile phone billing"),
}


def wallet_behaviour(request_: PaymentRequest, payment_id: str, links: SandboxLinks) -> Outcome:
    """Wait for approval: a QR for a computer, a redirect for a phone (``wallet_display``)."""
    page = links.page("wallet", payment_id)
    if request_.details.get("wallet_display") == "qr":
        action = {"type": "qr", "url": page, "qr_url": f"{page}?via=qr"}
    else:
        action = {"type": "redirect", "url": page}
    return Outcome(REQUIRES_ACTION, next_action=action,
                   details={"_description": request_.description[:60]})


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


def method_name(payment: Any) -> str:
    """The wallet's name in the shopper's language."""
    name = WALLETS.get(payment.method)
    return str(name) if name is not None else str(payment.method)


def _payment_or_404(payment_id: str) -> Any:
    try:
        return current_ledger().get(payment_id)
    except GatewayError:
        abort(404)


for _wallet in WALLETS:
    if _wallet not in ("kr_bank_transfer", "kr_mobile_carrier"):
        sandbox_method(_wallet)(wallet_behaviour)
