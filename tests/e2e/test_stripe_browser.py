"""A Japanese shopper pays by JCB card in Chromium on a session routed to Stripe (localstripe
standing in for it): the pay page is the same, the money goes through the Stripe adapter. At a
merchant on its own origin, by redirect and in its iframe, the routing table splits orders by
amount — small ones to the sandbox, large ones to Stripe — and a 3-D Secure card on Stripe
completes by Stripe's signed webhook while the shopper's page waits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from merchant_site import Checkout, MerchantShop
from servers import localstripe
from shopper import CARD_3DS, CARD_OK, JAPANESE_ITEMS, fill_card, pay_button, watch

API_KEY = "sk_test_browser"
WEBHOOK_SECRET = "whsec_browser"


@pytest.fixture
def stripe_emulator() -> Iterator[str]:
    with localstripe() as url:
        yield url


@pytest.fixture
def live_server_config(stripe_emulator: str) -> dict[str, Any]:
    # "JPY cards of ¥10,000 or more → Stripe; everything else → the default (the sandbox)".
    return {"GATEWAYS": {"stripe": {"type": "stripe", "api_key": API_KEY,
                                    "webhook_secret": WEBHOOK_SECRET,
                                    "api_base": stripe_emulator, "emulator": "localstripe"}},
            "GATEWAY_ROUTES": [{"methods": ["card"], "currencies": ["JPY"], "min_amount": 10000,
                                "gateway": "stripe"}]}


def test_a_jcb_card_paid_through_stripe_in_the_browser(live_server: Any, browser: Browser,
                                                      stripe_emulator: str) -> None:
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    problems = watch(context)
    page = context.new_page()
    session = live_server.create_session(line_items=JAPANESE_ITEMS)
    page.goto(session["url"])
    expect(pay_button(page)).to_contain_text("￥12,800")
    fill_card(page, "3566 0020 2036 0505")
    expect(page.locator('[data-brand="jcb"]')).to_have_class("card-brand card-brand--jcb "
                                                             "is-detected")
    pay_button(page).click()
    page.wait_for_url("**/demo/success**")
    paid = live_server.get_session(session["id"])
    assert (paid["status"], paid["payment_status"]) == ("complete", "paid")
    assert [(p["gateway"], p["card"]["brand"], p["status"]) for p in paid["payments"]] == [
        ("stripe", "jcb", "succeeded")]
    assert problems == []
    context.close()


@pytest.mark.parametrize("mode", ["redirect", "iframe"])
def test_at_a_merchant_the_routing_table_splits_orders_and_stripe_3ds_completes_by_webhook(
        live_server: Any, browser: Browser, stripe_emulator: str, merchant_shop: MerchantShop,
        webhook_receiver: Any, mode: str) -> None:
    registered = httpx.post(f"{stripe_emulator}/_config/webhooks/kessai", data={
        "url": f"{live_server.url}/gateway/events/stripe", "secret": WEBHOOK_SECRET})
    assert registered.status_code == 200
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    problems = watch(context)
    page = context.new_page()

    small = Checkout(page, merchant_shop, merchant_shop.create_session(amount=4800), mode)
    fill_card(small.view, CARD_OK)
    small.view.locator("[data-pay-button]").click()
    assert small.expect_back_at_merchant()["payments"][-1]["gateway"] == "sandbox"

    large = Checkout(page, merchant_shop, merchant_shop.create_session(amount=12800), mode)
    fill_card(large.view, CARD_3DS)
    large.view.locator("[data-pay-button]").click()
    # Stripe asks the issuer; the page says so and waits (localstripe has no challenge page
    # of its own, so the test answers as the issuer's page would).
    status = large.view.locator("#payment-status")
    expect(status).to_be_visible()
    expect(large.view.locator("main")).not_to_contain_text("決済代行会社に接続できませんでした")
    with live_server.app.app_context():
        from checkout.db import get_db
        from checkout.models import CheckoutSession

        [payment] = get_db().get(CheckoutSession, large.session["id"]).payments
        assert (payment.gateway, payment.status) == ("stripe", "requires_action")
        intent = payment.gateway_payment_id
    secret = httpx.get(f"{stripe_emulator}/v1/payment_intents/{intent}",
                       auth=(API_KEY, "")).json()["client_secret"]
    httpx.post(f"{stripe_emulator}/v1/payment_intents/{intent}/_authenticate",
               data={"client_secret": secret, "success": "true"}, auth=(API_KEY, ""))
    session = large.expect_back_at_merchant()  # Stripe's webhook → Kessai → the page's poll
    assert [(p["gateway"], p["status"]) for p in session["payments"]] == [
        ("stripe", "succeeded")]
    webhook_receiver.wait_for(lambda r: b"checkout.session.completed" in r.body
                              and large.session["id"].encode() in r.body)
    with live_server.app.app_context():
        from checkout.models import GatewayEventReceipt

        assert any(r.id.startswith("stripe:evt_")
                   for r in get_db().query(GatewayEventReceipt).all())
    assert problems == []
    context.close()
