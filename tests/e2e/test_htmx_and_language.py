"""htmx makes the page smoother without changing what it does, and the language switch sticks.

* the card form posts in place: errors are swapped in without a page load, focus goes to the
  first invalid field, the button is disabled while the request runs, and a lost connection
  says so instead of doing nothing;
* switching methods swaps the picker and the form together and keeps focus on the choice;
* the status box polls until the server answers 286, then stops (and sends the shopper on);
* the language switcher turns the page into 한국어, which survives a reload.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from shopper import (
    CARD_DECLINED,
    CARD_OK,
    STATUS_POLL_COUNTER,
    LostResponseGateway,
    fill_card,
    gateway,
    pay_button,
    payments,
    watch,
)


def until(page: Page, condition: Any, rounds: int = 500) -> None:
    """Let Playwright deliver events (each round trip does) until ``condition()`` holds."""
    for _ in range(rounds):
        if condition():
            return
        page.evaluate("0")
    raise AssertionError("condition never held")


def test_card_form_posts_in_place(live_server: Any, page: Page) -> None:
    problems = watch(page.context)
    session = live_server.create_session()
    page.goto(session["url"])
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    fill_card(page, "4242 4242 4242 4241")  # fails the Luhn check
    page.locator("#card_cvc").focus()  # leaving the field: checkout.js checks it at once
    number = page.locator("#card_number")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_accessible_description(
        "This card number is not valid. Please check the digits.")
    number.fill("")
    page.locator("#card_name").fill("")
    pay_button(page).click()
    expect(page.get_by_role("alert").filter(has_text="Please check the fields")).to_be_visible()
    expect(number).to_be_focused()
    expect(number).to_have_accessible_description("Please fill in this field.")
    expect(page.locator("#card_name")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("window.__sameDocument") is True

    # While the post is on its way the button is disabled, so more clicks send nothing.
    held: list[Route] = []
    posts: list[Any] = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.route(re.compile(r"/pay/cs_\w+$"),
               lambda route: held.append(route) if route.request.method == "POST"
               else route.continue_())
    fill_card(page, CARD_OK)
    pay_button(page).click()
    expect(pay_button(page)).to_be_disabled()
    expect(pay_button(page)).to_have_css("cursor", "progress")
    pay_button(page).click(force=True)
    pay_button(page).click(force=True)
    until(page, lambda: held)
    held[0].continue_()
    page.wait_for_url("**/demo/success**")
    assert len(posts) == 1
    assert len(payments(live_server, session["id"])) == 1
    assert problems == []


def test_lost_connection_is_announced(live_server: Any, page: Page) -> None:
    session = live_server.create_session()
    page.goto(session["url"])
    page.route(re.compile(r"/pay/cs_\w+$"),
               lambda route: route.abort() if route.request.method == "POST"
               else route.continue_())
    fill_card(page, CARD_OK)
    pay_button(page).click()
    lost = page.get_by_role("alert").filter(has_text="We could not reach the server")
    expect(lost).to_be_visible()
    expect(pay_button(page)).to_be_enabled()  # the shopper can simply try again
    page.unroute(re.compile(r"/pay/cs_\w+$"))
    pay_button(page).click()
    page.wait_for_url("**/demo/success**")
    assert len(payments(live_server, session["id"])) == 1


def freeze_time(page: Page) -> None:
    """Stop the page's clock (timers fire only on ``run_for``)."""
    now = datetime.fromtimestamp(page.evaluate("Date.now()") / 1000, UTC)
    page.clock.pause_at(now + timedelta(seconds=1))


