"""Stripe behind the gateway contract, end to end against localstripe (a stateful Stripe
emulator from PyPI, started here as a process of its own, as PostgreSQL is for other tests).

Kessai serves on loopback so localstripe can post its webhooks; the shopper pays through the
pay form; cards go to Stripe by the routing table. localstripe has no 3-D Secure page: the
test completes the challenge through its test endpoint, as Stripe's page would, and the
``payment_intent.succeeded`` webhook tells Kessai.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from returning_shopper import Shopper
from servers import localstripe, wait_until
from support import MerchantInfo

API_KEY = "sk_test_kessai_localstripe"
WEBHOOK_SECRET = "whsec_kessai_localstripe_test"


@pytest.fixture
def stripe_emulator() -> Iterator[str]:
    """A fresh emulator per test: no other test's webhooks arrive late."""
    with localstripe() as url:
        yield url


@pytest.fixture
def kessai_server() -> Iterator[tuple[BaseWSGIServer, str]]:
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    yield server, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def app_config(stripe_emulator: str, kessai_server: tuple[BaseWSGIServer, str]) -> dict[str, Any]:
    return {"PUBLIC_URL": kessai_server[1],
            "GATEWAYS": {"stripe": {"type": "stripe", "api_key": API_KEY,
                                    "webhook_secret": WEBHOOK_SECRET, "api_base": stripe_emulator,
                                    "emulator": "localstripe"}},
            "GATEWAY_ROUTES": [{"methods": ["card"], "gateway": "stripe"}]}


@pytest.fixture
def kessai(app: Flask, kessai_server: tuple[BaseWSGIServer, str], stripe_emulator: str) -> str:
    kessai_server[0].app = app  # type: ignore[attr-defined]
    registered = httpx.post(f"{stripe_emulator}/_config/webhooks/kessai", data={
        "url": f"{kessai_server[1]}/gateway/events/stripe", "secret": WEBHOOK_SECRET})
    assert registered.status_code == 200
    return kessai_server[1]


def stripe_get(stripe_emulator: str, path: str) -> dict[str, Any]:
    response = httpx.get(f"{stripe_emulator}{path}", auth=(API_KEY, ""))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def intent_of(app: Flask, session_id: str) -> str:
    from checkout.db import get_db
    from checkout.models import CheckoutSession

    with app.app_context():
        (payment,) = get_db().get(CheckoutSession, session_id).payments
        assert payment.gateway == "stripe" and payment.gateway_payment_id
        return payment.gateway_payment_id


@pytest.mark.parametrize("number, brand", [("4242 4242 4242 4242", "visa"),
                                           ("3566 0020 2036 0505", "jcb")])
def test_a_card_is_charged_through_stripe(kessai: str, api: Any, pay: Any, app: Flask,
                                          stripe_emulator: str, number: str, brand: str) -> None:
    session_id = api.create(amount=12800).get_json()["id"]
    assert pay(session_id, number=number).status_code == 303
    session = api.get(session_id).get_json()
    assert (session["status"], session["payment_status"]) == ("complete", "paid")
    (payment,) = session["payments"]
    assert (payment["gateway"], payment["card"]) == ("stripe", {"brand": brand,
                                                                "last4": number[-4:]})
    intent = stripe_get(stripe_emulator, f"/v1/payment_intents/{intent_of(app, session_id)}")
    assert (intent["status"], intent["amount"], intent["currency"]) == ("succeeded", 12800, "jpy")
    assert intent["metadata"]["kessai_idempotency_key"] == f"{session_id}:1"


def test_a_declined_card_fails_and_the_shopper_may_try_again(kessai: str, api: Any, pay: Any,
                                                              app: Flask) -> None:
    session_id = api.create(amount=12800).get_json()["id"]
    pay(session_id, number="4000 0000 0000 0341")
    session = api.get(session_id).get_json()
    assert session["status"] == "open"
    assert [(p["status"], p["failure_code"]) for p in session["payments"]] == [
        ("failed", "card_declined")]
    assert pay(session_id).status_code == 303
    assert api.get(session_id).get_json()["payment_status"] == "paid"


def test_three_d_secure_then_stripes_webhook_completes_the_order(
        kessai: str, api: Any, pay: Any, app: Flask, stripe_emulator: str) -> None:
    session_id = api.create(amount=12800).get_json()["id"]
    pay(session_id, number="4000 0027 6000 3184")  # Stripe's "authentication required" card
    (payment,) = api.get(session_id).get_json()["payments"]
    assert payment["status"] == "requires_action"
    intent_id = intent_of(app, session_id)
    secret = stripe_get(stripe_emulator, f"/v1/payment_intents/{intent_id}")["client_secret"]
    # The shopper passes the issuer's challenge (Stripe's page; localstripe's test endpoint).
    httpx.post(f"{stripe_emulator}/v1/payment_intents/{intent_id}/_authenticate",
               data={"client_secret": secret, "success": "true"}, auth=(API_KEY, ""))
    wait_until(lambda: api.get(session_id).get_json()["payment_status"] == "paid",
               what="Stripe's payment_intent.succeeded webhook")
    assert api.get(session_id).get_json()["payments"][0]["status"] == "succeeded"
    from checkout.db import get_db
    from checkout.models import GatewayEventReceipt

    with app.app_context():  # it was the webhook, verified and applied once
        receipts = [r.id for r in get_db().query(GatewayEventReceipt).all()]
    assert len(receipts) == 1 and receipts[0].startswith("stripe:evt_")


