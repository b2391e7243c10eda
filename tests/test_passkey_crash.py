"""A passkey payment killed in the middle, then the shopper's retry.

gunicorn runs for real on PostgreSQL. A returning shopper — remembered, with a passkey made by
a software authenticator (``soft_authenticator``: real keys, real signatures) — confirms a
one-click payment; the request is made to hang after the gateway has charged the saved card
and before Kessai records it (the test holds a lock on the webhook outbox, which the
completion writes to), and master and workers are killed with SIGKILL. After a restart the
same assertion is refused (its challenge was claimed before the crash), and a fresh
confirmation completes the order from the gateway's own record: one charge, never two.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import httpx
from soft_authenticator import SoftAuthenticator
from sqlalchemy import create_engine, func, select, text

from checkout.models import Notification, Payment, SandboxPayment

from servers import gunicorn, wait_until
from support import MerchantInfo

BACKENDS = ("postgresql",)
CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/34", "card_cvc": "123",
        "card_name": "HANAKO YAMADA"}


class Shopper:
    """A browser as far as Kessai can tell: cookies, CSRF tokens, passkeys.js's requests."""

    def __init__(self, url: str, merchant: MerchantInfo, engine: Any) -> None:
        self.url, self.merchant, self.engine = url, merchant, engine
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
        with self.engine.connect() as connection:
            body = connection.scalar(select(Notification.body).where(
                Notification.session_id == order))
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


def test_a_passkey_payment_killed_mid_request_is_charged_once(
        database_url: str, merchant: MerchantInfo, app: Any) -> None:
    engine = create_engine(database_url)
    env = {"KESSAI_DATABASE_URL": database_url, "KESSAI_SECRET_KEY": "crash-test-secret"}
    try:
        with gunicorn(env) as server:
            shopper = Shopper(server.url, merchant, engine)
            shopper.enrol()
            order = shopper.new_order(9800)
            body, csrf = shopper.confirm(order)
            blocker = engine.connect()
            blocker.begin()
            blocker.execute(text("LOCK TABLE webhook_events IN EXCLUSIVE MODE"))
            in_flight = threading.Thread(target=lambda: _ignore_errors(
                lambda: shopper.pay(order, body, csrf)), daemon=True)
            in_flight.start()

            def charged_not_recorded() -> bool:
                with engine.connect() as connection:
                    key = connection.scalar(select(Payment.idempotency_key).where(
                        Payment.session_id == order))
                    return key is not None and connection.scalar(
                        select(SandboxPayment.status).where(
                            SandboxPayment.idempotency_key == key)) == "succeeded"

            wait_until(charged_not_recorded, what="the gateway to charge the saved card")
            server.kill_hard()
            blocker.rollback()
            blocker.close()
            in_flight.join(30)
            port = server.port

        with engine.connect() as connection:  # Kessai never learnt the outcome
            assert connection.scalar(select(Payment.status).where(
                Payment.session_id == order)) == "processing"

        with gunicorn(env, port=port) as server:  # the same origin: the passkey still fits
            replayed = shopper.pay(order, body, csrf)
            assert replayed.status_code == 400  # its challenge was claimed before the crash
            assert replayed.json()["error"] == "passkey_refused"
            body, csrf = shopper.confirm(order)
            answer = shopper.pay(order, body, csrf)
            assert answer.status_code in (200, 204, 303), answer.text
            session = httpx.get(f"{server.url}/v1/checkout/sessions/{order}", headers={
                "Authorization": f"Bearer {merchant.secret_key}"}).json()
        assert session["payment_status"] == "paid"
        [payment] = session["payments"]
        assert payment["passkey_confirmed"] is True and payment["status"] == "succeeded"
        with engine.connect() as connection:  # one charge at the gateway for this order
            keys = connection.scalars(select(Payment.idempotency_key).where(
                Payment.session_id == order)).all()
            assert connection.scalar(select(func.count()).select_from(SandboxPayment).where(
                SandboxPayment.idempotency_key.in_(keys))) == 1
    finally:
        engine.dispose()


def _ignore_errors(call: Any) -> None:
    try:
        call()
    except httpx.HTTPError:
        pass  # the server was killed under it


def test_the_soft_authenticator_passes_every_server_check(
        database_url: str, merchant: MerchantInfo, app: Any) -> None:
    """The helper the crash test relies on: through gunicorn, its passkey registers and pays,
    and an assertion it signs for one order is refused for another."""
    engine = create_engine(database_url)
    env = {"KESSAI_DATABASE_URL": database_url, "KESSAI_SECRET_KEY": "crash-test-secret"}
    try:
        with gunicorn(env) as server:
            shopper = Shopper(server.url, merchant, engine)
            shopper.enrol()
            first, second = shopper.new_order(3300), shopper.new_order(3300)
            signed_for_first, _csrf = shopper.confirm(first)
            _body, csrf_second = shopper.confirm(second)
            refused = shopper.pay(second, signed_for_first, csrf_second)
            assert refused.status_code == 400 and refused.json()["error"] == "passkey_refused"
            body, csrf = shopper.confirm(first)
            assert shopper.pay(first, body, csrf).status_code in (200, 204, 303)
            paid = httpx.get(f"{server.url}/v1/checkout/sessions/{first}", headers={
                "Authorization": f"Bearer {merchant.secret_key}"}).json()
            assert paid["payment_status"] == "paid"
            assert json.dumps(paid).count("passkey_confirmed\": true") == 1
    finally:
        engine.dispose()
