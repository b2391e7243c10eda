"""Japan in a real browser (ja-JP, Asia/Tokyo): konbini slips at every chain, the QR code read
back by a real decoder, simulated payment and expiry followed by polling, print media, card
instalments, postal autofill, a phone, and PayPay: a QR on a computer approved on a phone
(the computer's page moves on by polling), a redirect on a phone. axe finds nothing on any new
state."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import zxingcpp
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request, expect

from checkout.db import get_db
from checkout.markets.japan.settings import update_japan_settings
from checkout.models import Merchant

from servers import wait_until

LEGAL = {
    "seller": "株式会社さくら茶舗", "address": "東京都千代田区千代田1-1", "phone": "03-1234-5678",
    "email": "shop@example.jp", "prices": "各商品ページに記載（税込）", "fees": "送料 ¥600",
    "payment_methods": "クレジットカード、コンビニ払い", "delivery": "ご入金確認後3営業日以内に発送",  # noqa: E501
    "returns": "未開封品に限り到着後7日以内",
}
CHAIN_LABELS = {"seven_eleven": "セブン-イレブン", "lawson": "ローソン", "familymart": "ファミリーマート",  # noqa: E501
                "ministop": "ミニストップ", "daily_yamazaki": "デイリーヤマザキ", "seicomart": "セイコーマート"}  # noqa: E501
CHAIN_FIELDS = {"seven_eleven": ["払込票番号"], "lawson": ["お支払い受付番号", "確認番号"],
                "ministop": ["お支払い受付番号", "確認番号"], "familymart": ["受付番号", "確認番号"],  # noqa: E501
                "seicomart": ["受付番号", "確認番号"], "daily_yamazaki": ["オンライン決済番号"]}
CHAIN_STEP = {"seven_eleven": "インターネットショッピング代金の支払い", "lawson": "Loppi",
              "ministop": "Loppi", "familymart": "マルチコピー機", "seicomart": "タッチパネル",
              "daily_yamazaki": "オンライン決済"}


@pytest.fixture
def live_server_config() -> dict[str, Any]:
    return {"VOUCHER_POLL_SECONDS": 1}


@pytest.fixture
def shop(live_server: Any) -> Any:
    with live_server.app.app_context():
        merchant = get_db().get(Merchant, live_server.merchant_id)
        update_japan_settings(merchant, legal=LEGAL)
        get_db().commit()
    return live_server


@pytest.fixture
def tokyo(browser: Browser) -> BrowserContext:
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    yield context
    context.close()


@pytest.fixture
def iphone(browser: Browser, playwright: Playwright) -> BrowserContext:
    context = browser.new_context(**playwright.devices["iPhone 13"], locale="ja-JP",
                                  timezone_id="Asia/Tokyo")
    yield context
    context.close()


def no_axe_violations(page: Page, state: str) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, f"{state}: {results.generate_report()}"


def fill_konbini(page: Page, store: str) -> None:
    page.get_by_label(CHAIN_LABELS[store], exact=True).check()
    page.get_by_label("姓", exact=True).fill("山田")
    page.get_by_label("名", exact=True).fill("花子")
    page.get_by_label("セイ（フリガナ）").fill("やまだ")
    page.get_by_label("メイ（フリガナ）").fill("ﾊﾅｺ")
    page.get_by_label("メールアドレス").fill("hanako@example.jp")
    page.get_by_label("電話番号").fill("０９０－１２３４－５６７８")


def test_a_travelling_shoppers_zone_reaches_the_server_from_the_first_page(
        shop: Any, browser: Browser) -> None:
    """checkout.js tells the server the browser's zone (a cookie) without blocking the page:
    Temporal where the browser has it, else Intl at an idle moment (its first call costs a
    phone ~100 ms). The first post already carries it."""
    context = browser.new_context(locale="ja-JP", timezone_id="America/Los_Angeles")
    page = context.new_page()
    session = shop.create_session(amount=4800)
    page.goto(session["url"] + "?method=konbini")
    fill_konbini(page, "lawson")
    with page.expect_request(lambda r: r.method == "POST" and "/pay/" in r.url) as posted:
        page.get_by_role("button", name="払込番号を発行する").click()
    assert "kessai_tz=America%2FLos_Angeles" in (posted.value.header_value("cookie") or "")
    page.wait_for_url("**/slip/**")
    context.close()

    # A browser without Temporal (Safari today): Intl, once the page is idle.
    context = browser.new_context(locale="ja-JP", timezone_id="America/Los_Angeles")
    context.add_init_script("delete window.Temporal;")
    page = context.new_page()
    page.goto(shop.create_session(amount=4800)["url"])
    wait_until(lambda: any(c["name"] == "kessai_tz" and c["value"] == "America%2FLos_Angeles"
                           for c in context.cookies()), what="the zone cookie")
    context.close()


def test_konbini_slip_at_each_chain_qr_print_and_payment(shop: Any, tokyo: BrowserContext,
                                                         webhook_receiver: Any) -> None:
    page = tokyo.new_page()
    # Errors first: natural Japanese next to each field, what was typed kept.
    session = shop.create_session(amount=4800)
    page.goto(session["url"] + "?method=konbini")
    expect(page.get_by_role("heading", name="お支払い", exact=True)).to_be_visible()
    no_axe_violations(page, "konbini form")
    page.get_by_label("姓", exact=True).fill("山田")
    page.get_by_role("button", name="払込番号を発行する").click()
    expect(page.get_by_text("お支払いいただくコンビニを選択してください。")).to_be_visible()
    expect(page.get_by_label("姓", exact=True)).to_have_value("山田")
    no_axe_violations(page, "konbini form with errors")

    slips: dict[str, str] = {}
    for store in CHAIN_LABELS:
        session = shop.create_session(amount=4800)
        page.goto(session["url"])
        if store == "seven_eleven":  # once through the method picker, as a shopper would
            page.get_by_role("link", name="コンビニ払い").click()
            expect(page.get_by_label(CHAIN_LABELS[store], exact=True)).to_be_visible()
            page.wait_for_load_state("networkidle")
        else:
            page.goto(session["url"] + "?method=konbini")
        fill_konbini(page, store)
        expect(page.get_by_label("セイ（フリガナ）")).to_have_value("ヤマダ")  # converted on change
        page.get_by_role("button", name="払込番号を発行する").click()
        page.wait_for_url("**/slip/**")
        slip = page.get_by_test_id("slip")
        expect(slip).to_contain_text(f"{CHAIN_LABELS[store]}でのお支払い")
        for label in CHAIN_FIELDS[store]:
            expect(slip.locator(".slip-fields__label", has_text=label).first).to_be_visible()
        expect(slip.locator(".slip-steps__item").first).to_be_visible()
        expect(slip).to_contain_text(CHAIN_STEP[store])
        expect(slip).to_contain_text("￥4,800")
        expect(slip.locator(".slip-deadline__value")).to_contain_text("23:59 日本時間")
        slips[store] = page.url
    assert len(set(slips.values())) == len(CHAIN_LABELS)

    # The Lawson slip in detail: QR → the slip URL (read by a real decoder), copy, print, pay.
    page.goto(slips["lawson"])
    no_axe_violations(page, "konbini slip awaiting payment")
    expect(page.get_by_role("button", name="コピー").first).to_be_visible()
    expect(page.locator(".slip-fields__row--confirmation_number")).to_contain_text("09012345678")
    png = page.locator(".qr__code").screenshot()
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [code.text for code in decoded] == [slips["lawson"]]

    page.emulate_media(media="print")
    expect(page.locator(".slip-sandbox")).to_be_hidden()
    expect(page.locator(".site-header")).to_be_hidden()
    for selector in (".slip-fields__row--receipt_number", ".slip-fields__row--confirmation_number",
                     ".slip-deadline__value", ".slip-steps__list", ".qr__code",
                     ".slip-summary__row--amount"):
        expect(page.locator(selector)).to_be_visible()
    page.emulate_media(media="screen")

    page.get_by_role("button", name="支払いをシミュレート").click()
    expect(page.locator("#slip-status")).to_have_attribute("data-state", "paid")
    expect(page.locator("#slip-status")).to_contain_text("お支払いを確認しました")
    no_axe_violations(page, "konbini slip paid")
    event = webhook_receiver.wait_for(
        lambda r: json.loads(r.body)["type"] == "checkout.session.async_payment_succeeded")
    paid = json.loads(event.body)["data"]["object"]
    assert paid["payment_status"] == "paid" and paid["payments"][0]["details"]["konbini"]["store"] == "lawson"  # noqa: E501
    completed = [e for e in webhook_receiver.events() if e["type"] == "checkout.session.completed"
                 and e["data"]["object"]["id"] == paid["id"]]
    assert completed and completed[0]["data"]["object"]["payment_status"] == "unpaid"


def test_slip_follows_the_gateway_by_polling_until_expired(shop: Any, tokyo: BrowserContext,
                                                           webhook_receiver: Any) -> None:
    page = tokyo.new_page()
    session = shop.create_session(amount=2500)
    page.goto(session["url"] + "?method=konbini")
    fill_konbini(page, "seven_eleven")
    page.get_by_role("button", name="払込番号を発行する").click()
    page.wait_for_url("**/slip/**")
    # The deadline passes elsewhere: the merchant's test helper tells the gateway; the open
    # page notices by itself (htmx polling) and then stops polling (HTTP 286).
    payment_id = shop.get_session(session["id"])["payments"][0]["id"]
    client = shop.app.test_client()
    response = client.post(f"/v1/test_helpers/payments/{payment_id}/simulate",
                           json={"outcome": "expired"},
                           headers={"Authorization": f"Bearer {shop.secret_key}"})
    assert response.status_code == 200
    with page.expect_response(lambda r: "/status" in r.url and r.status == 286):
        pass
    expect(page.locator("#slip-status")).to_have_attribute("data-state", "expired")
    expect(page.locator("#slip-status")).to_contain_text("お支払い期限が過ぎました")
    no_axe_violations(page, "konbini slip expired")
    webhook_receiver.wait_for(
        lambda r: json.loads(r.body)["type"] == "checkout.session.async_payment_failed")


def test_card_with_12_instalments(shop: Any, tokyo: BrowserContext) -> None:
    page = tokyo.new_page()
    session = shop.create_session(amount=128000, success_url=f"{shop.url}/pay/{{CHECKOUT_SESSION_ID}}")  # noqa: E501
    page.goto(session["url"])
    expect(page.locator("body")).to_have_class("theme-jp-red")
    page.get_by_label("お支払い回数").select_option(label="分割払い（12回）")
    no_axe_violations(page, "card form with instalments")
    page.get_by_label("カード番号").fill("3530111333300000")
    page.get_by_label("有効期限（MM/YY）").fill("12/34")
    page.get_by_label("セキュリティコード").fill("123")
    page.get_by_label("カード名義人").fill("HANAKO YAMADA")
    page.locator("[data-pay-button]").click()
    page.wait_for_url(f"**/pay/{session['id']}")
    expect(page.get_by_test_id("instalments")).to_contain_text("分割払い（12回）")
    no_axe_violations(page, "result with instalments")
    payment = shop.get_session(session["id"])["payments"][0]
    assert payment["details"]["instalments"] == {"plan": "split", "count": 12}


def test_postal_autofill_and_legal_page(shop: Any, tokyo: BrowserContext) -> None:
    page = tokyo.new_page()
    session = shop.create_session(amount=4800, address_collection="shipping")
    page.goto(session["url"] + "?method=konbini")
    expect(page.get_by_role("group", name="お届け先住所")).to_be_visible()
    page.get_by_label("郵便番号").press_sequentially("1500002")
    expect(page.get_by_label("都道府県")).to_have_value("東京都")
    expect(page.get_by_label("市区町村")).to_have_value("渋谷区")
    expect(page.get_by_label("町域・番地")).to_have_value("渋谷")
    expect(page.get_by_label("郵便番号")).to_have_value("150-0002")
    no_axe_violations(page, "address form filled")
    page.get_by_role("link", name="特定商取引法に基づく表記").first.click()
    expect(page.get_by_role("heading", name="特定商取引法に基づく表記")).to_be_visible()
    expect(page.locator(".legal")).to_contain_text("株式会社さくら茶舗")
    no_axe_violations(page, "legal disclosure page")


def test_konbini_on_a_phone(shop: Any, browser: Browser, playwright: Any) -> None:
    context = browser.new_context(**playwright.devices["iPhone 13"], locale="ja-JP",
                                  timezone_id="Asia/Tokyo")
    page = context.new_page()
    session = shop.create_session(amount=4800)
    page.goto(session["url"] + "?method=konbini")
    fill_konbini(page, "familymart")
    page.get_by_role("button", name="払込番号を発行する").click()
    page.wait_for_url("**/slip/**")
    slip = page.get_by_test_id("slip")
    expect(slip).to_contain_text("ファミリーマートでのお支払い")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the slip scrolls sideways on a phone"
    no_axe_violations(page, "konbini slip on a phone")
    context.close()


# ---- PayPay: a QR on a computer, a redirect on a phone ----------------------------------------

def yen_order(shop: Any) -> dict[str, Any]:
    """¥4,800 whose success page is Kessai's own result page (``/pay/<id>``, signed)."""
    return shop.create_session(amount=4800, success_url=f"{shop.url}/pay/{{CHECKOUT_SESSION_ID}}")


