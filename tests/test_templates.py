"""Every page template, in every theme, rendered through the test client with hostile data.

A merchant named ``<script>alert(1)</script>``, line items and a cardholder name carrying
markup walk through every state of the hosted page (each payment method's form, card errors,
decline, 3-D Secure, processing, status box, complete, expired, not found, CSRF) in each theme
from ``available_themes()``; nothing they carry may reach the page unescaped. Also: card
errors sit next to their fields, and every template file parses in every theme.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from flask import Flask, g, template_rendered
from flask.testing import FlaskClient

from checkout import create_app
from checkout.config import PROJECT_ROOT
from checkout.db import get_db
from checkout.gateway.http import HttpGateway
from checkout.merchants import create_merchant
from checkout.methods import available_methods
from checkout.models import CheckoutSession
from checkout.pages import render_page
from checkout.themes import available_themes, themed

HOSTILE_MERCHANT = "<script>alert(1)</script>"
HOSTILE_ITEM = '<img src=x onerror=alert(2)> "Matcha" & <b>tea</b>'
HOSTILE_NAME = '"><svg onload=alert(3)>'
RAW_MARKERS = ("<script>alert", "<img src=x", "<svg onload", "<b>tea</b>")
ESCAPED_MERCHANT = "&lt;script&gt;alert(1)&lt;/script&gt;"

# The foundation's pages: each must be rendered by the walk below.
FOUNDATION_PAGES = {
    "pay.html", "complete.html", "expired.html", "error.html", "status.html", "home.html",
    "unavailable.html", "sandbox/challenge.html", "demo/shop.html", "demo/success.html",
}


class ElementIndex(HTMLParser):
    """id → (tag, attributes, text inside) for the elements of a page that have an id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: dict[str, tuple[str, dict[str, str], str]] = {}
        self._open: list[tuple[str, str | None]] = []
        self._text: dict[str, list[str]] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        element_id = values.get("id")
        if element_id:
            self.found[element_id] = (tag, values, "")
            self._text[element_id] = []
        if tag not in ("input", "meta", "link", "br", "img", "path", "rect", "circle"):
            self._open.append((tag, element_id))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            open_tag, element_id = self._open.pop()
            if element_id:
                tag_name, attrs, _ = self.found[element_id]
                self.found[element_id] = (tag_name, attrs, "".join(self._text[element_id]).strip())
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for _tag, element_id in self._open:
            if element_id:
                self._text[element_id].append(data)


def csrf_and_attempt(html: str) -> tuple[str, str]:
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    attempt = re.search(r'name="attempt" value="(\d+)"', html)
    assert token, "no CSRF token on the page"
    return token.group(1), attempt.group(1) if attempt else "1"


