"""휴대폰 결제 (carrier billing): the carrier and the 010-xxxx-xxxx number to bill."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...method_forms import choice, form_parser
from ...models import CheckoutSession
from .methods import MOBILE_CARRIER
from .phone import normalize_mobile

# Brand names are written the same in every language; 알뜰폰 (MVNO) is a word.
CARRIERS: dict[str, Any] = {
    "skt": "SKT",
    "kt": "KT",
    "lgu": "LG U+",
    "mvno": _l("Budget carrier (MVNO)"),
}


@form_parser(MOBILE_CARRIER)
def parse_carrier(checkout: CheckoutSession,
                  form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    carrier = choice(form, "carrier", CARRIERS, _("Please choose your mobile carrier."), errors)
    phone = normalize_mobile(form.get("phone", ""))
    if phone is None:
        errors["phone"] = _("Enter a mobile number like 010-1234-5678.")
    if errors:
        return {}, errors
    return {"carrier": carrier, "phone": phone}, {}
