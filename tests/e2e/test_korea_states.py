"""Every Korean page state in the designer preview (kr-kakao, ko-KR, on a phone: mobile-first;
the flows in test_korea_browser.py check computers): no axe violation and no English left —
including the states those flows do not stop at (errors, cancelled wallet, result, 보기 …)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Playwright
from werkzeug.serving import make_server

from checkout.preview import PREVIEW_STATES, SAMPLE_ORDERS
from checkout.preview_app import create_preview_app, import_market_states

from korea_pages import check_state

PREVIEW_MERCHANT = SAMPLE_ORDERS["KRW"]["merchant"]  # "Hanok Beauty 한옥뷰티": the merchant's data


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    watched = tmp_path_factory.mktemp("watched")  # nothing changes: no live reload mid-test
    app = create_preview_app({"SECRET_KEY": "e2e-korea", "PREVIEW_WATCH_DIRS": [str(watched)]})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_port}"
    server.shutdown()


def korean_states() -> list[str]:
    import_market_states()
    return sorted(state for state in PREVIEW_STATES if state.startswith("kr_"))


def test_every_korean_state_is_accessible_and_korean(preview: str, browser: Browser,
                                                     playwright: Playwright) -> None:
    states = korean_states()
    assert len(states) >= 15
    context = browser.new_context(**playwright.devices["Pixel 7"], locale="ko-KR",
                                  timezone_id="Asia/Seoul")
    page = context.new_page()
    for state in states:
        page.goto(f"{preview}/preview/kr-kakao/ko/{state}")
        page.evaluate("document.querySelector('[data-preview-bar]').remove()")
        check_state(page, f"phone: {state}",
                    merchant_data=(PREVIEW_MERCHANT, "Minji Kim"))
    context.close()