def assert_escaped(body: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in body, f"unescaped {marker!r} in {where}"


@pytest.fixture
def rendered(app: Flask) -> Iterator[set[str]]:
    names: set[str] = set()

    def record(_sender: Any, template: Any, context: Any, **_extra: Any) -> None:
        names.add(re.sub(r"^@[^/]+/", "", template.name or ""))

    template_rendered.connect(record, app)
    yield names
    template_rendered.disconnect(record, app)


@pytest.fixture
def hostile_key(app: Flask) -> str:
    with app.app_context():
        _record, secret = create_merchant(get_db(), HOSTILE_MERCHANT, ["https://shop.example"])
        get_db().commit()
    return secret


def create(client: FlaskClient, key: str, **fields: Any) -> dict[str, Any]:
    body = {"currency": "JPY", "success_url": "https://shop.example/ok",
            "cancel_url": "https://shop.example/cancel",
            "line_items": [{"name": HOSTILE_ITEM, "quantity": 2, "unit_amount": 6400}],
            "customer": {"name": HOSTILE_NAME}, **fields}
    response = client.post("/v1/checkout/sessions", json=body,
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def card_post(client: FlaskClient, session_id: str, number: str, **extra: str) -> Any:
    page = client.get(f"/pay/{session_id}?method=card").get_data(as_text=True)
    token, attempt = csrf_and_attempt(page)
    data = {"csrf_token": token, "method": "card", "attempt": attempt, "card_number": number,
            "card_expiry": "12/34", "card_cvc": "123", "card_name": HOSTILE_NAME, **extra}
    return client.post(f"/pay/{session_id}", data=data)


def unreachable_gateway() -> HttpGateway:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return HttpGateway("http://gateway.invalid", "secret", transport=httpx.MockTransport(refuse))


@pytest.mark.parametrize("theme", sorted(available_themes()))
def test_every_page_state_escapes_hostile_strings(
    theme: str, app: Flask, client: FlaskClient, hostile_key: str, rendered: set[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages: list[tuple[str, Any]] = []

    def visit(where: str, response: Any, status: int) -> str:
        assert response.status_code == status, f"{where}: {response.status_code}"
        body = response.get_data(as_text=True)
        assert_escaped(body, f"{where} ({theme})")
        pages.append((where, body))
        return body

    for currency, amount in (("JPY", 6400), ("KRW", 64000)):
        session = create(client, hostile_key, theme=theme, currency=currency,
                         line_items=[{"name": HOSTILE_ITEM, "quantity": 2, "unit_amount": amount}])
        with app.test_request_context():
            methods = available_methods(session["payment_method_types"], session["amount"],
                                        currency)
        for method in methods:  # every market's method form, too
            body = visit(f"{currency} {method.id} form",
                         client.get(f"/pay/{session['id']}?method={method.id}"), 200)
            assert ESCAPED_MERCHANT in body

    session = create(client, hostile_key, theme=theme)
    sid = session["id"]
    body = visit("card errors", card_post(client, sid, "4242 4242 4242 4241"), 422)
    assert "&#34;&gt;&lt;svg onload=alert(3)&gt;" in body  # the echoed cardholder name
    visit("decline", card_post(client, sid, "4000 0000 0000 0002"), 303)
    body = visit("declined page", client.get(f"/pay/{sid}?method=card"), 200)
    assert 'role="alert"' in body

    challenge = card_post(client, sid, "4000 0027 6000 3184")
    assert challenge.status_code == 303 and "/sandbox/challenge/" in challenge.location
    body = visit("3-D Secure", client.get(challenge.location), 200)
    token, _ = csrf_and_attempt(body)
    client.post(challenge.location, data={"csrf_token": token, "outcome": "approve"})
    visit("return", client.get(f"/pay/{sid}/return"), 303)
    body = visit("complete", client.get(f"/pay/{sid}"), 200)
    assert ESCAPED_MERCHANT in body
    visit("status (final)", client.get(f"/pay/{sid}/status", headers={"HX-Request": "true"}), 286)

    waiting = create(client, hostile_key, theme=theme)
    monkeypatch.setattr("checkout.gateway.http.RETRY_DELAYS", ())
    app.extensions["kessai.gateway"] = unreachable_gateway()
    try:
        body = visit("processing", card_post(client, waiting["id"], "4242 4242 4242 4242"), 503)
        assert 'id="payment-status"' in body and "data-hx-trigger" in body
        visit("status (polling)", client.get(f"/pay/{waiting['id']}/status",
                                             headers={"HX-Request": "true"}), 200)
    finally:
        app.extensions.pop("kessai.gateway")

    expired = create(client, hostile_key, theme=theme)
    client.post(f"/v1/checkout/sessions/{expired['id']}/expire",
                headers={"Authorization": f"Bearer {hostile_key}"})
    assert ESCAPED_MERCHANT in visit("expired", client.get(f"/pay/{expired['id']}"), 410)
    visit("not found", client.get("/pay/cs_doesnotexist"), 404)
    visit("csrf", client.post(f"/pay/{expired['id']}", data={"csrf_token": "1.bad"}), 400)
    visit("home", client.get("/"), 200)
    visit("demo shop", client.get("/demo/"), 200)
    visit("demo success", client.get(f"/demo/success?session_id={sid}"), 404)

    with app.test_request_context():
        g.theme = theme
        checkout = get_db().get(CheckoutSession, sid)
        visit("unavailable", render_page("unavailable.html", checkout=checkout, status=422), 422)

    missing = FOUNDATION_PAGES - rendered
    assert not missing, f"pages never rendered in {theme}: {sorted(missing)}"


def test_card_errors_sit_next_to_their_fields(client: FlaskClient, api: Any, pay: Any) -> None:
    session = api.create().get_json()
    response = pay(session["id"], number="4242 4242 4242 4241", expiry="13/30", name="")
    assert response.status_code == 422
    page = ElementIndex(response.get_data(as_text=True)).found
    for field, message in (("card_number", "This card number is not valid"),
                           ("card_expiry", "Enter the expiry date as MM/YY"),
                           ("card_name", "Please fill in this field")):
        _tag, attrs, _text = page[field]
        assert attrs.get("aria-invalid") == "true", field
        assert f"{field}-error" in attrs["aria-describedby"].split(), field
        _tag, error_attrs, error_text = page[f"{field}-error"]
        assert "hidden" not in error_attrs and message in error_text, field
    # The valid field is left alone, and the first invalid one gets focus.
    assert "aria-invalid" not in page["card_cvc"][1]
    assert "autofocus" in page["card_number"][1]
    assert "autofocus" not in page["card_expiry"][1]


def test_every_template_file_parses_in_every_theme(app: Flask) -> None:
    files = [p.relative_to(PROJECT_ROOT / "templates").as_posix()
             for p in (PROJECT_ROOT / "templates").rglob("*.html")]
    files += [p.relative_to(PROJECT_ROOT).as_posix()
              for p in (PROJECT_ROOT / "widgets").rglob("*.html")]
    for theme_dir in (PROJECT_ROOT / "themes").glob("*/templates"):
        files += [p.relative_to(theme_dir).as_posix() for p in theme_dir.rglob("*.html")]
    assert "pay.html" in files
    with app.test_request_context():
        for theme in available_themes():
            for name in sorted(set(files)):
                app.jinja_env.get_template(themed(name, theme))


def test_theme_css_is_one_file_per_theme(client: FlaskClient) -> None:
    for theme in available_themes():
        response = client.get(f"/assets/theme/{theme}.css")
        assert response.status_code == 200 and response.mimetype == "text/css"
        css = response.get_data(as_text=True)
        assert ".pay-button{" in css and "--pay-button-bg:" in css


def test_every_page_loads_its_scripts_and_styles_by_versioned_urls() -> None:
    """A script or stylesheet without ?v=<hash> is cached by the browser with no way to move
    it on: after a deployment a slip ran the old voucher.js (it was linked by a plain URL).
    Checked on every state × theme × locale of the preview gallery."""
    import re as regex

    app = create_app({"PREVIEW_ENABLED": True, "TESTING": True, "DATABASE_URL": "sqlite://",
                      "DEMO_ENABLED": False})
    client = app.test_client()
    gallery = client.get("/preview/").get_data(as_text=True)
    pages = sorted(set(regex.findall(r'href="(/preview/[^"?]+)"', gallery)))
    unversioned = set()
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        html = html.replace('href="/static/css/preview.css"', "")  # the designers' own toolbar
        for url in regex.findall(r'<script[^>]* src="([^"]+)"|<link[^>]* href="(/[^"]+)"', html):
            found = url[0] or url[1]
            if "?v=" not in found:
                unversioned.add((page.split("/")[-1], found))
    assert not unversioned, sorted(unversioned)[:10]
