"""Card checks done on the server: Luhn, brand, lengths, expiry, security code, name."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checkout.cards import detect_brand, digits_only, luhn_ok, parse_expiry, validate_card

TODAY = date(2026, 11, 25)


def luhn_complete(prefix: str, length: int) -> str:
    """``prefix`` padded with zeros to ``length - 1`` digits, plus the Luhn check digit."""
    body = prefix.ljust(length - 1, "0")
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


def validate(number: str, expiry: str = "12/34", cvc: str = "123",
             name: str = "Hanako Yamada") -> tuple[object, dict[str, str]]:
    return validate_card(number, expiry, cvc, name, today=TODAY)


@pytest.mark.parametrize(("number", "ok"), [
    ("4242424242424242", True), ("5555555555554444", True), ("3530111333300000", True),
    ("378282246310005", True), ("4000002760003184", True), ("4242424242424241", False),
    ("1234567812345678", False), ("", False), ("4242 4242 4242 4242", False), ("abc", False),
])
def test_luhn(number: str, ok: bool) -> None:
    assert luhn_ok(number) is ok


@pytest.mark.parametrize(("number", "brand"), [
    ("4242424242424242", "visa"),
    ("5105105105105100", "mastercard"),
    ("5555555555554444", "mastercard"),
    (luhn_complete("2221", 16), "mastercard"),
    (luhn_complete("2720", 16), "mastercard"),
    (luhn_complete("2500", 16), "mastercard"),
    ("3530111333300000", "jcb"),
    (luhn_complete("3528", 16), "jcb"),
    (luhn_complete("3589", 16), "jcb"),
    ("378282246310005", "amex"),
    ("371449635398431", "amex"),
    (luhn_complete("34", 15), "amex"),
    ("30569309025904", "diners"),
    ("36227206271667", "diners"),
    (luhn_complete("3095", 14), "diners"),
    (luhn_complete("38", 16), "diners"),
])
def test_brands(number: str, brand: str) -> None:
    assert detect_brand(number) == brand
    card, errors = validate(number, cvc="1234" if brand == "amex" else "123")
    assert errors == {} and card is not None and card.brand == brand


@pytest.mark.parametrize("prefix", ["2220", "2721", "2800", "3527", "3590", "5000", "5600",
                                    "6011", "62", "1", "9"])
def test_numbers_outside_every_range_have_no_brand(prefix: str) -> None:
    number = luhn_complete(prefix, 16)
    assert detect_brand(number) is None
    assert validate(number)[1] == {"number": "unsupported_brand"}


@pytest.mark.parametrize(("number", "code"), [
    ("4242424242424241", "invalid_number"),  # Luhn
    ("42424242424", "invalid_number"),  # too short
    ("4" + "2" * 19, "invalid_number"),  # too long
    (luhn_complete("4", 15), "invalid_number"),  # Visa has 13, 16 or 19 digits
    (luhn_complete("34", 16), "invalid_number"),  # Amex has 15
    (luhn_complete("51", 15), "invalid_number"),  # Mastercard has 16
    ("4242-4242-4242-424x", "invalid_number"),
    ("", "required"),
    ("   ", "required"),
])
def test_bad_numbers(number: str, code: str) -> None:
    card, errors = validate(number)
    assert card is None and errors["number"] == code


@pytest.mark.parametrize("typed", [
    "4242 4242 4242 4242", "4242-4242-4242-4242", "４２４２４２４２４２４２４２４２",
    "４２４２　４２４２　４２４２　４２４２", " 4242424242424242 ",
])
def test_numbers_are_normalised(typed: str) -> None:
    card, errors = validate(typed)
    assert errors == {}
    assert card is not None and card.number == "4242424242424242"


@pytest.mark.parametrize(("typed", "parsed"), [
    ("12/34", (12, 2034)), ("1/34", (1, 2034)), ("12 / 34", (12, 2034)), ("1234", (12, 2034)),
    ("12/2034", (12, 2034)), ("12-34", (12, 2034)), ("１２／３４", (12, 2034)),
    ("１２/３４", (12, 2034)),
    ("13/34", None), ("00/34", None), ("12/3", None), ("ab/cd", None), ("", None),
])
def test_parse_expiry(typed: str, parsed: tuple[int, int] | None) -> None:
    assert parse_expiry(typed) == parsed


@pytest.mark.parametrize(("expiry", "code"), [
    ("10/26", "expired_card"), ("11/25", "expired_card"), ("13/30", "invalid_expiry"),
    ("12/99", "invalid_expiry"), ("", "required"), ("soon", "invalid_expiry"),
])
def test_bad_expiry(expiry: str, code: str) -> None:
    assert validate("4242424242424242", expiry=expiry)[1] == {"expiry": code}


@pytest.mark.parametrize("expiry", ["11/26", "12/26", "11/46"])
def test_expiry_this_month_and_up_to_twenty_years_is_fine(expiry: str) -> None:
    assert validate("4242424242424242", expiry=expiry)[1] == {}


@pytest.mark.parametrize(("number", "cvc", "ok"), [
    ("4242424242424242", "123", True), ("4242424242424242", "1234", False),
    ("4242424242424242", "12", False), ("378282246310005", "1234", True),
    ("378282246310005", "123", False), ("4242424242424242", "１２３", True),
    ("4242424242424242", "12a", False), ("4242424242424242", "", False),
])
def test_security_code_length_follows_the_brand(number: str, cvc: str, ok: bool) -> None:
    errors = validate(number, cvc=cvc)[1]
    assert ("cvc" not in errors) is ok


def test_name_is_required_and_trimmed() -> None:
    card, errors = validate("4242424242424242", name="  Hanako   Yamada ")
    assert errors == {} and card is not None and card.name == "Hanako Yamada"
    assert validate("4242424242424242", name="  ")[1] == {"name": "required"}
    assert validate("4242424242424242", name="x" * 101)[1] == {"name": "too_long"}
    assert validate("4242424242424242", name="山田 花子")[1] == {}


def test_every_field_reports_its_own_error() -> None:
    card, errors = validate_card("4242", "99/99", "1", "", today=TODAY)
    assert card is None
    assert set(errors) == {"number", "expiry", "cvc", "name"}


def test_a_card_never_shows_its_number_in_repr() -> None:
    card, _errors = validate("4242424242424242")
    assert card is not None
    assert "4242424242424242" not in repr(card) and "4242424242424242" not in str(card)
    assert card.last4 == "4242"
    from checkout.gateway import CardDetails

    details = CardDetails(card.number, card.exp_month, card.exp_year, card.cvc, card.name)
    assert "4242424242424242" not in repr(details) and "123" not in repr(details)


def test_digits_only() -> None:
    assert digits_only("４２ 4-2\u3000") == "4242"
    assert digits_only("") == ""


@given(st.text(alphabet="0123456789", min_size=15, max_size=18))
def test_every_luhn_valid_visa_of_sixteen_digits_is_accepted(digits: str) -> None:
    number = luhn_complete("4" + digits[:14], 16)
    card, errors = validate(number)
    assert errors == {} and card is not None and card.brand == "visa"


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_a_single_changed_digit_breaks_luhn(digits: str) -> None:
    number = luhn_complete("4" + digits[:14], 16)
    position = int(digits[15]) % 16
    changed = number[:position] + str((int(number[position]) + 1) % 10) + number[position + 1:]
    assert not luhn_ok(changed)
