"""Validating a merchant's ``POST /v1/checkout/sessions``: each field checked, a precise JSON
error (``ApiError``: status, code, message, param) for the first that is wrong.

Amounts are integers in minor units within the currency's limits; URLs absolute http(s); a
theme a folder that exists; unknown fields refused rather than ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .emails import looks_like_email
from .fx.settings import default_presentment_currencies
from .i18n import API_LOCALES
from .ids import now
from .methods import CATALOG, default_method_ids
from .models import Merchant
from .money import CURRENCIES
from .themes import theme_exists

# success_url may carry this; the redirect back puts the session id in its place.
SESSION_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 3600
MAX_LINE_ITEMS = 100
MAX_METADATA_KEYS = 50
# A theme is a folder name under themes/: never a path.
THEME_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")

ALLOWED_FIELDS = {
    "amount", "currency", "line_items", "success_url", "cancel_url", "locale", "theme",
    "presentment_currencies",
    "payment_method_types", "customer", "client_reference_id", "metadata", "expires_at",
    "address_collection",
}
ADDRESS_COLLECTION = ("none", "billing", "shipping")


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    param: str | None = None
    type: str = "invalid_request_error"

    def to_json(self) -> dict[str, Any]:
        return {"error": {"type": self.type, "code": self.code, "message": self.message,
                          "param": self.param}}


def _missing(param: str) -> ApiError:
    return ApiError(400, "parameter_missing", f"Missing required parameter: {param}.", param)


def _type(param: str, expected: str) -> ApiError:
    return ApiError(400, "parameter_invalid_type", f"{param} must be {expected}.", param)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _string(body: dict[str, Any], param: str, max_length: int,
            required: bool = False) -> str | None:
    value = body.get(param)
    if value is None:
        if required:
            raise _missing(param)
        return None
    return _text(value, param, max_length)


def _text(value: Any, param: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise _type(param, "a string")
    if len(value) > max_length:
        raise ApiError(400, "parameter_too_long",
                       f"{param} must be at most {max_length} characters.", param)
    if "\x00" in value:
        # PostgreSQL cannot store NUL in text, and no legitimate value contains one.
        raise ApiError(400, "parameter_invalid_string", f"{param} contains a NUL character.", param)
    return value


def _url(body: dict[str, Any], param: str, required: bool = False) -> str | None:
    value = _string(body, param, 2000, required)
    if value is None:
        return None
    if not is_absolute_http_url(value.replace(SESSION_ID_PLACEHOLDER, "x")):
        raise ApiError(400, "url_invalid", f"{param} must be an absolute http(s) URL.", param)
    return value


def is_absolute_http_url(url: str) -> bool:
    # Whitespace and control characters are refused outright: browsers strip or keep them
    # inconsistently, and they would end up in a Location header.
    if any(c.isspace() or not c.isprintable() for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _amount(value: Any, param: str) -> int:
    if not _is_int(value):
        raise ApiError(400, "parameter_invalid_integer",
                       f"{param} must be an integer in the currency's minor unit.", param)
    if value <= 0:
        raise ApiError(422, "amount_too_small", f"{param} must be greater than zero.", param)
    return int(value)


def parse_create_params(body: Any, merchant: Merchant) -> dict[str, Any]:
    """Validate ``POST /v1/checkout/sessions``; returns model fields or raises ``ApiError``."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    unknown = sorted(set(body) - ALLOWED_FIELDS)
    if unknown:
        raise ApiError(400, "parameter_unknown", f"Unknown parameter: {unknown[0]}.", unknown[0])

    currency_value = _string(body, "currency", 3, required=True)
    assert currency_value is not None
    currency = currency_value.upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ApiError(400, "currency_invalid", "currency must be a three-letter ISO 4217 code.",
                       "currency")
    if currency not in CURRENCIES:
        raise ApiError(422, "currency_unsupported",
                       f"{currency} is not supported. Supported: {', '.join(CURRENCIES)}.",
                       "currency")
    rule = CURRENCIES[currency]

    line_items = _line_items(body.get("line_items"))
    amount: int | None = None
    if "amount" in body and body["amount"] is not None:
        amount = _amount(body["amount"], "amount")
    if line_items:
        total = sum(item["quantity"] * item["unit_amount"] for item in line_items)
        if amount is not None and amount != total:
            raise ApiError(422, "amount_mismatch",
                           f"amount ({amount}) must equal the sum of line_items ({total}).",
                           "amount")
        amount = total
    if amount is None:
        raise _missing("amount")
    if amount < rule.minimum:
        raise ApiError(422, "amount_too_small",
                       f"amount must be at least {rule.minimum} {currency} minor units.", "amount")
    if amount > rule.maximum:
        raise ApiError(422, "amount_too_large",
                       f"amount must be at most {rule.maximum} {currency} minor units.", "amount")

    success_url = _url(body, "success_url", required=True)
    cancel_url = _url(body, "cancel_url")

    locale = _string(body, "locale", 10)
    if locale is None:
        locale = "auto"
    elif locale != "auto" and locale not in API_LOCALES:
        raise ApiError(422, "locale_unsupported",
                       "locale must be one of auto, en, ja, ko, zh-Hans.", "locale")

    theme = _string(body, "theme", 40)
    if theme is not None and not is_theme_name(theme):
        raise ApiError(422, "theme_unknown", f"No theme named {theme!r}.", "theme")

    presentment_currencies = _presentment_currencies(body.get("presentment_currencies"),
                                                     currency, merchant)
    methods = _methods(body.get("payment_method_types"), currency, presentment_currencies)

    customer = _customer(body.get("customer"))
    client_reference_id = _string(body, "client_reference_id", 200)
    metadata = _metadata(body.get("metadata"))
    address_collection = _string(body, "address_collection", 16) or "none"
    if address_collection not in ADDRESS_COLLECTION:
        raise ApiError(422, "address_collection_invalid",
                       "address_collection must be none, billing or shipping.",
                       "address_collection")

    current = now()
    expires_at = body.get("expires_at")
    if expires_at is None:
        expires_at = current + MAX_EXPIRY_SECONDS
    elif not _is_int(expires_at):
        raise _type("expires_at", "a unix timestamp (integer)")
    elif not current + MIN_EXPIRY_SECONDS <= expires_at <= current + MAX_EXPIRY_SECONDS:
        raise ApiError(422, "expires_at_out_of_range",
                       "expires_at must be between 30 minutes and 24 hours from now.", "expires_at")

    return {
        "amount": amount, "currency": currency, "line_items": line_items,
        "success_url": success_url, "cancel_url": cancel_url, "locale": locale, "theme": theme,
        "payment_method_types": methods, "presentment_currencies": presentment_currencies,
        "customer": customer,
        "client_reference_id": client_reference_id, "metadata_": metadata,
        "expires_at": int(expires_at), "address_collection": address_collection,
    }