def test_status_box_polls_until_final_then_stops(live_server: Any, browser: Browser) -> None:
    context = browser.new_context()
    problems = watch(context)
    context.add_init_script(STATUS_POLL_COUNTER)
    page = context.new_page()
    page.clock.install()

    # The gateway declines, but its answer is lost: the page shows "processing" and polls.
    declined = live_server.create_session()
    page.goto(declined["url"])
    freeze_time(page)  # from here on, polls happen only when the test moves the clock
    with gateway(live_server, LostResponseGateway()):
        fill_card(page, CARD_DECLINED)
        pay_button(page).click()
        status = page.locator("#payment-status")
        expect(status).to_contain_text("Checking your payment")
        expect(status).to_have_attribute("data-hx-trigger", "every 2s")
    assert page.evaluate("window.__statusPolls") == 0  # the clock, not the wall, drives polls
    with page.expect_response(lambda r: "/status" in r.url and r.status == 286):
        page.clock.run_for(2100)
    expect(status).to_contain_text("The payment did not go through.")
    expect(status).not_to_have_attribute("data-hx-trigger", re.compile(".*"))
    polls = page.evaluate("window.__statusPolls")
    page.clock.run_for(20_000)  # ten more periods: no request may leave
    assert page.evaluate("window.__statusPolls") == polls
    status.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("alert").filter(has_text="Your card was declined")).to_be_visible()
    assert [p["status"] for p in payments(live_server, declined["id"])] == ["failed"]

    # The same with a card that went through: the final poll sends the shopper to the merchant.
    paid = live_server.create_session()
    page.goto(paid["url"])
    freeze_time(page)
    with gateway(live_server, LostResponseGateway()):
        fill_card(page, CARD_OK)
        pay_button(page).click()
        expect(page.locator("#payment-status")).to_be_visible()
    with page.expect_response(lambda r: "/status" in r.url and r.status == 286):
        page.clock.run_for(2100)
    page.wait_for_url("**/demo/success**")
    assert live_server.get_session(paid["id"])["payment_status"] == "paid"
    assert problems == []
    context.close()


def test_switching_methods_swaps_picker_and_form(live_server: Any, page: Page) -> None:
    # Korean sessions offer several methods with no merchant set-up (Japan's konbini needs
    # the merchant's legal disclosure first).
    session = live_server.create_session(currency="KRW", amount=62000)
    problems = watch(page.context)
    page.goto(session["url"])
    options = page.locator(".method-picker__option")
    if options.count() < 2:
        pytest.skip("only one payment method serves this session")
    page.evaluate("window.__sameDocument = true")
    first, second = options.nth(0), options.nth(1)
    first_id, second_id = first.get_attribute("data-method"), second.get_attribute("data-method")
    expect(first).to_have_attribute("aria-current", "true")
    second.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"method={second_id}"))
    expect(page.locator(f"#method-{second_id}")).to_have_attribute("aria-current", "true")
    expect(page.locator(f"#method-{first_id}")).not_to_have_attribute("aria-current", "true")
    expect(page.locator(f"#method-form-{second_id}")).to_be_visible()
    expect(page.locator(f"#method-{second_id}")).to_be_focused()
    assert page.evaluate("window.__sameDocument") is True
    # No copy of the payment page is kept in localStorage; going back loads the earlier URL.
    assert page.evaluate("localStorage.getItem('htmx-history-cache')") is None
    page.go_back()
    expect(page.locator(f"#method-form-{first_id}")).to_be_visible()
    assert problems == []


def test_language_switch_persists(live_server: Any, page: Page) -> None:
    session = live_server.create_session()
    page.goto(session["url"])
    expect(page.locator("html")).to_have_attribute("lang", "en")
    korean = page.get_by_role("button", name="한국어")
    expect(korean).to_have_attribute("lang", "ko")
    expect(page.get_by_role("button", name="日本語")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("button", name="简体中文")).to_have_attribute("lang", "zh-Hans")
    korean.click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("button", name="JP¥12,800 결제하기")).to_be_visible()
    expect(page.get_by_role("button", name="한국어")).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_label("카드 번호")).to_be_visible()
    assert live_server.get_session(session["id"])["locale"] == "ko"
