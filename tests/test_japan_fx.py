"""Japan on a converted price: a CNY-priced session the shopper pays in yen is a Japanese
checkout (分割払い, konbini), and one paid in yuan is not. Everything Japanese follows the
currency the shopper actually pays (``payable``), never the merchant's price currency. Rates
come from the embedded sandbox on a test clock."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from checkout.fx.clock import ManualClock

from support import Api, MerchantInfo, csrf_from
from test_japan_konbini import set_legal

START = (int(time.time()) // 60) * 60 + 5
CARD = {"card_number": "3530111333300000", "card_expiry": "12/34", "card_cvc": "123",
        "card_name": "HANAKO YAMADA"}
CONTACT = {"konbini_store": "lawson", "family_name": "山田", "given_name": "花子",
           "family_name_kana": "ヤマダ", "given_name_kana": "ハナコ",
           "email": "hanako@example.jp", "phone": "09012345678"}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"FX_SOURCE": "gateway", "FX_CLOCK": ManualClock(START)}


@pytest.fixture
def shop(app: Flask, merchant: MerchantInfo) -> MerchantInfo:
    set_legal(app, merchant.id)  # konbini needs the 特定商取引法 disclosure
    return merchant


def yuan_session(api: Api, amount: int) -> dict[str, Any]:
    response = api.create(amount=amount, currency="CNY", presentment_currencies=["JPY"],
                          payment_method_types=["card", "konbini"], locale="ja")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def page(client: FlaskClient, session_id: str) -> str:
    return client.get(f"/pay/{session_id}?method=card").get_data(as_text=True)


def expected_price(html: str) -> str:
    match = re.search(r'name="expected_price" value="([^"]*)"', html)
    assert match, "no expected_price on the page"
    return match.group(1)


def pay_by_card(client: FlaskClient, session_id: str, html: str, **extra: str) -> Any:
    return client.post(f"/pay/{session_id}", data={
        "csrf_token": csrf_from(html), "method": "card", "attempt": "1",
        "expected_price": expected_price(html), **CARD, **extra})


def test_a_yuan_price_paid_in_yen_offers_instalments_and_konbini(
        api: Api, client: FlaskClient, shop: MerchantInfo) -> None:
    session = yuan_session(api, 128000)  # ¥1,280.00 CNY: about ¥27,000 to pay
    yen = session["presentment"]["amount"]
    assert session["presentment"]["currency"] == "JPY" and yen >= 10_000
    html = page(client, session["id"])
    assert expected_price(html) == f"{yen} JPY"
    assert 'name="instalments"' in html and "分割払い（12回）" in html
    assert 'data-method="konbini"' in html

    response = pay_by_card(client, session["id"], html, instalments="split_12")
    assert response.status_code == 303
    payment = api.get(session["id"]).get_json()["payments"][0]
    assert (payment["amount"], payment["currency"]) == (yen, "JPY")
    assert payment["details"]["instalments"] == {"plan": "split", "count": 12}


def test_the_instalment_threshold_is_in_the_yen_the_shopper_pays(
        api: Api, client: FlaskClient, shop: MerchantInfo) -> None:
    # 20,000 fen is above 10,000 as a number, but ¥200.00 CNY is only about ¥4,200.
    session = yuan_session(api, 20000)
    assert session["presentment"]["amount"] < 10_000
    html = page(client, session["id"])
    assert expected_price(html).endswith(" JPY")
    assert 'name="instalments"' not in html
    assert 'data-method="konbini"' in html  # ¥120–¥300,000: still a konbini amount

    # The slip is issued for the yen shown, which the store collects.
    issued = client.post(f"/pay/{session['id']}", data={
        "csrf_token": csrf_from(html), "method": "konbini", "attempt": "1",
        "expected_price": expected_price(html), **CONTACT})
    assert issued.status_code == 303 and "/slip/" in issued.location
    payment = api.get(session["id"]).get_json()["payments"][0]
    assert (payment["method"], payment["amount"], payment["currency"]) == (
        "konbini", session["presentment"]["amount"], "JPY")


def test_a_yuan_price_paid_in_yuan_is_not_a_japanese_checkout(
        api: Api, client: FlaskClient, shop: MerchantInfo) -> None:
    session = yuan_session(api, 128000)
    html = page(client, session["id"])
    chosen = client.post(f"/pay/{session['id']}/currency",
                         data={"csrf_token": csrf_from(html), "pay_currency": "CNY"})
    assert chosen.status_code == 303
    html = page(client, session["id"])
    assert expected_price(html) == "128000 CNY"
    assert 'name="instalments"' not in html
    assert 'data-method="konbini"' not in html

    # Forged posts change nothing: konbini is refused, an instalment plan is not sent.
    forged = client.post(f"/pay/{session['id']}", data={
        "csrf_token": csrf_from(html), "method": "konbini", "attempt": "1",
        "expected_price": "128000 CNY", **CONTACT})
    assert forged.status_code == 422
    assert api.get(session["id"]).get_json()["payments"] == []
    assert pay_by_card(client, session["id"], html, instalments="split_12").status_code == 303
    payment = api.get(session["id"]).get_json()["payments"][0]
    assert (payment["amount"], payment["currency"]) == (128000, "CNY")
    assert "instalments" not in payment.get("details", {})


def test_yuan_price_paid_in_yen_gets_the_japanese_theme(client: FlaskClient, api: Api) -> None:
    session = api.create(amount=128_00, currency="CNY", presentment_currencies=["JPY"]).get_json()
    html = client.get(f"/pay/{session['id']}").get_data(as_text=True)
    assert "theme-jp-red" in html
