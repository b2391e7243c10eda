"""Money: integers in minor units in, Babel's formatting for the shopper's locale out."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from babel.numbers import get_currency_precision
from hypothesis import given
from hypothesis import strategies as st

from checkout.money import CURRENCIES, format_money, to_major

FULLWIDTH_YEN = "\uffe5"  # ￥, what Japanese shoppers expect
YEN = "\u00a5"  # ¥


@pytest.mark.parametrize(("amount", "currency", "locale", "expected"), [
    (12800, "JPY", "ja", f"{FULLWIDTH_YEN}12,800"),
    (12800, "JPY", "en", f"{YEN}12,800"),
    (12800, "JPY", "ko", "JP\u00a512,800"),
    (12800, "JPY", "zh_Hans", "JP\u00a512,800"),
    (1234567, "KRW", "ko", "\u20a91,234,567"),
    (50000, "KRW", "en", "\u20a950,000"),
    (12800, "CNY", "zh_Hans", f"{YEN}128.00"),
    (12800, "CNY", "en", f"CN{YEN}128.00"),
    (1999, "USD", "en", "$19.99"),
    (1999, "USD", "ko", "US$19.99"),
    (5, "USD", "en", "$0.05"),
    (100, "USD", "en", "$1.00"),
    (0, "JPY", "ja", f"{FULLWIDTH_YEN}0"),
])
def test_formats_like_a_native_checkout(amount: int, currency: str, locale: str,
                                        expected: str) -> None:
    assert format_money(amount, currency, locale) == expected


def test_japanese_yen_sign_is_the_full_width_one() -> None:
    formatted = format_money(12800, "JPY", "ja")
    assert formatted[0] == FULLWIDTH_YEN and YEN not in formatted
    assert format_money(12800, "JPY", "en")[0] == YEN


@pytest.mark.parametrize("currency", sorted(CURRENCIES))
def test_our_minor_units_agree_with_cldr(currency: str) -> None:
    """If ours said 2 where CLDR says 0, Babel would round the amount while formatting."""
    assert CURRENCIES[currency].exponent == get_currency_precision(currency)


def test_to_major_is_an_exact_decimal() -> None:
    assert to_major(12800, "JPY") == Decimal(12800)
    assert to_major(1999, "USD") == Decimal("19.99")
    assert isinstance(to_major(1999, "USD"), Decimal)
    cents = 2**53 + 1  # beyond what a float holds exactly
    assert to_major(cents, "USD") * 100 == cents


@pytest.mark.parametrize("amount", [12800.0, 19.99, True, "12800", Decimal("12800"), None])
def test_anything_but_an_integer_is_refused(amount: Any) -> None:
    with pytest.raises(TypeError):
        format_money(amount, "JPY", "ja")
    with pytest.raises(TypeError):
        to_major(amount, "JPY")


def test_limits_are_integers_in_minor_units() -> None:
    for rule in CURRENCIES.values():
        assert type(rule.minimum) is int and type(rule.maximum) is int
        assert 0 < rule.minimum < rule.maximum


@given(amount=st.integers(min_value=0, max_value=10**15),
       currency=st.sampled_from(sorted(CURRENCIES)),
       locale=st.sampled_from(["en", "ja", "ko", "zh_Hans"]))
def test_no_amount_is_ever_rounded(amount: int, currency: str, locale: str) -> None:
    formatted = format_money(amount, currency, locale)
    assert int(re.sub(r"\D", "", formatted)) == amount


def test_no_float_in_the_money_code() -> None:
    """No float literal and no float() call where amounts are computed."""
    import ast
    import inspect

    import checkout.fx.pricing as pricing_module
    import checkout.money as money_module

    for module in (money_module, pricing_module):
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), (
                f"{module.__name__}:{node.lineno} float literal")
            assert not (isinstance(node, ast.Name) and node.id == "float"), (
                f"{module.__name__}:{node.lineno} float()")
