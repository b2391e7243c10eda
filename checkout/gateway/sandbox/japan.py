"""The sandbox's Japanese collection agent: konbini slips, Pay-easy numbers and bank-transfer
accounts, issued in realistic shapes. Deterministic per payment (the same payment always gets
the same numbers), so a test or a designer can predict them."""

from __future__ import annotations

import hashlib

from ..base import PENDING, GatewayError, PaymentRequest
from .ledger import Outcome, SandboxLinks, sandbox_method

KONBINI_MIN, KONBINI_MAX = 120, 300_000
DESCRIPTION_MAX = 22  # characters a store's terminal shows


def digits(seed: str, count: int) -> str:
    """Deterministic digits for a payment (the same payment always gets the same numbers)."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return str(int(digest, 16))[-count:].rjust(count, "0")


def konbini_numbers(store: str, payment_id: str, phone: str) -> dict[str, str]:
    """What a collection agent issues per chain: a 払込票番号 at 7-Eleven, a receipt number and
    the shopper's phone at a terminal or register, Daily Yamazaki's online payment number."""
    if store == "seven_eleven":
        return {"payment_slip_number": digits(payment_id + ":slip", 13)}
    if store in ("lawson", "ministop", "familymart", "seicomart"):
        return {"receipt_number": digits(payment_id + ":receipt", 6),
                "confirmation_number": phone}
    if store == "daily_yamazaki":
        return {"online_payment_number": digits(payment_id + ":online", 11)}
    raise GatewayError(f"unknown konbini store {store!r}", "parameter_invalid")


def _expires_at(request: PaymentRequest, kind: str) -> int:
    try:
        return int(request.details["expires_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise GatewayError(f"{kind} needs details.expires_at", "parameter_missing") from exc


def _voucher(request: PaymentRequest, kind: str, fields: dict[str, str],
             description_max: int | None = None) -> Outcome:
    description = str(request.details.get("product_description", ""))
    return Outcome(PENDING, next_action={"type": "voucher", "voucher": {
        "kind": kind, "expires_at": _expires_at(request, kind), "fields": fields,
        "product_description": description[:description_max] if description_max else description,
    }})


@sandbox_method("konbini")
def konbini(request: PaymentRequest, payment_id: str, links: SandboxLinks) -> Outcome:
    if request.currency != "JPY" or not KONBINI_MIN <= request.amount <= KONBINI_MAX:
        raise GatewayError("konbini takes ¥120–¥300,000 in JPY", "amount_invalid")
    store = str((request.details.get("konbini") or {}).get("store", ""))
    customer = request.details.get("customer") or {}
    _expires_at(request, "konbini")
    fields = {"store": store, **konbini_numbers(store, payment_id, str(customer.get("phone", "")))}
    return _voucher(request, "konbini", fields, DESCRIPTION_MAX)


@sandbox_method("pay_easy")
def pay_easy(request: PaymentRequest, payment_id: str, links: SandboxLinks) -> Outcome:
    return _voucher(request, "pay_easy", {
        "institution_number": "58091",  # 収納機関番号: the collection agent's, fixed
        "customer_number": digits(payment_id + ":customer", 16),
        "confirmation_number": digits(payment_id + ":confirm", 6),
    })


@sandbox_method("bank_transfer_jp")
def bank_transfer(request: PaymentRequest, payment_id: str, links: SandboxLinks) -> Outcome:
    return _voucher(request, "bank_transfer_jp", {
        "bank_name": "ケッサイ銀行 (0999)",
        "branch_name": "サンドボックス支店 (" + digits(payment_id + ":branch", 3) + ")",
        "account_type": "普通",
        "account_number": digits(payment_id + ":account", 7),
        "account_holder": "ケツサイ（カ",
    })
