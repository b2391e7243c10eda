"""The address the merchant asked for, on every method and in every market.

Reported: a yen session with ``"address_collection": "shipping"`` showed no address fields on
the card (or wallet) form, yet refused the post with "Please check the fields marked below"
and marked nothing — the shopper could not pay; won and other sessions never collected one.
Cause: the address was parsed for every method but drawn only inside two Japanese forms.
Rule: one address block above the method picker for every method, bound to the method's form.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from checkout.db import get_db
from checkout.models import WebhookEvent

from support import Api, csrf_from

CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/34", "card_cvc": "123",
        "card_name": "Hanako Yamada"}
KR_CARD = {**CARD, "card_company": "shinhan", "instalment_months": "0", "consent_all": "1"}
ADDRESS_FIELDS = re.compile(r'<(?:input|select)[^>]*name="(postal_code|prefecture|city|'
                            r'address_line1|address_line2|country|state)"[^>]*>')


def page(client: FlaskClient, session_id: str, method: str) -> str:
    return client.get(f"/pay/{session_id}?method={method}").get_data(as_text=True)


def post(client: FlaskClient, session_id: str, method: str, **fields: str) -> Any:
    html = page(client, session_id, method)
    attempt = re.search(r'name="attempt" value="(\d+)"', html)
    assert attempt
    return client.post(f"/pay/{session_id}", data={
        "csrf_token": csrf_from(html), "method": method, "attempt": attempt.group(1), **fields})


@pytest.mark.parametrize(("currency", "amount", "method", "fields"), [
    ("JPY", 12800, "card", CARD), ("JPY", 12800, "paypay", {}),
    ("KRW", 62000, "card", KR_CARD), ("USD", 4900, "card", CARD),
])
def test_every_method_shows_the_fields_it_asks_for(client: FlaskClient, api: Api, currency: str,
                                                   amount: int, method: str,
                                                   fields: dict[str, str]) -> None:
    session_id = api.create(amount=amount, currency=currency,
                            address_collection="shipping").get_json()["id"]
    html = page(client, session_id, method)
    shown = ADDRESS_FIELDS.findall(html)
    assert "address_line1" in shown
    # Every address field posts with the method's form, which has that id.
    assert all('form="payment-form"' in tag for tag in ADDRESS_FIELDS.finditer(html)
               for tag in [tag.group(0)])
    assert html.count('id="payment-form"') == 1
    refused = post(client, session_id, method, **fields)
    assert refused.status_code == 422
    refused_html = refused.get_data(as_text=True)
    # What the server refuses is on the page and marked.
    marked = set(re.findall(r'id="([a-z_0-9]+)"[^>]*aria-invalid="true"', refused_html))
    marked |= set(re.findall(r'aria-invalid="true"[^>]*id="([a-z_0-9]+)"', refused_html))
    assert marked and marked <= set(shown) | {"card_number", "card_expiry", "card_cvc"}


def test_a_yen_card_payment_with_a_japanese_address(client: FlaskClient, api: Api) -> None:
    session_id = api.create(address_collection="shipping", locale="ja").get_json()["id"]
    paid = post(client, session_id, "card", postal_code="100-0001", prefecture="東京都",
                city="千代田区", address_line1="千代田1-1", **CARD)
    assert paid.status_code == 303
    address = api.get(session_id).get_json()["address"]
    assert (address["country"], address["postal_code"], address["state"]) == ("JP", "100-0001",
                                                                              "東京都")


def test_a_won_payment_with_a_korean_address(app: Flask, client: FlaskClient, api: Api) -> None:
    session_id = api.create(amount=62000, currency="KRW",
                            address_collection="billing").get_json()["id"]
    wrong = post(client, session_id, "card", postal_code="1234",
                 address_line1="서울특별시 중구 세종대로 110", **KR_CARD)
    assert wrong.status_code == 422
    assert "04524" in wrong.get_data(as_text=True)  # the hint of the right form
    # What was typed stays after a refused post.
    assert "세종대로 110" in wrong.get_data(as_text=True)
    paid = post(client, session_id, "card", postal_code="04524",
                address_line1="서울특별시 중구 세종대로 110", address_line2="3층", **KR_CARD)
    assert paid.status_code == 303
    address = api.get(session_id).get_json()["address"]
    assert address == {"type": "billing", "country": "KR", "postal_code": "04524",
                       "state": None, "city": None, "line1": "서울특별시 중구 세종대로 110",
                       "line2": "3층"}
    with app.app_context():  # the merchant's webhook carries the same address
        bodies = [json.loads(event.body) for event in get_db().query(WebhookEvent)
                  if session_id in event.body]
    assert [body["data"]["object"]["address"] for body in bodies] == [address]


def test_an_international_address_names_countries_in_the_shoppers_language(
        client: FlaskClient, api: Api) -> None:
    session_id = api.create(amount=4900, currency="USD", address_collection="shipping",
                            locale="ja").get_json()["id"]
    html = page(client, session_id, "card")
    assert '<option value="US">アメリカ合衆国</option>' in html
    assert 'value="001"' not in html and 'value="EU"' not in html
    paid = post(client, session_id, "card", country="US", address_line1="1 Market St",
                city="San Francisco", state="CA", postal_code="94105", **CARD)
    assert paid.status_code == 303
    assert api.get(session_id).get_json()["address"]["country"] == "US"


def test_no_address_block_when_none_was_asked(client: FlaskClient, api: Api) -> None:
    session_id = api.create().get_json()["id"]
    assert ADDRESS_FIELDS.findall(page(client, session_id, "card")) == []
