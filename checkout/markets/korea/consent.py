"""전체 동의: the consent block every Korean payment form carries, and its server check.

Items are [필수] (required) or [선택] (optional); the merchant may replace the defaults in
``korea_settings(merchant)["consents"]`` (``kessai merchants configure-korea --consents``)::

    [{"id": "terms", "required": true,
      "title": {"ko": "이용약관 동의", "en": "Terms of service"},
      "text": {"ko": "…"}, "url": "https://shop.example/terms"}]

``title`` / ``text`` may be a string or a mapping by locale (falls back to ko, then en); an item
whose ``id`` is a default one keeps the default's localized title and text unless given. With
``url`` the 보기 link opens the merchant's own page instead of the text.

The browser keeps the pay button disabled until every required item is ticked (korea.js); the
server refuses the payment otherwise (a ``"*"`` form parser), with or without JavaScript. The
``consent_all`` box alone counts as agreeing to everything, so the block works without
JavaScript too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...fx.pricing import payable
from ...i18n import current_locale
from ...method_forms import form_parser
from ...models import CheckoutSession
from .settings import korea_settings

ITEM_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class ConsentItem:
    id: str
    required: bool
    title: Any  # a string, or a lazy string localized at render time
    text: Any
    url: str | None = None


DEFAULT_ITEMS: tuple[ConsentItem, ...] = (
    ConsentItem("terms", True, _l("Agree to the terms of service"), _l(
        "These terms set out how you use this shop's online payment service: placing an order, "
        "paying, cancelling and getting a refund. By paying you accept them for this order.")),
    ConsentItem("privacy_collection", True,
                _l("Agree to the collection and use of personal information"), _l(
        "What we collect: your name, phone number, email address and payment details. Why: to "
        "process this payment, prevent fraud and answer your questions. How long: as long as the "
        "law requires us to keep payment records (5 years), then it is deleted. You may refuse, "
        "but then we cannot process the payment.")),
    ConsentItem("privacy_third_party", True,
                _l("Agree to the provision of personal information to third parties"), _l(
        "Recipients: the card company, bank, mobile carrier or easy-pay provider you choose, and "
        "the payment gateway. What: the details needed to approve and settle this payment. Why: "
        "payment approval, settlement and fraud prevention. How long: until the purpose is met "
        "or as the law requires. You may refuse, but then we cannot process the payment.")),
    ConsentItem("electronic_finance", True,
                _l("Agree to the electronic financial transaction terms"), _l(
        "These terms govern electronic payments made through the payment gateway under the "
        "Electronic Financial Transactions Act: the rights and duties of you, the shop and the "
        "gateway, how errors are corrected and how disputes are settled.")),
    ConsentItem("marketing", False, _l("Agree to receive offers and news (marketing)"), _l(
        "The shop may send you offers and news by text message or email. This is optional: "
        "your payment works the same either way, and you can withdraw at any time.")),
)


def applies(checkout: CheckoutSession) -> bool:
    """Korean payments (the shopper pays in won) carry the consent block."""
    return payable(checkout).currency == "KRW"


def consent_items(checkout: CheckoutSession) -> list[ConsentItem]:
    configured = korea_settings(checkout.merchant).get("consents")
    if not configured:
        return list(DEFAULT_ITEMS)
    return [_item(entry) for entry in configured]


def find_item(checkout: CheckoutSession, item_id: str) -> ConsentItem | None:
    return next((item for item in consent_items(checkout) if item.id == item_id), None)


def validate_settings(entries: Any) -> list[dict[str, Any]]:
    """Check a merchant's consent list before it is saved (CLI); raises ValueError."""
    if not isinstance(entries, list) or not entries:
        raise ValueError("consents must be a non-empty list of objects")
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict) or not ITEM_ID.fullmatch(str(entry.get("id", ""))):
            raise ValueError("every consent needs an id of lowercase letters, digits and _")
        if entry["id"] in seen:
            raise ValueError(f"duplicate consent id {entry['id']!r}")
        seen.add(entry["id"])
        default = _default(entry["id"])
        for key in ("title", "text"):
            value = entry.get(key)
            if value is None and default is None:
                raise ValueError(f"consent {entry['id']!r} needs a {key}")
            if value is not None and not (isinstance(value, str) or (
                    isinstance(value, dict) and value
                    and all(isinstance(v, str) for v in value.values()))):
                raise ValueError(f"consent {entry['id']!r}: {key} must be text or {{locale: text}}")
        url = entry.get("url")
        if url is not None and not re.match(r"https?://", str(url)):
            raise ValueError(f"consent {entry['id']!r}: url must be http(s)")
    return entries


def agreed(item: ConsentItem, form: Mapping[str, str]) -> bool:
    return form.get("consent_all") == "1" or form.get(f"consent_{item.id}") == "1"


@form_parser("*")
def require_consents(checkout: CheckoutSession,
                     form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    if not applies(checkout):
        return {}, {}
    items = consent_items(checkout)
    given = {item.id: agreed(item, form) for item in items}
    missing = [str(item.title) for item in items if item.required and not given[item.id]]
    if missing:
        return {}, {"consent": _("To pay, please agree to the required items: %(items)s.",
                                 items=", ".join(missing))}
    return {"consents": given}, {}


def _default(item_id: str) -> ConsentItem | None:
    return next((item for item in DEFAULT_ITEMS if item.id == item_id), None)


def _item(entry: dict[str, Any]) -> ConsentItem:
    default = _default(str(entry["id"]))
    return ConsentItem(
        id=str(entry["id"]),
        required=bool(entry.get("required", default.required if default else True)),
        title=_localized(entry.get("title")) or (default.title if default else entry["id"]),
        text=_localized(entry.get("text")) or (default.text if default else ""),
        url=entry.get("url"),
    )


def _localized(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and value:
        locale = current_locale()
        for key in (locale, locale.replace("_", "-"), locale.split("_")[0], "ko", "en"):
            if value.get(key):
                return str(value[key])
        return str(next(iter(value.values())))
    return None
