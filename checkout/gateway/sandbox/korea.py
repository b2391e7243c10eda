"""The sandbox's Korean bank and carriers: 가상계좌 numbers, 현금영수증 approval numbers, and
the approval page that
계좌이체 and 휴대폰 결제 wait on (the same page wallets use), opened by redirect on every device:
a bank or a carrier confirms in place, there is no QR to scan.

Test phone numbers for 휴대폰 결제: 010-0000-0002 is refused by the carrier (monthly limit
reached); any other mobile number goes to the approval page.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..base import FAILED, PENDING, REQUIRES_ACTION, GatewayError, PaymentRequest
from .ledger import Outcome, SandboxLinks, sandbox_method

CARRIER_LIMIT_PHONE = "01000000002"
# Banks that issue virtual accounts here, with the length of their account numbers.
ACCOUNT_DIGITS = {"kb": 14, "shinhan": 12, "woori": 13, "hana": 14, "nh": 13, "ibk": 14}


def _cash_receipt(request: PaymentRequest, payment_id: str) -> dict[str, Any]:
    """현금영수증 asked for: the provider's 승인번호 (approval number) joins it. A real provider
    issues it when the money arrives; Kessai shows it only for a paid payment."""
    receipt = request.details.get("cash_receipt")
    if not isinstance(receipt, dict):
        return {}
    if receipt.get("type") not in ("income_deduction", "expense_proof") or \
            not str(receipt.get("identifier") or "").isdigit():
        raise GatewayError("cash_receipt needs a type and a numeric identifier",
                           "parameter_invalid")
    seed = int(hashlib.sha256(f"{payment_id}:cash_receipt".encode()).hexdigest(), 16)
    return {"cash_receipt": {**receipt, "approval_number": str(seed)[-9:].rjust(9, "0")}}


def _wait_for_approval(request: PaymentRequest, payment_id: str, links: SandboxLinks) -> Outcome:
    return Outcome(REQUIRES_ACTION,
                   next_action={"type": "redirect", "url": links.page("wallet", payment_id)},
                   details={"_description": request.description[:60],
                            **_cash_receipt(request, payment_id)})


@sandbox_method("kr_bank_transfer")
def bank_transfer(request: PaymentRequest, payment_id: str, links: SandboxLinks) -> Outcome:
    return _wait_for_approval(request, payment_id, links)


@sandbox_method("kr_mobile_carrier")
def carrier(request: PaymentRequest, payment_id: str, links: SandboxLinks) -> Outcome:
    phone = str(request.details.get("phone", "")).replace("-", "")
    if phone == CARRIER_LIMIT_PHONE:
        return Outcome(FAILED, "carrier_limit_exceeded")
    return _wait_for_approval(request, payment_id, links)


@sandbox_method("kr_virtual_account")
def virtual_account(request: PaymentRequest, payment_id: str, links: SandboxLinks) -> Outcome:
    """An account number for this order, open until Kessai's deadline (``expires_at``)."""
    bank = str(request.details.get("deposit_bank") or "kb")
    if bank not in ACCOUNT_DIGITS:
        raise GatewayError(f"bank {bank!r} issues no virtual accounts", "parameter_invalid")
    try:
        expires_at = int(request.details["expires_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise GatewayError("kr_virtual_account needs details.expires_at",
                           "parameter_missing") from exc
    digits = ACCOUNT_DIGITS[bank]
    seed = int(hashlib.sha256(payment_id.encode()).hexdigest(), 16)
    number = str(seed)[-(digits - 1):].rjust(digits - 1, "0")
    fields = {
        "bank": bank,
        "account_number": "9" + number,  # sandbox accounts start with 9: easy to tell in logs
        "account_holder": str(request.details.get("merchant_name") or "Kessai")[:40],
        "depositor_name": str(request.details.get("depositor_name") or ""),
    }
    voucher = {"kind": "kr_virtual_account", "expires_at": expires_at, "fields": fields,
               "product_description": request.description[:40]}
    return Outcome(PENDING, next_action={"type": "voucher", "voucher": voucher},
                   details=_cash_receipt(request, payment_id))