def test_a_webhook_not_signed_by_stripe_is_refused(kessai: str) -> None:
    body = b'{"id": "evt_forged", "type": "payment_intent.succeeded", "data": {"object": {}}}'
    response = httpx.post(f"{kessai}/gateway/events/stripe", content=body,
                          headers={"Stripe-Signature": "t=1,v1=00",
                                   "Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, {"result": "signature_invalid"})


# ---- saved cards: Stripe's vault ----------------------------------------------------------------

def test_a_card_kept_by_stripe_is_charged_by_its_token(stripe_emulator: str) -> None:
    from checkout.gateway.base import CardDetails, PaymentRequest
    from checkout.gateway.stripe_adapter import StripeGateway

    gateway = StripeGateway(API_KEY, api_base=stripe_emulator, emulator="localstripe")
    saved = gateway.tokenize_card(CardDetails("3566002020360505", 12, 2034, "123", "HANAKO"))
    customer, _sep, method = saved.token.partition(":")
    assert customer.startswith("cus_") and method.startswith("pm_")
    assert (saved.brand, saved.last4, saved.exp_month, saved.exp_year) == ("jcb", "0505", 12,
                                                                            2034)
    assert stripe_get(stripe_emulator, f"/v1/payment_methods/{method}")["customer"] == customer
    paid = gateway.create_payment(PaymentRequest(
        idempotency_key="order-1:1", amount=9800, currency="JPY", method="card",
        return_url="https://kessai.example/return", card_token=saved.token))
    assert paid.status == "succeeded"
    intent = stripe_get(stripe_emulator, f"/v1/payment_intents/{paid.id}")
    assert (intent["customer"], intent["payment_method"], intent["amount"]) == (
        customer, method, 9800)
    # The shopper deletes the card: its Customer goes, and the PaymentMethod with it.
    gateway.forget_card(saved.token)
    gone = httpx.get(f"{stripe_emulator}/v1/customers/{customer}", auth=(API_KEY, ""))
    assert gone.status_code == 404 or gone.json().get("deleted") is True
    gateway.forget_card(saved.token)  # already forgotten: not an error


def test_remembered_on_stripe_then_one_click_with_a_passkey(
        kessai: str, app: Flask, merchant: MerchantInfo, stripe_emulator: str) -> None:
    """The whole returning-shopper path on a Stripe route: remember me keeps the card at
    Stripe and pays with its token; the next order is one passkey confirmation."""
    from checkout.db import get_db
    from checkout.models import Notification, SavedCard

    def message(order: str) -> str:
        with app.app_context():
            return get_db().query(Notification).filter_by(session_id=order).one().body

    shopper = Shopper(kessai, merchant, message)
    shopper.enrol()
    with app.app_context():
        [card] = get_db().query(SavedCard).all()
        assert card.gateway == "stripe" and card.token.startswith("cus_")
        token = card.token
    order = shopper.new_order(9800)
    body, csrf = shopper.confirm(order)
    assert shopper.pay(order, body, csrf).status_code in (200, 204, 303)
    paid = httpx.get(f"{kessai}/v1/checkout/sessions/{order}",
                     headers={"Authorization": f"Bearer {merchant.secret_key}"}).json()
    assert paid["payment_status"] == "paid"
    [payment] = paid["payments"]
    assert (payment["gateway"], payment["passkey_confirmed"]) == ("stripe", True)
    intent = stripe_get(stripe_emulator, f"/v1/payment_intents/{intent_of(app, order)}")
    assert intent["customer"] == token.partition(":")[0]


# ---- what Stripe can take: routing never sends it more ---------------------------------------

def test_a_rule_sending_everything_to_stripe_passes_it_over_for_konbini(
        app: Flask, api: Any, merchant: MerchantInfo) -> None:
    from checkout.db import get_db
    from checkout.models import CheckoutSession, Merchant
    from checkout.routing import choose

    session_id = api.create(amount=12800).get_json()["id"]
    with app.app_context():
        shop = get_db().get(Merchant, merchant.id)
        shop.settings = {**(shop.settings or {}), "gateway_routes": [
            {"gateway": "stripe"},  # everything … but Stripe here takes cards only
            {"methods": ["konbini"], "gateway": "sandbox"}]}
        get_db().commit()
        checkout = get_db().get(CheckoutSession, session_id)
        assert choose(checkout, "card", "JPY", 12800) == ["stripe"]
        assert choose(checkout, "konbini", "JPY", 12800) == ["sandbox"]
        assert choose(checkout, "paypay", "JPY", 12800) == ["sandbox"]  # the default
        shop.settings = {**shop.settings, "gateway_routes": [
            {"gateway": "stripe", "backups": ["sandbox"]}]}
        get_db().commit()
        assert choose(checkout, "konbini", "JPY", 12800) == ["sandbox"]


def test_a_rule_naming_a_method_stripe_cannot_take_is_refused(api: Any) -> None:
    refused = api.client.put("/v1/gateway_routes", headers=api.headers(), json={
        "rules": [{"methods": ["card", "konbini"], "gateway": "stripe"}]})
    assert refused.status_code == 400
    assert "'stripe' cannot take konbini" in refused.get_json()["error"]["message"]


def test_routing_and_the_adapter_agree_on_what_stripe_takes(app: Flask,
                                                             stripe_emulator: str) -> None:
    from checkout.gateway.base import GatewayError, PaymentRequest
    from checkout.gateway.stripe_adapter import StripeGateway
    from checkout.methods import CATALOG
    from checkout.routing import takes

    gateway = StripeGateway(API_KEY, api_base=stripe_emulator, emulator="localstripe")
    with app.app_context():
        for method in CATALOG:
            if method == "card":
                assert takes("stripe", method)
                continue
            assert not takes("stripe", method), method
            with pytest.raises(GatewayError) as refused:
                gateway.create_payment(PaymentRequest(
                    idempotency_key=f"k-{method}", amount=1000, currency="JPY",
                    method=method, return_url="https://kessai.example/r"))
            assert refused.value.code == "method_unsupported"