def is_result_page(url: str) -> bool:
    return "kessai_signature=" in url


def read_qr(page: Page) -> str:
    png = page.locator(".wallet-qr__code .qr__svg").screenshot()
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(decoded) == 1, "no QR code could be read"
    return str(decoded[0].text)


def paid_webhook(receiver: Any, session_id: str) -> dict[str, Any]:
    event = receiver.wait_for(lambda r: json.loads(r.body)["type"] == "checkout.session.completed"
                              and json.loads(r.body)["data"]["object"]["id"] == session_id)
    paid = json.loads(event.body)["data"]["object"]
    assert paid["payment_status"] == "paid"
    return paid["payments"][0]


def test_paypay_on_a_computer_qr_approved_on_a_phone_page_moves_on_by_itself(
        shop: Any, tokyo: BrowserContext, iphone: BrowserContext, webhook_receiver: Any) -> None:
    page = tokyo.new_page()
    session = yen_order(shop)
    page.goto(session["url"])
    page.get_by_role("link", name="PayPay", exact=True).click()
    expect(page.locator('[data-method="paypay"]')).to_have_attribute("aria-current", "true")
    page.get_by_role("button", name="PayPayで￥4,800を支払う").click()
    page.wait_for_url(f"**/pay/{session['id']}/wallet")
    expect(page.get_by_role("heading", name="PayPayで支払う")).to_be_visible()
    expect(page.get_by_test_id("wallet-amount")).to_have_text("￥4,800")
    expect(page.get_by_test_id("wallet-status")).to_contain_text("スマートフォンでの承認を待っています")
    no_axe_violations(page, "PayPay QR on a computer")
    target = read_qr(page)  # what a phone's camera reads: the sandbox wallet's approval page
    assert target.startswith(f"{shop.url}/sandbox/wallet/") and target.endswith("?via=qr")

    # From here nobody touches the computer: record what its page loads.
    documents: list[str] = []
    polls: list[Request] = []
    page.on("request", lambda r: documents.append(r.url) if r.resource_type == "document"
            else polls.append(r) if "/wallet/status" in r.url else None)

    scanner = iphone.new_page()
    scanner.goto(target)
    expect(scanner.get_by_role("heading", name="PayPayで支払いを承認")).to_be_visible()
    expect(scanner.get_by_test_id("sandbox-amount")).to_have_text("￥4,800")
    scanner.get_by_role("button", name="支払いを承認する").tap()
    expect(scanner.get_by_role("status")).to_contain_text("パソコンの画面でお進みください")

    page.wait_for_url(is_result_page)
    expect(page.locator(".result--success")).to_be_visible()
    # The QR page was never reloaded: htmx polled the status and the only page it loaded was
    # the result it was sent to.
    assert polls and all(r.headers.get("hx-request") == "true" for r in polls)
    assert documents == [page.url]
    payment = paid_webhook(webhook_receiver, session["id"])
    assert (payment["method"], payment["details"]["wallet_display"]) == ("paypay", "qr")


def test_paypay_on_a_phone_goes_to_the_wallet_and_back(shop: Any, iphone: BrowserContext,
                                                       webhook_receiver: Any) -> None:
    page = iphone.new_page()
    session = yen_order(shop)
    page.goto(f"{session['url']}?method=paypay")
    page.get_by_role("button", name="PayPayで￥4,800を支払う").tap()
    page.wait_for_url("**/sandbox/wallet/**")
    expect(page.get_by_role("heading", name="PayPayで支払いを承認")).to_be_visible()
    no_axe_violations(page, "PayPay approval page on a phone")
    page.get_by_role("button", name="支払いを承認する").tap()
    page.wait_for_url(is_result_page)
    expect(page.locator(".result--success")).to_be_visible()
    payment = paid_webhook(webhook_receiver, session["id"])
    assert (payment["method"], payment["details"]["wallet_display"]) == ("paypay", "redirect")
