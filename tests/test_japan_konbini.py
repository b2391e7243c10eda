"""Konbini end to end through the Flask test client: the form, the slip, the webhooks, the
simulate controls (page, API, CLI) and the expiry sweep."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from checkout.db import get_db
from checkout.ids import now
from checkout.markets.japan.konbini import deadline
from checkout.markets.japan.settings import update_japan_settings
from checkout.models import Merchant, Voucher, WebhookEvent

from support import Api, MerchantInfo, csrf_from

LEGAL = {
    "seller": "株式会社さくら茶舗", "representative": "山田 太郎",
    "address": "東京都千代田区千代田1-1", "phone": "03-1234-5678", "email": "shop@example.jp",
    "prices": {"ja": "各商品ページに記載（税込）", "en": "As shown on each product page (tax included)"},  # noqa: E501
    "fees": "送料全国一律 ¥600", "payment_methods": "クレジットカード、コンビニ払い",
    "payment_timing": "ご注文時", "delivery": "ご入金確認後3営業日以内に発送",
    "returns": "未開封品に限り到着後7日以内",
}


def set_legal(app: Flask, merchant_id: str, **extra: Any) -> None:
    with app.app_context():
        record = get_db().get(Merchant, merchant_id)
        update_japan_settings(record, legal=LEGAL, **extra)
        get_db().commit()


def events(app: Flask, session_id: str) -> list[dict[str, Any]]:
    with app.app_context():
        rows = get_db().query(WebhookEvent).order_by(WebhookEvent.created).all()
        return [json.loads(r.body) for r in rows if session_id in r.body]


def konbini_form(client: FlaskClient, session_id: str, **fields: str) -> Any:
    page = client.get(f"/pay/{session_id}?method=konbini")
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "method": "konbini", "attempt": "1",
            "konbini_store": "lawson", "family_name": "山田", "given_name": "花子",
            "family_name_kana": "やまだ", "given_name_kana": "ﾊﾅｺ",
            "email": "hanako@example.jp", "phone": "０９０－１２３４－５６７８", **fields}
    return client.post(f"/pay/{session_id}", data=data)


@pytest.fixture
def shop(app: Flask, merchant: MerchantInfo) -> MerchantInfo:
    set_legal(app, merchant.id)
    return merchant


def test_konbini_hidden_without_legal_disclosure(api: Api, client: FlaskClient) -> None:
    session = api.create().get_json()
    html = client.get(f"/pay/{session['id']}").get_data(as_text=True)
    assert 'data-method="konbini"' not in html
    assert "konbini" in session["payment_method_types"]  # offered by default once published


def test_konbini_amount_limits(app: Flask, shop: MerchantInfo, api: Api, client: FlaskClient) -> None:  # noqa: E501
    for amount, offered in ((119, False), (120, True), (300_000, True), (300_001, False)):
        session = api.create(amount=amount).get_json()
        html = client.get(f"/pay/{session['id']}").get_data(as_text=True)
        assert ('data-method="konbini"' in html) is offered, amount


def test_slip_issued_then_paid(app: Flask, shop: MerchantInfo, api: Api, client: FlaskClient) -> None:  # noqa: E501
    session = api.create(amount=10400, line_items=[{"name": "抹茶ラテ ギフトセット（缶入り・30杯分）", "quantity": 1,  # noqa: E501
                                      "unit_amount": 9800},
                                     {"name": "送料", "quantity": 1, "unit_amount": 600}]).get_json()  # noqa: E501
    response = konbini_form(client, session["id"])
    assert response.status_code == 303
    slip_path = response.headers["Location"].removeprefix("http://localhost")
    assert re.fullmatch(r"/slip/slip_[A-Za-z0-9]{32}", slip_path)
    assert response.headers["Set-Cookie"].startswith("kessai_last_method=konbini")

    # The merchant learns at once: completed, unpaid, with the slip URL and the numbers' owner.
    api_session = api.get(session["id"]).get_json()
    assert (api_session["status"], api_session["payment_status"]) == ("complete", "unpaid")
    details = api_session["payments"][0]["details"]
    assert details["voucher_url"].endswith(slip_path)
    assert details["customer"] == {"name": "山田 花子", "name_kana": "ヤマダ　ハナコ",
                                   "email": "hanako@example.jp", "phone": "09012345678"}
    assert len(details["product_description"]) <= 22
    completed = [e for e in events(app, session["id"]) if e["type"] == "checkout.session.completed"]
    assert len(completed) == 1 and completed[0]["data"]["object"]["payment_status"] == "unpaid"

    # The checkout URL now opens the slip; the slip shows Lawson's fields and steps.
    assert client.get(f"/pay/{session['id']}").headers["Location"].endswith(slip_path)
    slip = client.get(slip_path, headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "お支払い受付番号" in slip and "確認番号" in slip and "09012345678" in slip
    assert "払込票番号" not in slip
    assert "Loppi" in slip and "<ol" in slip
    assert "<svg" in slip and 'role="img"' in slip and "style=" not in slip

    # Polling answers 286 only once final.
    assert client.get(f"{slip_path}/status", headers={"HX-Request": "true"}).status_code == 200
    html = client.get(slip_path).get_data(as_text=True)
    response = client.post(f"/pay/{session['id']}/slip/{slip_path.rsplit('/', 1)[1]}/simulate",
                           data={"csrf_token": csrf_from(html), "outcome": "paid"})
    assert response.status_code == 303
    status = client.get(f"{slip_path}/status", headers={"HX-Request": "true"})
    assert status.status_code == 286
    assert 'data-state="paid"' in status.get_data(as_text=True)
    assert api.get(session["id"]).get_json()["payment_status"] == "paid"
    types = [e["type"] for e in events(app, session["id"])]
    assert types == ["checkout.session.completed", "checkout.session.async_payment_succeeded"]


@pytest.mark.parametrize(("store", "shown", "absent", "step"), [
    ("seven_eleven", "Payment slip number", "Confirmation number", "インターネットショッピング代金の支払い"),  # noqa: E501
    ("lawson", "Payment reception number", "Payment slip number", "各種番号をお持ちの方"),
    ("ministop", "Payment reception number", "Payment slip number", "Loppi"),
    ("familymart", "Reception number (受付番号)", "Payment slip number", "マルチコピー機"),
    ("seicomart", "Reception number (受付番号)", "Payment slip number", "インターネットの支払い"),
    ("daily_yamazaki", "Online payment number", "Confirmation number", "オンライン決済"),
])
def test_each_chain_shows_its_own_fields(shop: MerchantInfo, api: Api, client: FlaskClient,
                                         store: str, shown: str, absent: str, step: str) -> None:
    session = api.create(locale="en").get_json()
    slip_url = konbini_form(client, session["id"], konbini_store=store).headers["Location"]
    html = client.get(slip_url).get_data(as_text=True)
    assert shown in html and absent not in html and step in html
    numbers = api.get(session["id"]).get_json()["payments"][0]
    assert numbers["method"] == "konbini"


def test_sandbox_numbers_are_realistic(app: Flask, shop: MerchantInfo, api: Api,
                                       client: FlaskClient) -> None:
    shapes = {"seven_eleven": ("payment_slip_number", 13), "lawson": ("receipt_number", 6),
              "daily_yamazaki": ("online_payment_number", 11)}
    for store, (key, length) in shapes.items():
        session = api.create().get_json()
        konbini_form(client, session["id"], konbini_store=store)
        with app.app_context():
            voucher = get_db().query(Voucher).filter_by(session_id=session["id"]).one()
            number = voucher.data["fields"][key]
            assert number.isdigit() and len(number) == length
            assert voucher.data["fields"]["store"] == store


def test_form_errors_in_japanese_keep_what_was_typed(shop: MerchantInfo, api: Api,
                                                     client: FlaskClient) -> None:
    session = api.create(locale="ja").get_json()
    response = konbini_form(client, session["id"], konbini_store="", given_name_kana="hanako",
                            phone="12345")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "お支払いいただくコンビニを選択してください。" in html
    assert "カタカナ" in html
    assert "0から始まる10桁または11桁" in html
    assert 'value="山田"' in html and 'value="hanako@example.jp"' in html


def test_store_terminal_shows_the_merchants_words_whatever_the_shoppers_language(
        app: Flask, shop: MerchantInfo, api: Api, client: FlaskClient) -> None:
    """The ≤ 22-character description a store's terminal shows is the merchant's own text
    (first line item, else the shop's name), never words localized for the shopper."""
    name = "宇治抹茶ラテ ギフトセット（缶入り・30杯分）"  # 23 characters
    items = [{"name": name, "quantity": 1, "unit_amount": 9800},
             {"name": "送料", "quantity": 1, "unit_amount": 600}]
    expected = "宇治抹茶ラテ ギフトセット（缶入り・30杯…"
    assert (len(name), len(expected)) == (23, 22)
    for locale in ("zh-Hans", "ko", "en", "ja"):
        session = api.create(amount=10400, line_items=items, locale=locale).get_json()
        slip = konbini_form(client, session["id"]).headers["Location"]
        details = api.get(session["id"]).get_json()["payments"][0]["details"]
        assert details["product_description"] == expected, locale
        with app.app_context():
            voucher = get_db().query(Voucher).filter_by(session_id=session["id"]).one()
            assert voucher.data["product_description"] == expected, locale
        assert expected in client.get(slip).get_data(as_text=True), locale

    bare = api.create(amount=3000, locale="zh-Hans").get_json()  # no line items: the shop
    konbini_form(client, bare["id"])
    assert api.get(bare["id"]).get_json()["payments"][0]["details"][
        "product_description"] == "Sakura Tea"


def test_deadline_is_end_of_day_in_tokyo() -> None:
    issued = 1764072000  # 2025-11-25 12:00 UTC = 21:00 JST
    assert deadline(issued, 3) == 1764341999  # 2025-11-28 23:59:59 JST
    late = 1764082800  # 2025-11-25 15:00 UTC = 2025-11-26 00:00 JST: the next day counts
    assert deadline(late, 1) == 1764255599  # 2025-11-27 23:59:59 JST


def test_merchant_days_setting(app: Flask, merchant: MerchantInfo, api: Api,
                               client: FlaskClient) -> None:
    set_legal(app, merchant.id, konbini_days=10)
    session = api.create().get_json()
    konbini_form(client, session["id"])
    with app.app_context():
        voucher = get_db().query(Voucher).filter_by(session_id=session["id"]).one()
        assert voucher.expires_at == deadline(now(), 10)
        assert voucher.expires_at - now() > 9 * 86400


def test_expiry_by_api_helper_then_worker_sweep(app: Flask, shop: MerchantInfo, api: Api,
                                                client: FlaskClient) -> None:
    first = api.create().get_json()
    konbini_form(client, first["id"])
    payment_id = api.get(first["id"]).get_json()["payments"][0]["id"]
    response = client.post(f"/v1/test_helpers/payments/{payment_id}/simulate",
                           json={"outcome": "expired"}, headers=api.headers())
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["payment_status"]) == ("complete", "unpaid")
    assert body["payments"][0]["status"] == "expired"
    assert [e["type"] for e in events(app, first["id"])][-1] == "checkout.session.async_payment_failed"  # noqa: E501
    again = client.post(f"/v1/test_helpers/payments/{payment_id}/simulate",
                        json={"outcome": "paid"}, headers=api.headers())
    assert again.status_code == 409

    # A slip past its deadline is expired by the worker (the sandbox has no clock of its own).
    second = api.create().get_json()
    konbini_form(client, second["id"])
    with app.app_context():
        voucher = get_db().query(Voucher).filter_by(session_id=second["id"]).one()
        voucher.expires_at = now() - 1
        get_db().commit()
    from checkout.worker import run_once

    run_once(app)
    assert api.get(second["id"]).get_json()["payments"][0]["status"] == "expired"
    slip = client.get(f"/pay/{second['id']}").headers["Location"]
    html = client.get(slip).get_data(as_text=True)
    assert 'data-state="expired"' in html and "Simulate payment" not in html


