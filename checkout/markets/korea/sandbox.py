"""Sandbox behaviours for Korea's redirect methods (계좌이체, 휴대폰 결제).

Both wait for the shopper on the sandbox's approval page (the same page wallets use), opened
by redirect on every device: a bank or a carrier confirms in place, there is no QR to scan.

Test phone numbers for 휴대폰 결제: 010-0000-0002 is refused by the carrier (monthly limit
reached); any other mobile number goes to the approval page.
"""

from __future__ import annotations

from ...gateway.base import FAILED, REQUIRES_ACTION, PaymentRequest
from ...gateway.sandbox import Outcome, SandboxLinks

CARRIER_LIMIT_PHONE = "01000000002"


def _wait_for_approval(request: PaymentRequest, payment_id: str, links: SandboxLinks) -> Outcome:
    return Outcome(REQUIRES_ACTION,
                   next_action={"type": "redirect", "url": links.page("wallet", payment_id)},
                   details={"_description": request.description[:60]})


def bank_transfer_behaviour(request: PaymentRequest, payment_id: str,
                            links: SandboxLinks) -> Outcome:
    return _wait_for_approval(request, payment_id, links)


def carrier_behaviour(request: PaymentRequest, payment_id: str, links: SandboxLinks) -> Outcome:
    phone = str(request.details.get("phone", "")).replace("-", "")
    if phone == CARRIER_LIMIT_PHONE:
        return Outcome(FAILED, "carrier_limit_exceeded")
    return _wait_for_approval(request, payment_id, links)
