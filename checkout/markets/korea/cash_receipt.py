"""현금영수증 (Korean cash receipt) on 계좌이체 and 가상계좌: optional, asked on the form.

A shopper who pays in cash (a transfer or a deposit) may ask for a cash receipt, which the
payment provider reports to the National Tax Service:

* **소득공제용** (income deduction, for a person): identified by the shopper's mobile number;
* **지출증빙용** (proof of expense, for a business): identified by the 사업자등록번호 (business
  registration number: 10 digits, the last a check digit).

The choice goes to the gateway with the payment as ``details.cash_receipt`` (``type``,
``identifier``); the gateway answers with its ``approval_number`` (승인번호) once it issued the
receipt. The result page, the slip and the merchant API show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...gateway.base import SUCCEEDED
from ...method_forms import form_parser
from ...models import CheckoutSession
from .methods import BANK_TRANSFER, VIRTUAL_ACCOUNT
from .phone import digits, normalize_mobile

INCOME_DEDUCTION = "income_deduction"  # 소득공제용
EXPENSE_PROOF = "expense_proof"  # 지출증빙용
TYPES: dict[str, Any] = {
    INCOME_DEDUCTION: _l("Income deduction (personal)"),
    EXPENSE_PROOF: _l("Proof of expense (business)"),
}
METHODS = (BANK_TRANSFER, VIRTUAL_ACCOUNT)  # cash payments: the methods that offer it

_CHECK_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def valid_business_number(number: str) -> bool:
    """사업자등록번호: 10 digits whose last is the check digit of the National Tax Service's
    weighted sum (weights 1,3,7,1,3,7,1,3,5, plus the tens of the ninth digit times 5)."""
    if len(number) != 10 or not number.isdigit():
        return False
    values = [int(c) for c in number]
    total = sum(v * w for v, w in zip(values, _CHECK_WEIGHTS, strict=False))
    total += values[8] * 5 // 10
    return (10 - total % 10) % 10 == values[9]


def format_business_number(number: str) -> str:
    """``123-45-67890``, as it is printed on a business registration certificate."""
    return f"{number[:3]}-{number[3:5]}-{number[5:]}"


def parse_cash_receipt(checkout: CheckoutSession,
                       form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``cash_receipt_type`` (none, income deduction, proof of expense) and its number."""
    kind = form.get("cash_receipt_type", "")
    if kind not in TYPES:
        return {}, {}  # not asked for (the default): no receipt
    if kind == INCOME_DEDUCTION:
        phone = normalize_mobile(form.get("cash_receipt_phone", ""))
        if phone is None:
            return {}, {"cash_receipt_phone": _("Enter a mobile number like 010-1234-5678.")}
        return {"cash_receipt": {"type": kind, "identifier": digits(phone)}}, {}
    number = digits(form.get("cash_receipt_business_number", ""))
    if not valid_business_number(number):
        return {}, {"cash_receipt_business_number": _(
            "Enter the 10-digit business registration number, like 123-45-67890.")}
    return {"cash_receipt": {"type": kind, "identifier": number}}, {}


for _method in METHODS:
    form_parser(_method)(parse_cash_receipt)


@dataclass(frozen=True)
class CashReceiptView:
    """What the result page and the slip say about the receipt."""

    type_name: str
    identifier: str  # masked mobile number, or the business number as printed
    approval_number: str | None  # 승인번호, once the provider issued the receipt

    @property
    def issued(self) -> bool:
        return self.approval_number is not None


def cash_receipt_view(payment: Any) -> CashReceiptView | None:
    """The receipt a payment asked for, or None. The mobile number is shown masked
    (010-****-5678): a result page may be seen over the shopper's shoulder."""
    receipt = ((payment.details or {}).get("cash_receipt") if payment is not None else None)
    if not isinstance(receipt, dict) or receipt.get("type") not in TYPES:
        return None
    identifier = str(receipt.get("identifier") or "")
    if receipt["type"] == INCOME_DEDUCTION:
        shown = f"{identifier[:3]}-****-{identifier[-4:]}" if len(identifier) >= 10 else "****"
    else:
        shown = format_business_number(identifier) if len(identifier) == 10 else identifier
    approval = receipt.get("approval_number")
    issued = approval if approval and payment.status == SUCCEEDED else None
    return CashReceiptView(str(TYPES[receipt["type"]]), shown, str(issued) if issued else None)
