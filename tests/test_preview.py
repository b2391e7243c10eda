"""The designer preview: every gallery entry renders from fixtures, in its locale and theme,
without a database, and nothing in the preview can save anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from checkout import create_app
from checkout.i18n import HTML_LANG, LOCALES
from checkout.preview import (
    PREVIEW_STATES,
    Fixtures,
    PreviewState,
    gallery_entries,
    pay_page,
    register_state,
)
from checkout.preview_app import create_preview_app
from checkout.themes import available_themes

ENTRIES = [(state.id, theme, locale) for state, theme, locale in gallery_entries()]


@pytest.fixture(scope="module")
def preview_app() -> Iterator[Flask]:
    app = create_preview_app({"TESTING": True, "SECRET_KEY": "preview-test"})
    statements: list[str] = []
    event.listen(app.extensions["kessai.engine"], "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: statements.append(statement))
    app.extensions["test.statements"] = statements
    yield app
    app.extensions["kessai.engine"].dispose()


@pytest.fixture
def preview(preview_app: Flask) -> Any:
    return preview_app.test_client()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def entry_url(state_id: str, theme: str, locale: str) -> str:
    return f"/preview/{theme}/{locale}/{state_id}"


def test_gallery_lists_every_state_theme_and_locale(preview: Any) -> None:
    page = preview.get("/preview/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    listed = set(re.findall(r'data-preview-entry href="([^"]+)"', html))
    expected = {entry_url(state, theme, locale) for state in PREVIEW_STATES
                for theme in available_themes() for locale in LOCALES}
    assert listed == expected
    assert {"method_choice", "card_errors", "challenge", "declined", "processing", "complete",
            "expired", "not_found"} <= set(PREVIEW_STATES)
    assert f"data-entry-count>{len(expected)}<" in html


@pytest.mark.parametrize(("state_id", "theme", "locale"), ENTRIES,
                         ids=["-".join(entry) for entry in ENTRIES])
def test_every_entry_renders_in_its_locale_and_theme(preview: Any, state_id: str, theme: str,
                                                     locale: str) -> None:
    page = preview.get(entry_url(state_id, theme, locale))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<html lang="{HTML_LANG[locale]}">' in html
    assert f"/assets/theme/{theme}.css?v=" in html
    assert f"theme-{theme}" in html
    assert 'data-hx-get="/preview/version?v=' in html  # live reload, by htmx: no inline script
    assert "<script>" not in html and " style=" not in html  # the strict CSP still holds
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_states_show_what_they_promise(preview: Any) -> None:
    def text(state: str, locale: str = "en") -> str:
        return preview.get(entry_url(state, "default", locale)).get_data(as_text=True)

    errors = text("card_errors")
    assert errors.count('aria-invalid="true"') == 3
    assert "This card number is not valid" in errors
    assert "Your card was declined" in text("declined")
    assert "Checking your payment" in text("processing")
    assert "Approve authentication" in text("challenge")
    complete = text("complete")
    assert "Payment complete" in complete and "ending in 4242" in complete
    assert "This checkout has expired" in text("expired")
    assert "We could not find this checkout" in text("not_found")
    assert "￥12,800" in text("method_choice", "ja")  # Babel formatting in the entry's locale
    assert "₩62,000" in preview.get(entry_url("method_choice", "default", "ko") + "?currency=KRW") \
        .get_data(as_text=True)


def test_preview_never_touches_the_database(preview_app: Flask, preview: Any) -> None:
    statements = preview_app.extensions["test.statements"]
    statements.clear()
    for state_id, theme, locale in ENTRIES:
        preview.get(entry_url(state_id, theme, locale))
    page = preview.get(entry_url("card_errors", "default", "en"))
    token = csrf_from(page.get_data(as_text=True))
    referrer = {"Referer": "http://localhost" + entry_url("card_errors", "default", "en")}
    paid = preview.post("/pay/cs_preview", data={"csrf_token": token, "method": "card",
                                                 "attempt": "1", "card_number": "4242424242424242",
                                                 "card_expiry": "12/34", "card_cvc": "123",
                                                 "card_name": "A"}, headers=referrer)
    assert paid.status_code == 303
    assert paid.headers["Location"] == entry_url("card_errors", "default", "en")
    assert statements == []


def test_language_switch_goes_to_the_same_entry_in_the_chosen_locale(preview: Any) -> None:
    url = entry_url("declined", "default", "en")
    token = csrf_from(preview.get(url).get_data(as_text=True))
    switched = preview.post("/pay/cs_preview/locale", data={"csrf_token": token, "lang": "ko"},
                            headers={"Referer": "http://localhost" + url})
    assert switched.status_code == 303
    assert switched.headers["Location"] == entry_url("declined", "default", "ko")
    forged = preview.post("/pay/cs_preview/locale", data={"lang": "ko"},
                          headers={"Referer": "http://localhost" + url})
    assert forged.status_code == 400  # CSRF holds in the preview too


def test_stand_ins_stop_polling_and_follow_the_method_picker(preview: Any) -> None:
    url = entry_url("processing", "default", "en")
    poll = preview.get("/pay/cs_preview/status", headers={"HX-Request": "true",
                                                          "Referer": "http://localhost" + url})
    assert poll.status_code == 286 and poll.headers["HX-Reswap"] == "none"
    picked = preview.get("/pay/cs_preview?method=card",
                         headers={"Referer": "http://localhost" + url})
    assert picked.headers["Location"] == url + "?method=card"
    elsewhere = preview.get("/pay/cs_preview/cancel", headers={"Referer": "https://evil.example/x"})
    assert elsewhere.headers["Location"] == "/preview/"


def test_live_reload_version_changes_when_a_watched_file_changes(tmp_path: Path) -> None:
    watched = tmp_path / "templates"
    watched.mkdir()
    (watched / "page.html").write_text("one", encoding="utf-8")
    app = create_preview_app({"TESTING": True, "PREVIEW_WATCH_DIRS": [str(watched)]})
    client = app.test_client()
    html = client.get("/preview/").get_data(as_text=True)
    version = re.search(r'/preview/version\?v=([0-9a-f]+)', html).group(1)  # type: ignore[union-attr]
    assert client.get(f"/preview/version?v={version}").status_code == 204
    (watched / "page.html").write_text("two, longer", encoding="utf-8")
    changed = client.get(f"/preview/version?v={version}")
    assert changed.headers["HX-Refresh"] == "true"


def test_a_market_registers_a_state_with_one_call(preview: Any) -> None:
    def build(fx: Fixtures) -> dict[str, Any]:
        checkout = fx.checkout(amount=5000, line_items=[])
        return pay_page(fx, checkout, notice="<b>hostile</b> notice")

    register_state(PreviewState("test_extra", "Extra state", "pay.html", build, group="Test",
                                currency="KRW"))
    try:
        gallery = preview.get("/preview/").get_data(as_text=True)
        assert entry_url("test_extra", "default", "ja") in gallery
        page = preview.get(entry_url("test_extra", "default", "ja")).get_data(as_text=True)
        assert "￦5,000" in page or "₩5,000" in page
        assert "&lt;b&gt;hostile&lt;/b&gt;" in page
    finally:
        PREVIEW_STATES.pop("test_extra")


def test_unknown_entries_are_404(preview: Any) -> None:
    assert preview.get(entry_url("nope", "default", "en")).status_code == 404
    assert preview.get(entry_url("complete", "no-such-theme", "en")).status_code == 404
    assert preview.get(entry_url("complete", "default", "fr")).status_code == 404


def test_production_app_has_no_preview(client: Any) -> None:
    assert client.get("/preview/").status_code == 404


def test_preview_refuses_production_config() -> None:
    with pytest.raises(RuntimeError, match="production"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": "x" * 32, "DATABASE_URL": "sqlite://",
                    "PREVIEW_ENABLED": True})


@pytest.mark.parametrize("currency, theme, locale", [("JPY", "jp-red", "ja"),
                                                      ("KRW", "kr-kakao", "ko")])
def test_the_gallery_offers_what_the_live_page_offers_the_same_merchant(
        preview: Any, app: Flask, client: Any, api: Any, merchant: Any, currency: str,
        theme: str, locale: str) -> None:
    """One function builds pay.html's context for both, with the eligibility and weight rules:
    the gallery's method list is the live page's for a merchant set up the same way (it
    skipped the rules once, and showed konbini to merchants who could not offer it)."""
    from checkout.db import get_db
    from checkout.models import Merchant
    from checkout.preview import PREVIEW_MERCHANT_SETTINGS, SAMPLE_ORDERS

    with app.app_context():
        get_db().get(Merchant, merchant.id).settings = dict(PREVIEW_MERCHANT_SETTINGS)
        get_db().commit()
    session_id = api.create(amount=None, currency=currency,
                            line_items=SAMPLE_ORDERS[currency]["line_items"]).get_json()["id"]
    live = client.get(f"/pay/{session_id}", headers={"Accept-Language": locale})
    gallery = preview.get(entry_url("method_choice", theme, locale))

    def offered(response: Any) -> list[str]:
        return re.findall(r'data-method="([a-z_]+)"', response.get_data(as_text=True))

    assert offered(gallery) == offered(live) and len(offered(live)) > 3
    # A merchant without the 特商法 disclosure: konbini is offered neither live nor in the
    # gallery's context (which once skipped the rules and offered it).
    if currency == "JPY":
        with app.app_context():
            get_db().get(Merchant, merchant.id).settings = {}
            get_db().commit()
        assert "konbini" not in offered(client.get(f"/pay/{session_id}"))
        with preview.application.test_request_context():
            fx = Fixtures(theme, locale, currency)
            context = pay_page(fx, fx.checkout(merchant=fx.merchant(settings={})))
            assert "konbini" not in [method.id for method in context["methods"]]
