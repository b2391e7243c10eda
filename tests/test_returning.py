"""Returning shoppers through the test client: "remember me" saves the card as the gateway's
token (no number anywhere), the e-mail code (wrong, limited, right), the device cookie that
prefills but never pays, "Not you?", the shopper's page (delete a card, everything, sign out),
and a payment challenge refused when it was issued for another amount, session or card, or is
replayed — before any signature is looked at. The ceremonies themselves run in Chromium with a
virtual authenticator (tests/e2e/test_passkeys.py)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from checkout.db import get_db
from checkout.models import (
    Base,
    Enrolment,
    Notification,
    PasskeyChallenge,
    Payment,
    SandboxCardToken,
    SavedCard,
    ShopperProfile,
)
from checkout.returning import passkeys, profiles

from support import Api, csrf_from

BACKENDS = ("sqlite", "postgresql")
VISA = "4242 4242 4242 4242"
CHALLENGE_CARD = "4000 0027 6000 3184"


def pay_card(client: FlaskClient, session_id: str, number: str = VISA, **extra: str) -> Any:
    html = client.get(f"/pay/{session_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "method": "card", "attempt": "1",
            "card_number": number, "card_expiry": "12/34", "card_cvc": "123",
            "card_name": "HANAKO YAMADA", **extra}
    return client.post(f"/pay/{session_id}", data=data)


def sent_code(app: Flask) -> str:
    with app.app_context():
        message = get_db().query(Notification).filter_by(kind="verification_code").one()
        assert message.channel == "email"
        return re.search(r"\b(\d{6})\b", message.body).group(1)


def remembered(app: Flask, api: Api, client: FlaskClient, number: str = VISA) -> str:
    """A paid order with "remember me" and its code confirmed: the session id."""
    session_id = api.create().get_json()["id"]
    response = pay_card(client, session_id, number, remember_me="1",
                        remember_contact="Hanako@Example.jp")
    assert response.location.endswith(f"/pay/{session_id}/remember")
    page = client.get(f"/pay/{session_id}/remember").get_data(as_text=True)
    answer = client.post(f"/pay/{session_id}/remember",
                         data={"csrf_token": csrf_from(page), "code": sent_code(app)})
    assert answer.status_code == 303
    return session_id


def test_remember_me_is_off_by_default(api: Api, client: FlaskClient) -> None:
    html = client.get(f"/pay/{api.create().get_json()['id']}").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="remember_me"[^>]*>', html)
    assert not re.search(r'<input[^>]*id="remember_me"[^>]*checked', html)
    assert "data-passkey-autofill" in html  # passkeys.js lets the browser offer a passkey here


def test_the_card_is_saved_as_a_token_and_charged_by_it(app: Flask, api: Api,
                                                        client: FlaskClient) -> None:
    remembered(app, api, client)
    with app.app_context():
        db = get_db()
        profile = db.query(ShopperProfile).one()
        assert profile.email == "hanako@example.jp"
        [card] = profile.cards
        [payment] = db.query(Payment).all()
        vault = db.get(SandboxCardToken, card.token)
        assert (card.brand, card.last4, card.expiry) == ("visa", "4242", "12/34")
        assert vault is not None and payment.card_last4 == "4242"
        # No card number at rest, anywhere: not in Kessai's rows, not in the sandbox's vault.
        for table in ("payments", "saved_cards", "sandbox_card_tokens", "sandbox_payments",
                      "shopper_enrolments", "notifications", "webhook_events"):
            rows = db.execute(select(Base.metadata.tables[table])).all()
            assert "4242424242424242" not in json.dumps([list(map(str, r)) for r in rows])


def test_no_remember_no_profile_and_a_wrong_code_saves_nothing(app: Flask, api: Api,
                                                               client: FlaskClient) -> None:
    plain = api.create().get_json()["id"]
    assert pay_card(client, plain).location.startswith("https://shop.example/ok")
    session_id = api.create().get_json()["id"]
    pay_card(client, session_id, remember_me="1", remember_contact="hanako@example.jp")
    page = client.get(f"/pay/{session_id}/remember").get_data(as_text=True)
    code = sent_code(app)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for attempt in range(profiles.MAX_CODE_ATTEMPTS):
        answer = client.post(f"/pay/{session_id}/remember",
                             data={"csrf_token": csrf_from(page), "code": wrong})
        assert answer.status_code == 422, attempt
    # Used up: even the right code is refused now.
    late = client.post(f"/pay/{session_id}/remember",
                       data={"csrf_token": csrf_from(page), "code": code})
    assert late.status_code == 422
    with app.app_context():
        assert get_db().query(ShopperProfile).count() == 0
        assert get_db().query(SavedCard).count() == 0


def test_the_device_cookie_prefills_and_not_you_forgets(app: Flask, api: Api,
                                                         client: FlaskClient) -> None:
    remembered(app, api, client)
    assert client.get_cookie(profiles.DEVICE_COOKIE) is not None
    next_order = api.create(amount=9800).get_json()["id"]
    html = client.get(f"/pay/{next_order}", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert "Signed in as hanako@example.jp" in html
    assert "data-passkey-pay" not in html  # no passkey yet: prefill, never a payment
    page = client.post(f"/pay/{next_order}/not-you", data={"csrf_token": csrf_from(html)})
    assert page.status_code == 303 and client.get_cookie(profiles.DEVICE_COOKIE) is None
    assert "Signed in as" not in client.get(f"/pay/{next_order}").get_data(as_text=True)


def test_a_forged_device_cookie_is_ignored(app: Flask, api: Api, client: FlaskClient) -> None:
    remembered(app, api, client)
    with app.app_context():
        profile_id = get_db().query(ShopperProfile).one().id
    client.set_cookie(profiles.DEVICE_COOKIE, profile_id)  # unsigned: someone else's id
    html = client.get(f"/pay/{api.create().get_json()['id']}").get_data(as_text=True)
    assert "Signed in as" not in html


def test_the_shoppers_page_deletes_a_card_and_everything(app: Flask, api: Api,
                                                         client: FlaskClient) -> None:
    remembered(app, api, client)
    page = client.get("/account", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "hanako@example.jp" in page and "•••• 4242" in page
    assert "Kessaiはカード番号を保存しません" in page  # the privacy notice, in Japanese
    card_form = re.search(r'action="(/account/cards/[^"]+/delete)"', page).group(1)
    client.post(card_form, data={"csrf_token": csrf_from(page)})
    with app.app_context():
        assert get_db().query(SavedCard).count() == 0
    page = client.get("/account").get_data(as_text=True)
    client.post("/account/delete", data={"csrf_token": csrf_from(page)})
    with app.app_context():
        assert get_db().query(ShopperProfile).count() == 0
    assert client.get_cookie(profiles.DEVICE_COOKIE) is None
    assert client.post("/account/delete",
                       data={"csrf_token": csrf_from(page)}).status_code == 403


def test_a_passkey_confirmed_token_charge_skips_the_challenge_in_the_sandbox(
        app: Flask) -> None:
    from checkout.gateway import CardDetails, PaymentRequest, get_gateway

    with app.test_request_context():
        gateway = get_gateway()
        token = gateway.tokenize_card(CardDetails("4000002760003184", 12, 2034, "123", "A"))
        base = {"amount": 500, "currency": "JPY", "method": "card", "return_url": "/r",
                "card_token": token.token}
        plain = gateway.create_payment(PaymentRequest(idempotency_key="k1", **base))
        confirmed = gateway.create_payment(PaymentRequest(
            idempotency_key="k2", details={"authentication": {"method": "passkey"}}, **base))
    assert plain.status == "requires_action"  # a token alone is no authentication
    assert confirmed.status == "succeeded" and confirmed.card_last4 == "3184"


def _forged_assertion(challenge: str) -> dict[str, Any]:
    client_data = base64.urlsafe_b64encode(json.dumps(
        {"type": "webauthn.get", "challenge": challenge, "origin": "http://localhost"}
    ).encode()).decode().rstrip("=")
    return {"id": "x", "rawId": "x", "type": "public-key",
            "response": {"clientDataJSON": client_data, "authenticatorData": "",
                         "signature": ""}}


@pytest.mark.parametrize("change", ["amount", "currency", "session", "payee", "card"])
def test_a_payment_challenge_is_refused_for_anything_else(app: Flask, change: str) -> None:
    binding = passkeys.Binding("cs_a", 12800, "JPY", "mer_a", "card_a")
    other = {**binding.__dict__, {"amount": "amount", "currency": "currency",
                                  "session": "session_id", "payee": "payee",
                                  "card": "saved_card_id"}[change]: {
        "amount": 12801, "currency": "KRW", "session": "cs_b", "payee": "mer_b",
        "card": "card_b"}[change]}
    with app.test_request_context():
        db = get_db()
        profile = ShopperProfile(id="shp_a", email="a@example.jp", created=0)
        db.add(profile)
        db.commit()
        options = json.loads(passkeys.payment_options(db, profile, binding))
        with pytest.raises(passkeys.PasskeyRefused) as refused:
            passkeys.authenticate(db, _forged_assertion(options["challenge"]), passkeys.PAY,
                                  binding=passkeys.Binding(**other))
        assert refused.value.reason == "payment_changed"
        # ...and the challenge is spent: the right binding cannot use it afterwards either.
        with pytest.raises(passkeys.PasskeyRefused) as replay:
            passkeys.authenticate(db, _forged_assertion(options["challenge"]), passkeys.PAY,
                                  binding=binding)
        assert replay.value.reason == "challenge_used_or_expired"
        assert db.query(PasskeyChallenge).one().used_at is not None


def test_unknown_or_sign_in_challenges_cannot_pay(app: Flask) -> None:
    with app.test_request_context():
        db = get_db()
        sign_in = json.loads(passkeys.sign_in_options(db, None))
        for challenge in (sign_in["challenge"], "bm90LWEtY2hhbGxlbmdl"):
            with pytest.raises(passkeys.PasskeyRefused) as refused:
                passkeys.authenticate(db, _forged_assertion(challenge), passkeys.PAY,
                                      binding=passkeys.Binding("cs", 1, "JPY", "m", "c"))
            assert refused.value.reason == "unknown_challenge"


def test_the_code_is_sent_in_the_shoppers_language(app: Flask, api: Api,
                                                   client: FlaskClient) -> None:
    client.set_cookie("kessai_lang", "ko")
    session_id = api.create().get_json()["id"]
    pay_card(client, session_id, remember_me="1", remember_contact="minji@example.kr")
    with app.app_context():
        message = get_db().query(Notification).filter_by(kind="verification_code").one()
        enrolment = get_db().query(Enrolment).one()
    assert message.recipient == "minji@example.kr" and enrolment.verified_at is None
    assert message.body.startswith("Kessai 인증번호: ") and "15분 동안 유효해요" in message.body


def test_a_remembered_shopper_finds_their_email_on_a_konbini_slip_form(
        app: Flask, api: Api, client: FlaskClient) -> None:
    from test_japan_konbini import set_legal

    remembered(app, api, client)
    with app.app_context():
        merchant_id = get_db().query(Payment).first().session.merchant_id
    set_legal(app, merchant_id)
    html = client.get(f"/pay/{api.create().get_json()['id']}?method=konbini").get_data(
        as_text=True)
    assert re.search(r'<input[^>]*id="email"[^>]*value="hanako@example.jp"', html)


def test_one_challenge_answered_twice_at_once_is_claimed_once(app: Flask) -> None:
    """Two requests carrying the same assertion at the same moment: one conditional UPDATE
    claims the challenge, the other finds it used (repeated: a rare interleaving has every
    round to show). The winner then meets the signature check, which a forgery fails."""
    import threading

    binding = passkeys.Binding("cs_a", 12800, "JPY", "mer_a", "card_a")
    with app.test_request_context():
        db = get_db()
        db.add(ShopperProfile(id="shp_a", email="a@example.jp", created=0))
        db.commit()
    for _round in range(10):
        with app.test_request_context():
            profile = get_db().get(ShopperProfile, "shp_a")
            challenge = json.loads(passkeys.payment_options(get_db(), profile, binding))[
                "challenge"]
        start = threading.Barrier(2)
        reasons: list[str] = []

        def answer(start: threading.Barrier = start, reasons: list[str] = reasons,
                   challenge: str = challenge) -> None:
            with app.test_request_context():
                start.wait()
                try:
                    passkeys.authenticate(get_db(), _forged_assertion(challenge), passkeys.PAY,
                                          binding=binding)
                except passkeys.PasskeyRefused as refused:
                    reasons.append(refused.reason)

        threads = [threading.Thread(target=answer) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(reasons) == ["challenge_used_or_expired", "unknown_credential"], reasons
