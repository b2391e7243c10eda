"""Konbini (convenience-store cash payment): the catalog entry, the form and how a slip reads
at each chain (the sandbox issues its slips: ``checkout/gateway/sandbox/japan.py``).
Facts: /work/shared/DOMAIN.md ("Konbini")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...method_forms import choice, form_parser
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
from .settings import konbini_days
from .text import truncate_chars

TOKYO = ZoneInfo("Asia/Tokyo")
MIN_AMOUNT, MAX_AMOUNT = 120, 300_000
DESCRIPTION_MAX = 22  # characters a store's terminal shows


@dataclass(frozen=True)
class Chain:
    id: str
    name: Any  # lazy: localized store name
    # What the shopper needs there: "slip" (7-Eleven: 払込票番号), "kiosk" (receipt number +
    # phone at a terminal), "register" (receipt number + phone at the register), "agent"
    # (Daily Yamazaki: the collection agent's own number and instructions).
    flow: str


CHAINS: dict[str, Chain] = {chain.id: chain for chain in (
    Chain("seven_eleven", _l("7-Eleven"), "slip"),
    Chain("lawson", _l("Lawson"), "kiosk"),
    Chain("familymart", _l("FamilyMart"), "kiosk"),
    Chain("ministop", _l("Ministop"), "kiosk"),
    Chain("daily_yamazaki", _l("Daily Yamazaki"), "agent"),
    Chain("seicomart", _l("Seicomart"), "register"),
)}

register(PaymentMethod(
    id="konbini",
    flow=VOUCHER_FLOW,
    currencies=frozenset({"JPY"}),
    name=_l("Convenience store"),
    widget="konbini_form",
    weight=190,  # ~19% of Japanese cross-border e-commerce
    markets=frozenset({"JP"}),
    min_amount={"JPY": MIN_AMOUNT},
    max_amount={"JPY": MAX_AMOUNT},
    group="voucher",
    requires_legal_disclosure=True,
))


def deadline(issued_at: int, days: int) -> int:
    """23:59:59 JST on the last day: issued on the 25th with 3 days → the 28th, 23:59:59."""
    issued = datetime.fromtimestamp(issued_at, UTC).astimezone(TOKYO).date()
    last_day = issued + timedelta(days=days)
    return int(datetime.combine(last_day, time(23, 59, 59), TOKYO).timestamp())


def product_description(checkout: CheckoutSession) -> str:
    """What the store's terminal shows for this order: the merchant's own words (the first
    line item's name, the main product; or the shop's name), never text localized into the
    shopper's language at issue time: the slip is read at a Japanese store, possibly by
    someone else, and the merchant's support matches it against their own catalogue."""
    items = checkout.line_items or []
    text = str(items[0]["name"]) if items else checkout.merchant.name
    return truncate_chars(" ".join(text.split()), DESCRIPTION_MAX)


@form_parser("konbini")
def parse_konbini(checkout: CheckoutSession,
                  form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    from ...ids import now

    errors: dict[str, str] = {}
    store = choice(form, "konbini_store", CHAINS,
                   _("Please choose the store where you will pay."), errors)
    customer = parse_contact(form, errors)
    if errors:
        return {}, errors
    return {
        "konbini": {"store": store},
        "customer": {k: customer[k] for k in ("name", "name_kana", "email", "phone")},
        "product_description": product_description(checkout),
        "expires_at": deadline(now(), konbini_days(checkout.merchant)),
    }, {}


# ---- how a konbini slip reads ----------------------------------------------------------------

def _store(voucher: Voucher) -> str:
    return str(voucher_fields(voucher).get("store", ""))


def store_name(store: str) -> str:
    chain = CHAINS.get(store)
    return str(chain.name) if chain else store


def _group(number: str, size: int = 4) -> str:
    return " ".join(number[i:i + size] for i in range(0, len(number), size))


def konbini_fields(voucher: Voucher) -> list[ShownField]:
    data = voucher_fields(voucher)
    store = _store(voucher)
    shown: list[ShownField] = []
    if "payment_slip_number" in data:
        number = str(data["payment_slip_number"])
        shown.append(ShownField("payment_slip_number", _("Payment slip number (払込票番号)"),
                                number, display=_group(number)))
    if "receipt_number" in data:
        label = (_("Payment reception number (お支払い受付番号)") if store in ("lawson", "ministop")
                 else _("Reception number (受付番号)"))
        shown.append(ShownField("receipt_number", label, str(data["receipt_number"])))
    if "online_payment_number" in data:
        number = str(data["online_payment_number"])
        shown.append(ShownField("online_payment_number", _("Online payment number (オンライン決済番号)"),  # noqa: E501
                                number, display=_group(number)))
    if "confirmation_number" in data:
        shown.append(ShownField("confirmation_number", _("Confirmation number (確認番号)"),
                                str(data["confirmation_number"]),
                                hint=_("The phone number you gave at checkout.")))
    return shown


def konbini_steps(voucher: Voucher) -> list[str]:
    store = _store(voucher)
    if store == "seven_eleven":
        return [
            _("At the register, tell the cashier 「インターネットショッピング代金の支払い」 (payment for online shopping)."),  # noqa: E501
            _("Show the payment slip number on this page, or tell it to the cashier."),
            _("Pay in cash (or with nanaco) and keep the receipt."),
        ]
    if store in ("lawson", "ministop"):
        return [
            _("At the Loppi terminal in the store, choose 「各種番号をお持ちの方」."),
            _("Enter the payment reception number and then the confirmation number (your phone number)."),  # noqa: E501
            _("Check the details and take the application slip (申込券) that is printed."),
            _("Within 30 minutes, hand the application slip to the cashier and pay in cash. Keep the receipt."),  # noqa: E501
        ]
    if store == "familymart":
        return [
            _("At the multi-copy machine (マルチコピー機) in the store, choose 「代金支払い」."),
            _("Enter the reception number and then the confirmation number (your phone number)."),
            _("Check the details and take the application slip (申込券) that is printed."),
            _("Within 30 minutes, hand the application slip to the cashier and pay in cash. Keep the receipt."),  # noqa: E501
        ]
    if store == "seicomart":
        return [
            _("At the register, tell the cashier 「インターネットの支払い」 (internet payment)."),
            _("Enter the reception number and then the confirmation number (your phone number) on the register's touch panel."),  # noqa: E501
            _("Pay in cash and keep the receipt."),
        ]
    if store == "daily_yamazaki":
        return [
            _("At the register, tell the cashier 「オンライン決済」 (online payment)."),
            _("Show the online payment number on this page, or tell it to the cashier."),
            _("Pay in cash and keep the receipt."),
        ]
    return []


def konbini_notes(voucher: Voucher) -> list[str]:
    notes = [_("Pay the exact amount in cash. Your receipt is your proof of payment."),
             _("The store cannot be changed after the slip is issued. To pay elsewhere, please order again.")]  # noqa: E501
    if _store(voucher) in ("lawson", "ministop", "familymart"):
        notes.insert(0, _("An application slip printed just before the deadline can still be paid within 30 minutes of printing."))  # noqa: E501
    if _store(voucher) == "familymart":
        notes.append(_("Do not show a screenshot of a barcode at FamilyMart: use the numbers above."))  # noqa: E501
    return notes


register_voucher_kind(VoucherKind(
    id="konbini",
    title=lambda voucher: _("Pay at %(store)s", store=store_name(_store(voucher))),
    fields=konbini_fields,
    steps=konbini_steps,
    notes=konbini_notes,
    zone="Asia/Tokyo",
    variant=_store,
))
