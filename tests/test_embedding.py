"""Embedding: the page tells embedded.js its merchant's origins, and a framed shopper whose
payment succeeded stays on Kessai's result page (which sends ``kessai:complete``)."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from checkout.db import get_db
from checkout.merchants import create_merchant

from support import csrf_from, handed_off_to


def embed_config(page: str) -> Any:
    match = re.search(r"data-kessai-embed='([^']+)'", page)
    return json.loads(html.unescape(match.group(1))) if match else None


def card_form(client: Any, session_id: str) -> dict[str, str]:
    page = client.get(f"/pay/{session_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return {"csrf_token": token, "method": "card", "attempt": "1",
            "card_number": "4242424242424242", "card_expiry": "12/34", "card_cvc": "123",
            "card_name": "Hanako Yamada"}


def test_framed_checkout_page_carries_the_merchants_origins(client: Any, api: Any) -> None:
    session = api.create().get_json()
    framed = client.get(f"/pay/{session['id']}", headers={"Sec-Fetch-Dest": "iframe"})
    page = framed.get_data(as_text=True)
    assert embed_config(page) == {"session_id": session["id"], "origins": ["https://shop.example"],
                                  "status": "open", "payment_status": "unpaid",
                                  "cancel_url": "https://shop.example/cancel"}
    assert re.search(r'<script src="/assets/js/[a-z_+-]*\bembedded\.js\?v=', page)  # in the bundle
    assert "frame-ancestors https://shop.example" in framed.headers["Content-Security-Policy"]


def test_top_level_page_does_not_download_the_embedding_script(client: Any, api: Any) -> None:
    session = api.create().get_json()
    page = client.get(f"/pay/{session['id']}", headers={"Sec-Fetch-Dest": "document"})
    assert embed_config(page.get_data(as_text=True)) is None
    assert "embedded.js" not in page.get_data(as_text=True)


def test_no_embedding_script_when_the_merchant_registered_no_origin(app: Any, client: Any) -> None:
    with app.app_context():
        _merchant, secret = create_merchant(get_db(), "No frames", [])
        get_db().commit()
    session = client.post("/v1/checkout/sessions", json={
        "amount": 1000, "currency": "JPY", "success_url": "https://x.example/ok"},
        headers={"Authorization": f"Bearer {secret}"}).get_json()
    page = client.get(f"/pay/{session['id']}", headers={"Sec-Fetch-Dest": "iframe"})
    assert embed_config(page.get_data(as_text=True)) is None
    assert "embedded.js" not in page.get_data(as_text=True)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_framed_payment_stays_on_kessai_and_reports_completion(client: Any, api: Any) -> None:
    session = api.create().get_json()
    paid = client.post(f"/pay/{session['id']}", data=card_form(client, session["id"]),
                       headers={"Sec-Fetch-Dest": "iframe"})
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"/pay/{session['id']}"
    result = client.get(f"/pay/{session['id']}",
                        headers={"Sec-Fetch-Dest": "iframe"}).get_data(as_text=True)
    config = embed_config(result)
    assert config["status"] == "complete" and config["payment_status"] == "paid"
    assert config["return_url"].startswith(f"https://shop.example/ok?session_id={session['id']}")


def test_htmx_request_marked_embedded_gets_the_result_page(client: Any, api: Any) -> None:
    session = api.create().get_json()
    paid = client.post(f"/pay/{session['id']}", data=card_form(client, session["id"]),
                       headers={"HX-Request": "true", "Kessai-Embedded": "1"})
    assert paid.headers["HX-Redirect"] == f"/pay/{session['id']}"


def test_top_level_payment_still_goes_to_the_success_url(client: Any, api: Any) -> None:
    session = api.create().get_json()
    paid = client.post(f"/pay/{session['id']}", data=card_form(client, session["id"]),
                       headers={"Sec-Fetch-Dest": "document"})
    assert paid.headers["Location"].startswith("https://shop.example/ok?session_id=")


# ---- the gateway's pages inside the checkout's frame -----------------------------------------

def challenge_url(client: Any, session_id: str) -> str:
    form = {**card_form(client, session_id), "card_number": "4000002760003184"}
    started = client.post(f"/pay/{session_id}", data=form, headers={"Sec-Fetch-Dest": "iframe"})
    assert started.status_code == 303 and "/sandbox/challenge/" in started.location
    return str(started.location)


def csp(response: Any) -> dict[str, list[str]]:
    return {name: values for name, *values in (
        part.split() for part in response.headers["Content-Security-Policy"].split(";")
        if part.strip())}


def test_the_issuers_challenge_may_be_framed_and_ends_its_post_without_a_redirect(
        app: Any, api: Any) -> None:
    """EMV 3-D Secure shows the issuer's page inside the requestor's frame; the sandbox issuer
    cannot know the merchant's origins, so it may be framed by any. Its form posts back to
    itself only, and moves on by a hand-off page: a 303 from it would be checked against its
    ``form-action 'self'`` all the way to the merchant's success_url — and blocked."""
    session_id = api.create().get_json()["id"]
    shopper = app.test_client()
    url = challenge_url(shopper, session_id)
    # Inside a shop's iframe on another site the browser sends no SameSite cookie: start clean.
    framed = app.test_client()
    page = framed.get(url, headers={"Sec-Fetch-Dest": "iframe"})
    policy = csp(page)
    assert policy["frame-ancestors"] == ["*"]
    assert policy["form-action"] == ["'self'"]
    answer = framed.post(url, headers={"Sec-Fetch-Dest": "iframe"}, data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "outcome": "approve"})
    back = handed_off_to(answer)
    assert back.endswith(f"/pay/{session_id}/return")
    assert csp(answer)["frame-ancestors"] == ["*"]
    returned = framed.get(back, headers={"Sec-Fetch-Dest": "iframe"})
    assert returned.location == f"/pay/{session_id}"  # the framed result page, not the shop
    assert api.get(session_id).get_json()["payment_status"] == "paid"


