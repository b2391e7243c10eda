"""FX configuration: the deployment's (``KESSAI_FX_*``) and each merchant's (``merchants.settings
["fx"]``).

Deployment::

    KESSAI_FX_SOURCE        ecb (default: the ECB rates shipped offline) | gateway | http
    KESSAI_FX_URL           the JSON endpoint for ``http`` (format in docs/fx.md)
    KESSAI_FX_ECB_FILE      a newer ECB file (eurofxref.csv / .zip) for ``ecb``
    KESSAI_FX_ECB_URL       where the worker fetches the ECB's daily rates ("off": never)
    KESSAI_FX_ECB_REFRESH_SECONDS how often the worker looks for a new day of ECB rates (3600)
    KESSAI_FX_MAX_AGE_HOURS rates older than this are stale: shown with their age, never locked (72)
    KESSAI_FX_CACHE_SECONDS how long fetched rates are reused (60)
    KESSAI_FX_TIMEOUT       seconds for the http source (5)
    KESSAI_FX_TICKER_SECONDS how often the page's rate ticker polls (20)
    KESSAI_FX_LOCK_MINUTES  default rate lock when a merchant sets none (15)

Merchant (``settings["fx"]``)::

    {"markup_bps": 150, "lock_minutes": 15, "presentment_currencies": ["JPY", "KRW"]}
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from ..models import Merchant
from ..money import CURRENCIES

log = logging.getLogger(__name__)

SOURCES = ("ecb", "gateway", "http")
# The markets Kessai serves: a merchant pricing in another currency shows these by default.
MARKET_CURRENCIES = ("JPY", "KRW")
MAX_MARKUP_BPS = 1_000  # 10%: anything above is a configuration mistake, not a price
MIN_LOCK_MINUTES, MAX_LOCK_MINUTES = 1, 24 * 60  # Stripe locks up to 24 h


ECB_DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"


def _off_is_empty(value: str) -> str:
    value = value.strip()
    return "" if value.lower() == "off" else value


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Flask config keys for FX, from ``KESSAI_FX_*`` (defaults need no configuration)."""
    env = dict(os.environ if environ is None else environ)
    source = env.get("KESSAI_FX_SOURCE", "ecb").strip().lower() or "ecb"
    return {
        "FX_SOURCE": source,
        "FX_URL": env.get("KESSAI_FX_URL", "").strip(),
        "FX_ECB_FILE": env.get("KESSAI_FX_ECB_FILE", "").strip(),
        # The worker fetches the ECB's daily rates from here ("" or "off": never).
        "FX_ECB_URL": _off_is_empty(env.get("KESSAI_FX_ECB_URL", ECB_DAILY_URL)),
        "FX_ECB_REFRESH_SECONDS": int(env.get("KESSAI_FX_ECB_REFRESH_SECONDS") or 3600),
        "FX_MAX_AGE_SECONDS": int(float(env.get("KESSAI_FX_MAX_AGE_HOURS") or 72) * 3600),
        "FX_CACHE_SECONDS": int(env.get("KESSAI_FX_CACHE_SECONDS") or 60),
        "FX_TIMEOUT_SECONDS": float(env.get("KESSAI_FX_TIMEOUT") or 5),
        "FX_TICKER_SECONDS": int(env.get("KESSAI_FX_TICKER_SECONDS") or 20),
        "FX_LOCK_MINUTES": int(env.get("KESSAI_FX_LOCK_MINUTES") or 15),
    }


def check(config: dict[str, Any]) -> None:
    """Refuse a configuration that cannot work, at start-up rather than at a shopper's page."""
    if config["FX_SOURCE"] not in SOURCES:
        raise ValueError(f"KESSAI_FX_SOURCE must be one of {', '.join(SOURCES)}")
    if config["FX_SOURCE"] == "http" and not config["FX_URL"]:
        raise ValueError("KESSAI_FX_SOURCE=http needs KESSAI_FX_URL")
    if config["FX_MAX_AGE_SECONDS"] <= 0 or config["FX_CACHE_SECONDS"] < 0:
        raise ValueError("KESSAI_FX_MAX_AGE_HOURS must be positive, KESSAI_FX_CACHE_SECONDS ≥ 0")
    if not MIN_LOCK_MINUTES <= config["FX_LOCK_MINUTES"] <= MAX_LOCK_MINUTES:
        raise ValueError("KESSAI_FX_LOCK_MINUTES must be between 1 and 1440")


@dataclass(frozen=True)
class MerchantFx:
    markup_bps: int
    lock_seconds: int
    presentment_currencies: tuple[str, ...] | None  # None: the market default


def merchant_fx(merchant: Merchant, default_lock_minutes: int = 15) -> MerchantFx:
    """A merchant's FX settings; a bad value is logged and replaced by the default (a typo in
    settings must not take the checkout down)."""
    raw = (merchant.settings or {}).get("fx") or {}
    if not isinstance(raw, dict):
        log.warning("merchant %s: settings.fx is not an object; using defaults", merchant.id)
        raw = {}
    markup = raw.get("markup_bps", 0)
    if not _is_int(markup) or not 0 <= markup <= MAX_MARKUP_BPS:
        log.warning("merchant %s: markup_bps %r out of range; using 0", merchant.id, markup)
        markup = 0
    lock = raw.get("lock_minutes", default_lock_minutes)
    if not _is_int(lock) or not MIN_LOCK_MINUTES <= lock <= MAX_LOCK_MINUTES:
        log.warning("merchant %s: lock_minutes %r out of range; using %s", merchant.id, lock,
                    default_lock_minutes)
        lock = default_lock_minutes
    listed = raw.get("presentment_currencies")
    currencies: tuple[str, ...] | None = None
    if isinstance(listed, list) and all(isinstance(c, str) and c in CURRENCIES for c in listed):
        currencies = tuple(dict.fromkeys(listed))
    elif listed is not None:
        log.warning("merchant %s: presentment_currencies %r ignored", merchant.id, listed)
    return MerchantFx(int(markup), int(lock) * 60, currencies)


def default_presentment_currencies(merchant: Merchant, currency: str) -> list[str]:
    """What a session converts to when the merchant's request does not say: the merchant's
    setting, else Kessai's markets (JPY, KRW) for a merchant pricing in any other currency."""
    configured = merchant_fx(merchant).presentment_currencies
    if configured is not None:
        listed = list(configured)
    elif currency in MARKET_CURRENCIES:
        listed = []  # a yen or won price is already local: convert only when asked
    else:
        listed = list(MARKET_CURRENCIES)
    return [c for c in listed if c != currency]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
