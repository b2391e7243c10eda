"""Translations are complete, current and actually used.

* every catalog (ja, ko, zh_Hans and en) has every msgid translated, none fuzzy;
* ``locales/messages.pot`` matches a fresh extraction (``scripts/i18n.py update``);
* a Japanese, Korean or Chinese shopper sees no English on any state of the hosted page: the
  visible text *and* the text assistive technology reads (aria-label, placeholder, title, alt,
  the data-* messages checkout.js shows) are searched for words of the English catalog.
"""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from checkout.config import PROJECT_ROOT
from checkout.db import get_db
from checkout.gateway.http import HttpGateway
from checkout.merchants import create_merchant
from checkout.methods import available_methods, default_method_ids

LOCALES_DIR = PROJECT_ROOT / "locales"
TRANSLATED = ("ja", "ko", "zh_Hans")

# Words that may stay in Latin letters on a localized page: card brands, our name, and the
# merchant's own data below (its name and its line items are not ours to translate).
ALLOWED_WORDS = {"visa", "mastercard", "jcb", "american", "express", "diners", "club", "kessai"}
# Brands that write themselves in Latin letters in every language (Korean wallets on a
# Chinese page, a Korean bank's own name), stripped as whole phrases so "Pay" alone still counts.
BRAND_NAMES = (
    "Kakao Pay", "Samsung Pay", "Naver Pay", "Toss Pay", "PAYCO", "IBK", "PayPay", "au PAY",
)
MERCHANT = "Sakura Tea"
LINE_ITEM = "Matcha latte gift set"
SPOKEN_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt", "aria-description")


def _load_i18n_script() -> Any:
    spec = importlib.util.spec_from_file_location("kessai_i18n_script",
                                                  PROJECT_ROOT / "scripts" / "i18n.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


i18n_script = _load_i18n_script()


@pytest.mark.parametrize("lang", ("en", *TRANSLATED))
def test_catalog_has_no_missing_or_fuzzy_entries(lang: str) -> None:
    missing = i18n_script.missing((lang,))[lang]
    assert not missing, (f"{lang}: {len(missing)} untranslated or fuzzy (run scripts/i18n.py "
                         f"update, then fill): {missing[:10]}")


def test_pot_file_is_current() -> None:
    stale = i18n_script.stale_pot()
    assert not stale, f"locales/messages.pot is stale; run scripts/i18n.py update: {stale[:10]}"


def english_vocabulary() -> set[str]:
    with open(LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale="en")
    words: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        texts = message.string if isinstance(message.string, tuple | list) else [message.string]
        for text in texts:
            text = re.sub(r"%\(\w+\)[sd]", " ", text or "")  # placeholders are not words
            words |= {w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)}
    merchant_words = {w.lower() for w in re.findall(r"[A-Za-z]+", f"{MERCHANT} {LINE_ITEM}")}
    return words - ALLOWED_WORDS - merchant_words


