"""Every Japan state renders in the preview gallery, in every locale, for jp-red."""

from __future__ import annotations

import pytest

from checkout.i18n import LOCALES
from checkout.preview import PREVIEW_STATES
from checkout.preview_app import create_preview_app, import_market_states

import_market_states()
JAPAN_STATES = sorted(s.id for s in PREVIEW_STATES.values() if s.group == "Japan")


def test_gallery_lists_every_japan_state() -> None:
    expected = {"jp_konbini_form", "jp_konbini_errors", "jp_address_form", "jp_card_instalments",
                "jp_complete_instalments", "jp_slip_paid", "jp_slip_expired", "jp_slip_pay_easy",
                "jp_slip_bank_transfer", "jp_legal"} | {
        f"jp_slip_{store}" for store in ("seven_eleven", "lawson", "familymart", "ministop",
                                         "daily_yamazaki", "seicomart")}
    assert expected <= set(JAPAN_STATES)
    app = create_preview_app({"TESTING": True})
    html = app.test_client().get("/preview/").get_data(as_text=True)
    assert all(state in html for state in expected)


@pytest.fixture(scope="module")
def preview_client():  # type: ignore[no-untyped-def]
    return create_preview_app({"TESTING": True}).test_client()


@pytest.mark.parametrize("state", JAPAN_STATES)
def test_japan_state_renders(state: str, preview_client) -> None:  # type: ignore[no-untyped-def]
    client = preview_client
    for locale in LOCALES:
        response = client.get(f"/preview/jp-red/{locale}/{state}")
        assert response.status_code == 200, (state, locale, response.get_data(as_text=True)[:300])
