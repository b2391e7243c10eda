"""The designer preview in a real browser: the gallery opens an entry, the language switcher
stays in the preview, and an edited file reloads the open page by itself (htmx, strict CSP)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, expect
from werkzeug.serving import make_server

from checkout.preview_app import create_preview_app


@pytest.fixture
def preview_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "page.html").write_text("v1", encoding="utf-8")
    app = create_preview_app({"SECRET_KEY": "e2e-preview", "PREVIEW_WATCH_DIRS": [str(watched)]})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}", watched
    server.shutdown()


def test_gallery_entry_switcher_and_live_reload(preview_server: tuple[str, Path],
                                                 browser: Browser) -> None:
    url, watched = preview_server
    page = browser.new_context(locale="ja-JP").new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.goto(f"{url}/preview/")
    assert Axe().run(page).violations_count == 0
    page.get_by_role("link", name="ja — Card declined, default").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("alert")).to_be_visible()
    assert Axe().run(page).violations_count == 0

    page.get_by_role("button", name="한국어").click()
    page.wait_for_url("**/preview/default/ko/declined")
    expect(page.locator("html")).to_have_attribute("lang", "ko")

    page.evaluate("window.__before_reload = true")
    with page.expect_event("load", timeout=10_000):
        (watched / "page.html").write_text("v2 — edited", encoding="utf-8")
    assert page.evaluate("window.__before_reload") is None
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    assert violations == []
