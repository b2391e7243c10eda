"""The postal address a merchant asks for (``address_collection``), on every method.

One block above the method picker (``widgets/address``), validated here for every method the
same way, in the form the shopper's country writes addresses: the Japanese form for yen
(〒, 都道府県 … in ``markets/japan/forms.py``), a Korean one for won (5-digit 우편번호,
도로명/지번 주소, 상세주소 — typed, since no maintained package ships the road-name address
data offline), an international one otherwise (country from Babel's territory names in the
shopper's language). The address lands on the session (``address`` in the API and webhooks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from babel import Locale
from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _

from .fx.pricing import payable
from .method_forms import form_parser
from .models import CheckoutSession

KR_POSTCODE = re.compile(r"^\d{5}$")
LINE_MAX = 100
SHORT_MAX = 60
# Babel's territories include regions ("001" World), unions ("EU") and placeholders ("ZZ").
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "XK"})


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(address_form_kind=address_form_kind,
                                 address_countries=address_countries)


def address_form_kind(checkout: CheckoutSession) -> str | None:
    """Which address form this checkout shows: "jp", "kr", "intl", or None (not asked)."""
    if (checkout.address_collection or "none") == "none" or checkout.status != "open":
        return None
    currency = payable(checkout).currency
    return {"JPY": "jp", "KRW": "kr"}.get(currency, "intl")


def address_countries() -> list[tuple[str, str]]:
    """(code, name) of every country, named and sorted in the shopper's language."""
    locale = get_locale() or Locale("en")
    names = {code: name for code, name in locale.territories.items()
             if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES}
    return sorted(names.items(), key=lambda item: item[1])


@form_parser("*")
def parse_address(checkout: CheckoutSession,
                  form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    kind = address_form_kind(checkout)
    if kind not in ("kr", "intl"):
        return {}, {}  # "jp": markets/japan/forms.py; None: not asked for
    errors: dict[str, str] = {}
    line1 = _clean(form.get("address_line1", ""), LINE_MAX)
    line2 = _clean(form.get("address_line2", ""), LINE_MAX) or None
    if kind == "kr":
        postal_code = re.sub(r"[\s-]", "", form.get("postal_code", ""))
        if not KR_POSTCODE.match(postal_code):
            errors["postal_code"] = _("Enter the 5-digit postcode (for example 04524).")
        if len(line1) < 4:
            errors["address_line1"] = _("Please enter your road-name or lot-number address.")
        address = {"country": "KR", "postal_code": postal_code, "state": None, "city": None}
    else:
        country = form.get("country", "").upper()
        if country not in dict(address_countries()):
            errors["country"] = _("Please choose your country or region.")
        city = _clean(form.get("city", ""), SHORT_MAX)
        if not city:
            errors["city"] = _("Please enter your city.")
        if not line1:
            errors["address_line1"] = _("Please enter your street address.")
        address = {"country": country, "postal_code": _clean(form.get("postal_code", ""), 12)
                   or None, "state": _clean(form.get("state", ""), SHORT_MAX) or None,
                   "city": city}
    if errors:
        return {}, errors
    checkout.address = {"type": checkout.address_collection, **address, "line1": line1,
                        "line2": line2}
    return {}, {}


def _clean(value: str, limit: int) -> str:
    """One line of text: control characters out, runs of spaces folded, cut at ``limit``."""
    text = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(text.split())[:limit]