class ShopperText(HTMLParser):
    """Everything a shopper can see or hear on a page (scripts and styles excluded)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            spoken = name in SPOKEN_ATTRIBUTES
            # data-* texts that checkout.js shows (not JSON, ids or htmx's data-hx-* settings)
            shown_by_script = (name.startswith("data-") and not name.startswith("data-hx-")
                               and value and " " in value
                               and not value.lstrip().startswith(("{", "[")))
            if value and (spoken or shown_by_script):
                self.parts.append(value)
            if tag == "input" and name == "value" and value and (dict(attrs).get("type") in
                                                                  ("submit", "button")):
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def english_words_on(html: str, vocabulary: set[str]) -> set[str]:
    parser = ShopperText()
    parser.feed(html)
    text = " ".join(parser.parts)
    # The language switcher names each language in itself ("English") on purpose.
    text = text.replace("English", " ")
    for brand in BRAND_NAMES:
        text = text.replace(brand, " ")
    return {w for w in re.findall(r"[A-Za-z]{3,}", text) if w.lower() in vocabulary}


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def page_states(app: Flask, client: FlaskClient, key: str, lang: str,
                monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(name, html) for each state of the hosted page, in ``lang``."""
    headers = {"Authorization": f"Bearer {key}"}

    def create(**fields: Any) -> str:
        body = {"currency": "JPY", "success_url": "https://shop.example/ok",
                "cancel_url": "https://shop.example/cancel", "locale": lang.replace("_", "-"),
                "line_items": [{"name": LINE_ITEM, "quantity": 1, "unit_amount": 12800}],
                **fields}
        response = client.post("/v1/checkout/sessions", json=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return str(response.get_json()["id"])

    def post_card(session_id: str, number: str) -> Any:
        html = client.get(f"/pay/{session_id}?method=card").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        attempt = re.search(r'name="attempt" value="(\d+)"', html)
        assert token and attempt
        return client.post(f"/pay/{session_id}", data={
            "csrf_token": token.group(1), "method": "card", "attempt": attempt.group(1),
            "card_number": number, "card_expiry": "12/34", "card_cvc": "123",
            "card_name": "Hanako Yamada"})

    states: list[tuple[str, str]] = []
    cookie_lang = {"Accept-Language": lang.replace("_", "-")}
    for currency, amount in (("JPY", 12800), ("KRW", 62000)):
        sid = create(currency=currency,
                     line_items=[{"name": LINE_ITEM, "quantity": 1, "unit_amount": amount}])
        with app.test_request_context():
            methods = available_methods(default_method_ids(currency), amount, currency)
        for method in methods:
            states.append((f"{currency} {method.id}",
                           client.get(f"/pay/{sid}?method={method.id}").get_data(as_text=True)))

    sid = create()
    states.append(("card errors", post_card(sid, "4242 4242 4242 4241").get_data(as_text=True)))
    post_card(sid, "4000 0000 0000 0002")
    states.append(("declined", client.get(f"/pay/{sid}?method=card").get_data(as_text=True)))
    challenge = post_card(sid, "4000 0027 6000 3184").location
    states.append(("3-D Secure", client.get(challenge, headers=cookie_lang).get_data(as_text=True)))

    paid = create()
    post_card(paid, "4242 4242 4242 4242")
    states.append(("complete", client.get(f"/pay/{paid}").get_data(as_text=True)))

    waiting = create()
    monkeypatch.setattr("checkout.gateway.http.RETRY_DELAYS", ())
    app.extensions["kessai.gateway"] = HttpGateway(
        "http://gateway.invalid", "secret", transport=httpx.MockTransport(_refused))
    try:
        processing = post_card(waiting, "4242 4242 4242 4242")
        states.append(("processing", processing.get_data(as_text=True)))
        states.append(("status", client.get(f"/pay/{waiting}/status").get_data(as_text=True)))
    finally:
        app.extensions.pop("kessai.gateway")

    expired = create()
    client.post(f"/v1/checkout/sessions/{expired}/expire", headers=headers)
    states.append(("expired", client.get(f"/pay/{expired}").get_data(as_text=True)))
    not_found = client.get("/pay/cs_nothere", headers=cookie_lang)
    states.append(("not found", not_found.get_data(as_text=True)))
    csrf = client.post(f"/pay/{expired}", data={}, headers=cookie_lang)
    states.append(("csrf", csrf.get_data(as_text=True)))
    return states


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_english_left_on_localized_pages(lang: str, app: Flask, client: FlaskClient,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        _merchant, key = create_merchant(get_db(), MERCHANT, ["https://shop.example"])
        get_db().commit()
    vocabulary = english_vocabulary()
    assert {"pay", "card", "number", "declined"} <= vocabulary  # the check can see English
    leftovers = {}
    for name, html in page_states(app, client, key, lang, monkeypatch):
        if "<html" in html:  # the status box is a fragment
            assert f'<html lang="{lang.replace("_", "-")}"' in html, f"{name} is not in {lang}"
        found = english_words_on(html, vocabulary)
        if found:
            leftovers[name] = sorted(found)
    assert not leftovers, f"English left on {lang} pages: {leftovers}"


def test_compiled_catalogs_translate(app: Flask) -> None:
    """The .mo files the server reads exist and say what the .po files say."""
    from flask_babel import force_locale, gettext

    expected = {"ja": "カード番号", "ko": "카드 번호", "zh_Hans": "卡号"}
    with app.test_request_context():
        for lang, text in expected.items():
            assert (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.mo").is_file(), (
                "run scripts/i18n.py compile")
            with force_locale(lang):
                assert gettext("Card number") == text
