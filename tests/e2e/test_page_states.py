"""Every state of the hosted page, in all four locales: axe-core finds nothing, the strict CSP
blocks nothing we serve, and each page answers with the right status and language.

States: method choice, card form with errors, 3-D Secure challenge, declined, processing (the
gateway is down), complete, expired (410), not found (404) and an expired form (CSRF, 400).
One browser context per locale walks through them all.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from shopper import (
    CARD_3DS,
    CARD_OK,
    JAPANESE_ITEMS,
    down_gateway,
    fill_card,
    gateway,
    pay_and_wait_for_merchant,
    pay_button,
    watch,
)

LOCALES = (("en-US", "en"), ("ja-JP", "ja"), ("ko-KR", "ko"), ("zh-CN", "zh-Hans"))
axe = Axe()


def test_every_page_state_is_accessible_in_every_locale(live_server: Any, browser: Browser) -> None:
    failures: dict[str, str] = {}
    for browser_locale, lang in LOCALES:
        context = browser.new_context(locale=browser_locale)
        problems = watch(context)
        page = context.new_page()

        def check(state: str, page: Page = page, lang: str = lang) -> None:
            expect(page.locator("html")).to_have_attribute("lang", lang)
            results = axe.run(page)
            if results.violations_count:
                failures[f"{lang} {state}"] = results.generate_report()

        walk_through_states(live_server, page, check)
        assert problems == [], f"{lang}: {problems}"
        context.close()
    assert not failures, "\n\n".join(f"== {k}\n{v}" for k, v in failures.items())


def walk_through_states(live_server: Any, page: Page, check: Any) -> None:
    session = live_server.create_session(line_items=JAPANESE_ITEMS)
    page.goto(session["url"])
    check("method choice")

    pay_button(page).click()  # nothing filled in: errors swapped in by htmx
    expect(page.locator(".field--invalid").first).to_be_visible()
    check("card form with errors")

    fill_card(page, CARD_3DS)
    pay_button(page).click()
    page.wait_for_url("**/sandbox/challenge/**")
    check("3-D Secure")

    page.locator("button[value=fail]").click()
    page.wait_for_url(f"**/pay/{session['id']}**")
    expect(page.get_by_role("alert").first).to_be_visible()
    check("declined")

    with gateway(live_server, down_gateway()):
        fill_card(page, CARD_OK)
        pay_button(page).click()
        expect(page.locator("#payment-status")).to_be_visible()
        check("processing")

    paid = live_server.create_session()
    page.goto(paid["url"])
    pay_and_wait_for_merchant(page)
    page.goto(paid["url"])
    expect(page.locator(".result--success")).to_be_visible()
    check("complete")

    expired = live_server.create_session()
    live_server.app.test_client().post(
        f"/v1/checkout/sessions/{expired['id']}/expire",
        headers={"Authorization": f"Bearer {live_server.secret_key}"})
    response = page.goto(expired["url"])
    assert response is not None and response.status == 410
    check("expired")

    response = page.goto(f"{live_server.url}/pay/cs_doesnotexist")
    assert response is not None and response.status == 404
    check("not found")

    # A form whose token no longer verifies (plain post: the language switcher).
    page.goto(expired["url"])
    page.locator(".language-switcher input[name=csrf_token]").evaluate("el => el.value = '1.x'")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator(".language-switcher button").first.click()
    assert posted.value.status == 400
    check("expired form (CSRF)")
