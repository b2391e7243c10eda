"""One request id from the shopper's click to the merchant's webhook (checkout/logs.py)."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
from flask import Flask
from flask.testing import FlaskClient

from checkout.db import get_db
from checkout.gateway.http import _with_request_id
from checkout.logs import JsonFormatter, RequestIdFilter
from checkout.models import Merchant
from checkout.webhooks import deliver_due

from support import csrf_from

GIVEN = "lb-7f3a9c21e4b8"


def test_every_answer_names_its_request(client: FlaskClient, api: Any) -> None:
    session_id = api.create().get_json()["id"]
    own = client.get(f"/pay/{session_id}")
    assert own.headers["X-Request-Id"].startswith("req_")
    assert client.get(f"/pay/{session_id}").headers["X-Request-Id"] != own.headers["X-Request-Id"]
    # A load balancer's id is kept; something that is not an id is replaced.
    assert client.get(f"/pay/{session_id}",
                      headers={"X-Request-Id": GIVEN}).headers["X-Request-Id"] == GIVEN
    forged = client.get(f"/pay/{session_id}", headers={"X-Request-Id": "a\\nfake log line"})
    assert forged.headers["X-Request-Id"].startswith("req_")


def test_log_lines_are_json_with_the_request_id(app: Flask) -> None:
    handler_records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            handler_records.append(record)

    keep = Keep()
    keep.addFilter(RequestIdFilter())
    logger = logging.getLogger("checkout.test")
    logger.addHandler(keep)
    try:
        with app.test_request_context("/", headers={"X-Request-Id": GIVEN}):
            app.preprocess_request()
            logger.warning("gateway slow: %s ms", 812)
    finally:
        logger.removeHandler(keep)
    line = json.loads(JsonFormatter().format(handler_records[0]))
    assert line["request_id"] == GIVEN and line["message"] == "gateway slow: 812 ms"
    assert line["level"] == "warning" and line["time"].endswith("+00:00")


def test_the_gateway_call_carries_the_request_id(app: Flask) -> None:
    with app.test_request_context("/", headers={"X-Request-Id": GIVEN}):
        app.preprocess_request()
        assert _with_request_id({"Idempotency-Key": "k"}) == {"Idempotency-Key": "k",
                                                              "X-Request-Id": GIVEN}
    with app.app_context():
        assert _with_request_id(None) == {}  # no request, no header


def test_the_webhook_carries_the_id_of_the_request_that_caused_it(
        app: Flask, client: FlaskClient, api: Any, merchant: Any) -> None:
    with app.app_context():
        get_db().get(Merchant, merchant.id).webhook_url = "https://shop.example/hooks"
        get_db().commit()
    session_id = api.create().get_json()["id"]
    html = client.get(f"/pay/{session_id}").get_data(as_text=True)
    paid = client.post(f"/pay/{session_id}", headers={"X-Request-Id": GIVEN}, data={
        "csrf_token": csrf_from(html), "method": "card", "attempt": "1",
        "card_number": "4242 4242 4242 4242", "card_expiry": "12/34", "card_cvc": "123",
        "card_name": "Hanako Yamada"})
    assert paid.status_code == 303
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
    with app.app_context(), httpx.Client(transport=transport) as http:
        assert deliver_due(get_db(), client=http) == 1
    assert seen[0].headers["Kessai-Request-Id"] == GIVEN
