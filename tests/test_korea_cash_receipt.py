"""현금영수증 (Korean cash receipt) on 계좌이체 and 가상계좌: asked on the form, checked on the
server (mobile number; 사업자등록번호 with its check digit), passed to the gateway, shown on the
result page and the slip, and in the merchant API."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from test_korea_payments import ALL_AGREED, create_krw, csrf_from, follow_to_success, submit

from checkout.markets.korea.cash_receipt import valid_business_number

from support import handed_off_to

Api = Any


@pytest.mark.parametrize("number, valid", [
    ("2208162517", True), ("1248100998", True),  # real registrations (public)
    ("1234567890", False), ("2208162518", False), ("220816251", False), ("22081625a7", False),
])
def test_business_number_check_digit(number: str, valid: bool) -> None:
    assert valid_business_number(number) is valid


def test_both_cash_methods_offer_it_and_cards_do_not(api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    for method in ("kr_bank_transfer", "kr_virtual_account"):
        html = client.get(f"/pay/{sid}?method={method}",
                          headers={"Accept-Language": "ko"}).get_data(as_text=True)
        assert "현금영수증" in html and "소득공제용" in html and "지출증빙용" in html, method
        assert 'name="cash_receipt_type" value="" checked' in html, method  # none by default
    card = client.get(f"/pay/{sid}?method=card").get_data(as_text=True)
    assert "cash_receipt_type" not in card


def test_no_receipt_asked_sends_none_to_the_gateway(api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    submit(client, sid, "kr_virtual_account", deposit_bank="kb", depositor_name="홍길동",
           cash_receipt_type="", cash_receipt_phone="010-1234-5678", **ALL_AGREED)
    assert "cash_receipt" not in api.get(sid).get_json()["payments"][0]["details"]


@pytest.mark.parametrize("fields, error_field, message", [
    ({"cash_receipt_type": "income_deduction", "cash_receipt_phone": "02-123-4567"},
     "cash_receipt_phone", "010-1234-5678"),
    ({"cash_receipt_type": "expense_proof", "cash_receipt_business_number": "123-45-67890"},
     "cash_receipt_business_number", "사업자등록번호"),
])
def test_bad_numbers_are_refused_in_korean(api: Api, client: FlaskClient,
                                           fields: dict[str, str], error_field: str,
                                           message: str) -> None:
    sid = create_krw(api)
    response = submit(client, sid, "kr_bank_transfer", headers={"Accept-Language": "ko"},
                      **fields, **ALL_AGREED)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'id="{error_field}-error"[^>]*>([^<]+)<', html)
    assert error and message in error.group(1)
    assert api.get(sid).get_json()["payments"] == []  # nothing went to the gateway


def test_income_deduction_on_a_bank_transfer_reaches_gateway_api_and_result(
        api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    response = submit(client, sid, "kr_bank_transfer", cash_receipt_type="income_deduction",
                      cash_receipt_phone="０１０ 9876 5432", **ALL_AGREED)
    approval = response.location
    page = client.get(approval).get_data(as_text=True)
    answer = client.post(approval, data={"csrf_token": csrf_from(page), "outcome": "approve"})
    success = follow_to_success(client, client.get(handed_off_to(answer)))
    payment = api.get(sid).get_json()["payments"][0]
    receipt = payment["details"]["cash_receipt"]
    assert (receipt["type"], receipt["identifier"]) == ("income_deduction", "01098765432")
    assert re.fullmatch(r"\d{9}", receipt["approval_number"])  # the sandbox's 승인번호
    assert success.startswith("https://shop.example/ok")
    result = client.get(f"/pay/{sid}", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    line = re.search(r'data-testid="cash-receipt-result">(.*?)</p>', result, re.S)
    assert line, "the result page says nothing of the cash receipt"
    text = " ".join(line.group(1).split())
    assert "소득공제용" in text and "010-****-5432" in text and receipt["approval_number"] in text
    assert "9876" not in result  # the number is masked on the page


def test_expense_proof_on_a_virtual_account_is_issued_with_the_deposit(
        api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    slip_url = submit(client, sid, "kr_virtual_account", deposit_bank="shinhan",
                      depositor_name="(주)케쎄이", cash_receipt_type="expense_proof",
                      cash_receipt_business_number="220-81-62517", **ALL_AGREED).location
    slip_path = urlsplit(slip_url).path
    waiting = client.get(slip_path, headers={"Accept-Language": "ko"}).get_data(as_text=True)
    line = re.search(r'data-testid="cash-receipt-result">(.*?)</p>', waiting, re.S)
    assert line and "220-81-62517" in line.group(1) and "지출증빙용" in line.group(1)
    assert "승인번호" not in line.group(1)  # not issued before the money arrives
    simulate = re.search(r'action="([^"]+/simulate)"', waiting).group(1)
    client.post(simulate, data={"csrf_token": csrf_from(waiting), "outcome": "paid"})
    paid = client.get(slip_path, headers={"Accept-Language": "ko"}).get_data(as_text=True)
    issued = re.search(r'data-testid="cash-receipt-result">(.*?)</p>', paid, re.S)
    approval = api.get(sid).get_json()["payments"][0]["details"]["cash_receipt"][
        "approval_number"]
    assert issued and approval in issued.group(1) and "승인번호" in issued.group(1)


def test_the_gateway_receives_the_choice(app: Any, api: Api, client: FlaskClient,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """What the sandbox ledger recorded is what Kessai sent: the contract's details."""
    from checkout.db import get_db
    from checkout.models import SandboxPayment

    sid = create_krw(api)
    submit(client, sid, "kr_virtual_account", deposit_bank="kb", depositor_name="홍길동",
           cash_receipt_type="income_deduction", cash_receipt_phone="010-1111-2222",
           **ALL_AGREED)
    with app.app_context():
        row = get_db().query(SandboxPayment).one()
        assert row.details["cash_receipt"]["identifier"] == "01011112222"
