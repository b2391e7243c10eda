"""Japan's page states in the designer preview (``kessai preview``), one call each."""

from __future__ import annotations

from typing import Any

from ...cards import BRAND_LABELS
from ...gateway.sandbox.japan import konbini_numbers
from ...ids import now
from ...models import Voucher
from ...preview import PREVIEW_MERCHANT_SETTINGS, Fixtures, pay_page, preview_state
from ...vouchers import slip_view
from .konbini import CHAINS, deadline

PREVIEW_LEGAL = {
    "seller": "株式会社さくら茶舗", "representative": "山田 太郎",
    "address": "東京都千代田区千代田1-1", "phone": "03-1234-5678", "email": "shop@example.jp",
    "prices": {"ja": "各商品ページに記載（税込）", "en": "As shown on each product page (tax included)"},  # noqa: E501
    "fees": "送料全国一律 ¥600", "payment_methods": "クレジットカード、コンビニ払い、ペイジー、銀行振込",  # noqa: E501
    "payment_timing": "ご注文時", "delivery": "ご入金確認後3営業日以内に発送",
    "returns": "未開封品に限り到着後7日以内",
}


# A Japanese merchant with its 特商法 disclosure and digital goods: every Japanese method.
PREVIEW_MERCHANT_SETTINGS["japan"] = {"legal": PREVIEW_LEGAL, "digital_goods": True}


def _checkout(fx: Fixtures, **overrides: Any) -> Any:
    return fx.checkout(merchant=fx.merchant(), **overrides)


def _slip(fx: Fixtures, kind: str, fields: dict[str, str], status: str = "pending",
          method: str = "konbini") -> dict[str, Any]:
    checkout = _checkout(fx, status="complete", payment_status=(
        "paid" if status == "succeeded" else "unpaid"), completed_at=now())
    payment = fx.payment(checkout, method=method, status=status, card_brand=None, card_last4=None)
    voucher = Voucher(id="slip_preview", payment_id=payment.id, session_id=checkout.id, kind=kind,
                      data={"kind": kind, "fields": fields,
                            "product_description": "抹茶ラテ ギフトセット"},
                      expires_at=deadline(now(), 3), created=now())
    voucher.payment = payment
    voucher.session = checkout
    view = slip_view(voucher)
    return {"checkout": checkout, "slip": view, "fragment": False, "notice": None,
            "simulate": not view.final, "poll_seconds": 5, "receipt_layout": False}


def _konbini_fields(store: str) -> dict[str, str]:
    return {"store": store, **konbini_numbers(store, "gwpay_preview", "09012345678")}


@preview_state("jp_konbini_form", "Konbini: choose a store", "pay.html", group="Japan",
               currency="JPY")
def _konbini_form(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, _checkout(fx), method="konbini")


@preview_state("jp_konbini_errors", "Konbini: form errors", "pay.html", group="Japan",
               currency="JPY")
def _konbini_errors(fx: Fixtures) -> dict[str, Any]:
    from ...markets.japan.forms import parse_contact

    errors: dict[str, str] = {"konbini_store": ""}
    parse_contact({"family_name": "山田", "given_name_kana": "hanako", "phone": "12345"}, errors)
    from flask_babel import gettext as _

    errors["konbini_store"] = _("Please choose the store where you will pay.")
    return pay_page(fx, _checkout(fx), method="konbini", field_errors=errors,
                    values={"family_name": "山田", "given_name_kana": "hanako", "phone": "12345"})


@preview_state("jp_address_form", "Japanese address (address_collection)", "pay.html",
               group="Japan", currency="JPY")
def _address_form(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, _checkout(fx, address_collection="shipping"), method="konbini",
                    values={"postal_code": "150-0002", "prefecture": "東京都", "city": "渋谷区",
                            "address_line1": "渋谷"})


@preview_state("jp_card_instalments", "Card with 分割払い (large amount)", "pay.html",
               group="Japan", currency="JPY")
def _card_instalments(fx: Fixtures) -> dict[str, Any]:
    checkout = _checkout(fx, amount=128000, line_items=[
        {"name": "南部鉄器 急須", "quantity": 1, "unit_amount": 128000}])
    return pay_page(fx, checkout, method="card", values={"instalments": "split_12"})


@preview_state("jp_complete_instalments", "Result: paid in 12 instalments", "complete.html",
               group="Japan", currency="JPY")
def _complete_instalments(fx: Fixtures) -> dict[str, Any]:
    checkout = _checkout(fx, status="complete", payment_status="paid", completed_at=now())
    payment = fx.payment(checkout, status="succeeded", card_brand="jcb", card_last4="0000",
                         details={"instalments": {"plan": "split", "count": 12}})
    return {"checkout": checkout, "payment": payment, "brands": BRAND_LABELS,
            "return_url": "https://shop.example/thanks"}


def _register_chain(store: str) -> None:
    @preview_state(f"jp_slip_{store}", f"Konbini slip: {store}", "slip.html", group="Japan",
                   currency="JPY")
    def _chain(fx: Fixtures) -> dict[str, Any]:
        return _slip(fx, "konbini", _konbini_fields(store))


for _store in CHAINS:
    _register_chain(_store)


@preview_state("jp_slip_paid", "Konbini slip: paid", "slip.html", group="Japan", currency="JPY")
def _slip_paid(fx: Fixtures) -> dict[str, Any]:
    return _slip(fx, "konbini", _konbini_fields("lawson"), status="succeeded")


@preview_state("jp_slip_expired", "Konbini slip: expired", "slip.html", group="Japan",
               currency="JPY")
def _slip_expired(fx: Fixtures) -> dict[str, Any]:
    return _slip(fx, "konbini", _konbini_fields("seven_eleven"), status="expired")


@preview_state("jp_slip_pay_easy", "Pay-easy slip", "slip.html", group="Japan", currency="JPY")
def _slip_pay_easy(fx: Fixtures) -> dict[str, Any]:
    return _slip(fx, "pay_easy", {"institution_number": "58091",
                                  "customer_number": "1234567890123456",
                                  "confirmation_number": "123456"}, method="pay_easy")


@preview_state("jp_slip_bank_transfer", "Bank transfer slip", "slip.html", group="Japan",
               currency="JPY")
def _slip_bank(fx: Fixtures) -> dict[str, Any]:
    return _slip(fx, "bank_transfer_jp", {
        "bank_name": "ケッサイ銀行 (0999)", "branch_name": "サンドボックス支店 (101)",
        "account_type": "普通", "account_number": "1234567", "account_holder": "ケツサイ（カ"},
        method="bank_transfer_jp")


@preview_state("jp_legal", "特定商取引法に基づく表記", "legal_disclosure.html", group="Japan",
               currency="JPY")
def _legal(fx: Fixtures) -> dict[str, Any]:
    from .legal import disclosure_rows

    checkout = _checkout(fx)
    return {"checkout": checkout, "rows": disclosure_rows(checkout.merchant)}
