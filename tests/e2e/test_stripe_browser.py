"""A Japanese shopper pays by JCB card in Chromium on a session routed to Stripe (localstripe
standing in for it): the pay page is the same, the money goes through the Stripe adapter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from servers import localstripe
from shopper import JAPANESE_ITEMS, fill_card, pay_button, watch


@pytest.fixture
def stripe_emulator() -> Iterator[str]:
    with localstripe() as url:
        yield url


@pytest.fixture
def live_server_config(stripe_emulator: str) -> dict[str, Any]:
    return {"GATEWAYS": {"stripe": {"type": "stripe", "api_key": "sk_test_browser",
                                    "webhook_secret": "whsec_browser",
                                    "api_base": stripe_emulator, "emulator": "localstripe"}},
            "GATEWAY_ROUTES": [{"methods": ["card"], "currencies": ["JPY"],
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
