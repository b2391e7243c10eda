"""Abuse limits (checkout/limits.py), met as the bots of the report met Kessai.

Reported: 9,150 requests with bad API keys in 10 s all answered 401, none 429; 150 declined
card attempts on one session in 25 s, all reusing one CSRF token, all tried at the gateway.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from checkout.db import get_db
from checkout.merchants import create_merchant
from checkout.models import Payment, WebhookEvent

DECLINED = "4000 0000 0000 0002"
BOT = {"REMOTE_ADDR": "203.0.113.9"}
SHOP_SERVER = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"API_BAD_KEY_LIMIT": "20 per minute", "API_RATE_LIMIT": "30 per minute",
            "PAY_POST_SESSION_LIMIT": "12 per 10 minutes", "DECLINES_BEFORE_PAUSE": 5,
            "DECLINE_PAUSE_SECONDS": 900}


def test_guessing_api_keys_is_stopped_per_address(client: FlaskClient, api: Any,
                                                  merchant: Any) -> None:
    answers = [client.get("/v1/checkout/sessions/cs_x", environ_base=BOT,
                          headers={"Authorization": f"Bearer sk_test_guess{i}"})
               for i in range(25)]
    assert [r.status_code for r in answers[:20]] == [401] * 20
    refused = answers[20]
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # The bot's address is stopped even with a real key; the merchant's server is not.
    real = {"Authorization": f"Bearer {merchant.secret_key}"}
    assert client.get("/v1/checkout/sessions/cs_x", environ_base=BOT,
                      headers=real).status_code == 429
    created = client.post("/v1/checkout/sessions", environ_base=SHOP_SERVER, headers=real,
                          json={"amount": 1000, "currency": "JPY",
                                "success_url": "https://shop.example/ok"})
    assert created.status_code == 200


def test_each_api_key_has_its_own_rate(app: Flask, client: FlaskClient, merchant: Any) -> None:
    with app.app_context():
        _other, other_key = create_merchant(get_db(), "Other shop", [])
        get_db().commit()
    mine = {"Authorization": f"Bearer {merchant.secret_key}"}
    codes = [client.get("/v1/checkout/sessions/cs_missing", headers=mine).status_code
             for _ in range(31)]
    assert codes[:30] == [404] * 30 and codes[30] == 429
    # Good keys that fail nothing do not count as guesses, and another merchant is not slowed.
    theirs = {"Authorization": f"Bearer {other_key}"}
    assert client.get("/v1/checkout/sessions/cs_missing", headers=theirs).status_code == 404


def test_pay_form_posts_per_session_then_a_localized_page(client: FlaskClient, api: Any,
                                                          pay: Any) -> None:
    session_id = api.create(locale="ja").get_json()["id"]
    codes = [pay(session_id, number="4242").status_code for _ in range(12)]
    assert set(codes) == {422}  # invalid card numbers: refused by the form, not the limit
    refused = pay(session_id)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    html = refused.get_data(as_text=True)
    assert 'lang="ja"' in html and "試行回数が多すぎます" in html
    # With htmx the error page replaces the whole body (it has no #checkout-main to swap).
    html_page = client.get(f"/pay/{session_id}").get_data(as_text=True)
    token = html_page.split('name="csrf_token" value="')[1].split('"')[0]
    swapped = client.post(f"/pay/{session_id}", data={"csrf_token": token, "method": "card"},
                          headers={"HX-Request": "true"})
    assert swapped.status_code == 429 and swapped.headers["HX-Retarget"] == "body"
    # Another session is not affected.
    other = api.create().get_json()["id"]
    assert pay(other).status_code == 303


def test_declines_in_a_row_pause_card_payments_and_tell_the_merchant(
        app: Flask, client: FlaskClient, api: Any, pay: Any) -> None:
    session_id = api.create().get_json()["id"]
    for _ in range(5):
        assert pay(session_id, number=DECLINED).status_code == 303  # back to the page
    session = api.get(session_id).get_json()
    assert [p["failure_code"] for p in session["payments"]] == ["card_declined"] * 5
    paused_until = session["payment_attempts_paused_until"]
    assert paused_until is not None and paused_until > session["payments"][-1]["created"]
    # The sixth card is not sent to the gateway at all, and the shopper is told why.
    refused = pay(session_id)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 900
    assert len(api.get(session_id).get_json()["payments"]) == 5
    page = client.get(f"/pay/{session_id}")
    assert page.status_code == 200
    with app.app_context():
        events = [json.loads(e.body) for e in get_db().scalars(
            select(WebhookEvent).where(WebhookEvent.body.contains(session_id)))]
    paused = [e for e in events if e["type"] == "checkout.session.payment_attempts_paused"]
    assert len(paused) == 1  # once, when the run reached the pause
    assert paused[0]["data"]["object"]["payment_attempts_paused_until"] == paused_until


def test_a_decline_after_a_pause_ran_out_pauses_again_and_says_so(
        app: Flask, api: Any, pay: Any) -> None:
    """Each pause is announced: the run reaching it, and a decline after a pause had run out
    (it re-paused silently once: the merchant heard of the first pause only)."""
    session_id = api.create().get_json()["id"]
    for _ in range(5):
        pay(session_id, number=DECLINED)
    with app.app_context():  # fifteen minutes pass
        get_db().execute(update(Payment).where(Payment.session_id == session_id)
                         .values(updated=Payment.updated - 901, created=Payment.created - 901))
        get_db().commit()
    assert api.get(session_id).get_json()["payment_attempts_paused_until"] is None
    pay(session_id, number=DECLINED)
    paused_until = api.get(session_id).get_json()["payment_attempts_paused_until"]
    assert paused_until is not None
    with app.app_context():
        events = [json.loads(e.body) for e in get_db().scalars(
            select(WebhookEvent).where(WebhookEvent.body.contains(session_id)))]
    paused = [e["data"]["object"]["payment_attempts_paused_until"] for e in events
              if e["type"] == "checkout.session.payment_attempts_paused"]
    assert len(paused) == 2 and paused[-1] == paused_until


def test_the_pause_message_is_localized(client: FlaskClient, api: Any, pay: Any) -> None:
    session_id = api.create(locale="ko").get_json()["id"]
    for _ in range(5):
        pay(session_id, number=DECLINED)
    html = pay(session_id).get_data(as_text=True)
    assert "15분" in html and "Several cards" not in html


def test_a_good_card_after_the_pause_ends(app: Flask, api: Any, pay: Any) -> None:
    session_id = api.create().get_json()["id"]
    for _ in range(5):
        pay(session_id, number=DECLINED)
    app.config["DECLINE_PAUSE_SECONDS"] = 0  # as if the pause had run out
    assert pay(session_id).status_code == 303
    assert api.get(session_id).get_json()["payment_status"] == "paid"


def test_behind_a_load_balancer_each_shopper_counts_alone(database_url: str) -> None:
    from checkout import create_app

    from support import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "TRUSTED_PROXIES": 1,
                      "API_BAD_KEY_LIMIT": "2 per minute"})
    client = app.test_client()
    bad = {"Authorization": "Bearer sk_test_nope"}

    def guess(address: str) -> int:
        return client.get("/v1/checkout/sessions/cs_x", environ_base={"REMOTE_ADDR": "10.0.0.2"},
                          headers={**bad, "X-Forwarded-For": address}).status_code

    assert [guess("203.0.113.9") for _ in range(3)] == [401, 401, 429]
    assert guess("198.51.100.7") == 401  # another client behind the same balancer
    app.extensions["kessai.engine"].dispose()


def test_nodes_share_the_counts_in_redis(database_url: str) -> None:
    """Two app nodes on one Redis: a bot spreading its guesses over both is stopped at the
    same count as on one (in memory each node would allow the limit twice)."""
    import os
    import secrets

    import redis

    from checkout import create_app

    from support import TEST_CONFIG

    url = os.environ.get("KESSAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("KESSAI_REQUIRE_REDIS"):
            raise
        pytest.skip(f"no Redis at {url}")
    prefix = f"kessai-test-{secrets.token_hex(4)}"  # this run's own counters
    nodes = [create_app({**TEST_CONFIG, "DATABASE_URL": database_url,
                         "RATELIMIT_STORAGE_URI": url, "RATELIMIT_KEY_PREFIX": prefix,
                         "API_BAD_KEY_LIMIT": "4 per minute"}) for _ in range(2)]
    clients = [node.test_client() for node in nodes]
    codes = [clients[i % 2].get("/v1/checkout/sessions/cs_x", environ_base=BOT,
                                headers={"Authorization": "Bearer sk_test_nope"}).status_code
             for i in range(6)]
    assert codes == [401, 401, 401, 401, 429, 429]
    for node in nodes:
        node.extensions["kessai.engine"].dispose()
