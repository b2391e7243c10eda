"""Japanese form input: what shoppers type, normalized the way Japanese forms expect.

* フリガナ: hiragana and half-width katakana become full-width katakana (ｶﾀｶﾅ → カタカナ).
* Digits: full-width digits become ASCII (NFKC), and NFKC turns the ideographic space into an
  ASCII one, so spaces and hyphens are allowed and dropped afterwards (``phones.digits``).
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

from ...emails import looks_like_email
from ...phones import digits

KANA_PATTERN = re.compile(r"^[ァ-ヶー　 ]+$")
PHONE_PATTERN = re.compile(r"^0\d{9,10}$")
POSTAL_PATTERN = re.compile(r"^\d{3}-?\d{4}$")


def to_katakana(text: str) -> str:
    """ひらがな / ﾊﾝｶｸ → 全角カタカナ; spaces collapsed to one full-width space."""
    value = jaconv.h2z(text or "", kana=True, ascii=False, digit=False)
    value = jaconv.hira2kata(value)
    value = value.replace("-", "ー").replace("－", "ー").replace("―", "ー")
    return "　".join(value.replace("　", " ").split())


def is_katakana(text: str) -> bool:
    return bool(KANA_PATTERN.fullmatch(text or ""))




def normalize_phone(text: str) -> str | None:
    """A Japanese phone number: 10–11 digits starting with 0, or None."""
    value = digits(text)
    if value.startswith("+81"):
        value = "0" + value[3:]
    return value if PHONE_PATTERN.fullmatch(value) else None


def normalize_postal_code(text: str) -> str | None:
    """``１００－０００１`` / ``1000001`` / ``〒100-0001`` → ``100-0001``, or None."""
    value = digits((text or "").replace("〒", ""))
    if not re.fullmatch(r"\d{7}", value):
        return None
    return f"{value[:3]}-{value[3:]}"


def normalize_email(text: str) -> str | None:
    value = unicodedata.normalize("NFKC", text or "").strip()
    return value if looks_like_email(value) and len(value) <= 200 else None


def clean_name(text: str) -> str:
    """Names keep their script; only spaces are tidied (NFKC would turn ｶ into カ, fine, but
    also full-width letters into ASCII, which a name on a slip should keep as typed)."""
    return " ".join((text or "").replace("　", " ").split())


def truncate_chars(text: str, limit: int) -> str:
    """At most ``limit`` characters (konbini screens count characters, not bytes)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
