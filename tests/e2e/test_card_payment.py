"""A shopper pays by card on the hosted page, in a real Chromium against a real server.

Success in English and Japanese (the pay button's accessible name carries the amount), the
signed webhook that follows, a decline and a retry, 3-D Secure approved and failed, a double
click that charges once, the same payment with JavaScript off, and one made by keyboard only.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from playwright.sync_api import Browser, Page, expect

from checkout.webhooks import SIGNATURE_HEADER, verify

from shopper import (
    CARD_3DS,
    CARD_DECLINED,
    CARD_MASTERCARD,
    CARD_OK,
    JAPANESE_ITEMS,
    expect_alert,
    fill_card,
    pay_button,
    payments,
    watch,
)


def test_card_success_in_english_and_japanese_with_a_signed_webhook(
    live_server: Any, browser: Browser, webhook_receiver: Any
) -> None:
    shoppers = (
        ("en-US", "America/New_York", "en", "Pay ¥12,800",
         ("Card number", "Expiry date (MM/YY)", "Security code", "Name on card")),
        ("ja-JP", "Asia/Tokyo", "ja", "￥12,800を支払う",
         ("カード番号", "有効期限（MM/YY）", "セキュリティコード", "カード名義人")),
    )
    for locale, zone, lang, button_name, labels in shoppers:
        context = browser.new_context(locale=locale, timezone_id=zone)
        problems = watch(context)
        page = context.new_page()
        session = live_server.create_session(line_items=JAPANESE_ITEMS)
        page.goto(session["url"])
        expect(page.locator("html")).to_have_attribute("lang", lang)
        button = page.get_by_role("button", name=button_name, exact=True)
        expect(button).to_be_visible()
        for label, value in zip(labels, (CARD_OK, "1234", "123", "HANAKO YAMADA"), strict=True):
            page.get_by_label(label, exact=True).fill(value)
        # checkout.js spaced the number, formatted the expiry and spotted the brand.
        expect(page.get_by_label(labels[0], exact=True)).to_have_value(CARD_OK)
        expect(page.get_by_label(labels[1], exact=True)).to_have_value("12/34")
        expect(page.locator('[data-brand="visa"]')).to_have_class(re.compile("is-detected"))
        button.click()
        page.wait_for_url("**/demo/success**")
        paid = live_server.get_session(session["id"])
        assert (paid["status"], paid["payment_status"]) == ("complete", "paid")
        assert [(p["status"], p["method"]) for p in paid["payments"]] == [("succeeded", "card")]
        # The shopper's zone reached the server (deadlines are shown in it).
        zone_cookie = next(c for c in context.cookies() if c["name"] == "kessai_tz")
        assert unquote(zone_cookie["value"]) == zone
        assert problems == []
        context.close()

        delivery = webhook_receiver.wait_for(
            lambda r, sid=session["id"]: sid.encode() in r.body
            and b"checkout.session.completed" in r.body)
        header = delivery.headers[SIGNATURE_HEADER]
        assert verify(live_server.webhook_secret, delivery.body, header)
        assert not verify("whsec_someone_else", delivery.body, header)
        event = json.loads(delivery.body)
        assert event["type"] == "checkout.session.completed"
        assert event["data"]["object"]["id"] == session["id"]
        assert event["data"]["object"]["payment_status"] == "paid"


def test_declined_card_then_another_card(live_server: Any, page: Page) -> None:
    problems = watch(page.context)
    session = live_server.create_session()
    page.goto(session["url"])
    fill_card(page, CARD_DECLINED)
    pay_button(page).click()
    alert = expect_alert(page, "Your card was declined")
    expect(alert).to_contain_text("Payment declined")
    expect(alert).to_be_focused()  # read out first after the redirect
    expect(page.locator("#card_number")).to_have_value("")  # never echoed back
    fill_card(page, CARD_MASTERCARD)
    pay_button(page).click()
    page.wait_for_url("**/demo/success**")
    attempts = payments(live_server, session["id"])
    assert [(p["status"], p["failure_code"]) for p in attempts] == [
        ("failed", "card_declined"), ("succeeded", None)]
    assert problems == []


def test_3d_secure_approved_and_failed(live_server: Any, page: Page) -> None:
    problems = watch(page.context)
    approved, failed = live_server.create_session(), live_server.create_session()

    page.goto(approved["url"])
    fill_card(page, CARD_3DS)
    pay_button(page).click()
    page.wait_for_url("**/sandbox/challenge/**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm this payment (3-D Secure)")
    expect(page.locator(".challenge__amount")).to_contain_text("¥12,800")
    page.get_by_role("button", name="Approve authentication").click()
    page.wait_for_url("**/demo/success**")
    assert live_server.get_session(approved["id"])["payment_status"] == "paid"

    page.goto(failed["url"])
    fill_card(page, CARD_3DS)
    pay_button(page).click()
    page.wait_for_url("**/sandbox/challenge/**")
    page.get_by_role("button", name="Fail authentication").click()
    page.wait_for_url(f"**/pay/{failed['id']}**")
    expect_alert(page, "Card authentication (3-D Secure) was not completed")
    after = live_server.get_session(failed["id"])
    assert after["status"] == "open"
    assert [(p["status"], p["failure_code"]) for p in after["payments"]] == [
        ("failed", "authentication_failed")]
    assert problems == []


def test_double_click_pays_once_with_and_without_javascript(live_server: Any,
                                                           browser: Browser) -> None:
    for javascript in (True, False):
        context = browser.new_context(java_script_enabled=javascript)
        page = context.new_page()
        session = live_server.create_session()
        page.goto(session["url"])
        fill_card(page, CARD_OK)
        pay_button(page).dblclick()
        # With htmx the button is disabled by the first click; without JavaScript both posts
        # reach the server, which sends the attempt to the gateway once.
        # The shopper lands on the merchant's page, or (no JavaScript: the second post won)
        # on our "Payment complete" page.
        expect(page.get_by_role("heading", level=1)).to_have_text(
            re.compile("Order status|Payment complete"))
        assert len(payments(live_server, session["id"])) == 1, f"javascript={javascript}"
        assert live_server.get_session(session["id"])["payment_status"] == "paid"
        context.close()


def test_card_payment_without_javascript(live_server: Any, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    session = live_server.create_session()
    page.goto(session["url"])
    pay_button(page).click()  # an empty form: plain post, page with errors (422)
    expect_alert(page, "Please check the fields marked below.")
    number = page.get_by_label("Card number")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_accessible_description("Please fill in this field.")
    expect(number).to_be_focused()  # autofocus: no script needed
    fill_card(page, "4242424242424242", expiry="1234")  # no script to add spaces or a slash
    pay_button(page).click()
    page.wait_for_url("**/demo/success**")
    assert live_server.get_session(session["id"])["payment_status"] == "paid"
    context.close()


def test_keyboard_only_payment(live_server: Any, page: Page) -> None:
    session = live_server.create_session()
    page.goto(session["url"])
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()

    def tab_to(target: Any, limit: int = 15) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            focus = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
                return [s.outlineStyle, s.boxShadow]; }""")
            assert focus != ["none", "none"], "focus must be visible"
            if target.evaluate("el => el === document.activeElement"):
                return
        raise AssertionError(f"{target} never received focus")

    tab_to(page.locator("#card_number"))
    page.keyboard.type("4242424242424242")
    page.keyboard.press("Tab")
    page.keyboard.type("1234")
    page.keyboard.press("Tab")
    page.keyboard.type("123")
    page.keyboard.press("Tab")
    page.keyboard.type("HANAKO YAMADA")
    tab_to(pay_button(page))
    expect(pay_button(page)).to_have_css("outline-style", "solid")
    page.keyboard.press("Enter")
    page.wait_for_url("**/demo/success**")
    assert live_server.get_session(session["id"])["payment_status"] == "paid"
