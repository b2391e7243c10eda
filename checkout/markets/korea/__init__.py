"""Korea: easy pay (Kakao Pay, Naver Pay, Toss Pay, Samsung Pay, PAYCO), card companies and
할부, 계좌이체, 가상계좌, 휴대폰 결제, the 전체 동의 consent block, SMS receipts and 현금영수증.

Importing this package registers every piece with the shared registries (catalog, form
parsers, voucher kinds, flows, success listeners); ``BLUEPRINTS`` are its own pages.
"""

from __future__ import annotations

from ... import notify
from . import (
    cards,
    carrier,
    cash_receipt,
    consent,
    methods,
    preview_states,
    receipts,
    views,
    virtual_account,
)

BLUEPRINTS = (views.bp, notify.bp)

__all__ = ["BLUEPRINTS", "cards", "carrier", "cash_receipt", "consent", "methods",
           "preview_states", "receipts", "views", "virtual_account"]
