"""The demo shop: a newcomer's first minute. Each order goes through the real merchant API."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient

from support import csrf_from


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"FX_SOURCE": "gateway"}  # sandbox rates, as `make run` uses


def _start(client: FlaskClient, order: str) -> str:
    shop = client.get("/demo/", headers={"Accept-Language": "ja-JP"})
    assert shop.status_code == 200
    token = csrf_from(shop.get_data(as_text=True))
    response = client.post(f"/demo/checkout/{order}", data={"csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert re.search(r"/pay/cs_[A-Za-z0-9]+$", location)
    return location.split("/pay/")[1]


@pytest.mark.parametrize(("order", "shown"), [("jp", "￥12,800"), ("kr", "₩62,000")])
def test_demo_orders_open_a_hosted_checkout_in_the_shoppers_language(
    client: FlaskClient, order: str, shown: str
) -> None:
    session_id = _start(client, order)
    page = client.get(f"/pay/{session_id}", headers={"Accept-Language": "ja-JP"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="ja"' in html
    assert shown in html


def test_demo_yuan_order_shows_a_locked_yen_amount(client: FlaskClient) -> None:
    session_id = _start(client, "cn")
    page = client.get(f"/pay/{session_id}", headers={"Accept-Language": "ja-JP"})
    html = page.get_data(as_text=True)
    assert "1 CNY = " in html and " JPY" in html  # the rate is shown
    amounts = re.findall(r"￥[\d,]+", html)
    assert amounts, "the yen amount is on the page"


def test_demo_success_page_reads_the_session_from_the_api(client: FlaskClient) -> None:
    session_id = _start(client, "jp")
    page = client.get(f"/demo/success?session_id={session_id}")
    html = unescape(page.get_data(as_text=True))
    assert page.status_code == 200
    assert session_id in html and '"status": "open"' in html


def test_unknown_demo_order_goes_back_to_the_shop(client: FlaskClient) -> None:
    shop = client.get("/demo/")
    token = csrf_from(shop.get_data(as_text=True))
    response = client.post("/demo/checkout/nope", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith("/demo/")


def test_demo_yen_order_offers_konbini(client: FlaskClient) -> None:
    """The demo merchant carries a (demo) 特商法 disclosure, so konbini is on the yen order."""
    session_id = _start(client, "jp")
    html = client.get(f"/pay/{session_id}?method=konbini",
                      headers={"Accept-Language": "ja-JP"}).get_data(as_text=True)
    assert 'data-method="konbini"' in html or "method=konbini" in html
    legal = client.get(f"/pay/{session_id}/legal", headers={"Accept-Language": "ja-JP"})
    assert legal.status_code == 200 and "Kessai デモショップ" in legal.get_data(as_text=True)