def test_unknown_slip_is_404(client: FlaskClient) -> None:
    assert client.get("/slip/slip_nope").status_code == 404
    assert client.get("/slip/" + "x" * 100).status_code == 404


def test_cli_set_legal_and_simulate(app: Flask, merchant: MerchantInfo, api: Api,
                                    client: FlaskClient, tmp_path: Any, monkeypatch: Any) -> None:
    from click.testing import CliRunner

    from checkout.cli import main

    monkeypatch.setenv("KESSAI_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("KESSAI_PUBLIC_URL", "http://localhost")
    runner = CliRunner()
    legal_file = tmp_path / "legal.json"
    legal_file.write_text(json.dumps(LEGAL, ensure_ascii=False), encoding="utf-8")
    incomplete = runner.invoke(main, ["merchants", "set-legal", merchant.id, "--seller", "X"])
    assert incomplete.exit_code != 0 and "missing required" in incomplete.output
    result = runner.invoke(main, ["merchants", "set-legal", merchant.id, "--file", str(legal_file),
                                  "--phone", "03-9999-0000"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["merchants", "configure-japan", merchant.id, "--konbini-days", "7"])  # noqa: E501
    assert result.exit_code == 0 and '"konbini_days": 7' in result.output
    with app.app_context():
        settings = get_db().get(Merchant, merchant.id).settings["japan"]
        assert settings["legal"]["phone"] == "03-9999-0000" and settings["konbini_days"] == 7

    session = api.create().get_json()
    konbini_form(client, session["id"])
    result = runner.invoke(main, ["sandbox", "simulate", session["id"], "paid"])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output
    assert api.get(session["id"]).get_json()["payment_status"] == "paid"
    again = runner.invoke(main, ["sandbox", "simulate", session["id"], "expired"])
    assert again.exit_code != 0 and "not waiting" in again.output


@pytest.mark.parametrize(("method", "shown"), [
    ("pay_easy", ["Institution number", "Customer number", "Pay-easy"]),
    ("bank_transfer_jp", ["Account number", "Account holder", "ケツサイ（カ"]),
])
def test_pay_easy_and_bank_transfer_are_vouchers(app: Flask, shop: MerchantInfo, api: Api,
                                                 client: FlaskClient, method: str,
                                                 shown: list[str]) -> None:
    session = api.create(locale="en").get_json()
    response = konbini_form(client, session["id"], method=method)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert all(text in html for text in shown)
    assert api.get(session["id"]).get_json()["payment_status"] == "unpaid"
