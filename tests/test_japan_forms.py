"""Japanese forms: kana and digit normalization, postal look-up (JSON and no-JS), the address
on the session and webhooks, card instalments, the legal disclosure and method ordering."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from checkout.db import get_db
from checkout.markets.japan.legal import LegalDisclosureInvalid, validate_disclosure
from checkout.markets.japan.postal import lookup
from checkout.markets.japan.settings import update_japan_settings
from checkout.markets.japan.text import (
    normalize_phone,
    normalize_postal_code,
    to_katakana,
)
from checkout.models import Merchant

from support import Api, MerchantInfo, csrf_from, handed_off_to
from test_japan_konbini import LEGAL, events, set_legal


@pytest.mark.parametrize(("typed", "expected"), [
    ("やまだ", "ヤマダ"), ("ﾔﾏﾀﾞ", "ヤマダ"), ("ヤマダ", "ヤマダ"), ("ｷｬｯﾄ", "キャット"),
    ("さとう　はなこ", "サトウ　ハナコ"), ("  ﾊﾅｺ ", "ハナコ"), ("ゆーこ", "ユーコ"),
])
def test_kana_becomes_full_width_katakana(typed: str, expected: str) -> None:
    assert to_katakana(typed) == expected


@pytest.mark.parametrize(("typed", "expected"), [
    ("090-1234-5678", "09012345678"), ("０９０１２３４５６７８", "09012345678"),
    ("03 1234 5678", "0312345678"), ("０３－１２３４－５６７８", "0312345678"),
    ("+81 90 1234 5678", "09012345678"), ("9012345678", None), ("090123", None),
    ("0901234567890", None), ("abc", None),
])
def test_phone(typed: str, expected: str | None) -> None:
    assert normalize_phone(typed) == expected


def test_postal_code_and_offline_lookup() -> None:
    assert normalize_postal_code("〒１００－０００１") == "100-0001"
    assert normalize_postal_code("100001") is None
    found = lookup("1500002")
    assert found is not None and (found.prefecture, found.city, found.town) == ("東京都", "渋谷区", "渋谷")  # noqa: E501
    assert lookup("9999999") is None


def test_postal_json_endpoint(client: FlaskClient) -> None:
    response = client.get("/jp/postal/1000001")
    assert response.status_code == 200
    assert response.get_json() == {"postal_code": "100-0001", "prefecture": "東京都",
                                   "city": "千代田区", "town": "千代田"}
    assert client.get("/jp/postal/0000000").status_code == 404


def test_address_collection_in_api_and_webhooks(app: Flask, merchant: MerchantInfo, api: Api,
                                               client: FlaskClient) -> None:
    set_legal(app, merchant.id)
    assert api.create(address_collection="everywhere").status_code == 422
    session = api.create(address_collection="shipping", locale="ja").get_json()
    assert session["address_collection"] == "shipping" and session["address"] is None
    html = client.get(f"/pay/{session['id']}?method=konbini").get_data(as_text=True)
    assert "お届け先" in html or "Delivery address" in html

    # Without JavaScript: 「住所を検索」 posts the form and gets it back filled in.
    form = {"csrf_token": csrf_from(html), "method": "konbini", "attempt": "1",
            "konbini_store": "seven_eleven", "family_name": "山田", "given_name": "花子",
            "family_name_kana": "ヤマダ", "given_name_kana": "ハナコ",
            "email": "hanako@example.jp", "phone": "09012345678", "postal_code": "１５０００２"}
    bad = client.post(f"/pay/{session['id']}/address-lookup", data=form)
    assert bad.status_code == 422
    form["postal_code"] = "1500002"
    filled = client.post(f"/pay/{session['id']}/address-lookup", data=form).get_data(as_text=True)
    assert 'value="150-0002"' in filled and '<option value="東京都" selected>' in filled
    assert 'value="渋谷区"' in filled and 'value="渋谷"' in filled and 'value="山田"' in filled

    missing = client.post(f"/pay/{session['id']}", data=form)
    assert missing.status_code == 422  # no prefecture / city yet: nothing is paid
    form.update(prefecture="東京都", city="渋谷区", address_line1="渋谷2-1-1",
                address_line2="ヒカリエ 11F")
    assert client.post(f"/pay/{session['id']}", data=form).status_code == 303
    address = api.get(session["id"]).get_json()["address"]
    assert address == {"type": "shipping", "country": "JP", "postal_code": "150-0002",
                       "state": "東京都", "city": "渋谷区", "line1": "渋谷2-1-1",
                       "line2": "ヒカリエ 11F"}
    completed = events(app, session["id"])[0]
    assert completed["data"]["object"]["address"] == address


def card_form(client: FlaskClient, session_id: str, **extra: str) -> Any:
    html = client.get(f"/pay/{session_id}").get_data(as_text=True)
    return html, client.post(f"/pay/{session_id}", data={
        "csrf_token": csrf_from(html), "method": "card", "attempt": "1",
        "card_number": "3530111333300000", "card_expiry": "12/34", "card_cvc": "123",
        "card_name": "HANAKO YAMADA", **extra})


def test_instalments_from_the_merchants_amount(app: Flask, merchant: MerchantInfo, api: Api,
                                               client: FlaskClient) -> None:
    small = api.create(amount=9999).get_json()
    html, _ = card_form(client, small["id"])
    assert 'name="instalments"' not in html

    session = api.create(amount=120000, locale="ja").get_json()
    html, response = card_form(client, session["id"], instalments="split_12")
    options = re.findall(r'<option value="([a-z_0-9]+)"', html)
    assert options == ["lump", "split_3", "split_5", "split_6", "split_10", "split_12",
                       "split_15", "split_18", "split_20", "split_24", "bonus", "revolving"]
    assert response.status_code == 303
    payment = api.get(session["id"]).get_json()["payments"][0]
    assert payment["details"]["instalments"] == {"plan": "split", "count": 12}
    result = client.get(f"/pay/{session['id']}").get_data(as_text=True)
    assert 'data-testid="instalments"' in result and "12回" in result

    bogus = api.create(amount=120000).get_json()
    _, response = card_form(client, bogus["id"], instalments="split_7")
    assert response.status_code == 422

    with app.app_context():
        record = get_db().get(Merchant, merchant.id)
        update_japan_settings(record, instalments_from=200000)
        get_db().commit()
    html, _ = card_form(client, api.create(amount=120000).get_json()["id"])
    assert 'name="instalments"' not in html


def test_legal_disclosure_page_and_validation(app: Flask, merchant: MerchantInfo, api: Api,
                                              client: FlaskClient) -> None:
    session = api.create(locale="en").get_json()
    assert client.get(f"/pay/{session['id']}/legal").status_code == 404
    set_legal(app, merchant.id)
    html = client.get(f"/pay/{session['id']}/legal").get_data(as_text=True)
    assert "株式会社さくら茶舗" in html and "As shown on each product page" in html
    ja = api.create(locale="ja").get_json()
    html = client.get(f"/pay/{ja['id']}/legal").get_data(as_text=True)
    assert "各商品ページに記載（税込）" in html
    assert f"/pay/{session['id']}/legal" in client.get(
        f"/pay/{session['id']}?method=konbini").get_data(as_text=True)
    with pytest.raises(LegalDisclosureInvalid):
        validate_disclosure({k: v for k, v in LEGAL.items() if k != "returns"})
    with pytest.raises(LegalDisclosureInvalid):
        validate_disclosure({**LEGAL, "favourite_colour": "red"})


def test_method_order_last_method_first(app: Flask, merchant: MerchantInfo, api: Api,
                                        client: FlaskClient) -> None:
    set_legal(app, merchant.id)
    session = api.create(amount=3000).get_json()
    html = client.get(f"/pay/{session['id']}").get_data(as_text=True)
    order = re.findall(r'data-method="([a-z_]+)"', html)
    assert order.index("card") < order.index("konbini")
    client.set_cookie("kessai_last_method", "konbini")
    html = client.get(f"/pay/{session['id']}").get_data(as_text=True)
    assert re.findall(r'data-method="([a-z_]+)"', html)[0] == "konbini"


def test_wallets_and_carrier_billing_for_digital_goods(app: Flask, merchant: MerchantInfo,
                                                       api: Api, client: FlaskClient) -> None:
    session = api.create(amount=3000).get_json()
    html = client.get(f"/pay/{session['id']}").get_data(as_text=True)
    methods = re.findall(r'data-method="([a-z_]+)"', html)
    assert {"paypay", "rakuten_pay", "merpay", "au_pay"} <= set(methods)
    assert "docomo_carrier" not in methods
    with app.app_context():
        record = get_db().get(Merchant, merchant.id)
        update_japan_settings(record, digital_goods=True)
        get_db().commit()
    html = client.get(f"/pay/{session['id']}").get_data(as_text=True)
    methods = re.findall(r'data-method="([a-z_]+)"', html)
    assert {"docomo_carrier", "au_carrier", "softbank_carrier"} <= set(methods)
    assert methods.index("paypay") < methods.index("docomo_carrier")


def wallet_post(client: FlaskClient, session_id: str, method: str, device: str) -> Any:
    html = client.get(f"/pay/{session_id}").get_data(as_text=True)
    return client.post(f"/pay/{session_id}", data={
        "csrf_token": csrf_from(html), "method": method, "attempt": "1", "device": device})


def test_d_payment_pays_digital_goods_and_is_refused_for_physical_goods(
        app: Flask, merchant: MerchantInfo, api: Api, client: FlaskClient) -> None:
    # A shop selling tea (not digital goods): d払い is neither shown nor accepted if forged.
    tea = api.create(amount=3000, locale="ja").get_json()
    refused = wallet_post(client, tea["id"], "docomo_carrier", "phone")
    assert refused.status_code == 422
    assert "このお支払い方法はご利用いただけません" in refused.get_data(as_text=True)
    assert api.get(tea["id"]).get_json()["payments"] == []

    with app.app_context():
        record = get_db().get(Merchant, merchant.id)
        update_japan_settings(record, digital_goods=True)
        get_db().commit()
    ebook = api.create(amount=1500, locale="ja").get_json()
    html = client.get(f"/pay/{ebook['id']}?method=docomo_carrier",
                      headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "d払いで￥1,500を支払う" in html
    response = wallet_post(client, ebook["id"], "docomo_carrier", "phone")
    approval = response.location  # a phone: d払い's (sandbox) page by redirect
    assert urlsplit(approval).path.startswith("/sandbox/wallet/gwpay_"), approval
    page = client.get(approval, headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "d払いで支払いを承認" in page and "￥1,500" in page
    answer = client.post(approval, data={"csrf_token": csrf_from(page), "outcome": "approve"})
    assert client.get(handed_off_to(answer)).location.startswith("https://shop.example/ok")
    payment = api.get(ebook["id"]).get_json()["payments"][0]
    assert (payment["method"], payment["amount"], payment["status"]) == (
        "docomo_carrier", 1500, "succeeded")
    assert events(app, ebook["id"])[-1]["type"] == "checkout.session.completed"

    # Carrier billing stops at ¥100,000 a payment.
    large = api.create(amount=100_001).get_json()
    assert 'data-method="docomo_carrier"' not in client.get(f"/pay/{large['id']}").get_data(
        as_text=True)
