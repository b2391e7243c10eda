"""Money: integer minor units in, Babel-formatted strings out.

Amounts are never floats. Formatting goes through Babel with the request locale, after we
turn minor units into a ``Decimal`` ourselves (Babel rounds half-to-even; we never let it round).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, get_currency_precision


@dataclass(frozen=True)
class CurrencyRule:
    code: str
    exponent: int  # ISO 4217 minor units
    minimum: int  # smallest chargeable amount, in minor units
    maximum: int  # largest amount a single session may ask for, in minor units


# The currencies a merchant may price in. Limits are per checkout session.
CURRENCIES: dict[str, CurrencyRule] = {
    rule.code: rule
    for rule in (
        CurrencyRule("JPY", 0, 50, 99_999_999),
        CurrencyRule("KRW", 0, 100, 999_999_999),
        CurrencyRule("CNY", 2, 100, 99_999_999),
        CurrencyRule("USD", 2, 50, 99_999_999),
        CurrencyRule("EUR", 2, 50, 99_999_999),
        CurrencyRule("HKD", 2, 400, 99_999_999),
        CurrencyRule("TWD", 2, 1_500, 9_999_999_999),
        CurrencyRule("SGD", 2, 50, 99_999_999),
        CurrencyRule("GBP", 2, 30, 99_999_999),
    )
}


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Minor units → an exact Decimal in major units (``12800 JPY`` → ``12800``;
    ``1999 USD`` → ``19.99``)."""
    if type(amount_minor) is not int:
        # A float (or a bool, a string, a Decimal with a fraction) here means an amount was
        # computed the wrong way somewhere: refuse it rather than format something close.
        raise TypeError(f"amounts are integers in minor units, not {type(amount_minor).__name__}")
    exponent = CURRENCIES[currency].exponent if currency in CURRENCIES else (
        get_currency_precision(currency)
    )
    return Decimal(amount_minor).scaleb(-exponent)


def format_money(amount_minor: int, currency: str, locale: str | Locale) -> str:
    """Format for a shopper's locale: ja → ￥12,800, en → ¥12,800, ko → ₩50,000.

    Babel picks the currency's own digits (JPY 0, USD 2) from CLDR; the Decimal is exact, so
    nothing is rounded on the way. A ``Locale`` object (the request's) is 3× cheaper than a
    code, which Babel parses into a new object with fresh CLDR lookups on every call.
    """
    if type(amount_minor) is not int:  # checked before the memo: 12800.0 == 12800 as a key
        to_major(amount_minor, currency)  # raises TypeError
    return _formatted(amount_minor, currency, locale)


# A pure function of its arguments (CLDR data ships with Babel), called five times per pay
# page with the same few amounts: Babel's pattern work was ~8 % of the page's CPU.
@lru_cache(maxsize=4096)
def _formatted(amount_minor: int, currency: str, locale: str | Locale) -> str:
    return format_currency(to_major(amount_minor, currency), currency, locale=locale)
