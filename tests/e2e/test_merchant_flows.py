"""Every flow that ends at the merchant, met as a merchant's shoppers meet it: the shop on its
own origin (tests/e2e/merchant_site.py), by redirect and inside the shop's iframe.

Redirect: the browser must arrive at the shop's success_url with a valid kessai_signature.
Frame: the shop's page must receive kessai:complete (or kessai:cancel) and never leave.
Every page and every htmx swap on the way must still be one page (shopper.INTEGRITY_CHECK, in
every test of the browser suite), and no console error or CSP violation may appear: the ways
these flows used to break (a 3-D Secure approval stuck on the issuer's page by form-action; the
challenge page refusing to be framed) show up as CSP violations first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from merchant_site import Checkout, MerchantShop
from shopper import (
    CARD_3DS,
    CARD_DECLINED,
    CARD_OK,
    WITHOUT_PASSKEY_AUTOFILL,
    fill_card,
    pay_button,
    virtual_authenticator,
    watch,
)

MODES = ("redirect", "iframe")


@pytest.fixture
def contexts(browser: Browser, playwright: Any) -> Iterator[Callable[..., tuple[BrowserContext,
                                                                            list[str]]]]:
    made: list[BrowserContext] = []

    def make(locale: str = "en-US", phone: bool = False) -> tuple[BrowserContext, list[str]]:
        options: dict[str, Any] = {"locale": locale}
        if phone:
            device = dict(playwright.devices["iPhone 13"])
            device.pop("default_browser_type", None)
            options.update(device)
        context = browser.new_context(**options)
        made.append(context)
        return context, Problems(watch(context))

    yield make
    for context in made:
        context.close()


class Problems(list):  # type: ignore[type-arg]
    """``watch``'s list, less Chromium's notice that it ignores ``autofocus`` in a cross-origin
    frame (the decline notice asks for focus; in a shop's iframe the browser declines, by
    design — the notice is still announced as an alert)."""

    def __init__(self, found: list[str]) -> None:
        super().__init__()
        self._found = found

    def __eq__(self, other: object) -> bool:
        return [p for p in self._found if "Blocked autofocusing" not in p] == other

    def __repr__(self) -> str:
        return repr([p for p in self._found if "Blocked autofocusing" not in p])


def pay_by_card(view: Any, number: str) -> None:
    fill_card(view, number)
    view.locator("[data-pay-button]").click()


@pytest.mark.parametrize("mode", MODES)
def test_card(merchant_shop: MerchantShop, contexts: Any, mode: str) -> None:
    context, problems = contexts()
    checkout = Checkout(context.new_page(), merchant_shop, merchant_shop.create_session(), mode)
    pay_by_card(checkout.view, CARD_OK)
    checkout.expect_back_at_merchant()
    assert problems == []


@pytest.mark.parametrize("mode", MODES)
def test_decline_then_retry(merchant_shop: MerchantShop, contexts: Any, mode: str) -> None:
    context, problems = contexts()
    checkout = Checkout(context.new_page(), merchant_shop, merchant_shop.create_session(), mode)
    pay_by_card(checkout.view, CARD_DECLINED)
    expect(checkout.view.get_by_role("alert").first).to_contain_text("declined")
    pay_by_card(checkout.view, CARD_OK)
    session = checkout.expect_back_at_merchant()
    assert [p["status"] for p in session["payments"]] == ["failed", "succeeded"]
    assert problems == []


@pytest.mark.parametrize("mode", MODES)
def test_3ds_approved(merchant_shop: MerchantShop, contexts: Any, mode: str) -> None:
    context, problems = contexts()
    checkout = Checkout(context.new_page(), merchant_shop, merchant_shop.create_session(), mode)
    pay_by_card(checkout.view, CARD_3DS)
    checkout.view.get_by_role("button", name="Approve authentication").click()
    checkout.expect_back_at_merchant()
    assert problems == []


@pytest.mark.parametrize("mode", MODES)
def test_3ds_failed_then_another_card(merchant_shop: MerchantShop, contexts: Any,
                                      mode: str) -> None:
    context, problems = contexts()
    checkout = Checkout(context.new_page(), merchant_shop, merchant_shop.create_session(), mode)
    pay_by_card(checkout.view, CARD_3DS)
    checkout.view.get_by_role("button", name="Fail authentication").click()
    expect(checkout.view.get_by_role("alert").first).to_contain_text("3-D Secure")
    pay_by_card(checkout.view, CARD_OK)
    session = checkout.expect_back_at_merchant()
    assert [p["status"] for p in session["payments"]] == ["failed", "succeeded"]
    assert problems == []


# Each market as its shoppers meet it: currency, an amount, the browser's language.
JAPAN = {"currency": "JPY", "amount": 4800, "locale": "ja-JP"}
KOREA = {"currency": "KRW", "amount": 62000, "locale": "ko-KR"}
WALLETS = [("paypay", JAPAN), ("rakuten_pay", JAPAN), ("merpay", JAPAN), ("au_pay", JAPAN),
           ("kakao_pay", KOREA), ("naver_pay", KOREA), ("toss_pay", KOREA),
           ("samsung_pay", KOREA), ("payco", KOREA)]
# Paid from the phone itself (carrier billing, a bank's app): by redirect on every device.
BY_REDIRECT = [("docomo_carrier", JAPAN), ("au_carrier", JAPAN), ("softbank_carrier", JAPAN),
               ("kr_mobile_carrier", KOREA), ("kr_bank_transfer", KOREA)]


def open_method(shop: MerchantShop, contexts: Any, mode: str, method: str,
                market: dict[str, Any], phone: bool = False) -> tuple[Checkout, list[str]]:
    context, problems = contexts(locale=market["locale"], phone=phone)
    session = shop.create_session(currency=market["currency"], amount=market["amount"])
    checkout = Checkout(context.new_page(), shop, session, mode, method=method)
    if market is KOREA:
        checkout.view.get_by_label("전체 동의").check()
    if method == "kr_mobile_carrier":
        checkout.view.get_by_text("SKT", exact=True).click()
        checkout.view.get_by_label("휴대폰 번호", exact=True).fill("010-1234-5678")
    return checkout, problems


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("method", "market"), WALLETS + BY_REDIRECT,
                         ids=[m for m, _ in WALLETS + BY_REDIRECT])
def test_wallet_on_a_phone(merchant_shop: MerchantShop, contexts: Any, mode: str, method: str,
                           market: dict[str, Any]) -> None:
    """The phone leaves for the wallet's (sandbox) page — inside the frame, in iframe mode —
    approves there, and comes back to the shop."""
    checkout, problems = open_method(merchant_shop, contexts, mode, method, market, phone=True)
    checkout.view.locator("[data-pay-button]").tap()
    checkout.view.locator(".sandbox-wallet__approve").tap()
    session = checkout.expect_back_at_merchant()
    payment = session["payments"][-1]
    assert (payment["method"], payment["status"]) == (method, "succeeded")
    if (method, market) in WALLETS:  # a wallet chose between the QR and the app: the app
        assert payment["details"]["wallet_display"] == "redirect"
    assert problems == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("method", "market"), WALLETS, ids=[m for m, _ in WALLETS])
def test_wallet_by_qr_on_a_computer(merchant_shop: MerchantShop, contexts: Any, mode: str,
                                    method: str, market: dict[str, Any]) -> None:
    """A computer shows the QR; the shopper's phone scans and approves; the computer's page
    moves on to the shop by itself."""
    checkout, problems = open_method(merchant_shop, contexts, mode, method, market)
    phone, phone_problems = contexts(locale=market["locale"], phone=True)
    checkout.view.locator("[data-pay-button]").click()
    qr_target = checkout.view.locator("[data-qr-target]").first
    expect(qr_target).to_be_attached()
    scanned = phone.new_page()
    scanned.goto(qr_target.get_attribute("data-qr-target") or "")
    scanned.locator(".sandbox-wallet__approve").tap()
    session = checkout.expect_back_at_merchant()
    assert session["payments"][-1]["details"]["wallet_display"] == "qr"
    assert problems == [] and phone_problems == []


def fill_japanese_contact(view: Any) -> None:
    view.get_by_label("姓", exact=True).fill("山田")
    view.get_by_label("名", exact=True).fill("花子")
    view.get_by_label("セイ（フリガナ）").fill("ヤマダ")
    view.get_by_label("メイ（フリガナ）").fill("ハナコ")
    view.get_by_label("メールアドレス").fill("hanako@example.jp")
    view.get_by_label("電話番号").fill("090-1234-5678")


def fill_konbini(view: Any) -> None:
    view.get_by_label("ローソン", exact=True).check()
    fill_japanese_contact(view)


def fill_virtual_account(view: Any) -> None:
    view.get_by_label("가상계좌 발급 은행").select_option(label="신한은행")
    view.get_by_label("입금자명").fill("홍길동")


SLIPS = [("konbini", JAPAN, fill_konbini, "お支払いを確認しました"),
         ("pay_easy", JAPAN, fill_japanese_contact, "お支払いを確認しました"),
         ("bank_transfer_jp", JAPAN, fill_japanese_contact, "ご入金を確認しました"),
         ("kr_virtual_account", KOREA, fill_virtual_account, "입금이 확인됐어요")]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("method", "market", "fill", "paid_text"), SLIPS,
                         ids=[s[0] for s in SLIPS])
def test_slip_issued_then_paid(merchant_shop: MerchantShop, contexts: Any, mode: str,
                               method: str, market: dict[str, Any], fill: Callable[[Any], None],
                               paid_text: str, webhook_receiver: Any) -> None:
    """The slip is the order's page: the order completes unpaid when it is issued (a framing
    shop hears kessai:complete), is paid at the store or bank later, and the shopper can go
    back to the shop from the paid slip."""
    checkout, problems = open_method(merchant_shop, contexts, mode, method, market)
    view = checkout.view
    fill(view)
    view.locator("[data-pay-button]").click()
    expect(view.get_by_test_id("slip")).to_be_visible()
    if mode == "iframe":
        checkout.expect_back_at_merchant(payment_status="unpaid")
    view.locator(".slip-sandbox__form button[value=paid]").click()
    expect(view.locator("#slip-status")).to_have_attribute("data-state", "paid")
    expect(view.locator("#slip-status")).to_contain_text(paid_text)
    webhook_receiver.wait_for(lambda r: b"async_payment_succeeded" in r.body
                              and checkout.session["id"].encode() in r.body)
    if mode == "redirect":
        view.locator("#slip-status a").click()
        view.get_by_role("link", name="Tea shop").click()
        checkout.expect_back_at_merchant()
    assert merchant_shop.get_session(checkout.session["id"])["payment_status"] == "paid"
    assert problems == []


@pytest.mark.parametrize("mode", MODES)
def test_cancel(merchant_shop: MerchantShop, contexts: Any, mode: str) -> None:
    context, problems = contexts()
    checkout = Checkout(context.new_page(), merchant_shop, merchant_shop.create_session(), mode)
    checkout.view.get_by_role("link", name="Cancel and return to Tea shop").click()
    if mode == "redirect":
        checkout.page.wait_for_url(f"{merchant_shop.origin}/cart")
    else:
        checkout.page.wait_for_function(
            "(window.kessaiEvents || []).some(e => e.type === 'kessai:cancel')")
        assert checkout.page.url.startswith(f"{merchant_shop.origin}/embed/")
    assert merchant_shop.get_session(checkout.session["id"])["status"] == "open"
    assert problems == []


# ---- a returning shopper's passkey, by redirect and inside the shop's frame ------------------

@pytest.mark.parametrize("mode", ["redirect", "iframe"])
def test_passkey_payment_at_a_merchant(merchant_shop: MerchantShop, contexts: Any,
                                       mode: str) -> None:
    """Enrolled once (by redirect), the shopper pays the next order with the passkey, at the
    shop's own origin: by redirect and inside its iframe (embed.js's ``allow`` delegates
    publickey-credentials-get), back at the merchant, signed."""
    import re

    from checkout.db import get_db
    from checkout.models import Notification

    context, problems = contexts()
    # No passkey autofill: the button path, the same in both modes (autofill is
    # test_passkeys.py's).
    context.add_init_script(WITHOUT_PASSKEY_AUTOFILL)
    page = context.new_page()
    virtual_authenticator(context, page)
    first = Checkout(page, merchant_shop, merchant_shop.create_session(), "redirect")
    fill_card(first.view, CARD_OK)
    first.view.get_by_label("Remember me for faster checkout").check()
    first.view.get_by_label("E-mail or mobile number for your code").fill("hanako@example.jp")
    pay_button(first.view).click()
    page.wait_for_url(re.compile(r"/remember$"))
    with merchant_shop.kessai.app.app_context():
        body = get_db().query(Notification).filter_by(kind="verification_code").one().body
    page.get_by_label("Code").fill(re.search(r"\b(\d{6})\b", body).group(1))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Create a passkey").click()
    first.expect_back_at_merchant()

    checkout = Checkout(page, merchant_shop, merchant_shop.create_session(amount=3300), mode)
    if mode == "iframe":  # a frame of another site may get no cookie: the passkey says who
        checkout.view.get_by_role("button", name=re.compile("Use your passkey")).click()
    checkout.view.get_by_role("button", name="Pay ¥3,300 with Visa •••• 4242").click()
    session = checkout.expect_back_at_merchant()
    assert session["payments"][-1]["passkey_confirmed"] is True
    assert problems == []


def test_a_remembered_shopper_finds_the_konbini_form_filled_in(merchant_shop: MerchantShop,
                                                              contexts: Any) -> None:
    """At the shop's own origin, by redirect, in Japanese: remembered by a mobile number on a
    card order (the code comes by text), the shopper types their konbini details once on the
    next order; on the third the konbini form comes first, filled in, and one click issues
    the slip — with the same name, kana, phone and chain."""
    import re

    from checkout.db import get_db
    from checkout.models import Notification

    context, problems = contexts(locale="ja-JP")
    context.add_init_script(WITHOUT_PASSKEY_AUTOFILL)
    page = context.new_page()
    first = Checkout(page, merchant_shop, merchant_shop.create_session(), "redirect")
    fill_card(first.view, CARD_OK)
    first.view.get_by_label("次回から簡単にお支払い（情報を保存する）").check()
    first.view.locator("#remember_contact").fill("０９０－１２３４－５６７８")
    pay_button(first.view).click()
    page.wait_for_url(re.compile(r"/remember$"))
    expect(page.locator("main")).to_contain_text("090-1234-5678")
    with merchant_shop.kessai.app.app_context():
        text = get_db().query(Notification).filter_by(kind="verification_code").one()
        assert (text.channel, text.recipient) == ("sms", "+819012345678")
    page.get_by_label("確認コード").fill(re.search(r"\b(\d{6})\b", text.body).group(1))
    page.get_by_role("button", name="確認する").click()
    page.get_by_role("link", name="Tea shopに戻る").click()
    first.expect_back_at_merchant()

    second = Checkout(page, merchant_shop, merchant_shop.create_session(), "redirect",
                      method="konbini")
    expect(second.view.get_by_test_id("recognised")).to_contain_text("090-1234-5678")
    fill_konbini(second.view)
    second.view.locator("[data-pay-button]").click()
    expect(second.view.get_by_test_id("slip")).to_be_visible()

    third = Checkout(page, merchant_shop, merchant_shop.create_session(amount=2200), "redirect")
    view = third.view
    expect(view.locator("[data-method=konbini]")).to_have_attribute("aria-current", "true")
    expect(view.get_by_label("ローソン", exact=True)).to_be_checked()
    expect(view.get_by_label("セイ（フリガナ）")).to_have_value("ヤマダ")
    expect(view.get_by_label("電話番号")).to_have_value("090-1234-5678")
    view.locator("[data-pay-button]").click()  # nothing typed
    expect(view.get_by_test_id("slip")).to_be_visible()
    slip = merchant_shop.get_session(third.session["id"])["payments"][-1]["details"]
    assert slip["customer"]["name_kana"] == "ヤマダ　ハナコ"
    assert slip["konbini"]["store"] == "lawson"
    assert problems == []
