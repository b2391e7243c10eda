"""Card number checks done on the server (the browser only helps): Luhn, brand, expiry.

The card number passes through to the gateway and is never stored or logged; only the brand
and the last four digits are kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# (brand, number prefix pattern, allowed lengths, security-code length)
_BRANDS: tuple[tuple[str, re.Pattern[str], tuple[int, ...], int], ...] = (
    ("amex", re.compile(r"^3[47]"), (15,), 4),
    ("jcb", re.compile(r"^35(2[89]|[3-8]\d)"), (16, 17, 18, 19), 3),
    ("diners", re.compile(r"^3(0[0-5]|095|6|[89])"), (14, 15, 16, 17, 18, 19), 3),
    # 51–55 and 2221–2720 (2220 is not Mastercard's).
    ("mastercard", re.compile(r"^(5[1-5]|2(22[1-9]|2[3-9]|[3-6]\d|7[01]|720))"), (16,), 3),
    ("visa", re.compile(r"^4"), (13, 16, 19), 3),
)

BRAND_LABELS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "jcb": "JCB",
    "amex": "American Express",
    "diners": "Diners Club",
}


def digits_only(value: str) -> str:
    """Full-width digits become ASCII (NFKC); spaces and dashes are dropped."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value or ""))


def luhn_ok(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def detect_brand(number: str) -> str | None:
    for brand, pattern, _lengths, _cvc in _BRANDS:
        if pattern.match(number):
            return brand
    return None


@dataclass(frozen=True)
class CardInput:
    number: str
    exp_month: int
    exp_year: int
    cvc: str
    name: str

    @property
    def brand(self) -> str | None:
        return detect_brand(self.number)

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def __repr__(self) -> str:  # never let a card number reach a log through repr()
        return f"CardInput(brand={self.brand!r}, last4={self.last4!r})"


def parse_expiry(value: str) -> tuple[int, int] | None:
    """``MM/YY``, ``MM / YY``, ``MMYY`` or ``MM/YYYY`` → (month, four-digit year)."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    match = re.fullmatch(r"(\d{1,2})\s*[/\-.]?\s*(\d{2}|\d{4})", text)
    if not match:
        return None
    month, year = int(match.group(1)), int(match.group(2))
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        return None
    return month, year


def validate_card(
    number: str, expiry: str, cvc: str, name: str, today: date | None = None
) -> tuple[CardInput | None, dict[str, str]]:
    """Return the card, or error *codes* per field (the page turns codes into localized text)."""
    errors: dict[str, str] = {}
    today = today or date.today()
    number = digits_only(number)
    cvc = digits_only(cvc)
    brand = detect_brand(number)
    if not number:
        errors["number"] = "required"
    elif not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_ok(number):
        errors["number"] = "invalid_number"
    elif brand is None:
        errors["number"] = "unsupported_brand"
    elif len(number) not in next(b[2] for b in _BRANDS if b[0] == brand):
        errors["number"] = "invalid_number"

    parsed = parse_expiry(expiry)
    if not (expiry or "").strip():
        errors["expiry"] = "required"
    elif parsed is None:
        errors["expiry"] = "invalid_expiry"
    elif (parsed[1], parsed[0]) < (today.year, today.month) or parsed[1] > today.year + 20:
        errors["expiry"] = "expired_card" if parsed[1] <= today.year + 20 else "invalid_expiry"

    expected_cvc = next((b[3] for b in _BRANDS if b[0] == brand), None)
    if not cvc:
        errors["cvc"] = "required"
    elif not cvc.isdigit() or len(cvc) not in ((expected_cvc,) if expected_cvc else (3, 4)):
        errors["cvc"] = "invalid_cvc"

    name = " ".join((name or "").split())
    if not name:
        errors["name"] = "required"
    elif len(name) > 100:
        errors["name"] = "too_long"

    if errors or parsed is None:
        return None, errors
    return CardInput(number, parsed[0], parsed[1], cvc, name), errors
