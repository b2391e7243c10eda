"""Korea's pages and template helpers: the consent texts (보기) and what the forms need."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect

from ...pages import render_page
from ...pay import load_checkout
from . import cards, carrier, cash_receipt, consent, virtual_account

bp = Blueprint("korea", __name__)


@bp.get("/pay/<session_id>/terms/<item_id>")
def consent_text(session_id: str, item_id: str) -> Any:
    """What a 보기 link opens without JavaScript (korea.js shows the same text in a dialog),
    or the merchant's own page when the merchant gave one."""
    checkout = load_checkout(session_id)
    item = consent.find_item(checkout, item_id)
    if item is None:
        abort(404)
    if item.url:
        return redirect(item.url, code=303)
    return render_page("kr_terms.html", checkout=checkout, item=item)


@bp.app_template_global()
def kr_consent_items(checkout: Any) -> list[consent.ConsentItem]:
    return consent.consent_items(checkout)


@bp.app_template_global()
def kr_consent_applies(checkout: Any) -> bool:
    return consent.applies(checkout)


@bp.app_template_global()
def kr_card_options(checkout: Any) -> cards.CardOptions:
    return cards.card_options(checkout)


@bp.app_template_global()
def kr_card_companies() -> dict[str, Any]:
    return cards.CARD_COMPANIES


@bp.app_template_global()
def kr_describe_months(months: list[int]) -> str:
    return cards.describe_months(months)


@bp.app_template_global()
def kr_card_plan(details: Any) -> str | None:
    return cards.describe_plan(details or {})


@bp.app_template_global()
def kr_carriers() -> dict[str, Any]:
    return carrier.CARRIERS


@bp.app_template_global()
def kr_deposit_banks() -> dict[str, Any]:
    return virtual_account.DEPOSIT_BANKS


@bp.app_template_global()
def kr_cash_receipt_types() -> dict[str, Any]:
    return cash_receipt.TYPES


@bp.app_template_global()
def kr_cash_receipt(payment: Any) -> cash_receipt.CashReceiptView | None:
    return cash_receipt.cash_receipt_view(payment)
