"""Returning shoppers known by a mobile number, and what a signed-in shopper's profile keeps:
the code by text to a Korean 010 or Japanese 090 number (the same phone however it is typed is
one profile), names and kana, phone, addresses and the konbini chain learned from a payment
made while signed in — and only then — prefilled next time, each deletable on the shopper's
page, which nobody else can change."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from checkout.db import get_db
from checkout.models import Enrolment, Notification, ShopperProfile
from checkout.phones import display_mobile, normalize_mobile
from checkout.returning import details

from support import Api, MerchantInfo, csrf_from
from test_japan_konbini import konbini_form, set_legal
from test_returning import pay_card

BACKENDS = ("sqlite", "postgresql")


@pytest.mark.parametrize(("typed", "stored"), [
    ("010-1234-5678", "+821012345678"),
    ("０１０ １２３４ ５６７８", "+821012345678"),
    ("+82 10-1234-5678", "+821012345678"),
    ("090-1234-5678", "+819012345678"),
    ("+81 (0)80 1234 5678", "+818012345678"),
    ("07012345678", "+817012345678"),
    ("090ー1234ー5678", "+819012345678"),  # as a Japanese IME types it; the forms accept it
    ("０９０−１２３４−５６７８", "+819012345678"),
])
def test_korean_and_japanese_mobiles_however_typed(typed: str, stored: str) -> None:
    assert normalize_mobile(typed) == stored
    assert display_mobile(stored) == re.sub(r"(\d{3})(\d{4})(\d{4})", r"\1-\2-\3",
                                            "0" + stored[3:])


@pytest.mark.parametrize("typed", ["03-1234-5678", "02-123-4567", "011-123-4567",
                                   "010-1234-567", "1234", "hanako@example.jp", ""])
def test_landlines_and_short_numbers_are_not_mobiles(typed: str) -> None:
    assert normalize_mobile(typed) is None


def sms_code(app: Flask, to: str, session_id: str) -> str:
    with app.app_context():
        message = get_db().query(Notification).filter_by(
            kind="verification_code", recipient=to, session_id=session_id).one()
        assert message.channel == "sms"
        assert len(message.body.encode("cp949", errors="replace")) <= 90  # one SMS in Korea
        return re.search(r"\b(\d{6})\b", message.body).group(1)


def remembered_by_phone(app: Flask, api: Api, client: FlaskClient, typed: str) -> str:
    session_id = api.create().get_json()["id"]
    response = pay_card(client, session_id, remember_me="1", remember_contact=typed)
    assert response.location.endswith(f"/pay/{session_id}/remember")
    page = client.get(f"/pay/{session_id}/remember").get_data(as_text=True)
    code = sms_code(app, normalize_mobile(typed) or "", session_id)
    answer = client.post(f"/pay/{session_id}/remember",
                         data={"csrf_token": csrf_from(page), "code": code})
    assert answer.status_code == 303
    return session_id


def test_remember_me_by_a_korean_mobile_sends_the_code_by_text(app: Flask, api: Api,
                                                                client: FlaskClient) -> None:
    session_id = api.create(locale="ko").get_json()["id"]
    pay_card(client, session_id, remember_me="1", remember_contact="010 1234 5678")
    page = client.get(f"/pay/{session_id}/remember").get_data(as_text=True)
    assert "010-1234-5678" in page and "문자" in page  # "sent by text", in Korean
    with app.app_context():
        message = get_db().query(Notification).filter_by(kind="verification_code").one()
        assert (message.channel, message.recipient) == ("sms", "+821012345678")
        assert "인증번호" in message.body and len(message.body.encode("cp949")) <= 90
        assert get_db().query(Notification).filter_by(channel="email").count() == 0


def test_one_phone_typed_two_ways_is_one_profile(app: Flask, api: Api,
                                                client: FlaskClient) -> None:
    remembered_by_phone(app, api, client, "090-1234-5678")
    client.post("/account/sign-out", data={"csrf_token": csrf_from(
        client.get("/account").get_data(as_text=True))})
    remembered_by_phone(app, api, client, "+81 90 1234 5678")
    with app.app_context():
        profile = get_db().query(ShopperProfile).one()
        assert (profile.email, profile.phone) == (None, "+819012345678")
        assert len(profile.cards) == 1  # the same card saved once
    html = client.get(f"/pay/{api.create().get_json()['id']}",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Signed in as 090-1234-5678" in html


def test_neither_a_mobile_nor_an_e_mail_is_refused_and_nothing_is_charged(
        app: Flask, api: Api, client: FlaskClient) -> None:
    session_id = api.create().get_json()["id"]
    response = pay_card(client, session_id, remember_me="1", remember_contact="03-1234-5678")
    assert response.status_code == 422
    assert 'id="remember_contact-error"' in response.get_data(as_text=True)
    assert api.get(session_id).get_json()["payment_status"] == "unpaid"
    with app.app_context():
        assert get_db().query(Enrolment).count() == 0


@pytest.fixture
def signed_in(app: Flask, api: Api, client: FlaskClient, merchant: MerchantInfo) -> str:
    """A shopper remembered by e-mail on this browser, at a shop that takes konbini."""
    set_legal(app, merchant.id)
    session_id = api.create().get_json()["id"]
    pay_card(client, session_id, remember_me="1", remember_contact="hanako@example.jp")
    page = client.get(f"/pay/{session_id}/remember").get_data(as_text=True)
    with app.app_context():
        body = get_db().query(Notification).filter_by(kind="verification_code").one().body
    client.post(f"/pay/{session_id}/remember", data={
        "csrf_token": csrf_from(page), "code": re.search(r"\b(\d{6})\b", body).group(1)})
    return session_id


ADDRESS = {"postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区",
           "address_line1": "千代田1-1", "address_line2": "パレス101"}


def test_a_signed_in_shoppers_konbini_details_fill_the_next_form(
        app: Flask, api: Api, client: FlaskClient, signed_in: str) -> None:
    first = api.create(address_collection="shipping").get_json()["id"]
    slip = konbini_form(client, first, konbini_store="familymart", **ADDRESS)
    assert slip.status_code == 303
    with app.app_context():
        details = get_db().query(ShopperProfile).one().details
    assert details["fields"]["konbini_store"] == "familymart"
    assert details["fields"]["family_name"] == "山田"
    assert details["addresses"][0]["line1"] == "千代田1-1"
    assert "card_number" not in details["fields"]  # never a number
    # The next order, at any shop of this Kessai: the konbini form is filled in and first.
    html = client.get(f"/pay/{api.create(address_collection='shipping').get_json()['id']}"
                      ).get_data(as_text=True)
    assert html.index('data-method="konbini"') < html.index('data-method="card"')
    assert re.search(r'<input[^>]*value="familymart"[^>]*checked', html)
    assert re.search(r'<input[^>]*id="family_name_kana"[^>]*value="やまだ"', html)
    assert re.search(r'<input[^>]*id="address_line2"[^>]*value="パレス101"', html)
    assert re.search(r'<option value="東京都" selected>', html)


def test_nothing_is_learned_from_a_shopper_this_browser_does_not_know(
        app: Flask, api: Api, client: FlaskClient, merchant: MerchantInfo) -> None:
    set_legal(app, merchant.id)
    konbini_form(client, api.create(address_collection="shipping").get_json()["id"], **ADDRESS)
    with app.app_context():
        assert get_db().query(ShopperProfile).count() == 0
    html = client.get(f"/pay/{api.create().get_json()['id']}?method=konbini").get_data(
        as_text=True)
    assert "やまだ" not in html and "Signed in as" not in html


def test_remember_me_keeps_the_address_of_the_order_it_was_ticked_on(
        app: Flask, api: Api, client: FlaskClient) -> None:
    session_id = api.create(address_collection="shipping").get_json()["id"]
    pay_card(client, session_id, remember_me="1", remember_contact="hanako@example.jp",
             **ADDRESS)
    with app.app_context():  # kept with the enrolment until the code is confirmed
        assert get_db().query(ShopperProfile).count() == 0
        assert get_db().query(Enrolment).one().details["addresses"][0]["state"] == "東京都"
    page = client.get(f"/pay/{session_id}/remember").get_data(as_text=True)
    with app.app_context():
        body = get_db().query(Notification).filter_by(kind="verification_code").one().body
    client.post(f"/pay/{session_id}/remember", data={
        "csrf_token": csrf_from(page), "code": re.search(r"\b(\d{6})\b", body).group(1)})
    with app.app_context():
        profile = get_db().query(ShopperProfile).one()
        assert profile.details["addresses"][0]["city"] == "千代田区"
        assert profile.details["fields"]["card_name"] == "HANAKO YAMADA"


def test_the_shoppers_page_shows_and_deletes_each_detail(
        app: Flask, api: Api, client: FlaskClient, signed_in: str) -> None:
    konbini_form(client, api.create(address_collection="shipping").get_json()["id"], **ADDRESS)
    page = client.get("/account", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert "〒100-0001 東京都千代田区千代田1-1 パレス101" in page
    assert "ローソン" in page  # the chain by its name, in Japanese
    client.post("/account/details/address.0/delete", data={"csrf_token": csrf_from(page)})
    client.post("/account/details/fields.konbini_store/delete",
                data={"csrf_token": csrf_from(page)})
    client.post("/account/details/method/delete", data={"csrf_token": csrf_from(page)})
    with app.app_context():
        details = get_db().query(ShopperProfile).one().details
    assert details["addresses"] == [] and "konbini_store" not in details["fields"]
    assert "method" not in details and details["fields"]["given_name"] == "花子"


def test_nobody_else_deletes_a_shoppers_details(app: Flask, api: Api, client: FlaskClient,
                                               signed_in: str) -> None:
    page = client.get("/account").get_data(as_text=True)
    stranger = app.test_client()
    stranger_page = stranger.get("/account").get_data(as_text=True)
    refused = stranger.post("/account/details/fields.card_name/delete",
                            data={"csrf_token": csrf_from(stranger_page)})
    assert refused.status_code == 403
    forged = client.post("/account/details/fields.card_name/delete",
                         data={"csrf_token": "forged"})
    assert forged.status_code in (400, 403)
    with app.app_context():
        assert get_db().query(ShopperProfile).one().details["fields"]["card_name"]
    assert csrf_from(page)


def test_prefill_keeps_what_this_session_already_has(app: Flask) -> None:
    """An address typed on this session (an earlier attempt) wins over the profile's."""
    with app.test_request_context():
        profile = ShopperProfile(id="shp_x", email="x@example.jp", details={
            "addresses": [{"country": "JP", "postal_code": "1000001", "state": "東京都",
                           "city": "千代田区", "line1": "千代田1-1", "line2": None}]})

        class Session:
            address_collection = "shipping"
            status = "open"
            address = {"country": "JP", "line1": "elsewhere"}

        assert "address_line1" not in details.prefill(profile, Session())  # type: ignore[arg-type]


