"""The page or the fragment, by one rule (pages.render_page): an htmx request for a target the
page offers gets that fragment alone, never a whole document swapped into the page (choosing a
method used to nest header, language switcher, <main> and footer into #method-panel)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

DOCUMENT_PARTS = ("<html", "<body", "<main", "<header", "<footer", 'id="language-label"')


def test_the_method_panel_fragment_is_only_the_panel(client: FlaskClient, api: Any) -> None:
    session_id = api.create().get_json()["id"]
    response = client.get(f"/pay/{session_id}?method=konbini",
                          headers={"HX-Request": "true", "HX-Target": "method-panel"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert not [part for part in DOCUMENT_PARTS if part in html]
    assert 'class="method-picker"' in html and 'id="method-form-' in html
    assert "HX-Target" in response.headers["Vary"]


def test_without_htmx_or_for_another_target_the_whole_page(client: FlaskClient,
                                                           api: Any) -> None:
    session_id = api.create().get_json()["id"]
    for headers in ({}, {"HX-Request": "true"}, {"HX-Request": "true", "HX-Target": "nowhere"},
                    {"HX-Target": "method-panel"}):
        html = client.get(f"/pay/{session_id}?method=konbini", headers=headers).get_data(
            as_text=True)
        assert html.count("<main") == 1 and html.count("<html") == 1, headers
        assert 'id="method-panel"' in html


def test_the_preview_gallery_answers_fragments_the_same_way() -> None:
    from checkout.preview_app import create_preview_app

    client = create_preview_app({"TESTING": True, "SECRET_KEY": "preview-test"}).test_client()
    url = "/preview/default/en/method_choice?method=card"
    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "method-panel"})
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert not [part for part in DOCUMENT_PARTS if part in html]
    assert client.get(url).get_data(as_text=True).count("<main") == 1
