"""Korea through the Flask test client: the method catalog, 전체 동의 on the server, wallets on a
phone (redirect) and on a computer (QR + polling), card companies and 할부, 가상계좌 from issue
to deposit or expiry, 휴대폰 결제, SMS receipts, merchant settings and the CLI."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from checkout.db import get_db
from checkout.ids import now
from checkout.markets.korea.settings import update_korea_settings
from checkout.models import Merchant, Notification, Voucher, WebhookEvent
from checkout.notify import deliver_due

from support import handed_off_to

# The fixtures ``api`` / ``merchant`` come from tests/conftest.py; their types are not imported
# from it (``conftest`` is ambiguous when tests/ and tests/e2e/ are collected together).
Api = MerchantInfo = Any

ALL_AGREED = {"consent_all": "1"}
REQUIRED_ONLY = {"consent_terms": "1", "consent_privacy_collection": "1",
                 "consent_privacy_third_party": "1", "consent_electronic_finance": "1"}


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def create_krw(api: Api, amount: int = 62000, **fields: Any) -> str:
    response = api.create(amount=amount, currency="KRW", **fields)
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["id"])


def submit(client: FlaskClient, session_id: str, method: str, headers: dict[str, str] | None = None,
           **fields: str) -> Any:
    """Post a method's form as a browser without JavaScript would (after loading the page)."""
    html = client.get(f"/pay/{session_id}?method={method}").get_data(as_text=True)
    attempt = re.search(r'name="attempt" value="(\d+)"', html)
    data = {"csrf_token": csrf_from(html), "method": method,
            "attempt": attempt.group(1) if attempt else "1", **fields}
    return client.post(f"/pay/{session_id}", data=data, headers=headers or {})


def card_fields(**extra: str) -> dict[str, str]:
    return {"card_number": "4242 4242 4242 4242", "card_expiry": "12/34", "card_cvc": "123",
            "card_name": "홍길동", "card_company": "shinhan", "instalment_months": "0",
            **ALL_AGREED, **extra}


def events(app: Flask, session_id: str) -> list[str]:
    with app.app_context():
        rows = get_db().query(WebhookEvent).order_by(WebhookEvent.created).all()
        return [json.loads(r.body)["type"] for r in rows if session_id in r.body]


def set_korea(app: Flask, merchant_id: str, **changes: Any) -> None:
    with app.app_context():
        merchant = get_db().get(Merchant, merchant_id)
        update_korea_settings(merchant, **changes)
        get_db().commit()


def follow_to_success(client: FlaskClient, response: Any) -> str:
    """Follow redirects inside Kessai until the merchant's success URL."""
    for _ in range(5):
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        location = response.location
        if location.startswith("https://shop.example"):
            return str(location)
        response = client.get(location)
    raise AssertionError("never reached the success URL")


def follow_to_demo(client: FlaskClient, response: Any) -> str:
    """Follow redirects inside Kessai until the demo shop's order page."""
    for _ in range(5):
        if "/demo/success" in (response.location or ""):
            return str(response.location)
        response = client.get(response.location)
    raise AssertionError("never reached the demo's order page")


# ---- catalog ---------------------------------------------------------------------------------

def test_krw_session_offers_easy_pay_first_then_card_and_the_rest(api: Api) -> None:
    session = api.create(amount=62000, currency="KRW").get_json()
    assert session["payment_method_types"][:6] == [
        "kakao_pay", "samsung_pay", "naver_pay", "toss_pay", "payco", "card"]
    assert set(session["payment_method_types"][6:]) == {
        "kr_bank_transfer", "kr_virtual_account", "kr_mobile_carrier"}


def test_korean_methods_are_won_only(api: Api) -> None:
    response = api.create(amount=1000, currency="JPY", payment_method_types=["payco"])
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "payment_method_unsupported"
    jpy = api.create(amount=12800, currency="JPY").get_json()
    assert not {"kakao_pay", "payco", "kr_virtual_account"} & set(jpy["payment_method_types"])


def test_samsung_pay_stops_at_two_million_won(api: Api, client: FlaskClient) -> None:
    at_limit = create_krw(api, amount=2_000_000)
    above = create_krw(api, amount=2_000_001)
    assert 'data-method="samsung_pay"' in client.get(f"/pay/{at_limit}").get_data(as_text=True)
    page = client.get(f"/pay/{above}").get_data(as_text=True)
    assert 'data-method="samsung_pay"' not in page and 'data-method="kakao_pay"' in page


