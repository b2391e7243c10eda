"""A merchant's Korea settings, kept in ``merchants.settings["korea"]`` (JSON):

``interest_free``         무이자 months per card company, e.g. ``{"shinhan": [2, 3, 4, 5, 6]}``
``consents``              the 전체 동의 items, replacing the defaults (see ``consent.py``)
``virtual_account_days``  days a 가상계좌 stays open for deposit (1–14, default 3)

Set with ``kessai merchants configure-korea``.
"""

from __future__ import annotations

from typing import Any

from ...models import Merchant


def korea_settings(merchant: Merchant) -> dict[str, Any]:
    value = (merchant.settings or {}).get("korea")
    return value if isinstance(value, dict) else {}


def update_korea_settings(merchant: Merchant, **changes: Any) -> None:
    """Replace the JSON value (not mutate it), so SQLAlchemy sees the change; None removes."""
    settings = dict(merchant.settings or {})
    korea = dict(korea_settings(merchant))
    for key, value in changes.items():
        if value is None:
            korea.pop(key, None)
        else:
            korea[key] = value
    settings["korea"] = korea
    merchant.settings = settings
