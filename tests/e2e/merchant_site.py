"""A merchant's site on its own origin, as real merchants meet Kessai.

``MerchantShop`` is a small HTTP server on another port (``http://127.0.0.1:<port>``: another
host and port than Kessai's ``http://localhost:<port>``), registered as the merchant's only
allowed origin, with its ``success_url`` (/thanks) and ``cancel_url`` (/cart) there, and a
page that frames the checkout with ``embed.js`` exactly as docs/embedding.md shows
(/embed/<session id>). The framing page writes every message it receives into
``window.kessaiEvents``. Nothing here relies on Kessai's own origin or its demo shop.

Every page and swap on the way is checked to be one page (``shopper.INTEGRITY_CHECK``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from checkout.db import get_db
from checkout.markets.japan.settings import update_japan_settings
from checkout.merchants import create_merchant

EMBED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tea shop — checkout</title></head>
<body><h1>Tea shop</h1><div id="checkout"></div>
<script src="%(kessai)s/static/embed.js"></script>
<script>
  window.kessaiEvents = [];
  Kessai.mount("#checkout", {
    url: %(url)s, height: 900,
    onEvent: function (event) { window.kessaiEvents.push(event); },
    onComplete: function (event) { window.kessaiEvents.push(event); },
    onCancel: function (event) { window.kessaiEvents.push(event); }
  });
</script></body></html>"""

LEGAL_DISCLOSURE = {
    "seller": "株式会社ティーショップ", "address": "東京都千代田区千代田1-1",
    "phone": "03-1234-5678", "email": "shop@example.jp", "prices": "各商品ページに記載（税込）",
    "fees": "送料 ¥600", "payment_methods": "クレジットカード、コンビニ払い、銀行振込",
    "delivery": "ご入金確認後3営業日以内に発送",
    "returns": "未開封品に限り到着後7日以内",
}

PLAIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Tea shop</title></head><body><h1 id="where">%s</h1></body></html>"""


@dataclass
class MerchantShop:
    kessai: Any  # the e2e LiveServer
    port: int = 0
    secret_key: str = ""
    webhook_secret: str = ""
    sessions: dict[str, str] = field(default_factory=dict)  # id → url
    arrivals: list[str] = field(default_factory=list)  # every URL the browser brought here

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def create_session(self, **fields: Any) -> dict[str, Any]:
        body = {"amount": 4800, "currency": "JPY",
                "success_url": f"{self.origin}/thanks?session_id={{CHECKOUT_SESSION_ID}}",
                "cancel_url": f"{self.origin}/cart", **fields}
        response = self.kessai.app.test_client().post(
            "/v1/checkout/sessions", json=body,
            headers={"Authorization": f"Bearer {self.secret_key}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        session: dict[str, Any] = response.get_json()
        self.sessions[session["id"]] = session["url"]
        return session

    def get_session(self, session_id: str) -> dict[str, Any]:
        response = self.kessai.app.test_client().get(
            f"/v1/checkout/sessions/{session_id}",
            headers={"Authorization": f"Bearer {self.secret_key}"})
        result: dict[str, Any] = response.get_json()
        return result

    def verify_return(self, url: str, session_id: str) -> dict[str, Any]:
        """The signed return as a merchant checks it: HMAC of "t.id.status.payment_status"."""
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == self.origin and parts.path == "/thanks"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query["session_id"] == session_id
        signature = dict(item.split("=", 1) for item in query["kessai_signature"].split(","))
        session = self.get_session(session_id)
        message = (f"{signature['t']}.{session_id}.{session['status']}."
                   f"{session['payment_status']}").encode()
        expected = hmac.new(self.webhook_secret.encode(), message, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, signature["v1"]), "bad kessai_signature"
        return session

    def page_for(self, path: str) -> str:
        if path.startswith("/embed/"):
            session_id = path.rsplit("/", 1)[1]
            return EMBED_PAGE % {"kessai": self.kessai.url,
                                 "url": json.dumps(self.sessions[session_id])}
        return PLAIN_PAGE % {"/thanks": "Thank you", "/cart": "Your cart"}.get(path, "Tea shop")


def serve_pages(page: Callable[[str], str]) -> ThreadingHTTPServer:
    """A merchant's web server on a free loopback port: ``page(path)`` is the HTML for a GET."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            data = page(self.path).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def merchant_shop(live_server: Any, webhook_receiver: Any) -> Iterator[MerchantShop]:
    shop = MerchantShop(kessai=live_server)

    def page(path: str) -> str:
        shop.arrivals.append(f"{shop.origin}{path}")
        return shop.page_for(path.split("?")[0])

    server = serve_pages(page)
    shop.port = server.server_address[1]
    with live_server.app.app_context():
        record, secret = create_merchant(get_db(), "Tea shop", [shop.origin],
                                         webhook_receiver.url)
        # Tea, and e-books (carrier billing); a 特定商取引法 disclosure, which Japanese cash
        # methods require.
        update_japan_settings(record, digital_goods=True, legal=LEGAL_DISCLOSURE)
        get_db().commit()
        shop.secret_key, shop.webhook_secret = secret, record.webhook_secret
    yield shop
    server.shutdown()


class Checkout:
    """The checkout as the shopper sees it, by redirect (the page) or framed (the iframe)."""

    def __init__(self, page: Page, shop: MerchantShop, session: dict[str, Any], mode: str,
                 method: str | None = None):
        self.page, self.shop, self.session, self.mode = page, shop, session, mode
        url = f"{session['url']}?method={method}" if method else session["url"]
        shop.sessions[session["id"]] = url  # the shop's embed page frames the same URL
        if mode == "redirect":
            page.goto(url)
            self.view: Page | FrameLocator = page
        else:
            page.goto(f"{shop.origin}/embed/{session['id']}")
            self.view = page.frame_locator("#checkout iframe")

    def events(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.page.evaluate("window.kessaiEvents || []")
        return result

    def expect_back_at_merchant(self, payment_status: str = "paid") -> dict[str, Any]:
        """Redirect: the browser arrives at the success_url, signed. Frame: the merchant's page
        receives kessai:complete with a signed return_url."""
        if self.mode == "redirect":
            self.page.wait_for_url(f"{self.shop.origin}/thanks**")
            expect(self.page.locator("#where")).to_have_text("Thank you")
            session = self.shop.verify_return(self.page.url, self.session["id"])
        else:
            self.page.wait_for_function(
                "(window.kessaiEvents || []).some(e => e.type === 'kessai:complete')")
            complete = next(e for e in self.events() if e["type"] == "kessai:complete")
            assert complete["session_id"] == self.session["id"]
            session = self.shop.verify_return(complete["return_url"], self.session["id"])
            assert complete["payment_status"] == payment_status
            assert self.page.url.startswith(f"{self.shop.origin}/embed/")  # never left the shop
        assert session["payment_status"] == payment_status
        return session
