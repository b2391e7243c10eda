"""Korea's page states in the designer preview (``kessai preview``), one call each."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ...cards import BRAND_LABELS
from ...gateway.base import REQUIRES_ACTION, SUCCEEDED, GatewayPayment
from ...gateway.sandbox.wallets import method_name
from ...ids import now
from ...messages import decline_message
from ...models import Voucher
from ...preview import Fixtures, pay_page, preview_state
from ...vouchers import slip_view
from .virtual_account import KIND as VIRTUAL_ACCOUNT_KIND
from .virtual_account import deadline_after

PREVIEW_KOREA = {"interest_free": {"shinhan": [2, 3, 4, 5, 6], "kb": [2, 3], "hyundai": [2, 3]}}
AGREED = {"consent_all": "1", "consent_terms": "1", "consent_privacy_collection": "1",
          "consent_privacy_third_party": "1", "consent_electronic_finance": "1",
          "consent_marketing": "1"}
WALLET_URL = "https://gateway.example/sandbox/wallet/gwpay_preview"
CASH_RECEIPT = {"type": "income_deduction", "identifier": "01012345678",
                "approval_number": "138472905"}


def _checkout(fx: Fixtures, **overrides: Any) -> Any:
    return fx.checkout(merchant=fx.merchant(settings={"korea": PREVIEW_KOREA}), **overrides)


def _won(fx: Fixtures, amount: int, **overrides: Any) -> Any:
    return _checkout(fx, amount=amount, line_items=[
        {"name": "한방 스킨케어 세트", "quantity": 1, "unit_amount": amount}], **overrides)


@preview_state("kr_wallet_form", "Easy pay (카카오페이) with 전체 동의", "pay.html", group="Korea",
               currency="KRW")
def _wallet_form(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, _checkout(fx), method="kakao_pay")


@preview_state("kr_consent_refused", "전체 동의: required items missing (server)", "pay.html",
               group="Korea", currency="KRW")
def _consent_refused(fx: Fixtures) -> dict[str, Any]:
    from .consent import consent_items

    checkout = _checkout(fx)
    missing = ", ".join(str(i.title) for i in consent_items(checkout) if i.required)
    error = _("To pay, please agree to the required items: %(items)s.", items=missing)
    return pay_page(fx, checkout, method="kakao_pay", field_errors={"consent": error})


@preview_state("kr_wallet_cancelled", "Easy pay cancelled in the app", "pay.html", group="Korea",
               currency="KRW")
def _wallet_cancelled(fx: Fixtures) -> dict[str, Any]:
    checkout = _checkout(fx, attempt=2)
    failed = fx.payment(checkout, attempt=1, method="naver_pay", status="failed",
                        failure_code="payment_canceled", card_brand=None, card_last4=None)
    return pay_page(fx, checkout, method="naver_pay", decline=decline_message("payment_canceled"),
                    declined_payment=failed)


@preview_state("kr_wallet_qr", "Easy pay on a computer: QR, waiting", "wallet.html",
               group="Korea", currency="KRW")
def _wallet_qr(fx: Fixtures) -> dict[str, Any]:
    checkout = _checkout(fx)
    payment = fx.payment(checkout, method="kakao_pay", status=REQUIRES_ACTION, card_brand=None,
                         card_last4=None, next_action={"type": "qr", "url": WALLET_URL,
                                                       "qr_url": f"{WALLET_URL}?via=qr"})
    return {"checkout": checkout, "payment": payment, "method_name": method_name(payment),
            "qr_target": f"{WALLET_URL}?via=qr", "here_url": WALLET_URL}


def _gateway_payment(fx: Fixtures, status: str) -> GatewayPayment:
    return GatewayPayment(id="gwpay_preview", status=status, method="kakao_pay", amount=62000,
                          currency="KRW", details={"_description": "한방 스킨케어 세트"})


@preview_state("kr_wallet_approval", "Sandbox wallet: approve on the phone",
               "sandbox/wallet.html", group="Korea", currency="KRW")
def _wallet_approval(fx: Fixtures) -> dict[str, Any]:
    payment = _gateway_payment(fx, REQUIRES_ACTION)
    return {"payment": payment, "method_name": method_name(payment), "waiting": True, "via": ""}


@preview_state("kr_wallet_approved", "Sandbox wallet: approved from a QR", "sandbox/wallet.html",
               group="Korea", currency="KRW")
def _wallet_approved(fx: Fixtures) -> dict[str, Any]:
    payment = _gateway_payment(fx, SUCCEEDED)
    return {"payment": payment, "method_name": method_name(payment), "waiting": False,
            "via": "qr", "answered": True}


@preview_state("kr_card_instalments", "Card: company + 할부 with 무이자 (₩62,000)", "pay.html",
               group="Korea", currency="KRW")
def _card_instalments(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, _checkout(fx), method="card",
                    values={"card_company": "shinhan", "instalment_months": "3", **AGREED})


@preview_state("kr_card_single", "Card under ₩50,000: 일시불 only", "pay.html", group="Korea",
               currency="KRW")
def _card_single(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, _won(fx, 49000), method="card")


@preview_state("kr_card_errors", "Card: no card company chosen", "pay.html", group="Korea",
               currency="KRW")
def _card_errors(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, _checkout(fx), method="card", values=AGREED,
                    field_errors={"card_company": _("Please choose your card company.")})


@preview_state("kr_complete_instalments", "Result: 신한카드 3개월 무이자", "complete.html",
               group="Korea", currency="KRW")
def _complete_instalments(fx: Fixtures) -> dict[str, Any]:
    checkout = _checkout(fx, status="complete", payment_status="paid", completed_at=now())
    payment = fx.payment(checkout, status="succeeded", details={
        "card_company": "shinhan", "instalment_months": 3, "interest_free": True})
    return {"checkout": checkout, "payment": payment, "brands": BRAND_LABELS,
            "return_url": "https://shop.example/thanks"}


@preview_state("kr_bank_transfer", "계좌이체 form", "pay.html", group="Korea", currency="KRW")
def _bank_transfer(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, _checkout(fx), method="kr_bank_transfer")


@preview_state("kr_cash_receipt_errors", "계좌이체: 현금영수증 지출증빙 with a wrong number",
               "pay.html", group="Korea", currency="KRW")
def _cash_receipt_errors(fx: Fixtures) -> dict[str, Any]:
    values = {**AGREED, "cash_receipt_type": "expense_proof",
              "cash_receipt_business_number": "123-45-67890"}
    return pay_page(fx, _checkout(fx), method="kr_bank_transfer", values=values, field_errors={
        "cash_receipt_business_number": _(
            "Enter the 10-digit business registration number, like 123-45-67890.")})


@preview_state("kr_complete_cash_receipt", "Result: 계좌이체 with 현금영수증 issued",
               "complete.html", group="Korea", currency="KRW")
def _complete_cash_receipt(fx: Fixtures) -> dict[str, Any]:
    checkout = _checkout(fx, status="complete", payment_status="paid", completed_at=now())
    payment = fx.payment(checkout, method="kr_bank_transfer", status="succeeded",
                         card_brand=None, card_last4=None, details={"cash_receipt": {
                             "type": "expense_proof", "identifier": "2208162517",
                             "approval_number": "904183276"}})
    return {"checkout": checkout, "payment": payment, "brands": BRAND_LABELS,
            "return_url": "https://shop.example/thanks"}


@preview_state("kr_virtual_account_form", "가상계좌 form", "pay.html", group="Korea",
               currency="KRW")
def _virtual_account_form(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, _checkout(fx), method="kr_virtual_account")


@preview_state("kr_virtual_account_errors", "가상계좌 form with errors", "pay.html",
               group="Korea", currency="KRW")
def _virtual_account_errors(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, _checkout(fx), method="kr_virtual_account", values=AGREED, field_errors={
        "deposit_bank": _("Please choose the bank for your virtual account."),
        "depositor_name": _("Please enter the depositor's name.")})


@preview_state("kr_mobile_carrier", "휴대폰 결제 form, SMS receipt ticked", "pay.html",
               group="Korea", currency="KRW")
def _mobile_carrier(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, _checkout(fx), method="kr_mobile_carrier", values={
        "carrier": "skt", "phone": "010-1234-5678", "sms_receipt": "1",
        "sms_phone": "010-1234-5678"})


@preview_state("kr_mobile_carrier_errors", "휴대폰 결제 form with errors", "pay.html",
               group="Korea", currency="KRW")
def _mobile_carrier_errors(fx: Fixtures) -> dict[str, Any]:
    return pay_page(fx, _checkout(fx), method="kr_mobile_carrier", values={"phone": "02-123"},
                    field_errors={"carrier": _("Please choose your mobile carrier."),
                                  "phone": _("Enter a mobile number like 010-1234-5678.")})


@preview_state("kr_terms", "A consent item's text (보기 without JavaScript)", "kr_terms.html",
               group="Korea", currency="KRW")
def _terms(fx: Fixtures) -> dict[str, Any]:
    from .consent import DEFAULT_ITEMS

    return {"checkout": _checkout(fx), "item": DEFAULT_ITEMS[1]}


def _virtual_account_slip(fx: Fixtures, status: str) -> dict[str, Any]:
    checkout = _checkout(fx, status="complete", completed_at=now(),
                         payment_status="paid" if status == SUCCEEDED else "unpaid")
    payment = fx.payment(checkout, method="kr_virtual_account", status=status, card_brand=None,
                         card_last4=None, details={"cash_receipt": CASH_RECEIPT})
    fields = {"bank": "shinhan", "account_number": "912345678901",
              "account_holder": checkout.merchant.name, "depositor_name": "김민지"}
    voucher = Voucher(id="slip_preview", payment_id=payment.id, session_id=checkout.id,
                      kind=VIRTUAL_ACCOUNT_KIND, data={"kind": VIRTUAL_ACCOUNT_KIND,
                                                       "fields": fields},
                      expires_at=deadline_after(3), created=now())
    voucher.payment = payment
    voucher.session = checkout
    view = slip_view(voucher)
    return {"checkout": checkout, "slip": view, "fragment": False, "notice": None,
            "simulate": not view.final, "poll_seconds": 5, "receipt_layout": False}


@preview_state("kr_virtual_account_slip", "가상계좌: awaiting deposit", "slip.html",
               group="Korea", currency="KRW")
def _virtual_account_slip_waiting(fx: Fixtures) -> dict[str, Any]:
    return _virtual_account_slip(fx, "pending")


@preview_state("kr_virtual_account_paid", "가상계좌: deposit received", "slip.html",
               group="Korea", currency="KRW")
def _virtual_account_slip_paid(fx: Fixtures) -> dict[str, Any]:
    return _virtual_account_slip(fx, SUCCEEDED)


@preview_state("kr_virtual_account_expired", "가상계좌: expired", "slip.html", group="Korea",
               currency="KRW")
def _virtual_account_slip_expired(fx: Fixtures) -> dict[str, Any]:
    return _virtual_account_slip(fx, "expired")