def test_the_issuers_page_offers_no_control_that_fails_in_a_frame(app: Any, api: Any) -> None:
    """Every form on the framed issuer's page works without cookies: it had Kessai's language
    switcher, whose post to /locale is bound to a SameSite cookie (400 inside a shop's frame).
    An issuer's page follows the browser's language instead."""
    url = challenge_url(app.test_client(), api.create().get_json()["id"])
    framed = app.test_client()
    html = framed.get(url, headers={"Sec-Fetch-Dest": "iframe",
                                    "Accept-Language": "ja"}).get_data(as_text=True)
    assert 'class="language-switcher"' not in html and '<html lang="ja"' in html
    forms = re.findall(r"<form[^>]*>", html)
    assert forms and all('action="/locale"' not in form for form in forms), forms
    assert all("action=" not in form or 'action="/sandbox/' in form for form in forms), forms


def test_a_gateway_pages_token_is_bound_to_its_payment(app: Any, api: Any) -> None:
    first, second = (challenge_url(app.test_client(), api.create().get_json()["id"])
                     for _ in range(2))
    issuer = app.test_client()
    token = csrf_from(issuer.get(first).get_data(as_text=True))
    stolen = issuer.post(second, data={"csrf_token": token, "outcome": "approve"})
    assert stolen.status_code == 400
    assert "Location" not in stolen.headers


def test_checkout_pages_still_refuse_frames_from_other_origins(client: Any, api: Any) -> None:
    session_id = api.create().get_json()["id"]
    page = client.get(f"/pay/{session_id}", headers={"Sec-Fetch-Dest": "iframe"})
    assert csp(page)["frame-ancestors"] == ["https://shop.example"]
    assert "https://shop.example" in csp(page)["form-action"]  # where a payment may end
