"""Japanese form fields, parsed on the server: 姓 / 名, セイ / メイ, email, phone, and the postal
address when the merchant asked for one (``address_collection``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from ...fx.pricing import payable
from ...method_forms import form_parser
from ...models import CheckoutSession
from .postal import PREFECTURES
from .text import (
    clean_name,
    is_katakana,
    normalize_email,
    normalize_phone,
    normalize_postal_code,
    to_katakana,
)

NAME_MAX = 20  # collection agents print names on slips: keep them short
ADDRESS_MAX = 60


def split_name(full_name: str) -> tuple[str, str]:
    """``山田 花子`` → (``山田``, ``花子``): a merchant's customer.name prefills 姓 / 名."""
    parts = clean_name(full_name).split(" ", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (parts[0] if parts else "", "")


def parse_contact(form: Mapping[str, str], errors: dict[str, str]) -> dict[str, str]:
    """The shopper's name (kanji and katakana), email and phone; errors by field name."""
    family, given = clean_name(form.get("family_name", "")), clean_name(form.get("given_name", ""))
    family_kana = to_katakana(form.get("family_name_kana", ""))
    given_kana = to_katakana(form.get("given_name_kana", ""))
    for key, value, missing in (
        ("family_name", family, _("Please enter your family name.")),
        ("given_name", given, _("Please enter your given name.")),
    ):
        if not value:
            errors[key] = missing
        elif len(value) > NAME_MAX:
            errors[key] = _("Please use at most %(num)d characters.", num=NAME_MAX)
    for key, value, missing in (
        ("family_name_kana", family_kana, _("Please enter the reading of your family name.")),
        ("given_name_kana", given_kana, _("Please enter the reading of your given name.")),
    ):
        if not value:
            errors[key] = missing
        elif not is_katakana(value):
            errors[key] = _("Please write the reading in katakana (hiragana is fine too).")
        elif len(value) > NAME_MAX:
            errors[key] = _("Please use at most %(num)d characters.", num=NAME_MAX)
    email = normalize_email(form.get("email", ""))
    if not (form.get("email") or "").strip():
        errors["email"] = _("Please enter your email address.")
    elif email is None:
        errors["email"] = _("This email address does not look right. Please check it.")
    phone = normalize_phone(form.get("phone", ""))
    if not (form.get("phone") or "").strip():
        errors["phone"] = _("Please enter your phone number.")
    elif phone is None:
        errors["phone"] = _("Enter a phone number of 10 or 11 digits starting with 0.")
    return {
        "family_name": family, "given_name": given,
        "family_name_kana": family_kana, "given_name_kana": given_kana,
        "name": f"{family} {given}".strip(), "name_kana": f"{family_kana}　{given_kana}".strip("　"),  # noqa: E501
        "email": email or "", "phone": phone or "",
    }


def contact_values(checkout: CheckoutSession, values: Mapping[str, str]) -> dict[str, str]:
    """What to show in the contact fields: what the shopper typed, else the merchant's
    prefill (``customer.name`` / ``email`` / ``phone``)."""
    customer = checkout.customer or {}
    family, given = split_name(customer.get("name", ""))
    prefill = {"family_name": family, "given_name": given,
               "email": customer.get("email", ""), "phone": customer.get("phone", "")}
    return {key: values.get(key, prefill.get(key, "")) for key in (
        "family_name", "given_name", "family_name_kana", "given_name_kana", "email", "phone")}


# ---- the postal address (address_collection) ----------------------------------------------

def collects_japanese_address(checkout: CheckoutSession) -> bool:
    return (checkout.address_collection or "none") != "none" and payable(checkout).currency == "JPY"


@form_parser("*")
def parse_address(checkout: CheckoutSession,
                  form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Every method's form carries the address block when the merchant asked for one; the
    address lands on the session (API object and webhooks), not in the gateway details."""
    if not collects_japanese_address(checkout):
        return {}, {}
    errors: dict[str, str] = {}
    postal_code = normalize_postal_code(form.get("postal_code", ""))
    if postal_code is None:
        errors["postal_code"] = _("Enter a 7-digit postal code (for example 100-0001).")
    prefecture = form.get("prefecture", "")
    if prefecture not in PREFECTURES:
        errors["prefecture"] = _("Please choose your prefecture.")
    city = clean_name(form.get("city", ""))[:ADDRESS_MAX]
    if not city:
        errors["city"] = _("Please enter your city, ward, town or village.")
    line1 = clean_name(form.get("address_line1", ""))[:ADDRESS_MAX]
    if not line1:
        errors["address_line1"] = _("Please enter the rest of your address (area and block number).")  # noqa: E501
    line2 = clean_name(form.get("address_line2", ""))[:ADDRESS_MAX]
    if errors:
        return {}, errors
    checkout.address = {
        "type": checkout.address_collection, "country": "JP", "postal_code": postal_code,
        "state": prefecture, "city": city, "line1": line1, "line2": line2 or None,
    }
    return {}, {}
