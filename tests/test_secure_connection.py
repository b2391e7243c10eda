"""The page claims a secure connection only when it has one: served over HTTPS, or behind a
proxy whose public URL is https. Never over plain http — in the default theme's footer and in
jp-red's trust rows alike — and the claim reads in the shopper's language."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from markupsafe import escape

from support import Api

FOOTER = 'class="site-footer__secure"'
JP_RED_ROW = "Encrypted (HTTPS)"
CLAIM = ("Secure connection. Card details go straight to the payment provider and are never "
         "stored by this page.")
LANGUAGES = {"en": "en", "ja": "ja", "ko": "ko", "zh-CN": "zh_Hans"}  # Accept-Language: locale


def page(client: FlaskClient, session_id: str, https: bool = False, lang: str = "en") -> str:
    response = client.get(f"/pay/{session_id}", headers={"Accept-Language": lang},
                          base_url="https://localhost" if https else "http://localhost")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def claim_in(app: Flask, locale: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return str(escape(gettext(CLAIM)))


def test_plain_http_claims_nothing_and_https_does_in_every_language(
        app: Flask, api: Api, client: FlaskClient) -> None:
    default = api.create(theme="default").get_json()["id"]
    jp_red = api.create().get_json()["id"]  # JPY: the jp-red theme
    for lang, locale in LANGUAGES.items():
        claim = claim_in(app, locale)
        assert locale == "en" or claim != CLAIM, f"{locale}: the claim is not translated"
        plain = page(client, default, lang=lang)
        assert FOOTER not in plain and claim not in plain, lang
        secure = page(client, default, https=True, lang=lang)
        assert FOOTER in secure and claim in secure, lang
    assert "theme-jp-red" in page(client, jp_red)
    assert JP_RED_ROW not in page(client, jp_red)
    assert JP_RED_ROW in page(client, jp_red, https=True)


class TestBehindATlsProxy:
    """The proxy speaks https to the shopper and plain http to Kessai: the public URL says so."""

    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"PUBLIC_URL": "https://pay.example"}

    def test_the_https_public_url_is_enough(self, api: Api, client: FlaskClient) -> None:
        assert FOOTER in page(client, api.create(theme="default").get_json()["id"])
        assert JP_RED_ROW in page(client, api.create().get_json()["id"])
