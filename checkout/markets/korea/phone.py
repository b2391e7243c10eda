"""Korean phone numbers: typed any way (full-width digits, spaces, +82), stored and shown as
010-1234-5678."""

from __future__ import annotations

import re
import unicodedata

_MOBILE = re.compile(r"01[016789]\d{7,8}")


def digits(value: str) -> str:
    text = unicodedata.normalize("NFKC", value or "")
    text = re.sub(r"[\s\-().]", "", text)
    if text.startswith("+82"):
        text = "0" + text[3:].lstrip("0")
    return text


def normalize_mobile(value: str) -> str | None:
    """A mobile number as ``010-1234-5678``, or None when it is not one (010 has 11 digits;
    the old 011/016–019 numbers 10 or 11)."""
    number = digits(value)
    if not _MOBILE.fullmatch(number) or (number.startswith("010") and len(number) != 11):
        return None
    return format_phone(number)


def format_phone(number: str) -> str:
    """Hyphens where Koreans write them: 010-1234-5678, 011-123-4567, 02-123-4567."""
    if number.startswith("02"):
        head, rest = number[:2], number[2:]
    else:
        head, rest = number[:3], number[3:]
    middle = len(rest) - 4
    if middle <= 0:
        return number
    return f"{head}-{rest[:middle]}-{rest[middle:]}"
