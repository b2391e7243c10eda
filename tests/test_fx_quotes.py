"""FX quotes end to end through the Flask app: creation, lock expiry and re-quote, stale rates,
the server refusing an expired lock, payments charging the locked amount, the currency choice,
the rate ticker and the merchant API's ``presentment``. Time is a test clock (``FX_CLOCK``),
never a sleep; rates come from the embedded sandbox gateway (intraday, moving every minute)
unless a test says otherwise. Storage-touching tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html as html_lib
import math
import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from checkout.db import get_db
from checkout.fx.clock import ManualClock
from checkout.fx.ecb import load_ecb_table
from checkout.gateway.sandbox.rates import sandbox_rate_table
from checkout.models import CheckoutSession, Merchant, Payment, RateQuote, SandboxPayment
from checkout.money import CURRENCIES

BACKENDS = ("sqlite", "postgresql")

START = (int(time.time()) // 60) * 60 + 5  # a few seconds into a minute
MARKUP_BPS = 150
LOCK = 15 * 60
CARD_OK = "4242424242424242"
# Konbini is offered only by a merchant with a 特定商取引法 disclosure.
LEGAL = {key: "Lotus Goods (sample)" for key in (
    "seller", "representative", "address", "phone", "email", "prices", "fees",
    "payment_methods", "payment_timing", "delivery", "returns")}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def app_config(clock: ManualClock) -> dict[str, Any]:
    return {"FX_SOURCE": "gateway", "FX_CLOCK": clock}


@pytest.fixture
def fx_merchant(app: Flask, merchant: Any) -> Any:
    with app.app_context():
        record = get_db().get(Merchant, merchant.id)
        record.settings = {"fx": {"markup_bps": MARKUP_BPS}, "japan": {"legal": LEGAL}}
        get_db().commit()
    return merchant


def expected_amount(base_minor: int, base: str, presentment: str, moment: int,
                    markup_bps: int = MARKUP_BPS) -> int:
    """docs/fx.md's formula, on the sandbox's published per-EUR rates for that minute."""
    rates = sandbox_rate_table(moment).rates
    rate = Fraction(rates[presentment]) / Fraction(rates[base])
    value = (base_minor * rate * Fraction(10_000 + markup_bps, 10_000)
             * Fraction(10) ** (CURRENCIES[presentment].exponent - CURRENCIES[base].exponent))
    return math.floor(value + Fraction(1, 2))


def create(api: Any, **fields: Any) -> dict[str, Any]:
    body = {"amount": 128000, "currency": "CNY", "payment_method_types": ["card"], **fields}
    response = api.create(**body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def page(client: FlaskClient, session_id: str, lang: str = "en") -> str:
    response = client.get(f"/pay/{session_id}", headers={"Accept-Language": lang})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def by_testid(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no {name} on the page"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def pay_card(client: FlaskClient, session_id: str, html: str, **extra: str) -> Any:
    data = {"csrf_token": field(html, "csrf_token"), "method": "card",
            "attempt": field(html, "attempt"), "expected_price": field(html, "expected_price"),
            "card_number": CARD_OK, "card_expiry": "12/34", "card_cvc": "123",
            "card_name": "Hanako Yamada", **extra}
    return client.post(f"/pay/{session_id}", data=data, headers={"Accept-Language": "en"})


def quotes(app: Flask, session_id: str) -> list[RateQuote]:
    with app.app_context():
        rows = get_db().scalars(select(RateQuote).where(RateQuote.session_id == session_id)
                                .order_by(RateQuote.sequence)).all()
        get_db().expunge_all()
        return list(rows)


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(get_db().scalar(select(func.count()).select_from(model)) or 0)


# ---- quote creation and the API -----------------------------------------------------------------

def test_a_session_with_presentment_currencies_gets_a_stored_locked_quote(
        app: Flask, api: Any, fx_merchant: Any) -> None:
    session = create(api, presentment_currencies=["JPY"])
    presentment = session["presentment"]
    assert presentment["currency"] == "JPY"
    assert presentment["amount"] == expected_amount(128000, "CNY", "JPY", START)
    assert presentment["base_amount"] == 128000 and presentment["base_currency"] == "CNY"
    assert presentment["source"] == "sandbox"
    assert presentment["as_of"] == START - START % 60
    assert presentment["markup_bps"] == MARKUP_BPS
    assert presentment["locked_until"] == START + LOCK
    assert presentment["status"] == "locked" and presentment["selected"] is True
    assert session["presentment_currencies"] == ["JPY"]

    [stored] = quotes(app, session["id"])
    rates = sandbox_rate_table(START).rates
    assert Fraction(stored.rate) == Fraction(rates["JPY"]) / Fraction(rates["CNY"])  # exact
    applied = Fraction(presentment["rate_exact"])
    assert applied == Fraction(stored.rate) * Fraction(10_000 + MARKUP_BPS, 10_000)
    assert abs(Fraction(Decimal(presentment["rate"])) - applied) < Fraction(1, 10**10)
    assert api.get(session["id"]).get_json()["presentment"] == presentment


def test_the_market_default_follows_the_session_locale(api: Any, fx_merchant: Any) -> None:
    korean = create(api, locale="ko")
    assert korean["presentment_currencies"] == ["JPY", "KRW"]
    assert korean["presentment"]["currency"] == "KRW"
    undecided = create(api)  # locale auto, two markets: decided when the shopper arrives
    assert undecided["presentment"] is None
    local = create(api, amount=12800, currency="JPY")  # a yen price is already local
    assert local["presentment_currencies"] == [] and local["presentment"] is None


def test_the_shopper_s_language_picks_the_currency(app: Flask, api: Any, client: FlaskClient,
                                                   fx_merchant: Any) -> None:
    session = create(api)
    html = page(client, session["id"], "ko")
    assert by_testid(html, "presentment-amount").startswith("₩")
    assert field(html, "expected_price").endswith(" KRW")
    assert api.get(session["id"]).get_json()["presentment"]["currency"] == "KRW"


def test_presentment_currencies_are_validated(api: Any, fx_merchant: Any) -> None:
    bad = api.create(amount=128000, currency="CNY", presentment_currencies=["XYZ"])
    assert bad.status_code == 422
    assert bad.get_json()["error"]["param"] == "presentment_currencies"
    assert api.create(amount=128000, currency="CNY",
                      presentment_currencies="JPY").status_code == 400
    # A yen-only method is fine for a yuan price that converts to yen; not without conversion.
    ok = api.create(amount=128000, currency="CNY", payment_method_types=["konbini"],
                    presentment_currencies=["JPY"])
    assert ok.status_code == 200
    refused = api.create(amount=128000, currency="CNY", payment_method_types=["konbini"],
                         presentment_currencies=[])
    assert refused.status_code == 422
    assert refused.get_json()["error"]["param"] == "payment_method_types"


# ---- what the page shows ------------------------------------------------------------------------

def test_the_page_shows_amount_price_rate_source_markup_and_lock(
        api: Any, client: FlaskClient, fx_merchant: Any) -> None:
    session = create(api, presentment_currencies=["JPY"])
    html = page(client, session["id"], "ja")
    amount = session["presentment"]["amount"]
    assert by_testid(html, "presentment-amount") == f"￥{amount:,}"
    assert by_testid(html, "merchant-price") == "元1,280.00"
    assert re.fullmatch(r"1 CNY = \d+\.\d\d JPY", by_testid(html, "fx-rate"))
    assert "1.5%" in by_testid(html, "fx-markup")
    assert by_testid(html, "fx-countdown") == "15:00"
    assert f'data-seconds="{LOCK}"' in html
    assert field(html, "expected_price") == f"{amount} JPY"
    assert f"￥{amount:,}" in html.split('class="pay-button__label">')[1].split("<")[0]


def test_ecb_rates_show_their_publication_time_in_frankfurt(
        app: Flask, api: Any, client: FlaskClient, fx_merchant: Any, clock: ManualClock) -> None:
    table = load_ecb_table()
    app.config["FX_SOURCE"] = "ecb"
    from checkout.fx import sources

    sources.init_app(app)
    clock.current = table.as_of + 3600  # an hour after publication: fresh
    session = create(api, presentment_currencies=["JPY"])
    assert session["presentment"]["source"] == "ecb_shipped"  # nothing fetched: the package's
    assert session["presentment"]["status"] == "locked"
    html = page(client, session["id"], "en")
    published = datetime.fromtimestamp(table.as_of, UTC)
    source = by_testid(html, "fx-source")
    assert source.startswith("ECB reference rate (offline copy), ")
    assert "16:00 Central European" in source
    assert published.strftime("%b") in source


# ---- lock expiry, re-quote, refusal ------------------------------------------------------------

def test_lock_expiry_requotes_and_says_by_how_much(app: Flask, api: Any, client: FlaskClient,
                                                   fx_merchant: Any, clock: ManualClock) -> None:
    session = create(api, presentment_currencies=["JPY"])
    first = page(client, session["id"])
    old = session["presentment"]["amount"]
    clock.advance(LOCK + 60)
    new = expected_amount(128000, "CNY", "JPY", clock())
    assert new != old  # the sandbox's rate moved in the meantime
    html = page(client, session["id"])
    assert by_testid(html, "presentment-amount") == f"¥{new:,}"
    change = by_testid(html, "fx-change")
    difference = f"¥{abs(new - old):,}"
    assert f"went {'up' if new > old else 'down'} by {difference}" in html
    assert f"from ¥{old:,} to ¥{new:,}" in html
    assert change
    first_quote, second_quote = quotes(app, session["id"])
    assert second_quote.previous_quote_id == first_quote.id
    assert second_quote.locked_until == clock() + LOCK
    assert field(html, "expected_price") == f"{new} JPY" != field(first, "expected_price")
    assert api.get(session["id"]).get_json()["presentment"]["amount"] == new


def test_a_quote_never_seen_is_replaced_without_a_change_notice(
        app: Flask, api: Any, client: FlaskClient, fx_merchant: Any, clock: ManualClock) -> None:
    session = create(api, presentment_currencies=["JPY"])
    clock.advance(LOCK + 60)  # the shopper opens the page after the creation-time lock ran out
    html = page(client, session["id"])
    assert 'data-testid="fx-change"' not in html
    assert quotes(app, session["id"])[1].previous_quote_id is None


def test_a_payment_posted_after_the_lock_ran_out_is_refused_and_nothing_is_charged(
        app: Flask, api: Any, client: FlaskClient, fx_merchant: Any, clock: ManualClock) -> None:
    session = create(api, presentment_currencies=["JPY"])
    html = page(client, session["id"])
    old = session["presentment"]["amount"]
    clock.advance(LOCK)  # exactly at locked_until the lock is over
    refused = pay_card(client, session["id"], html)
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "Payment not sent" in body
    new = expected_amount(128000, "CNY", "JPY", clock())
    assert f"from ¥{old:,} to ¥{new:,}" in body  # said before the shopper can pay again
    assert count(app, Payment) == 0 and count(app, SandboxPayment) == 0

    paid = pay_card(client, session["id"], body)
    assert paid.status_code == 303
    result = api.get(session["id"]).get_json()
    assert result["payment_status"] == "paid"
    [payment] = result["payments"]
    assert (payment["amount"], payment["currency"]) == (new, "JPY")


def test_the_locked_amount_is_charged_even_after_the_live_rate_moved(
        app: Flask, api: Any, client: FlaskClient, fx_merchant: Any, clock: ManualClock) -> None:
    session = create(api, presentment_currencies=["JPY"])
    html = page(client, session["id"])
    locked = session["presentment"]["amount"]
    clock.advance(10 * 60)  # still locked; the market moved
    assert expected_amount(128000, "CNY", "JPY", clock()) != locked
    ticker = client.get(f"/pay/{session['id']}/rate", headers={"HX-Request": "true"})
    assert ticker.status_code == 200 and "HX-Refresh" not in ticker.headers
    assert pay_card(client, session["id"], html).status_code == 303
    with app.app_context():
        payment = get_db().scalar(select(Payment))
        ledger = get_db().scalar(select(SandboxPayment))
        assert (payment.amount, payment.currency) == (locked, "JPY")
        assert (ledger.amount, ledger.currency) == (locked, "JPY")  # what the gateway charged
        assert payment.details["fx_quote"] == session["presentment"]["id"]
    assert len(quotes(app, session["id"])) == 1  # nothing re-quoted behind the shopper's back
    clock.advance(LOCK)  # long after paying, the merchant still reads what was charged
    assert api.get(session["id"]).get_json()["presentment"]["status"] == "charged"


def test_the_amount_is_computed_on_the_server_never_taken_from_the_form(
        app: Flask, api: Any, client: FlaskClient, fx_merchant: Any) -> None:
    session = create(api, presentment_currencies=["JPY"])
    html = page(client, session["id"])
    forged = pay_card(client, session["id"], html, expected_price="1 JPY", amount="1")
    assert forged.status_code == 422 and count(app, Payment) == 0
    no_price = {k: v for k, v in {"csrf_token": field(html, "csrf_token"), "method": "card",
                                  "attempt": "1", "card_number": CARD_OK, "card_expiry": "12/34",
                                  "card_cvc": "123", "card_name": "H"}.items()}
    assert client.post(f"/pay/{session['id']}", data={**no_price, "amount": "1"}).status_code == 303
    with app.app_context():
        payment = get_db().scalar(select(Payment))
        assert payment.amount == session["presentment"]["amount"]


# ---- stale rates --------------------------------------------------------------------------------

def test_stale_rates_are_shown_with_their_age_and_never_locked(
        app: Flask, api: Any, client: FlaskClient, fx_merchant: Any, clock: ManualClock) -> None:
    table = load_ecb_table()
    app.config["FX_SOURCE"] = "ecb"
    from checkout.fx import sources

    sources.init_app(app)
    clock.current = table.as_of + 5 * 86400  # past the 72-hour limit
    session = create(api, presentment_currencies=["JPY"])
    presentment = session["presentment"]
    assert presentment["status"] == "indicative" and presentment["locked_until"] is None
    assert presentment["selected"] is False
    html = page(client, session["id"])
    assert "5 days ago" in by_testid(html, "fx-stale")
    assert 'data-testid="fx-countdown"' not in html
    assert field(html, "expected_price") == "128000 CNY"  # the shopper pays the shop's price
    assert pay_card(client, session["id"], html).status_code == 303
    with app.app_context():
        payment = get_db().scalar(select(Payment))
        assert (payment.amount, payment.currency) == (128000, "CNY")
        assert "fx_quote" not in payment.details
    assert len(quotes(app, session["id"])) == 1  # the same stale rates: one estimate is enough


def test_a_configurable_staleness_limit(app: Flask, api: Any, fx_merchant: Any,
                                        clock: ManualClock) -> None:
    clock.advance(0)
    app.config["FX_MAX_AGE_SECONDS"] = 30  # sandbox rates are as of the minute's start
    clock.current = START + 40
    assert create(api, presentment_currencies=["JPY"])["presentment"]["status"] == "indicative"
    app.config["FX_MAX_AGE_SECONDS"] = 3600
    assert create(api, presentment_currencies=["JPY"])["presentment"]["status"] == "locked"


# ---- paying in the merchant's currency ----------------------------------------------------------

def test_the_shopper_may_choose_the_merchant_s_currency(app: Flask, api: Any,
                                                         client: FlaskClient,
                                                         fx_merchant: Any) -> None:
    session = create(api, presentment_currencies=["JPY"], payment_method_types=["card", "konbini"])
    html = page(client, session["id"], "ja")
    assert 'data-testid="pay-in-CNY"' in html and 'data-testid="pay-in-JPY"' in html
    assert "method=konbini" in html
    assert "CNY でのお支払いは クレジットカード のみご利用いただけます。" in html  # says why
    chosen = client.post(f"/pay/{session['id']}/currency",
                         data={"csrf_token": field(html, "csrf_token"), "pay_currency": "CNY"})
    assert chosen.status_code == 303
    html = page(client, session["id"], "ja")
    assert field(html, "expected_price") == "128000 CNY"
    assert "method=konbini" not in html  # konbini takes yen only
    assert api.get(session["id"]).get_json()["presentment"]["selected"] is False
    assert pay_card(client, session["id"], html).status_code == 303
    with app.app_context():
        payment = get_db().scalar(select(Payment))
        assert (payment.amount, payment.currency) == (128000, "CNY")


def test_a_yen_only_session_offers_no_merchant_currency(app: Flask, api: Any,
                                                         client: FlaskClient,
                                                         fx_merchant: Any) -> None:
    session = create(api, presentment_currencies=["JPY"], payment_method_types=["konbini"])
    html = page(client, session["id"], "ja")
    assert 'name="pay_currency"' not in html
    client.post(f"/pay/{session['id']}/currency",
                data={"csrf_token": field(html, "csrf_token"), "pay_currency": "CNY"})
    with app.app_context():
        assert get_db().get(CheckoutSession, session["id"]).pay_currency is None
    assert field(page(client, session["id"], "ja"), "expected_price").endswith(" JPY")


# ---- the live ticker ----------------------------------------------------------------------------

def test_the_ticker_updates_the_market_rate_and_never_the_amount(
        app: Flask, api: Any, client: FlaskClient, fx_merchant: Any, clock: ManualClock) -> None:
    session = create(api, presentment_currencies=["JPY"])
    page(client, session["id"])
    url = f"/pay/{session['id']}/rate"
    first = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    clock.advance(120)
    second = client.get(url, headers={"HX-Request": "true"})
    assert second.status_code == 200
    moved = by_testid(second.get_data(as_text=True), "market-rate")
    assert by_testid(first, "market-rate") != moved
    assert "presentment-amount" not in second.get_data(as_text=True)
    assert len(quotes(app, session["id"])) == 1

    clock.advance(LOCK)
    expired = client.get(url, headers={"HX-Request": "true"})
    assert expired.headers.get("HX-Refresh") == "true"  # the page re-quotes and tells

    html = page(client, session["id"])
    client.post(f"/pay/{session['id']}/currency",
                data={"csrf_token": field(html, "csrf_token"), "pay_currency": "CNY"})
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 286


# ---- storage ------------------------------------------------------------------------------------

def test_two_processes_re_quoting_at_once_store_one_quote(app: Flask, api: Any,
                                                          fx_merchant: Any,
                                                          clock: ManualClock) -> None:
    from checkout.fx.quotes import refresh_quote

    session = create(api, presentment_currencies=["JPY"])
    clock.advance(LOCK + 60)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        behind = get_db().get(CheckoutSession, session["id"])
        assert len(behind.rate_quotes) == 1  # loaded before the other process re-quotes
        with app.app_context():
            ahead = get_db().get(CheckoutSession, session["id"])
            winner = refresh_quote(ahead)
            winner_id = winner.id if winner else None
        shown = refresh_quote(behind)
        assert shown is not None and shown.id == winner_id
    assert [q.sequence for q in quotes(app, session["id"])] == [1, 2]


def test_rate_quotes_in_the_migration_match_the_model(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from checkout.models import Base

    engine = create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    mine = [d for d in differences if "rate_quotes" in repr(d) or "presentment_currencies"
            in repr(d) or "pay_currency" in repr(d)]
    assert mine == []


def test_the_complete_page_and_slips_show_the_conversion_paid(app: Flask, api: Any,
                                                              client: FlaskClient,
                                                              fx_merchant: Any) -> None:
    from checkout.fx.display import receipt_view

    session = create(api, presentment_currencies=["JPY"])
    html = page(client, session["id"])
    assert pay_card(client, session["id"], html).status_code == 303
    done = client.get(f"/pay/{session['id']}", headers={"Accept-Language": "en"})
    text = re.sub(r"\s+", " ", done.get_data(as_text=True))
    yen = f"¥{session['presentment']['amount']:,}"
    assert f"has received your payment of {yen}" in text
    block = re.search(r'data-testid="fx-receipt">(.*?)</div>', text)
    assert block, "no conversion receipt on the complete page"
    receipt = html_lib.unescape(re.sub(r"<[^>]+>", "", block.group(1)))
    assert "The shop's price of CN¥1,280.00, converted at 1 CNY = " in receipt
    assert f"is {yen}." in receipt and "Mark-up: 1.5% over the reference rate." in receipt
    with app.test_request_context(headers={"Accept-Language": "en"}):
        checkout = get_db().get(CheckoutSession, session["id"])
        by_session, by_payment = receipt_view(checkout), receipt_view(checkout.payments[-1])
        assert by_session == by_payment and by_session is not None
        assert by_session.amount == yen
