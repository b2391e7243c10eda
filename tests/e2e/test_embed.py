"""Embedding: a merchant's page on another origin mounts the checkout with static/embed.js, the
shopper pays by card inside the iframe, and the merchant's page receives ``kessai:complete``;
a page from an origin the merchant did not register cannot frame the checkout at all."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from checkout.db import get_db
from checkout.merchants import create_merchant

from merchant_site import serve_pages

MERCHANT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tea shop</title></head>
<body>
<h1>Tea shop checkout</h1>
<div id="checkout"></div>
<p id="result">waiting</p>
<ul id="events"></ul>
<script src="%(kessai)s/static/embed.js"></script>
<script>
  var handle = Kessai.mount(document.getElementById("checkout"), {
    url: %(url)s,
    onEvent: function (event) {
      var item = document.createElement("li");
      item.textContent = event.type;
      document.getElementById("events").appendChild(item);
    },
    onComplete: function (event) {
      document.getElementById("result").textContent =
        event.type + " " + event.session_id + " " + event.payment_status;
      window.completeEvent = event;
    }
  });
</script>
</body></html>"""


@dataclass
class MerchantSite:
    port: int
    pages: dict[str, str]

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def merchant_site() -> Iterator[MerchantSite]:
    site = MerchantSite(port=0, pages={})
    server = serve_pages(lambda path: site.pages.get(path.split("?")[0],
                                                     "<!doctype html><title>ok</title>ok"))
    site.port = server.server_address[1]
    yield site
    server.shutdown()


def create_embeddable_session(live_server: Any, origin: str) -> dict[str, Any]:
    with live_server.app.app_context():
        merchant, secret = create_merchant(get_db(), "Tea shop", [origin])
        get_db().commit()
    response = live_server.app.test_client().post(
        "/v1/checkout/sessions",
        json={"amount": 4800, "currency": "JPY", "success_url": f"{origin}/thanks",
              "cancel_url": f"{origin}/cart"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return {**response.get_json(), "secret_key": secret}


def test_embedded_card_payment_reports_complete_to_the_merchant(
        live_server: Any, merchant_site: MerchantSite, browser: Browser) -> None:
    origin = merchant_site.url("127.0.0.1", "")
    session = create_embeddable_session(live_server, origin)
    merchant_site.pages["/shop"] = MERCHANT_PAGE % {"kessai": live_server.url,
                                                    "url": json.dumps(session["url"])}
    page = browser.new_context(locale="en-US").new_page()
    page.goto(merchant_site.url("127.0.0.1", "/shop"))

    iframe = page.locator("#checkout iframe")
    expect(iframe).to_have_attribute(
        "allow", "publickey-credentials-get *; publickey-credentials-create *; payment *")
    frame = page.frame_locator("#checkout iframe")
    expect(page.locator("#events li").first).to_have_text("kessai:ready")
    expect(page.locator("#events")).to_contain_text("kessai:resize")
    # The frame grew (or shrank) to its content instead of keeping the initial 640 px.
    expect(iframe).not_to_have_attribute("style", re.compile(r"height: 640px"))

    frame.get_by_label("Card number").fill("4242 4242 4242 4242")
    frame.get_by_label("Expiry date (MM/YY)").fill("12/34")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_label("Name on card").fill("Hanako Yamada")
    frame.get_by_role("button", name=re.compile("Pay")).click()

    expect(page.locator("#result")).to_have_text(f"kessai:complete {session['id']} paid")
    event = page.evaluate("window.completeEvent")
    assert event["return_url"].startswith(
        f"{origin}/thanks?session_id={session['id']}&kessai_signature=")
    # The shopper stayed on Kessai's result page inside the frame (not the merchant's page).
    expect(frame.get_by_role("heading", name="Payment complete")).to_be_visible()
    assert page.url == merchant_site.url("127.0.0.1", "/shop")
    stored = live_server.app.test_client().get(
        f"/v1/checkout/sessions/{session['id']}",
        headers={"Authorization": f"Bearer {session['secret_key']}"}).get_json()
    assert stored["payment_status"] == "paid" and len(stored["payments"]) == 1


def test_unregistered_origin_cannot_frame_the_checkout(
        live_server: Any, merchant_site: MerchantSite, browser: Browser) -> None:
    session = create_embeddable_session(live_server, merchant_site.url("127.0.0.1", ""))
    merchant_site.pages["/shop"] = MERCHANT_PAGE % {"kessai": live_server.url,
                                                    "url": json.dumps(session["url"])}
    page = browser.new_context().new_page()
    # Same page, other origin: localhost is not the registered 127.0.0.1.
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text):
        page.goto(merchant_site.url("localhost", "/shop"))
    frame = page.frame_locator("#checkout iframe")
    expect(frame.get_by_role("button", name=re.compile("Pay"))).to_have_count(0)
    expect(page.locator("#events li")).to_have_count(0)
    expect(page.locator("#result")).to_have_text("waiting")
