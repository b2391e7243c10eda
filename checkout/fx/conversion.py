"""Exact currency conversion: integer minor units in, integer minor units out, never a float.

A rate is an exact ``Fraction``: *presentment major units per one base major unit* (``1 CNY =
21.38… JPY``). ECB-style tables give every currency per one unit of a common base (EUR), so a
cross rate is the quotient of two table entries, kept exact. The documented formula
(docs/fx.md)::

    presentment_minor = round_half_up(base_minor × rate × (10000 + markup_bps) / 10000
                                      × 10^(e_presentment − e_base))

where ``e`` is the ISO 4217 exponent (JPY 0, CNY 2). Everything is integer arithmetic on the
fraction's numerator and denominator, so there is no precision context to get wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

BPS = 10_000  # basis points in one whole


class ConversionError(ValueError):
    """A rate or amount that cannot be converted (missing, zero, negative, or a float)."""


def exact(value: Decimal | str | int | Fraction) -> Fraction:
    """An exact fraction from a decimal string, ``Decimal``, int or fraction. Floats are refused:
    ``0.1`` is not one tenth in binary, and a rate must be the number its source published."""
    if isinstance(value, float) or isinstance(value, bool):
        raise ConversionError("rates must be exact decimals, not floats")
    if isinstance(value, Fraction):
        result = value
    elif isinstance(value, int):
        result = Fraction(value)
    else:
        decimal = Decimal(value)
        if not decimal.is_finite():
            raise ConversionError(f"not a finite rate: {value!r}")
        result = Fraction(decimal)
    return result


def cross_rate(per_base: Mapping[str, Decimal], base: str, from_currency: str,
               to_currency: str) -> Fraction:
    """Units of ``to_currency`` per one unit of ``from_currency``, from a table that gives every
    currency per one unit of ``base`` (the table's base itself counts as 1)."""

    def leg(code: str) -> Fraction:
        if code == base:
            return Fraction(1)
        if code not in per_base:
            raise ConversionError(f"no rate for {code}")
        rate = exact(per_base[code])
        if rate <= 0:
            raise ConversionError(f"rate for {code} must be positive")
        return rate

    return leg(to_currency) / leg(from_currency)


def with_markup(rate: Fraction, markup_bps: int) -> Fraction:
    """The rate the shopper gets: the reference rate plus the merchant's mark-up."""
    return rate * (BPS + markup_bps) / BPS


def convert_minor(amount_minor: int, rate: Fraction, markup_bps: int, base_exponent: int,
                  presentment_exponent: int) -> int:
    """The documented formula, half-up (四捨五入 / 반올림) to a whole presentment minor unit."""
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor < 0:
        raise ConversionError("amounts are non-negative integers in minor units")
    if not isinstance(markup_bps, int) or markup_bps < 0:
        raise ConversionError("markup_bps is a non-negative integer")
    if rate <= 0:
        raise ConversionError("rates must be positive")
    numerator = amount_minor * rate.numerator * (BPS + markup_bps)
    denominator = rate.denominator * BPS
    shift = presentment_exponent - base_exponent
    if shift >= 0:
        numerator *= 10**shift
    else:
        denominator *= 10**-shift
    # floor(n/d + 1/2) for n, d ≥ 0: halves go up.
    return (2 * numerator + denominator) // (2 * denominator)


def round_to_places(value: Fraction, places: int) -> Decimal:
    """A fraction as a ``Decimal`` with ``places`` decimals, half-even (for showing a rate; the
    amount is never computed from this)."""
    scaled = value * 10**places
    whole, remainder = divmod(scaled.numerator, scaled.denominator)
    twice = 2 * remainder
    if twice > scaled.denominator or (twice == scaled.denominator and whole % 2 == 1):
        whole += 1
    return Decimal(whole).scaleb(-places)


def ratio_text(rate: Fraction) -> str:
    """How a rate is stored: ``"numerator/denominator"`` in lowest terms (exact)."""
    return f"{rate.numerator}/{rate.denominator}"


def parse_ratio(text: str) -> Fraction:
    numerator, _, denominator = text.partition("/")
    if not numerator.isdigit() or not (denominator or "1").isdigit():
        raise ConversionError(f"not a stored rate: {text!r}")
    return Fraction(int(numerator), int(denominator or "1"))