def _line_items(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _type("line_items", "an array")
    if len(value) > MAX_LINE_ITEMS:
        raise ApiError(400, "parameter_too_long", f"At most {MAX_LINE_ITEMS} line_items.",
                       "line_items")
    items = []
    for index, item in enumerate(value):
        where = f"line_items[{index}]"
        if not isinstance(item, dict):
            raise _type(where, "an object")
        extra = set(item) - {"name", "quantity", "unit_amount"}
        if extra:
            param = f"{where}.{sorted(extra)[0]}"
            raise ApiError(400, "parameter_unknown", f"Unknown parameter: {param}.", param)
        if item.get("name") is None:
            raise _missing(f"{where}.name")
        name = _text(item["name"], f"{where}.name", 200)
        if not name.strip():
            raise _type(f"{where}.name", "a non-empty string")
        quantity = item.get("quantity", 1)
        if not _is_int(quantity) or not 1 <= quantity <= 10_000:
            raise ApiError(400, "parameter_invalid_integer",
                           "quantity must be an integer from 1 to 10000.", f"{where}.quantity")
        if "unit_amount" not in item:
            raise _missing(f"{where}.unit_amount")
        unit_amount = _amount(item["unit_amount"], f"{where}.unit_amount")
        items.append({"name": name.strip(), "quantity": quantity, "unit_amount": unit_amount})
    return items


def _presentment_currencies(value: Any, currency: str, merchant: Merchant) -> list[str]:
    """What the shopper may pay in instead of ``currency`` (FX, docs/fx.md); absent: the
    merchant's setting or the market default (JPY and KRW for a price in another currency)."""
    if value is None:
        return default_presentment_currencies(merchant, currency)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _type("presentment_currencies", "an array of currency codes")
    if len(value) > len(CURRENCIES):
        raise ApiError(400, "parameter_too_long", "Too many presentment_currencies.",
                       "presentment_currencies")
    codes = []
    for code in (v.upper() for v in value):
        if code not in CURRENCIES:
            raise ApiError(422, "currency_unsupported",
                           f"{code} is not supported. Supported: {', '.join(CURRENCIES)}.",
                           "presentment_currencies")
        if code != currency:
            codes.append(code)
    return list(dict.fromkeys(codes))


def _methods(value: Any, currency: str, presentment: list[str] | None = None) -> list[str]:
    # A method may serve the price's currency or one the shopper can pay in (konbini takes
    # yen for a yuan price once converted).
    currencies = [currency, *(presentment or [])]
    if value is None:
        found = dict.fromkeys(m for c in currencies for m in default_method_ids(c))
        return sorted(found, key=lambda m: -CATALOG[m].weight)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _type("payment_method_types", "a non-empty array of strings")
    for method in value:
        if method not in CATALOG:
            raise ApiError(422, "payment_method_unsupported", f"Unknown payment method {method!r}.",
                           "payment_method_types")
        if not any(c in CATALOG[method].currencies for c in currencies):
            raise ApiError(422, "payment_method_unsupported",
                           f"{method} cannot be used with {' or '.join(currencies)}.",
                           "payment_method_types")
    return list(dict.fromkeys(value))


def _customer(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _type("customer", "an object")
    result: dict[str, str] = {}
    for key, item in value.items():
        if key not in ("name", "email", "phone"):
            raise ApiError(400, "parameter_unknown", f"Unknown parameter: customer.{key}.",
                           f"customer.{key}")
        if item is None:
            continue
        item = _text(item, f"customer.{key}", 200)
        if key == "email" and item and not looks_like_email(item):
            raise ApiError(400, "email_invalid", "customer.email is not an email address.",
                           "customer.email")
        result[key] = item
    return result


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _type("metadata", "an object of strings")
    if len(value) > MAX_METADATA_KEYS:
        raise ApiError(400, "parameter_too_long", f"metadata has at most {MAX_METADATA_KEYS} keys.",
                       "metadata")
    for key, item in value.items():
        if not 1 <= len(key) <= 40 or "\x00" in key:
            raise ApiError(400, "parameter_invalid_string",
                           "metadata keys are 1 to 40 characters.", f"metadata.{key}")
        _text(item, f"metadata.{key}", 500)
    return dict(value)


def is_theme_name(value: str) -> bool:
    """A theme folder that exists (a name, never a path such as ``../themes/default``)."""
    return THEME_NAME.fullmatch(value) is not None and theme_exists(value)
