"""SMS receipts (optional, [선택]): 73% of Korean shoppers expect one.

The shopper ticks "send me the receipt by text" and gives a mobile number; the payment's
details remember the number and the language. When the payment succeeds a receipt is queued
through ``checkout.notify``; a virtual account's deposit details are texted when it is issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ...i18n import current_locale, money
from ...method_forms import form_parser
from ...methods import CATALOG
from ...models import CheckoutSession, Payment
from ...notify import queue_sms
from ...payments import on_success
from .consent import applies
from .phone import normalize_mobile

RECEIPT = "receipt"


@form_parser("*")
def parse_sms_receipt(checkout: CheckoutSession,
                      form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    if not applies(checkout) or form.get("sms_receipt") != "1":
        return {}, {}
    # Carrier billing already asked for the number: use it unless another one was typed.
    phone = normalize_mobile(form.get("sms_phone", "") or form.get("phone", ""))
    if phone is None:
        return {}, {"sms_phone": _("Enter a mobile number like 010-1234-5678.")}
    return {"sms_receipt_to": phone, "sms_locale": current_locale()}, {}


@on_success
def text_receipt(db: Session, checkout: CheckoutSession, payment: Payment) -> None:
    details = payment.details or {}
    to = details.get("sms_receipt_to")
    if not to:
        return
    with force_locale(str(details.get("sms_locale") or "ko")):
        body = _("[%(merchant)s] Your payment of %(amount)s (%(method)s) is complete. "
                 "Thank you.", merchant=checkout.merchant.name,
                 amount=money(payment.amount, payment.currency), method=_method_name(payment))
    queue_sms(db, to=str(to), body=body, kind=RECEIPT, session_id=checkout.id,
              payment_id=payment.id)


def _method_name(payment: Payment) -> str:
    from .cards import describe_plan

    method = CATALOG.get(payment.method)
    if payment.method == "card":
        return describe_plan(payment.details or {}) or str(method.name if method else "")
    return str(method.name) if method else payment.method
