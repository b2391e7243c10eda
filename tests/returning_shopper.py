"""A returning shopper over HTTP, as a browser with passkeys.js would be: cookies, CSRF tokens,
"remember me" with its code, a passkey from the software authenticator, one-click payments.
For tests against a real server (gunicorn, or Kessai served beside localstripe)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from soft_authenticator import SoftAuthenticator
from support import MerchantInfo

CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/34", "card_cvc": "123",
        "card_name": "HANAKO YAMADA"}


class Shopper:
    """A browser as far as Kessai can tell: cookies, CSRF tokens, passkeys.js's requests."""

    def __init__(self, url: str, merchant: MerchantInfo,
                 message_to_shopper: Callable[[str], str]) -> None:
        """``message_to_shopper(order id)``: the text the notifier sent for that order."""
        self.url, self.merchant, self.message = url, merchant, message_to_shopper
        self.http = httpx.Client(base_url=url, timeout=30)
        self.authenticator = SoftAuthenticator(url)

    def new_order(self, amount: int) -> str:
        created = httpx.post(f"{self.url}/v1/checkout/sessions", timeout=30, json={
            "amount": amount, "currency": "JPY", "success_url": "https://shop.example/ok"},
            headers={"Authorization": f"Bearer {self.merchant.secret_key}"})
        assert created.status_code == 200, created.text
        return str(created.json()["id"])

    def page(self, path: str) -> str:
        response = self.http.get(path)
        assert response.status_code == 200, response.text
        return response.text

    @staticmethod
    def csrf(html: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]

    def post_json(self, path: str, body: dict[str, Any], csrf: str) -> httpx.Response:
        return self.http.post(path, json=body, headers={"X-CSRF-Token": csrf,
                                                         "HX-Request": "true"})

    def enrol(self) -> None:
        """Pay once with "remember me", confirm the code, create the passkey."""
        order = self.new_order(4800)
        html = self.page(f"/pay/{order}")
        paid = self.http.post(f"/pay/{order}", data={
            "csrf_token": self.csrf(html), "method": "card", "attempt": "1",
            "remember_me": "1", "remember_contact": "hanako@example.jp", **CARD})
        assert paid.status_code == 303 and paid.headers["Location"].endswith("/remember")
        body = self.message(order)
        html = self.page(f"/pay/{order}/remember")
        confirmed = self.http.post(f"/pay/{order}/remember", data={
            "csrf_token": self.csrf(html), "code": re.search(r"\b(\d{6})\b", body).group(1)})
        assert confirmed.status_code == 303
        html = self.page(f"/pay/{order}/remember")
        options = self.post_json(f"/pay/{order}/passkeys/register/options", {},
                                 self.csrf(html)).json()
        made = self.post_json(f"/pay/{order}/passkeys/register",
                              self.authenticator.create(options), self.csrf(html))
        assert made.status_code in (200, 204, 303), made.text

    def confirm(self, order: str) -> tuple[dict[str, Any], str]:
        """The one-click button's request: a challenge bound to this payment, answered."""
        html = self.page(f"/pay/{order}")
        card = re.search(r'data-card="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        attempt = re.search(r'data-attempt="(\d+)"', html).group(1)  # type: ignore[union-attr]
        options = self.post_json(f"/pay/{order}/passkeys/pay/options", {"card": card},
                                 self.csrf(html))
        assert options.status_code == 200, options.text
        body = {"card": card, "attempt": attempt,
                "credential": self.authenticator.get(options.json())}
        return body, self.csrf(html)

    def pay(self, order: str, body: dict[str, Any], csrf: str) -> httpx.Response:
        return self.post_json(f"/pay/{order}/passkeys/pay", body, csrf)
