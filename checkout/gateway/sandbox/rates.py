"""The sandbox gateway's exchange rates: intraday rates near the ECB reference, labelled
"sandbox" so nobody mistakes them for a market.

Each minute every rate sits a little off the latest ECB reference (at most ±0.30%), moving in
a deterministic pattern: two consecutive minutes always differ, so a test that moves its clock
by a minute sees the rate move, and the same minute always gives the same rates.
"""

from __future__ import annotations

from ..base import RateTable

SANDBOX_SOURCE = "sandbox"
POSITIONS = 601  # offsets -300 … +300, in units of 1/100000 (±0.30%)
# Each currency walks at its own pace (601 is prime, so every step visits every offset), so
# cross rates move too: CNY→JPY by about 0.17% a minute.
STEPS = {"JPY": 37, "KRW": 113, "CNY": 211, "USD": 307, "HKD": 401, "SGD": 89, "GBP": 163}
DEFAULT_STEP = 59


def offset_for(currency: str, minute: int) -> int:
    """Offset of ``currency``'s rate in ``minute`` from the reference, in 1/100000."""
    seed = sum(ord(c) * 7**i for i, c in enumerate(currency))
    step = STEPS.get(currency, DEFAULT_STEP)
    return ((minute + seed) * step) % POSITIONS - POSITIONS // 2


def sandbox_rate_table(moment: int, reference: RateTable | None = None) -> RateTable:
    """The sandbox's rates for the minute containing ``moment`` (unix seconds)."""
    if reference is None:
        reference = _cached_reference()
    minute = moment // 60
    rates = {
        code: (rate * (100_000 + offset_for(code, minute))).scaleb(-5)
        for code, rate in reference.rates.items()
    }
    return RateTable(base=reference.base, rates=rates, as_of=minute * 60, source=SANDBOX_SOURCE)


_REFERENCE: list[RateTable] = []


def _cached_reference() -> RateTable:
    # The bundled ECB file never changes while the process runs: read it once.
    if not _REFERENCE:
        from ...fx.ecb import load_ecb_table

        _REFERENCE.append(load_ecb_table())
    return _REFERENCE[0]