# ---- a deleted card is forgotten by the gateway's vault too -------------------------------------

def vault(app: Flask) -> set[str]:
    from checkout.models import SandboxCardToken

    with app.app_context():
        return {row.token for row in get_db().query(SandboxCardToken).all()}


def test_a_card_the_shopper_deletes_leaves_the_gateways_vault(
        app: Flask, api: Api, client: FlaskClient, signed_in: str) -> None:
    from checkout.models import SavedCard, VaultDeletion
    from checkout.worker import run_once

    with app.app_context():
        [card] = get_db().query(SavedCard).all()
        token = card.token
    assert token in vault(app)
    page = client.get("/account").get_data(as_text=True)
    form = re.search(r'action="(/account/cards/[^"]+/delete)"', page).group(1)
    client.post(form, data={"csrf_token": csrf_from(page)})
    with app.app_context():  # gone from Kessai at once; queued for the vault
        assert get_db().query(SavedCard).count() == 0
        assert [d.token for d in get_db().query(VaultDeletion).all()] == [token]
    run_once(app)
    assert token not in vault(app)
    with app.app_context():
        assert get_db().query(VaultDeletion).count() == 0


def test_a_vault_that_cannot_be_reached_forgets_the_card_when_it_answers_again(
        app: Flask, api: Api, client: FlaskClient, signed_in: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from checkout.gateway.base import GatewayUnavailable
    from checkout.gateway.sandbox import EmbeddedSandboxGateway
    from checkout.models import VaultDeletion
    from checkout.worker import run_once

    tokens = vault(app)
    page = client.get("/account").get_data(as_text=True)
    client.post("/account/delete", data={"csrf_token": csrf_from(page)})  # everything

    def down(self: EmbeddedSandboxGateway, token: str) -> None:
        raise GatewayUnavailable("connection refused", reached=False)

    with monkeypatch.context() as patched:
        patched.setattr(EmbeddedSandboxGateway, "forget_card", down)
        run_once(app)
        run_once(app)
    with app.app_context():
        [waiting] = get_db().query(VaultDeletion).all()
        assert waiting.attempts == 2 and "connection refused" in (waiting.last_error or "")
        assert get_db().query(ShopperProfile).count() == 0  # the shopper's deletion stands
    assert tokens <= vault(app)
    run_once(app)  # the gateway is back
    assert not tokens & vault(app)


def test_the_merchants_customer_phone_fills_the_remember_me_contact(api: Api,
                                                                    client: FlaskClient) -> None:
    session_id = api.create(customer={"phone": "010-1234-5678"}).get_json()["id"]
    html = client.get(f"/pay/{session_id}").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="remember_contact"[^>]*value="010-1234-5678"', html)
    with_email = api.create(customer={"phone": "010-1234-5678", "email": "minji@example.kr"})
    html = client.get(f"/pay/{with_email.get_json()['id']}").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="remember_contact"[^>]*value="minji@example.kr"', html)


def test_a_signed_in_korean_shoppers_virtual_account_choices_fill_the_next_order(
        app: Flask, api: Api, client: FlaskClient, signed_in: str) -> None:
    first = api.create(amount=62000, currency="KRW", locale="ko").get_json()["id"]
    html = client.get(f"/pay/{first}?method=kr_virtual_account").get_data(as_text=True)
    issued = client.post(f"/pay/{first}", data={
        "csrf_token": csrf_from(html), "method": "kr_virtual_account", "attempt": "1",
        "consent_all": "1", "deposit_bank": "shinhan", "depositor_name": "김민지"})
    assert issued.status_code == 303
    second = api.create(amount=39000, currency="KRW", locale="ko").get_json()["id"]
    html = client.get(f"/pay/{second}").get_data(as_text=True)
    assert html.index('data-method="kr_virtual_account"') < html.index('data-method="card"')
    assert re.search(r'<option value="shinhan"[^>]*selected', html)
    assert re.search(r'<input[^>]*id="depositor_name"[^>]*value="김민지"', html)
