"""The documented conversion formula (docs/fx.md), checked by property-based tests.

The reference implementation below is written from the documentation with ``Fraction`` and
``math.floor`` (not by calling the code under test's helpers), for every pair of supported
currencies, any amount a session may hold, any mark-up a merchant may set and any rate a
source may publish.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from checkout.fx.conversion import (
    ConversionError,
    convert_minor,
    cross_rate,
    exact,
    parse_ratio,
    ratio_text,
    round_to_places,
    with_markup,
)
from checkout.fx.settings import MAX_MARKUP_BPS
from checkout.money import CURRENCIES

CODES = sorted(CURRENCIES)

# What sources publish: positive decimals with at most 20 significant digits (ECB: 4–6).
published_rates = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("100000"),
                              allow_nan=False, allow_infinity=False, places=6)


def documented(base_minor: int, base: str, presentment: str, per_eur: dict[str, Decimal],
               markup_bps: int) -> int:
    """docs/fx.md, literally: round_half_up(base_minor × (r_p / r_b) × (10000 + m) / 10000
    × 10^(e_p − e_b))."""
    r_b = Fraction(1) if base == "EUR" else Fraction(per_eur[base])
    r_p = Fraction(1) if presentment == "EUR" else Fraction(per_eur[presentment])
    value = (Fraction(base_minor) * (r_p / r_b) * Fraction(10_000 + markup_bps, 10_000)
             * Fraction(10) ** (CURRENCIES[presentment].exponent - CURRENCIES[base].exponent))
    return math.floor(value + Fraction(1, 2))


@given(
    base=st.sampled_from(CODES),
    presentment=st.sampled_from(CODES),
    base_minor=st.integers(min_value=0, max_value=9_999_999_999),
    markup_bps=st.integers(min_value=0, max_value=MAX_MARKUP_BPS),
    rates=st.fixed_dictionaries({code: published_rates for code in CODES if code != "EUR"}),
)
@example(base="CNY", presentment="JPY", base_minor=128000, markup_bps=150,
         rates={**{c: Decimal(1) for c in CODES if c != "EUR"},
                "CNY": Decimal("7.4326"), "JPY": Decimal("175.68")})
def test_presentment_amount_is_the_documented_formula(base: str, presentment: str,
                                                      base_minor: int, markup_bps: int,
                                                      rates: dict[str, Decimal]) -> None:
    rate = cross_rate(rates, "EUR", base, presentment)
    amount = convert_minor(base_minor, rate, markup_bps, CURRENCIES[base].exponent,
                           CURRENCIES[presentment].exponent)
    assert type(amount) is int
    assert amount == documented(base_minor, base, presentment, rates, markup_bps)


@given(base_minor=st.integers(min_value=0, max_value=10**12),
       numerator=st.integers(min_value=1, max_value=10**9),
       denominator=st.integers(min_value=1, max_value=10**9),
       shift=st.integers(min_value=-2, max_value=2))
def test_rounding_is_half_up_to_one_minor_unit(base_minor: int, numerator: int, denominator: int,
                                               shift: int) -> None:
    rate = Fraction(numerator, denominator)
    amount = convert_minor(base_minor, rate, 0, 2, 2 + shift)
    exact_value = base_minor * rate * Fraction(10) ** shift
    assert abs(Fraction(amount) - exact_value) <= Fraction(1, 2)
    if exact_value - math.floor(exact_value) == Fraction(1, 2):
        assert amount == math.floor(exact_value) + 1  # a half goes up (四捨五入)


@pytest.mark.parametrize(("base_minor", "expected"), [(1, 1), (3, 2), (5, 3), (7, 4)])
def test_exact_halves_go_up(base_minor: int, expected: int) -> None:
    # 1 unit at a rate of 1/2 is exactly 0.5 → 1; 1.5 → 2; 2.5 → 3 (not banker's 2); 3.5 → 4.
    assert convert_minor(base_minor, Fraction(1, 2), 0, 0, 0) == expected


def test_a_worked_example_from_the_docs() -> None:
    # docs/fx.md: CN¥1,280.00 at the ECB's 30 Oct 2026 rates (CNY 7.4326, JPY 175.68 per EUR)
    # with a 1.50% mark-up.
    rate = cross_rate({"CNY": Decimal("7.4326"), "JPY": Decimal("175.68")}, "EUR", "CNY", "JPY")
    assert rate == Fraction(1756800, 74326)
    assert convert_minor(128000, rate, 150, 2, 0) == 30708
    assert convert_minor(128000, rate, 0, 2, 0) == 30255


@given(rate=st.fractions(min_value=Fraction(1, 10**6), max_value=10**6).filter(lambda f: f > 0))
def test_stored_rates_round_trip_exactly(rate: Fraction) -> None:
    assert parse_ratio(ratio_text(rate)) == rate


@given(rate=st.fractions(min_value=0, max_value=10**6), places=st.integers(0, 10))
def test_display_rounding_is_within_half_a_unit(rate: Fraction, places: int) -> None:
    shown = round_to_places(rate, places)
    assert isinstance(shown, Decimal)
    assert abs(Fraction(shown) - rate) <= Fraction(1, 2 * 10**places)


def test_markup_is_applied_in_basis_points() -> None:
    assert with_markup(Fraction(100), 150) == Fraction(10150, 100)
    assert with_markup(Fraction(7, 3), 0) == Fraction(7, 3)


@pytest.mark.parametrize("bad", [0.1, float("nan"), True])
def test_floats_are_refused(bad: object) -> None:
    with pytest.raises((ConversionError, TypeError)):
        exact(bad)  # type: ignore[arg-type]


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ConversionError):
        convert_minor(-1, Fraction(1), 0, 0, 0)
    with pytest.raises(ConversionError):
        convert_minor(100, Fraction(0), 0, 0, 0)
    with pytest.raises(ConversionError):
        cross_rate({"JPY": Decimal("0")}, "EUR", "EUR", "JPY")
    with pytest.raises(ConversionError):
        cross_rate({}, "EUR", "EUR", "TWD")
    with pytest.raises(ConversionError):
        exact("Infinity")


@given(base_minor=st.integers(min_value=1, max_value=10**9), markup=st.integers(0, MAX_MARKUP_BPS))
def test_mark_up_never_lowers_the_amount(base_minor: int, markup: int) -> None:
    rate = Fraction(175_68, 7_4326)
    assume(markup > 0)
    assert convert_minor(base_minor, rate, markup, 2, 0) >= convert_minor(base_minor, rate, 0, 2, 0)
