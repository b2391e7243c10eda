"""A merchant's Japan settings, kept in ``merchants.settings["japan"]`` (JSON):

``legal``           the 特定商取引法に基づく表記 (see ``legal.py``); konbini needs it
``konbini_days``    how many days a konbini slip stays payable (1–60, default 3)
``instalments_from`` the smallest yen amount that offers card instalments (default ¥10,000)
``digital_goods``   the merchant sells digital goods: carrier billing may be offered
"""

from __future__ import annotations

from typing import Any

from ...models import Merchant

DEFAULT_KONBINI_DAYS = 3
MAX_KONBINI_DAYS = 60
DEFAULT_INSTALMENTS_FROM = 10_000


def japan_settings(merchant: Merchant) -> dict[str, Any]:
    value = (merchant.settings or {}).get("japan")
    return value if isinstance(value, dict) else {}


def update_japan_settings(merchant: Merchant, **changes: Any) -> None:
    """Replace the JSON value (not mutate it), so SQLAlchemy sees the change."""
    settings = dict(merchant.settings or {})
    japan = dict(japan_settings(merchant))
    for key, value in changes.items():
        if value is None:
            japan.pop(key, None)
        else:
            japan[key] = value
    settings["japan"] = japan
    merchant.settings = settings


def konbini_days(merchant: Merchant) -> int:
    try:
        days = int(japan_settings(merchant).get("konbini_days", DEFAULT_KONBINI_DAYS))
    except (TypeError, ValueError):
        days = DEFAULT_KONBINI_DAYS
    return min(max(days, 1), MAX_KONBINI_DAYS)


def instalments_from(merchant: Merchant) -> int:
    try:
        return max(int(japan_settings(merchant).get("instalments_from",
                                                    DEFAULT_INSTALMENTS_FROM)), 1)
    except (TypeError, ValueError):
        return DEFAULT_INSTALMENTS_FROM


def sells_digital_goods(merchant: Merchant) -> bool:
    return bool(japan_settings(merchant).get("digital_goods"))
