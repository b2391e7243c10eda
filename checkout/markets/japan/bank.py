"""Pay-easy and bank transfer (振込): voucher flows like konbini, paid at an ATM, by online
banking or at a bank counter before the deadline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...method_forms import form_parser
from ...methods import PaymentMethod, register
from ...models import CheckoutSession, Voucher
from ...vouchers import (
    VOUCHER_FLOW,
    ShownField,
    VoucherKind,
    register_voucher_kind,
    voucher_fields,
)
from .forms import parse_contact
from .konbini import _group, deadline, product_description
from .settings import konbini_days

MAX_AMOUNT = 999_999  # Pay-easy's usual ceiling per payment

for method in (
    PaymentMethod(id="pay_easy", flow=VOUCHER_FLOW, currencies=frozenset({"JPY"}),
                  name=_l("Pay-easy (ATM / online banking)"), widget="jp_voucher_form",
                  weight=40, markets=frozenset({"JP"}), min_amount={"JPY": 1},
                  max_amount={"JPY": MAX_AMOUNT}, group="voucher",
                  requires_legal_disclosure=True),
    PaymentMethod(id="bank_transfer_jp", flow=VOUCHER_FLOW, currencies=frozenset({"JPY"}),
                  name=_l("Bank transfer"), widget="jp_voucher_form", weight=30,
                  markets=frozenset({"JP"}), min_amount={"JPY": 1}, group="voucher",
                  requires_legal_disclosure=True),
):
    register(method)


def _parse(checkout: CheckoutSession, form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:  # noqa: E501
    from ...ids import now

    errors: dict[str, str] = {}
    customer = parse_contact(form, errors)
    if errors:
        return {}, errors
    return {
        "customer": {k: customer[k] for k in ("name", "name_kana", "email", "phone")},
        "product_description": product_description(checkout),
        "expires_at": deadline(now(), konbini_days(checkout.merchant)),
    }, {}


form_parser("pay_easy")(_parse)
form_parser("bank_transfer_jp")(_parse)


def pay_easy_fields(voucher: Voucher) -> list[ShownField]:
    data = voucher_fields(voucher)
    return [
        ShownField("institution_number", _("Institution number (収納機関番号)"),
                   str(data.get("institution_number", ""))),
        ShownField("customer_number", _("Customer number (お客様番号)"),
                   str(data.get("customer_number", "")),
                   display=_group(str(data.get("customer_number", "")))),
        ShownField("confirmation_number", _("Confirmation number (確認番号)"),
                   str(data.get("confirmation_number", ""))),
    ]


def bank_fields(voucher: Voucher) -> list[ShownField]:
    data = voucher_fields(voucher)
    return [
        ShownField("bank_name", _("Bank"), str(data.get("bank_name", "")), copyable=False),
        ShownField("branch_name", _("Branch"), str(data.get("branch_name", "")), copyable=False),
        ShownField("account_type", _("Account type"), str(data.get("account_type", "")),
                   copyable=False),
        ShownField("account_number", _("Account number"), str(data.get("account_number", ""))),
        ShownField("account_holder", _("Account holder"), str(data.get("account_holder", ""))),
    ]


register_voucher_kind(VoucherKind(
    id="pay_easy",
    title=lambda _v: _("Pay with Pay-easy"),
    fields=pay_easy_fields,
    steps=lambda _v: [
        _("Open your online banking, or go to an ATM showing the Pay-easy mark."),
        _("Choose 「税金・料金払込み」 (Pay-easy)."),
        _("Enter the institution number, the customer number and the confirmation number."),
        _("Check the amount and the payee, then pay. Keep the statement."),
    ],
    notes=lambda _v: [_("Some banks charge a fee for Pay-easy payments at the ATM.")],
    zone="Asia/Tokyo",
))

register_voucher_kind(VoucherKind(
    id="bank_transfer_jp",
    title=lambda _v: _("Pay by bank transfer"),
    fields=bank_fields,
    steps=lambda _v: [
        _("Transfer the exact amount to the account below by the deadline (online banking, ATM or at the counter)."),  # noqa: E501
        _("Use the name you gave at checkout as the sender's name, so the payment is matched to your order."),  # noqa: E501
        _("We confirm your order as soon as the transfer arrives."),
    ],
    notes=lambda _v: [_("Transfer fees are paid by the sender.")],
    zone="Asia/Tokyo",
    deposit=True,
))
