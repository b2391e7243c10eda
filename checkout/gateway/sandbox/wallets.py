"""The sandbox's wallets: which it plays, and their behaviour.

A wallet payment waits (``requires_action``) until the shopper approves or cancels it on the
wallet's page (``pages.py``): opened by redirect on a phone, or by scanning the QR that a
computer shows.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from ..base import REQUIRES_ACTION, PaymentRequest
from .ledger import Outcome, SandboxLinks, sandbox_method

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


def method_name(payment: Any) -> str:
    """The wallet's name in the shopper's language."""
    name = WALLETS.get(payment.method)
    return str(name) if name is not None else str(payment.method)



for _wallet in WALLETS:
    if _wallet not in ("kr_bank_transfer", "kr_mobile_carrier"):
        sandbox_method(_wallet)(wallet_behaviour)
