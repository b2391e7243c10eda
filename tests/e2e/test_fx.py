"""Live yen/won amounts in a real browser: a yuan price shown to a Japanese shopper in yen and a
Korean shopper in won, with the rate, its source and time, the mark-up and a running countdown;
the ticker moving while the amount stays; the lock running out and the page saying what
changed before the shopper can pay (with and without JavaScript); paying in the shop's own
currency; stale rates. Time is the test's FX clock (moved by hand), rates the sandbox's
intraday ones, which move every minute. axe finds nothing on any of these states.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from checkout.db import get_db
from checkout.fx import sources
from checkout.fx.clock import ManualClock
from checkout.fx.ecb import load_ecb_table
from checkout.models import Merchant

from shopper import CARD_OK, fill_card, pay_button, watch

LOCK = 15 * 60
PRICE = {"amount": 128000, "currency": "CNY",
         "line_items": [{"name": "丝绸围巾 Silk scarf", "quantity": 1, "unit_amount": 128000}]}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def live_server_config(clock: ManualClock) -> dict[str, Any]:
    return {"FX_SOURCE": "gateway", "FX_CLOCK": clock, "FX_TICKER_SECONDS": 1}


@pytest.fixture
def shop(live_server: Any) -> Any:
    with live_server.app.app_context():
        merchant = get_db().get(Merchant, live_server.merchant_id)
        merchant.settings = {**(merchant.settings or {}), "fx": {"markup_bps": 150}}
        get_db().commit()
    return live_server


def shopper(browser: Browser, locale: str, zone: str, **options: Any) -> Iterator[BrowserContext]:
    context = browser.new_context(locale=locale, timezone_id=zone, **options)
    yield context
    context.close()


@pytest.fixture
def tokyo(browser: Browser) -> Iterator[BrowserContext]:
    yield from shopper(browser, "ja-JP", "Asia/Tokyo")


@pytest.fixture
def seoul(browser: Browser) -> Iterator[BrowserContext]:
    yield from shopper(browser, "ko-KR", "Asia/Seoul")


def no_axe_violations(page: Page, state: str) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, f"{state}: {results.generate_report()}"


def by_testid(page: Page, name: str) -> Any:
    return page.get_by_test_id(name)


def test_yen_amount_ticker_and_a_requote_shown_before_paying(shop: Any, tokyo: BrowserContext,
                                                             clock: ManualClock) -> None:
    problems = watch(tokyo)
    page = tokyo.new_page()
    session = shop.create_session(**PRICE)  # locale auto: the shopper's language picks yen
    page.goto(session["url"])
    quoted = shop.get_session(session["id"])["presentment"]
    assert quoted["currency"] == "JPY"
    yen = f"￥{quoted['amount']:,}"
    expect(by_testid(page, "presentment-amount")).to_have_text(yen)
    expect(by_testid(page, "amount-due")).to_have_text(yen)  # the amount-first heading too
    expect(by_testid(page, "merchant-price")).to_have_text("元1,280.00")
    expect(by_testid(page, "fx-rate")).to_have_text(re.compile(r"^1 CNY = \d+\.\d\d JPY$"))
    expect(by_testid(page, "fx-source")).to_contain_text("サンドボックスのテスト用レート")
    expect(by_testid(page, "fx-source")).to_contain_text(re.compile(r"\d{1,2}:\d\d"))
    expect(by_testid(page, "fx-markup")).to_contain_text("1.5%")
    expect(by_testid(page, "fx-lock")).to_contain_text("日本時間")
    countdown = by_testid(page, "fx-countdown")
    expect(countdown).to_have_text(re.compile(r"^1[45]:\d\d$"))
    expect(countdown).not_to_have_text(countdown.inner_text())  # it runs
    expect(pay_button(page)).to_contain_text(yen)
    no_axe_violations(page, "rate locked (ja)")

    # The market moves; the ticker shows it; the amount the shopper was promised does not.
    market = by_testid(page, "market-rate")
    before = market.inner_text()
    clock.advance(120)
    expect(market).not_to_have_text(before)
    expect(by_testid(page, "market-move")).to_contain_text("固定レート比")
    expect(by_testid(page, "presentment-amount")).to_have_text(yen)
    expect(pay_button(page)).to_contain_text(yen)

    # The lock runs out: the page re-quotes by itself and says what changed before paying.
    clock.advance(LOCK)
    change = by_testid(page, "fx-change")
    expect(change).to_be_visible()
    requoted = shop.get_session(session["id"])["presentment"]
    new_yen = f"￥{requoted['amount']:,}"
    assert requoted["id"] != quoted["id"] and requoted["status"] == "locked"
    expect(change).to_contain_text(f"{yen} から {new_yen}")
    expect(by_testid(page, "presentment-amount")).to_have_text(new_yen)
    expect(pay_button(page)).to_contain_text(new_yen)
    no_axe_violations(page, "re-quoted (ja)")

    fill_card(page, CARD_OK)
    pay_button(page).click()
    page.wait_for_url("**/demo/success**")
    [payment] = shop.get_session(session["id"])["payments"]
    assert (payment["amount"], payment["currency"]) == (requoted["amount"], "JPY")
    assert payment["details"]["fx_quote"] == requoted["id"]
    assert problems == []


def test_won_amount_and_paying_in_the_shop_s_currency(shop: Any, seoul: BrowserContext) -> None:
    problems = watch(seoul)
    page = seoul.new_page()
    session = shop.create_session(**PRICE)
    page.goto(session["url"])
    quoted = shop.get_session(session["id"])["presentment"]
    won = f"₩{quoted['amount']:,}"
    expect(by_testid(page, "presentment-amount")).to_have_text(won)
    expect(by_testid(page, "merchant-price")).to_have_text("CN¥1,280.00")
    expect(by_testid(page, "fx-rate")).to_have_text(re.compile(r"^1 CNY = [\d,]+\.\d\d KRW$"))
    expect(by_testid(page, "fx-source")).to_contain_text("샌드박스 테스트 환율")
    expect(by_testid(page, "fx-markup")).to_contain_text("기준 환율 대비 1.5% 가산")
    expect(by_testid(page, "fx-lock")).to_contain_text("고정됩니다")
    expect(by_testid(page, "fx-countdown")).to_be_visible()
    no_axe_violations(page, "rate locked (ko)")

    # Conversion is optional and explicit: the shopper picks the shop's currency.
    page.get_by_label(re.compile(r"중국 위안화 \(CNY\)")).check()
    expect(pay_button(page)).to_contain_text("CN¥1,280.00")
    expect(page.get_by_test_id("fx-countdown")).to_have_count(0)
    assert shop.get_session(session["id"])["presentment"]["selected"] is False
    no_axe_violations(page, "paying in the shop's currency (ko)")
    fill_card(page, CARD_OK)
    pay_button(page).click()
    page.wait_for_url("**/demo/success**")
    [payment] = shop.get_session(session["id"])["payments"]
    assert (payment["amount"], payment["currency"]) == (128000, "CNY")
    assert problems == []


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "htmx"])
def test_a_payment_after_the_lock_ran_out_is_refused_and_the_change_shown(
        shop: Any, browser: Browser, clock: ManualClock, javascript: bool) -> None:
    # With JavaScript the ticker would reload the page first; slow it down so the shopper
    # reaches the pay button with an expired lock either way.
    shop.app.config["FX_TICKER_SECONDS"] = 3600
    for context in shopper(browser, "ja-JP", "Asia/Tokyo", java_script_enabled=javascript):
        problems = watch(context)
        page = context.new_page()
        session = shop.create_session(**PRICE)
        page.goto(session["url"])
        quoted = shop.get_session(session["id"])["presentment"]
        yen = f"￥{quoted['amount']:,}"
        expect(by_testid(page, "fx-lock")).to_contain_text("日本時間")  # the end as a clock time
        fill_card(page, CARD_OK)
        clock.advance(LOCK + 60)
        pay_button(page).click()  # sent after the lock ran out
        refused = page.get_by_role("alert").filter(has_text="お支払いは行われていません")
        expect(refused.first).to_be_visible()
        new_yen = f"￥{shop.get_session(session['id'])['presentment']['amount']:,}"
        expect(by_testid(page, "fx-change")).to_contain_text(f"{yen} から {new_yen}")
        expect(pay_button(page)).to_contain_text(new_yen)
        assert shop.get_session(session["id"])["payments"] == []  # nothing was charged
        if javascript:  # axe runs in the page, so only where scripts may run
            no_axe_violations(page, "payment refused, re-quoted (ja)")
        fill_card(page, CARD_OK)
        pay_button(page).click()
        page.wait_for_url("**/demo/success**")
        [payment] = shop.get_session(session["id"])["payments"]
        assert payment["amount"] == shop.get_session(session["id"])["presentment"]["amount"]
        assert problems == []


def test_stale_rates_show_their_age_and_the_shop_s_price_is_due(
        shop: Any, seoul: BrowserContext, clock: ManualClock) -> None:
    table = load_ecb_table()
    shop.app.config["FX_SOURCE"] = "ecb"
    sources.init_app(shop.app)
    clock.current = table.as_of + 5 * 86400  # older than the 72-hour limit
    page = seoul.new_page()
    session = shop.create_session(**PRICE)
    page.goto(session["url"])
    expect(by_testid(page, "fx-stale")).to_contain_text("5일 전")
    expect(by_testid(page, "presentment-estimate")).to_have_text(re.compile(r"^₩[\d,]+$"))
    expect(by_testid(page, "fx-source")).to_contain_text("유럽중앙은행(ECB) 기준 환율")
    expect(by_testid(page, "fx-source")).to_contain_text("16:00")
    expect(by_testid(page, "fx-countdown")).to_have_count(0)
    expect(pay_button(page)).to_contain_text("CN¥1,280.00")
    no_axe_violations(page, "stale rates (ko)")
