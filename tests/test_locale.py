"""The locale is resolved in the order documented in checkout/i18n.py:

explicit session locale → the shopper's switcher choice → Accept-Language (zh-CN → zh_Hans,
zh-TW is not Simplified) → the merchant's default → en.

Checked through real page requests (``<html lang>``) as well as the helpers.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import checkout.i18n as i18n
from checkout.db import get_db
from checkout.i18n import LOCALE_COOKIE, normalize_locale
from checkout.merchants import create_merchant

from support import csrf_from


@pytest.mark.parametrize(("tag", "expected"), [
    ("en", "en"), ("en-US", "en"), ("en_GB", "en"), ("ja", "ja"), ("ja-JP", "ja"),
    ("ko", "ko"), ("ko-KR", "ko"), ("zh", "zh_Hans"), ("zh-CN", "zh_Hans"),
    ("zh-SG", "zh_Hans"), ("zh-Hans", "zh_Hans"), ("zh_Hans", "zh_Hans"),
    ("zh-Hans-CN", "zh_Hans"), ("zh-TW", None), ("zh-HK", None), ("zh-MO", None),
    ("zh-Hant", None), ("zh-Hant-TW", None), ("fr", None), ("fr-FR", None), ("*", None),
    ("", None), (None, None), ("x" * 100, None), ("../../etc", None), ("ja;q=1", None),
])
def test_normalize_locale(tag: str | None, expected: str | None) -> None:
    assert normalize_locale(tag) == expected


def test_the_order_is_documented() -> None:
    doc = i18n.__doc__ or ""
    steps = ["session's explicit locale", "language switcher", "Accept-Language",
             "merchant's default", "``en``"]
    positions = [doc.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions)


@pytest.fixture
def korean_default_merchant(app: Flask) -> str:
    """The API key of a merchant whose default locale is Korean."""
    with app.app_context():
        _merchant, key = create_merchant(get_db(), "Seoul Shop", ["https://seoul.example"],
                                         default_locale="ko")
        get_db().commit()
    return key


def new_session(client: FlaskClient, key: str, locale: str = "auto") -> str:
    response = client.post("/v1/checkout/sessions", headers={"Authorization": f"Bearer {key}"},
                           json={"amount": 12800, "currency": "JPY", "locale": locale,
                                 "success_url": "https://shop.example/ok"})
    assert response.status_code == 200
    return str(response.get_json()["id"])


def page_lang(client: FlaskClient, path: str, accept: str | None = None,
              cookie: str | None = None) -> str:
    client.delete_cookie(LOCALE_COOKIE)
    if cookie:
        client.set_cookie(LOCALE_COOKIE, cookie)
    headers = {"Accept-Language": accept} if accept else {}
    html = client.get(path, headers=headers).get_data(as_text=True)
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, html[:200]
    return match.group(1)


# Each row: (session locale, switcher cookie, Accept-Language, merchant default?) → page language
ORDER = [
    # 1. the session's explicit locale beats everything
    ("ko", "ja", "zh-CN", True, "ko"),
    ("zh-Hans", "ja", "ko-KR", False, "zh-Hans"),
    ("en", None, "ja-JP", True, "en"),
    # 2. then the shopper's switcher choice
    ("auto", "ja", "zh-CN,ko;q=0.8", True, "ja"),
    ("auto", "zh_Hans", "ja", False, "zh-Hans"),
    # 3. then Accept-Language, Simplified Chinese mapped, Traditional skipped
    ("auto", None, "zh-CN,ja;q=0.8", True, "zh-Hans"),
    ("auto", None, "zh-TW,ja;q=0.5", True, "ja"),
    ("auto", None, "fr-FR,ja-JP;q=0.9,en;q=0.8", False, "ja"),
    ("auto", "fr", "ko", False, "ko"),  # a bogus cookie is ignored
    # 4. then the merchant's default
    ("auto", None, "zh-TW", True, "ko"),
    ("auto", None, "fr-FR,de;q=0.9", True, "ko"),
    ("auto", None, None, True, "ko"),
    # 5. then English
    ("auto", None, "zh-TW,fr", False, "en"),
    ("auto", None, None, False, "en"),
]


@pytest.mark.parametrize(("session_locale", "cookie", "accept", "merchant_default", "expected"),
                         ORDER)
def test_the_documented_order(client: FlaskClient, merchant: Any, korean_default_merchant: str,
                              session_locale: str, cookie: str | None, accept: str | None,
                              merchant_default: bool, expected: str) -> None:
    key = korean_default_merchant if merchant_default else merchant.secret_key
    session_id = new_session(client, key, session_locale)
    assert page_lang(client, f"/pay/{session_id}", accept, cookie) == expected


def test_the_switcher_makes_the_choice_explicit_for_the_session(client: FlaskClient,
                                                                api: Any) -> None:
    session_id = api.create(locale="auto").get_json()["id"]
    page = client.get(f"/pay/{session_id}", headers={"Accept-Language": "ko"})
    assert 'lang="ko"' in page.get_data(as_text=True)
    switched = client.post(f"/pay/{session_id}/locale", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "lang": "ja"})
    assert switched.status_code == 303
    assert page_lang(client, f"/pay/{session_id}", "ko") == "ja"
    # Another browser opening the same checkout link sees the shopper's choice too.
    assert page_lang(client, f"/pay/{session_id}", "ko", cookie=None) == "ja"


def test_an_unknown_switcher_value_changes_nothing(client: FlaskClient, api: Any) -> None:
    session_id = api.create(locale="auto").get_json()["id"]
    page = client.get(f"/pay/{session_id}")
    client.post(f"/pay/{session_id}/locale", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "lang": "klingon"})
    assert api.get(session_id).get_json()["locale"] == "auto"
    assert page_lang(client, f"/pay/{session_id}", "ko") == "ko"


def test_pages_outside_a_checkout_follow_cookie_then_browser(client: FlaskClient) -> None:
    assert page_lang(client, "/", "ja-JP") == "ja"
    assert page_lang(client, "/", "zh-CN") == "zh-Hans"
    assert page_lang(client, "/", "ja-JP", cookie="ko") == "ko"
    assert page_lang(client, "/", "zh-TW") == "en"


def test_the_locale_is_applied_to_text_and_money(client: FlaskClient, api: Any) -> None:
    session_id = api.create(locale="ja").get_json()["id"]
    html = client.get(f"/pay/{session_id}").get_data(as_text=True)
    assert "\uffe512,800" in html  # ￥12,800
    assert "支払" in html