def test_krw_sessions_get_the_kakao_style_theme(api: Api, client: FlaskClient) -> None:
    html = client.get(f"/pay/{create_krw(api)}").get_data(as_text=True)
    assert 'class="theme-kr-kakao' in html
    css = client.get("/assets/theme/kr-kakao.css").get_data(as_text=True).lower()
    assert "#fee500" in css and "apple sd gothic neo" in css and "noto sans kr" in css
    jpy = api.create(amount=12800, currency="JPY").get_json()["id"]
    assert "theme-kr-kakao" not in client.get(f"/pay/{jpy}").get_data(as_text=True)
    themed = api.create(amount=62000, currency="KRW", theme="default").get_json()["id"]
    assert 'class="theme-default' in client.get(f"/pay/{themed}").get_data(as_text=True)


# ---- 전체 동의 -----------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["kakao_pay", "card", "kr_virtual_account"])
def test_server_refuses_without_the_required_consents(api: Api, client: FlaskClient,
                                                      method: str) -> None:
    sid = create_krw(api)
    fields = {"card": card_fields(consent_all="")}.get(method, {"deposit_bank": "kb",
                                                                 "depositor_name": "홍길동"})
    fields = {k: v for k, v in fields.items() if not k.startswith("consent")}
    response = submit(client, sid, method, headers={"Accept-Language": "ko"},
                      consent_terms="1", consent_marketing="1", **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "결제하려면 필수 항목에 동의해 주세요" in html
    assert "개인정보 수집·이용 동의" in html  # names what is missing
    assert 'id="consent-error" role="alert"' in html
    # What was ticked stays ticked; what was not stays unticked.
    assert re.search(r'name="consent_terms" value="1"[^>]*\schecked>', html)
    assert not re.search(r'name="consent_privacy_collection" value="1"[^>]*\schecked>', html)
    assert api.get(sid).get_json()["payments"] == []  # nothing reached the gateway


def test_agree_to_all_alone_works_without_javascript(app: Flask, api: Api,
                                                    client: FlaskClient) -> None:
    sid = create_krw(api)
    response = submit(client, sid, "kakao_pay", consent_all="1")
    assert response.status_code == 303
    payment = api.get(sid).get_json()["payments"][0]
    assert payment["details"]["consents"] == {
        "terms": True, "privacy_collection": True, "privacy_third_party": True,
        "electronic_finance": True, "marketing": True}


def test_required_items_only_leave_marketing_unticked(api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    assert submit(client, sid, "kakao_pay", **REQUIRED_ONLY).status_code == 303
    assert api.get(sid).get_json()["payments"][0]["details"]["consents"]["marketing"] is False


def test_consent_block_renders_items_with_view_links(api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    html = client.get(f"/pay/{sid}", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "전체 동의" in html and html.count("[필수]") == 4 and "[선택]" in html
    assert 'data-consent-required' in html
    link = re.search(rf'href="(/pay/{sid}/terms/privacy_collection)"', html)
    assert link
    text = client.get(link.group(1), headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "수집 항목" in text and "보유 기간" in text
    assert client.get(f"/pay/{sid}/terms/nothing").status_code == 404


def test_merchant_consents_replace_the_defaults(app: Flask, merchant: MerchantInfo, api: Api,
                                                client: FlaskClient) -> None:
    set_korea(app, merchant.id, consents=[
        {"id": "terms", "required": True, "url": "https://shop.example/terms"},
        {"id": "age", "required": True,
         "title": {"ko": "만 14세 이상입니다", "en": "I am 14 or older"},
         "text": {"ko": "만 14세 미만은 결제할 수 없어요."}},
    ])
    sid = create_krw(api)
    html = client.get(f"/pay/{sid}", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "만 14세 이상입니다" in html and "이용약관 동의" in html
    assert "개인정보 제3자 제공" not in html and 'href="https://shop.example/terms"' in html
    assert client.get(f"/pay/{sid}/terms/terms").location == "https://shop.example/terms"
    assert submit(client, sid, "kakao_pay", consent_terms="1").status_code == 422
    assert submit(client, sid, "kakao_pay", consent_terms="1", consent_age="1").status_code == 303


def test_consent_settings_are_validated() -> None:
    from checkout.markets.korea.consent import validate_settings

    for bad in ([], [{"id": "Bad Id"}], [{"id": "x"}], [{"id": "terms"}, {"id": "terms"}],
                [{"id": "terms", "url": "javascript:alert(1)"}]):
        with pytest.raises(ValueError):
            validate_settings(bad)
    assert validate_settings([{"id": "terms"}]) == [{"id": "terms"}]


def test_japanese_sessions_have_no_korean_consent(api: Api, client: FlaskClient) -> None:
    jpy = api.create(amount=12800, currency="JPY").get_json()["id"]
    assert "data-consent" not in client.get(f"/pay/{jpy}").get_data(as_text=True)


# ---- wallets: phone (redirect) and computer (QR + polling) ----------------------------------

PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 Mobile"}


@pytest.mark.parametrize("wallet", ["kakao_pay", "naver_pay", "toss_pay", "samsung_pay", "payco"])
def test_wallet_on_a_phone_redirects_to_the_app_and_back(app: Flask, api: Api, client: FlaskClient,
                                                         wallet: str) -> None:
    sid = create_krw(api)
    response = submit(client, sid, wallet, device="phone", **ALL_AGREED)
    approval = response.location
    assert urlsplit(approval).path.startswith("/sandbox/wallet/gwpay_")
    page = client.get(approval, headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "₩62,000" in page and "결제 승인하기" in page
    answer = client.post(approval, data={"csrf_token": csrf_from(page), "outcome": "approve"})
    assert handed_off_to(answer).endswith(f"/pay/{sid}/return")
    assert follow_to_success(client, client.get(handed_off_to(answer))).startswith("https://shop.example/ok")
    session = api.get(sid).get_json()
    assert session["payment_status"] == "paid"
    assert session["payments"][0]["method"] == wallet
    assert session["payments"][0]["details"]["wallet_display"] == "redirect"
    assert events(app, sid) == ["checkout.session.completed"]


def test_wallet_on_a_computer_shows_a_qr_and_moves_on_by_polling(api: Api,
                                                                 client: FlaskClient) -> None:
    sid = create_krw(api)
    response = submit(client, sid, "kakao_pay", device="desktop", **ALL_AGREED)
    assert response.location.endswith(f"/pay/{sid}/wallet")
    html = client.get(response.location, headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "<svg" in html and 'class="qr__svg"' in html and "카카오페이로 결제" in html
    qr_target = re.search(r'data-qr-target="([^"]+)"', html).group(1)
    assert qr_target.startswith("http://localhost/sandbox/wallet/")
    assert qr_target.endswith("?via=qr")
    poll = f"/pay/{sid}/wallet/status"
    assert f'data-hx-get="{poll}"' in html and 'data-hx-trigger="every 2s"' in html
    waiting = client.get(poll, headers={"HX-Request": "true"})
    assert waiting.status_code == 200 and "HX-Redirect" not in waiting.headers

    # The phone scans the QR and approves; it stays on the wallet page.
    phone = client.application.test_client()
    scanned = phone.get(qr_target, headers={"Accept-Language": "ko"}).get_data(as_text=True)
    done = phone.post(qr_target, data={"csrf_token": csrf_from(scanned), "outcome": "approve",
                                       "via": "qr"}, headers={"Accept-Language": "ko"})
    assert done.status_code == 200 and "컴퓨터 화면에서 계속" in done.get_data(as_text=True)

    final = client.get(poll, headers={"HX-Request": "true"})
    assert final.status_code == 286  # htmx stops polling
    assert final.headers["HX-Redirect"].startswith("https://shop.example/ok?session_id=")
    assert api.get(sid).get_json()["payment_status"] == "paid"
    # Without JavaScript, the page itself moves on once it is final.
    assert client.get(f"/pay/{sid}/wallet").location.startswith("https://shop.example/ok")


def test_without_javascript_a_computer_is_redirected_too(api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    response = submit(client, sid, "naver_pay", **ALL_AGREED)  # no device field at all
    assert urlsplit(response.location).path.startswith("/sandbox/wallet/")


def test_device_decision() -> None:
    from checkout.wallets import wallet_display

    desktop_ua = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130 Safari/537.36"}
    assert wallet_display({"device": "desktop"}, PHONE) == "qr"  # the page knows best
    assert wallet_display({"device": "phone"}, desktop_ua) == "redirect"
    assert wallet_display({"device": "unknown"}, {"Sec-CH-UA-Mobile": "?1"}) == "redirect"
    assert wallet_display({"device": "unknown"}, {"Sec-CH-UA-Mobile": "?0", **PHONE}) == "qr"
    assert wallet_display({"device": "unknown"}, PHONE) == "redirect"
    assert wallet_display({"device": "unknown"}, desktop_ua) == "qr"
    assert wallet_display({}, desktop_ua) == "redirect"  # no JavaScript: nothing would poll


def test_wallet_cancelled_in_the_app_returns_to_the_methods(api: Api,
                                                           client: FlaskClient) -> None:
    sid = create_krw(api)
    approval = submit(client, sid, "toss_pay", device="phone", **ALL_AGREED).location
    page = client.get(approval).get_data(as_text=True)
    back = client.post(approval, data={"csrf_token": csrf_from(page), "outcome": "cancel"})
    returned = client.get(handed_off_to(back))
    assert returned.location.endswith(f"/pay/{sid}?method=toss_pay")
    html = client.get(returned.location, headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "결제가 취소되어 청구된 금액은 없어요" in html
    # Nobody refused the shopper: the heading says cancelled, not declined.
    assert "결제가 취소되었습니다" in html and "결제가 거절되었습니다" not in html
    session = api.get(sid).get_json()
    assert session["status"] == "open"
    assert session["payments"][0]["failure_code"] == "payment_canceled"
    # A new attempt works.
    paid = submit(client, sid, "card", **card_fields())
    assert paid.location.startswith("https://shop.example/ok")


def test_choosing_another_method_cancels_the_qr_so_a_late_approval_cannot_charge(
        api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    submit(client, sid, "kakao_pay", device="desktop", **ALL_AGREED)
    html = client.get(f"/pay/{sid}/wallet").get_data(as_text=True)
    qr_target = re.search(r'data-qr-target="([^"]+)"', html).group(1)
    back = client.post(f"/pay/{sid}/wallet/cancel", data={"csrf_token": csrf_from(html)})
    assert back.location.endswith(f"/pay/{sid}?method=kakao_pay")
    phone = client.application.test_client()
    late = phone.get(qr_target).get_data(as_text=True)
    assert "결제 승인하기" not in late and "Approve payment" not in late
    # A late approval posted anyway (a page left open), with the page's own token (htmx's).
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', late)
    assert token
    phone.post(qr_target, data={"csrf_token": token.group(1), "outcome": "approve", "via": "qr"})
    paid_by_card = submit(client, sid, "card", **card_fields())
    assert paid_by_card.location.startswith("https://shop.example/ok")
    payments = api.get(sid).get_json()["payments"]
    assert [p["status"] for p in payments] == ["failed", "succeeded"]
    assert payments[0]["failure_code"] == "payment_canceled"


def test_sandbox_gateway_over_http_knows_korean_wallets_and_cancels(tmp_path: Any) -> None:
    import httpx

    from checkout.gateway.base import FAILED, REQUIRES_ACTION, PaymentRequest
    from checkout.gateway.http import HttpGateway
    from checkout.gateway.sandbox.server import create_sandbox_app

    sandbox = create_sandbox_app(f"sqlite:///{tmp_path / 'gw.db'}", secret="s",
                                 public_url="http://gw.test", events_url=None)
    gateway = HttpGateway("http://gw.test", "s", transport=httpx.WSGITransport(app=sandbox))
    created = gateway.create_payment(PaymentRequest(
        idempotency_key="cs_1:1", amount=62000, currency="KRW", method="kakao_pay",
        return_url="http://kessai.test/pay/cs_1/return", details={"wallet_display": "qr"}))
    assert created.status == REQUIRES_ACTION and created.next_action["type"] == "qr"
    assert created.next_action["qr_url"] == f"http://gw.test/sandbox/wallet/{created.id}?via=qr"
    cancelled = gateway.cancel_payment(created.id)
    assert cancelled.status == FAILED and cancelled.failure_code == "payment_canceled"


# ---- card: company and 할부 -----------------------------------------------------------------

def test_instalments_offered_from_fifty_thousand_won(api: Api, client: FlaskClient) -> None:
    at = client.get(f"/pay/{create_krw(api, 50_000)}?method=card").get_data(as_text=True)
    assert 'name="instalment_months"' in at and '<option value="12"' in at
    assert '<option value="1"' not in at and '<option value="13"' not in at
    below = client.get(f"/pay/{create_krw(api, 49_000)}?method=card",
                       headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert '<select class="field__input" id="instalment_months"' not in below
    assert 'type="hidden" name="instalment_months" value="0"' in below
    assert "할부는 ₩50,000 이상 결제할 때 이용할 수 있어요" in below
    assert "신한카드" in below and "KB국민카드" in below and "NH농협카드" in below


def test_instalments_below_the_minimum_are_refused(api: Api, client: FlaskClient) -> None:
    sid = create_krw(api, 49_000)
    response = submit(client, sid, "card", **card_fields(instalment_months="3"))
    assert response.status_code == 422
    assert api.get(sid).get_json()["payments"] == []


def test_card_company_is_required_for_won(api: Api, client: FlaskClient) -> None:
    response = submit(client, create_krw(api), "card", headers={"Accept-Language": "ko"},
                      **card_fields(card_company=""))
    assert response.status_code == 422
    assert "카드사를 선택해 주세요" in response.get_data(as_text=True)


def test_instalment_choice_reaches_gateway_api_and_result_page(
        app: Flask, merchant: MerchantInfo, api: Api, client: FlaskClient) -> None:
    set_korea(app, merchant.id, interest_free={"shinhan": [2, 3, 4, 5, 6], "kb": [2, 3]})
    sid = create_krw(api, 50_000)
    form = client.get(f"/pay/{sid}?method=card", headers={"Accept-Language": "ko"}).get_data(
        as_text=True)
    assert 'data-interest-free="2,3,4,5,6"' in form and "무이자 할부:" in form
    assert "신한카드 2~6개월" in form and "KB국민카드 2~3개월" in form
    response = submit(client, sid, "card", **card_fields(instalment_months="3"))
    assert response.location.startswith("https://shop.example/ok")
    payment = api.get(sid).get_json()["payments"][0]
    assert payment["details"]["card_company"] == "shinhan"
    assert payment["details"]["instalment_months"] == 3
    assert payment["details"]["interest_free"] is True
    with app.app_context():
        from checkout.models import SandboxPayment

        sent = get_db().query(SandboxPayment).one().details
    assert (sent["card_company"], sent["instalment_months"]) == ("shinhan", 3)
    result = client.get(f"/pay/{sid}", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "신한카드 · 3개월 무이자 할부" in result


def test_lump_sum_and_abroad_cards(api: Api, client: FlaskClient) -> None:
    sid = create_krw(api, 80_000)
    abroad = submit(client, sid, "card", **card_fields(card_company="other", instalment_months="6"))
    assert abroad.status_code == 422
    assert submit(client, sid, "card", **card_fields(card_company="other")).status_code == 303
    details = api.get(sid).get_json()["payments"][0]["details"]
    assert details["instalment_months"] == 0 and details["interest_free"] is False


# ---- 가상계좌 ---------------------------------------------------------------------------------

def test_virtual_account_issued_then_deposited(app: Flask, api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    response = submit(client, sid, "kr_virtual_account", deposit_bank="shinhan",
                      depositor_name="홍길동", **ALL_AGREED)
    slip_url = response.location
    assert "/slip/" in slip_url
    session = api.get(sid).get_json()
    assert (session["status"], session["payment_status"]) == ("complete", "unpaid")
    assert events(app, sid) == ["checkout.session.completed"]
    html = client.get(urlsplit(slip_url).path, headers={"Accept-Language": "ko"}).get_data(
        as_text=True)
    assert "가상계좌 입금 안내" in html and "신한은행" in html and "예금주" in html
    assert "₩62,000" in html and "입금자명" in html and "홍길동" in html
    with app.app_context():
        voucher = get_db().query(Voucher).one()
        account = voucher.data["fields"]["account_number"]
        deadline = voucher.expires_at
    assert len(account) == 12 and account.startswith("9") and account in html.replace(" ", "")
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    local = datetime.fromtimestamp(deadline, UTC).astimezone(ZoneInfo("Asia/Seoul"))
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    assert 2 * 86400 < deadline - now() <= 4 * 86400
    assert "대한민국 시간" in html  # the deadline names its zone (KST)
    # The shopper deposits (입금) into the account: the slip and its test button say so.
    assert "입금을 기다리고 있어요" in html and "입금 시뮬레이션" in html
    assert "결제 시뮬레이션" not in html

    simulate = re.search(r'action="([^"]+/simulate)"', html).group(1)
    client.post(simulate, data={"csrf_token": csrf_from(html), "outcome": "paid"})
    assert api.get(sid).get_json()["payment_status"] == "paid"
    paid = client.get(urlsplit(slip_url).path, headers={"Accept-Language": "ko"}).get_data(
        as_text=True)
    assert "입금이 확인됐어요" in paid
    assert events(app, sid) == ["checkout.session.completed",
                                "checkout.session.async_payment_succeeded"]


def test_a_shopper_in_utc_reads_the_zone_plainly(api: Api, client: FlaskClient) -> None:
    """CLDR names UTC "알려지지 않은 지역(UTC) 시간" / "不明な地域（UTC）時間"; a browser in UTC
    (many phones abroad, every CI machine) must read "UTC" next to its own deadline."""
    sid = create_krw(api)
    slip_url = submit(client, sid, "kr_virtual_account", deposit_bank="shinhan",
                      depositor_name="홍길동", **ALL_AGREED).location
    client.set_cookie("kessai_tz", "UTC")
    for language in ("ko", "ja", "zh-Hans", "en"):
        html = client.get(urlsplit(slip_url).path,
                          headers={"Accept-Language": language}).get_data(as_text=True)
        assert "UTC" in html, language
        assert not any(unknown in html for unknown in (
            "알려지지 않은 지역", "不明な地域", "未知地区", "Unknown Region")), language


def test_virtual_account_expires(app: Flask, merchant: MerchantInfo, api: Api,
                                 client: FlaskClient) -> None:
    set_korea(app, merchant.id, virtual_account_days=1)
    sid = create_krw(api)
    submit(client, sid, "kr_virtual_account", deposit_bank="kb", depositor_name="김민지",
           **ALL_AGREED)
    with app.app_context():
        voucher = get_db().query(Voucher).one()
        assert voucher.expires_at - now() <= 2 * 86400
        voucher.expires_at = now() - 1
        get_db().commit()
        from checkout.vouchers import expire_overdue_vouchers

        assert expire_overdue_vouchers() == 1
    session = api.get(sid).get_json()
    assert session["payments"][0]["status"] == "expired"
    assert events(app, sid)[-1] == "checkout.session.async_payment_failed"


def test_virtual_account_form_errors(api: Api, client: FlaskClient) -> None:
    response = submit(client, create_krw(api), "kr_virtual_account",
                      headers={"Accept-Language": "ko"}, deposit_bank="", depositor_name=" ",
                      **ALL_AGREED)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "가상계좌를 발급받을 은행을 선택해 주세요" in html and "입금자명을 입력해 주세요" in html


# ---- 휴대폰 결제 and 계좌이체 ---------------------------------------------------------------

def test_carrier_billing_formats_the_number_and_redirects(api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    response = submit(client, sid, "kr_mobile_carrier", carrier="kt", phone="０１０ 1234 5678",
                      **ALL_AGREED)
    assert urlsplit(response.location).path.startswith("/sandbox/wallet/")
    details = api.get(sid).get_json()["payments"][0]["details"]
    assert (details["carrier"], details["phone"]) == ("kt", "010-1234-5678")


def test_carrier_billing_errors_and_refusal(api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    bad = submit(client, sid, "kr_mobile_carrier", headers={"Accept-Language": "ko"},
                 carrier="", phone="02-123-4567", **ALL_AGREED)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "통신사를 선택해 주세요" in html
    assert "010-1234-5678 형식으로" in html
    refused = submit(client, sid, "kr_mobile_carrier", carrier="skt", phone="010-0000-0002",
                     **ALL_AGREED)
    assert refused.location.endswith(f"/pay/{sid}?method=kr_mobile_carrier")
    page = client.get(refused.location, headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "통신사에서 결제를 거절했어요" in page


def test_bank_transfer_redirects_to_the_bank(api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    response = submit(client, sid, "kr_bank_transfer", device="desktop", **ALL_AGREED)
    assert urlsplit(response.location).path.startswith("/sandbox/wallet/")  # no QR for banks


@pytest.mark.parametrize(("typed", "expected"), [
    ("01012345678", "010-1234-5678"), ("010-1234-5678", "010-1234-5678"),
    ("+82 10 1234 5678", "010-1234-5678"), ("０１０１２３４５６７８", "010-1234-5678"),
    ("0111234567", "011-123-4567"), ("0101234567", None), ("021234567", None), ("", None),
])
def test_mobile_numbers(typed: str, expected: str | None) -> None:
    from checkout.markets.korea.phone import normalize_mobile

    assert normalize_mobile(typed) == expected


def test_phone_format_for_seoul_numbers() -> None:
    from checkout.markets.korea.phone import format_phone

    assert format_phone("0212345678") == "02-1234-5678"
    assert format_phone("021234567") == "02-123-4567"


# ---- SMS receipts --------------------------------------------------------------------------

def test_sms_receipt_after_a_wallet_payment(app: Flask, api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    approval = submit(client, sid, "kakao_pay", headers={"Accept-Language": "ko"},
                      device="phone", sms_receipt="1", sms_phone="01098765432",
                      **ALL_AGREED).location
    page = client.get(approval).get_data(as_text=True)
    client.post(approval, data={"csrf_token": csrf_from(page), "outcome": "approve"})
    with app.app_context():
        messages = get_db().query(Notification).all()
        assert [(m.recipient, m.kind) for m in messages] == [("010-9876-5432", "receipt")]
        assert "₩62,000" in messages[0].body and "카카오페이" in messages[0].body
        assert messages[0].body.startswith("[Sakura Tea]") and "완료되었습니다" in messages[0].body
        assert messages[0].sent_at is None
        assert deliver_due() == 1 and deliver_due() == 0
        assert get_db().query(Notification).one().provider == "sandbox"
    shown = client.get(f"/demo/sessions/{sid}/messages.json").get_json()["messages"]
    assert shown[0]["to"] == "010-9876-5432"


def test_sms_receipt_needs_a_valid_number(api: Api, client: FlaskClient) -> None:
    response = submit(client, create_krw(api), "kakao_pay", sms_receipt="1", sms_phone="123",
                      **ALL_AGREED)
    assert response.status_code == 422 and 'id="sms_phone"' in response.get_data(as_text=True)


def test_virtual_account_details_by_sms_then_receipt(app: Flask, api: Api,
                                                     client: FlaskClient) -> None:
    sid = create_krw(api)
    slip = submit(client, sid, "kr_virtual_account", headers={"Accept-Language": "ko"},
                  deposit_bank="woori", depositor_name="이서연", sms_receipt="1",
                  sms_phone="010-2222-3333", **ALL_AGREED).location
    html = client.get(urlsplit(slip).path).get_data(as_text=True)
    simulate = re.search(r'action="([^"]+/simulate)"', html).group(1)
    client.post(simulate, data={"csrf_token": csrf_from(html), "outcome": "paid"})
    with app.app_context():
        messages = get_db().query(Notification).order_by(Notification.created).all()
        assert [m.kind for m in messages] == ["virtual_account_issued", "receipt"]
        assert "우리은행" in messages[0].body and "입금해 주세요" in messages[0].body


# ---- CLI -----------------------------------------------------------------------------------

def test_configure_korea_cli(app: Flask, merchant: MerchantInfo, database_url: str,
                             monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from checkout.cli import main

    monkeypatch.setenv("KESSAI_DATABASE_URL", database_url)
    runner = CliRunner()
    result = runner.invoke(main, ["merchants", "configure-korea", merchant.id,
                                  "--interest-free", "shinhan=2-6", "--interest-free", "bc=2,3",
                                  "--virtual-account-days", "5"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"interest_free": {"shinhan": [2, 3, 4, 5, 6],
                                                           "bc": [2, 3]},
                                         "virtual_account_days": 5}
    consents = tmp_path / "consents.json"
    consents.write_text(json.dumps([{"id": "terms", "required": True}]))
    result = runner.invoke(main, ["merchants", "configure-korea", merchant.id,
                                  "--consents", str(consents), "--interest-free", "kb=3"])
    assert result.exit_code == 0, result.output
    saved = json.loads(result.output)
    assert saved["consents"] == [{"id": "terms", "required": True}]
    assert saved["interest_free"]["kb"] == [3] and saved["interest_free"]["shinhan"]
    for bad in (["--interest-free", "shinhan=1-13"], ["--interest-free", "nobank=2"]):
        assert runner.invoke(main, ["merchants", "configure-korea", merchant.id, *bad]).exit_code


def test_demo_order_page_shows_the_texts_the_shopper_got(client: FlaskClient) -> None:
    shop = client.get("/demo/").get_data(as_text=True)
    started = client.post("/demo/checkout/kr", data={"csrf_token": csrf_from(shop)})
    session_id = urlsplit(started.location).path.rsplit("/", 1)[-1]
    approval = submit(client, session_id, "kakao_pay", headers={"Accept-Language": "ko"},
                      device="phone", sms_receipt="1", sms_phone="010-5555-0000",
                      **ALL_AGREED).location
    page = client.get(approval).get_data(as_text=True)
    back = client.post(approval, data={"csrf_token": csrf_from(page), "outcome": "approve"})
    success = follow_to_demo(client, client.get(handed_off_to(back)))
    html = client.get(success, headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert 'data-testid="sms-inbox"' in html and "010-5555-0000" in html
    assert "₩62,000 결제(카카오페이)가 완료되었습니다" in html


def test_a_configured_notifier_sends_and_failures_are_retried(app: Flask, api: Api,
                                                             client: FlaskClient) -> None:
    from checkout.notify import NotifierError

    class Flaky:
        name = "flaky"
        sent: list[tuple[str, str]] = []
        fail = True

        def __init__(self, config: Any) -> None:
            pass

        def send_sms(self, to: str, body: str) -> str:
            if Flaky.fail:
                Flaky.fail = False
                raise NotifierError("provider timeout")
            Flaky.sent.append((to, body))
            return "provider-msg-1"

    import sys
    import types

    module = types.ModuleType("kessai_test_notifier")
    module.Flaky = Flaky  # type: ignore[attr-defined]
    sys.modules["kessai_test_notifier"] = module
    app.config["NOTIFIER"] = "kessai_test_notifier:Flaky"
    # create_app builds the configured notifier once; this app was built before the config.
    from checkout.notify import build_notifier

    app.extensions["kessai.notifier"] = build_notifier(app.config)
    sid = create_krw(api)
    submit(client, sid, "card", **card_fields(sms_receipt="1", sms_phone="01011112222"))
    with app.app_context():
        assert deliver_due() == 0  # the provider failed: kept for the next tick
        message = get_db().query(Notification).one()
        assert (message.sent_at, message.last_error) == (None, "provider timeout")
        assert deliver_due() == 1
        message = get_db().query(Notification).one()
        assert (message.provider, message.provider_message_id) == ("flaky", "provider-msg-1")
    assert Flaky.sent[0][0] == "010-1111-2222" and "Shinhan Card" in Flaky.sent[0][1]


def test_qr_page_of_an_expired_session_goes_to_the_expired_page(api: Api,
                                                                client: FlaskClient) -> None:
    sid = create_krw(api)
    submit(client, sid, "kakao_pay", device="desktop", **ALL_AGREED)
    expired = client.post(f"/v1/checkout/sessions/{sid}/expire", headers=api.headers())
    # Expiring cancels the waiting wallet payment at the gateway first: no late approval.
    assert [p["status"] for p in expired.get_json()["payments"]] == ["failed"]
    page = client.get(f"/pay/{sid}/wallet")
    assert page.status_code == 303 and page.location.endswith(f"/pay/{sid}")
    assert client.get(page.location).status_code == 410
    poll = client.get(f"/pay/{sid}/wallet/status", headers={"HX-Request": "true"})
    assert poll.status_code == 286 and poll.headers["HX-Redirect"].endswith(f"/pay/{sid}")


def test_back_from_the_wallet_and_paying_by_card_gives_the_wallet_up(
        api: Api, client: FlaskClient) -> None:
    sid = create_krw(api)
    approval = submit(client, sid, "payco", device="phone", **ALL_AGREED).location
    # Browser back: the page still carries attempt 1, which the wallet payment holds.
    html = client.get(f"/pay/{sid}?method=card").get_data(as_text=True)
    assert 'name="attempt" value="1"' in html
    paid = client.post(f"/pay/{sid}", data={"csrf_token": csrf_from(html), "method": "card",
                                             "attempt": "1", **card_fields()})
    assert paid.location.startswith("https://shop.example/ok")
    payments = api.get(sid).get_json()["payments"]
    assert [(p["method"], p["status"]) for p in payments] == [("payco", "failed"),
                                                              ("card", "succeeded")]
    late = client.get(approval).get_data(as_text=True)  # the wallet app, too late
    assert "결제 승인하기" not in late and "Approve payment" not in late
