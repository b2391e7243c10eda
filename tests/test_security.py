"""Security by default: headers on every answer, cookies, CSRF on every form post with a short,
explicit list of exemptions."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from checkout import create_app
from checkout.csrf import exempt_rules
from checkout.db import get_db
from checkout.merchants import create_merchant

from support import TEST_CONFIG, csrf_from

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def csp_of(response: Any) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    policy = {}
    for directive in header.split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


@pytest.fixture
def session_id(api: Any) -> str:
    return str(api.create().get_json()["id"])


# ---- Content-Security-Policy ---------------------------------------------------------------

def test_csp_nonce_matches_every_script_tag_and_changes_per_request(
    client: FlaskClient, session_id: str
) -> None:
    nonces = []
    for _ in range(2):
        page = client.get(f"/pay/{session_id}")
        html = page.get_data(as_text=True)
        policy = csp_of(page)
        (nonce_source,) = [s for s in policy["script-src"] if s.startswith("'nonce-")]
        nonce = nonce_source[len("'nonce-"):-1]
        assert len(nonce) >= 16
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts, "the page loads scripts"
        for tag in scripts:
            assert f'nonce="{nonce}"' in tag, tag
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_csp_is_strict(client: FlaskClient, session_id: str) -> None:
    for path in (f"/pay/{session_id}", "/", "/pay/cs_missing"):
        response = client.get(path)
        header = response.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header
        policy = csp_of(response)
        assert policy["default-src"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"]
        assert "*" not in policy["script-src"]
        html = response.get_data(as_text=True)
        # What a strict CSP would block anyway must not be in our pages.
        assert not re.search(r"\son[a-z]+=", html), "inline event handler"
        assert " style=" not in html, "inline style attribute"
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"


def test_frame_ancestors_are_the_merchants_origins(client: FlaskClient, session_id: str) -> None:
    page = client.get(f"/pay/{session_id}")
    assert csp_of(page)["frame-ancestors"] == ["https://shop.example"]
    assert "X-Frame-Options" not in page.headers


def test_without_origins_nobody_may_frame(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        _merchant, key = create_merchant(get_db(), "No Origins Shop", [])
        get_db().commit()
    response = client.post("/v1/checkout/sessions", headers={"Authorization": f"Bearer {key}"},
                           json={"amount": 1000, "currency": "JPY",
                                 "success_url": "https://a.example/"})
    page = client.get(f"/pay/{response.get_json()['id']}")
    assert csp_of(page)["frame-ancestors"] == ["'none'"]
    assert page.headers["X-Frame-Options"] == "DENY"
    home = client.get("/")
    assert csp_of(home)["frame-ancestors"] == ["'none'"]
    assert home.headers["X-Frame-Options"] == "DENY"


def test_other_headers_on_pages_api_and_assets(client: FlaskClient, session_id: str,
                                               api: Any) -> None:
    css = client.get(re.search(r'href="(/assets/theme/[^"]+)"', client.get(
        f"/pay/{session_id}").get_data(as_text=True)).group(1))
    for response in (client.get(f"/pay/{session_id}"), api.get(session_id), css,
                     client.get("/pay/cs_missing"), client.get("/v1/nothing")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert client.get(f"/pay/{session_id}").headers["Cache-Control"] == "no-store"


# ---- cookies -------------------------------------------------------------------------------------

def cookies_set(response: Any) -> list[tuple[str, dict[str, str], str]]:
    found = []
    for header in response.headers.getlist("Set-Cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            found.append((name, {k: v for k, v in morsel.items() if v}, header))
    return found


def cookies_from_every_flow(client: FlaskClient, session_id: str) -> list[tuple[str, dict, str]]:
    seen = []
    home = client.get("/")
    seen += cookies_set(home)
    seen += cookies_set(client.post("/locale", data={
        "csrf_token": csrf_from(home.get_data(as_text=True)), "lang": "ja", "next": "/"}))
    page = client.get(f"/pay/{session_id}")
    token = csrf_from(page.get_data(as_text=True))
    seen += cookies_set(client.post(f"/pay/{session_id}/locale",
                                    data={"csrf_token": token, "lang": "ko"}))
    attempt = re.search(r'name="attempt" value="(\d+)"', page.get_data(as_text=True)).group(1)
    paid = client.post(f"/pay/{session_id}", data={
        "csrf_token": token, "method": "card", "attempt": attempt,
        "card_number": "4242424242424242", "card_expiry": "12/34", "card_cvc": "123",
        "card_name": "Hanako Yamada"})
    seen += cookies_set(paid)
    seen += cookies_set(client.get(f"/pay/{session_id}"))
    return seen


def test_every_cookie_is_httponly_and_samesite(client: FlaskClient, session_id: str) -> None:
    seen = cookies_from_every_flow(client, session_id)
    assert {"kessai_browser", "kessai_lang"} <= {name for name, _a, _h in seen}
    for name, attributes, header in seen:
        assert attributes.get("httponly"), header
        assert attributes.get("samesite", "").lower() in ("lax", "strict"), header
        assert "secure" not in attributes, f"{name}: Secure on plain http breaks the cookie"


class TestHttps:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"PUBLIC_URL": "https://pay.example"}

    def test_every_cookie_is_secure_under_https(self, client: FlaskClient,
                                                session_id: str) -> None:
        seen = cookies_from_every_flow(client, session_id)
        assert seen
        for _name, attributes, header in seen:
            assert attributes.get("secure"), header
            assert attributes.get("httponly"), header


# ---- CSRF ------------------------------------------------------------------------------------

def unsafe_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.methods and r.methods & UNSAFE]


def fill(rule: Rule, session_id: str) -> str:
    values = {arg: session_id if arg == "session_id" else "x_1" for arg in rule.arguments}
    if "order" in values:
        values["order"] = "jp"
    path = rule.rule
    for arg, value in values.items():
        path = re.sub(rf"<(?:[a-z]+:)?{arg}>", value, path)
    return path


def test_every_unsafe_form_post_needs_a_token(app: Flask, client: FlaskClient,
                                             session_id: str) -> None:
    """Every non-exempt unsafe route — including those markets add — refuses a form post
    without a valid token with the localized 400 page, before doing anything."""
    exempt = exempt_rules(app)
    checked = []
    for rule in unsafe_rules(app):
        if rule.rule in exempt:
            continue
        path = fill(rule, session_id)
        for data in ({}, {"csrf_token": ""}, {"csrf_token": "123.abc"},
                     {"csrf_token": "9999999999.deadbeef"}):
            response = client.post(path, data=data, headers={"Accept-Language": "ja"})
            assert response.status_code == 400, (path, data, response.status_code)
            assert response.mimetype == "text/html"
            html = response.get_data(as_text=True)
            assert "フォームの有効期限が切れました" in html, path
            assert 'lang="ja"' in html
        checked.append(rule.rule)
    assert {"/pay/<session_id>", "/pay/<session_id>/locale", "/locale",
            "/sandbox/challenge/<payment_id>"} <= set(checked)


def test_the_exemptions_are_the_api_and_gateway_events_only(app: Flask,
                                                            client: FlaskClient) -> None:
    exempt = exempt_rules(app)
    outside_api = {rule for rule in exempt if not rule.startswith("/v1/")}
    assert outside_api == {"/demo/webhook"}  # the demo plays a merchant
    assert {"/v1/checkout/sessions", "/v1/checkout/sessions/<session_id>/expire"} <= exempt
    # Every exempt API route authenticates with the secret key instead.
    for rule in exempt - outside_api:
        url_rule = next(r for r in app.url_map.iter_rules()
                        if r.rule == rule and r.methods - {"GET", "HEAD", "OPTIONS"})
        method = sorted(url_rule.methods - {"GET", "HEAD", "OPTIONS"})[0]
        response = client.open(fill(url_rule, "cs_x"), method=method)
        assert response.status_code == 401, rule
    # The embedded sandbox tells Kessai in process: there is no event endpoint to forge.
    assert client.post("/gateway/events", data=b"{}").status_code == 404


def test_production_has_no_demo_exemption(database_url: str) -> None:
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "DEMO_ENABLED": False,
                      "GATEWAY_URL": "http://127.0.0.1:9"})
    assert {r for r in exempt_rules(app) if not r.startswith("/v1/")} == {
        "/gateway/events", "/gateway/events/<gateway>"}
    app.extensions["kessai.engine"].dispose()
    # /gateway/events (and each named gateway's) authenticates with a gateway's signature.
    client = app.test_client()
    assert client.post("/gateway/events", data=b"{}").status_code == 400
    assert client.post("/gateway/events/acquirer-z", data=b"{}").status_code == 404


def test_a_valid_token_is_accepted(client: FlaskClient, session_id: str) -> None:
    token = csrf_from(client.get(f"/pay/{session_id}").get_data(as_text=True))
    response = client.post(f"/pay/{session_id}/locale", data={"csrf_token": token, "lang": "ja"})
    assert response.status_code == 303


def test_tokens_are_bound_to_their_checkout_session(client: FlaskClient, api: Any,
                                                    session_id: str) -> None:
    other = api.create().get_json()["id"]
    token = csrf_from(client.get(f"/pay/{session_id}").get_data(as_text=True))
    form = {"csrf_token": token, "method": "card", "attempt": "1",
            "card_number": "4242424242424242", "card_expiry": "12/34", "card_cvc": "123",
            "card_name": "Hanako Yamada"}
    assert client.post(f"/pay/{other}", data=form).status_code == 400
    assert client.post(f"/pay/{other}/locale", data={"csrf_token": token,
                                                     "lang": "ja"}).status_code == 400
    assert api.get(other).get_json()["payments"] == []
    # A page outside any checkout gives tokens bound to the browser: no use on a checkout.
    browser_token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post(f"/pay/{session_id}", data={**form, "csrf_token": browser_token}
                       ).status_code == 400
    # ... and a checkout's token is no use outside it.
    assert client.post("/locale", data={"csrf_token": token, "lang": "ja"}).status_code == 400
    # The right token still works.
    assert client.post(f"/pay/{session_id}", data=form).status_code == 303


def test_browser_tokens_need_their_own_cookie(app: Flask, client: FlaskClient) -> None:
    token = csrf_from(client.get("/").get_data(as_text=True))
    stranger = app.test_client()
    assert stranger.post("/locale", data={"csrf_token": token, "lang": "ja"}).status_code == 400
    assert client.post("/locale", data={"csrf_token": token, "lang": "ja"}).status_code == 303


def test_the_token_header_works_for_htmx(client: FlaskClient, session_id: str) -> None:
    token = csrf_from(client.get(f"/pay/{session_id}").get_data(as_text=True))
    response = client.post(f"/pay/{session_id}/locale", data={"lang": "ja"},
                           headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 303


def test_a_token_signed_with_another_secret_is_refused(app: Flask, client: FlaskClient,
                                                       session_id: str) -> None:
    token = csrf_from(client.get(f"/pay/{session_id}").get_data(as_text=True))
    app.config["SECRET_KEY"] = "rotated"
    response = client.post(f"/pay/{session_id}/locale", data={"csrf_token": token, "lang": "ja"})
    assert response.status_code == 400
