"""The merchant's 特定商取引法に基づく表記 (Specified Commercial Transactions Act disclosure).

Japanese law asks online sellers to publish who they are and on what terms they sell; konbini
is offered only when a merchant has it. It lives in ``merchants.settings["japan"]["legal"]``;
each value is a string or ``{"ja": …, "en": …, "ko": …, "zh-Hans": …}`` and the page shows the
shopper's language, falling back to Japanese. Set it with ``kessai merchants set-legal``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ...i18n import current_locale
from ...methods import ELIGIBILITY_RULES, PaymentMethod
from ...models import Merchant
from .settings import japan_settings, sells_digital_goods

# (key, label) in the order the law's guidance lists them. The required ones come first.
REQUIRED_FIELDS: tuple[tuple[str, Any], ...] = (
    ("seller", _l("Seller")),
    ("representative", _l("Person responsible")),
    ("address", _l("Address")),
    ("phone", _l("Phone number")),
    ("email", _l("Email address")),
    ("prices", _l("Prices")),
    ("fees", _l("Additional fees")),
    ("payment_methods", _l("Payment methods")),
    ("payment_timing", _l("When payment is taken")),
    ("delivery", _l("Delivery time")),
    ("returns", _l("Returns and cancellations")),
)
OPTIONAL_FIELDS: tuple[tuple[str, Any], ...] = (
    ("business_hours", _l("Business hours")),
    ("other", _l("Other")),
)
ALL_KEYS = {key for key, _label in REQUIRED_FIELDS + OPTIONAL_FIELDS}
# "representative" and "payment_timing" are often folded into other rows by small shops.
MINIMUM_KEYS = ("seller", "address", "phone", "email", "prices", "fees", "payment_methods",
                "delivery", "returns")
LANG_KEYS = {"ja": "ja", "en": "en", "ko": "ko", "zh-Hans": "zh_Hans", "zh_Hans": "zh_Hans"}


class LegalDisclosureInvalid(ValueError):
    pass


def validate_disclosure(data: Any) -> dict[str, Any]:
    """Check a disclosure (from the CLI or a JSON file); returns the cleaned value."""
    if not isinstance(data, dict):
        raise LegalDisclosureInvalid("the disclosure must be a JSON object")
    unknown = sorted(set(data) - ALL_KEYS)
    if unknown:
        raise LegalDisclosureInvalid(f"unknown field: {unknown[0]} (known: {', '.join(sorted(ALL_KEYS))})")  # noqa: E501
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = value.strip()
            if value:
                cleaned[key] = value[:2000]
        elif isinstance(value, dict):
            texts = {}
            for lang, text in value.items():
                if lang not in LANG_KEYS or not isinstance(text, str):
                    raise LegalDisclosureInvalid(f"{key}: languages are ja, en, ko, zh-Hans")
                if text.strip():
                    texts[LANG_KEYS[lang]] = text.strip()[:2000]
            if texts:
                cleaned[key] = texts
        elif value is not None:
            raise LegalDisclosureInvalid(f"{key}: a string or an object of languages")
    missing = [key for key in MINIMUM_KEYS if key not in cleaned]
    if missing:
        raise LegalDisclosureInvalid(f"missing required field(s): {', '.join(missing)}")
    return cleaned


def legal_disclosure(merchant: Merchant) -> dict[str, Any] | None:
    value = japan_settings(merchant).get("legal")
    if not isinstance(value, dict):
        return None
    try:
        return validate_disclosure(value)
    except LegalDisclosureInvalid:
        return None


def has_legal_disclosure(merchant: Merchant) -> bool:
    return legal_disclosure(merchant) is not None


def localized(value: Any, locale: str | None = None) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        lang = locale or current_locale()
        return str(value.get(lang) or value.get("ja") or next(iter(value.values()), ""))
    return ""


def disclosure_rows(merchant: Merchant) -> list[tuple[str, str]]:
    """(label, text) rows in the shopper's language."""
    data = legal_disclosure(merchant) or {}
    return [(str(label), localized(data[key])) for key, label in REQUIRED_FIELDS + OPTIONAL_FIELDS
            if key in data]


def _merchant_allows(method: PaymentMethod, checkout: Any) -> bool:
    merchant = checkout.merchant
    if method.requires_legal_disclosure and not has_legal_disclosure(merchant):
        return False
    if method.digital_only and not sells_digital_goods(merchant):
        return False
    return True


ELIGIBILITY_RULES.append(_merchant_allows)

bp = Blueprint("japan_legal", __name__)


@bp.get("/pay/<session_id>/legal")
def legal_page(session_id: str) -> Any:
    from ...pages import render_page
    from ...pay import load_checkout

    checkout = load_checkout(session_id)
    rows = disclosure_rows(checkout.merchant)
    if not rows:
        from flask import abort

        abort(404)
    return render_page("legal_disclosure.html", checkout=checkout, rows=rows)
