"""Mobile numbers a shopper can be reached at by text: Korean 010 and Japanese 070 / 080 / 090,
typed any way (full-width digits, hyphens, spaces, +82 / +81). Kept in E.164 (``+821012345678``)
so the same phone is the same profile however it was typed, and shown as each country writes
it (010-1234-5678, 090-1234-5678).

The two countries' mobile prefixes do not overlap, so a national number says which it is."""

from __future__ import annotations

import re
import unicodedata

_KOREA = re.compile(r"010\d{8}")
_JAPAN = re.compile(r"0[789]0\d{8}")
# Hyphens and dashes of every width a Japanese IME may produce (ー, −, ‐ …) and spaces.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―ー−]")


def digits(text: str) -> str:
    """NFKC, then drop spaces and hyphens of any width (０９０－１２３４ → 0901234): what the
    Japanese forms (markets/japan/text.py) and "remember me" both accept."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))


def _national(text: str) -> str:
    number = re.sub(r"[().]", "", digits(text))
    for country_code in ("+82", "+81"):
        if number.startswith(country_code):
            return "0" + number[len(country_code):].lstrip("0")
    return number


def normalize_mobile(text: str) -> str | None:
    """``+821012345678`` / ``+819012345678``, or None when ``text`` is not a Korean or
    Japanese mobile number."""
    number = _national(text)
    if _KOREA.fullmatch(number):
        return "+82" + number[1:]
    if _JAPAN.fullmatch(number):
        return "+81" + number[1:]
    return None


def display_mobile(e164: str) -> str:
    """A stored number as its owner writes it: 010-1234-5678, 090-1234-5678."""
    national = "0" + e164[3:] if e164.startswith(("+82", "+81")) else e164
    if len(national) != 11:
        return national
    return f"{national[:3]}-{national[3:7]}-{national[7:]}"
