"""Merchant webhooks: signatures, and delivery from the outbox to a real HTTP endpoint.

Time is driven by moving ``next_attempt_at`` / ``locked_until`` in the database, never by
sleeping.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from checkout.db import get_db
from checkout.merchants import create_merchant
from checkout.models import CheckoutSession, WebhookEvent
from checkout.serialize import session_to_api
from checkout.sessions import complete_session, create_session
from checkout.webhooks import SIGNATURE_HEADER, deliver_due, enqueue_event, sign, verify

SECRET = "whsec_0123456789abcdef"
BODY = b'{"id":"evt_1","type":"checkout.session.completed"}'
BACKOFF = 10
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WEBHOOK_BACKOFF_SECONDS": BACKOFF, "WEBHOOK_MAX_ATTEMPTS": 4,
            "WEBHOOK_TIMEOUT_SECONDS": 2}


# ---- signatures ------------------------------------------------------------------------------

def test_a_signature_verifies_with_the_same_secret_and_body() -> None:
    header = sign(SECRET, BODY, int(time.time()))
    assert header.startswith("t=") and ",v1=" in header
    assert verify(SECRET, BODY, header)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, 1700000000) == f"t=1700000000,v1={expected}"


@pytest.mark.parametrize("age", [-301, 301, 3600, -3600])
def test_timestamps_outside_five_minutes_are_rejected(age: int) -> None:
    moment = 1_800_000_000
    header = sign(SECRET, BODY, moment - age)
    assert not verify(SECRET, BODY, header, current_time=moment)


@pytest.mark.parametrize("age", [0, 299, -299])
def test_timestamps_inside_five_minutes_are_accepted(age: int) -> None:
    moment = 1_800_000_000
    assert verify(SECRET, BODY, sign(SECRET, BODY, moment - age), current_time=moment)


def test_tampered_body_signature_or_secret_is_rejected() -> None:
    header = sign(SECRET, BODY, int(time.time()))
    assert not verify(SECRET, BODY.replace(b"completed", b"expired"), header)
    assert not verify(SECRET, BODY + b" ", header)
    assert not verify("whsec_other", BODY, header)
    timestamp, _, digest = header.partition(",v1=")
    flipped = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    assert not verify(SECRET, BODY, f"{timestamp},v1={flipped}")
    # Re-signing the same body under a fresh timestamp needs the secret.
    assert not verify(SECRET, BODY, f"t={int(time.time()) + 1},v1={digest}")


@pytest.mark.parametrize("header", ["", "garbage", "t=,v1=", "v1=abc", "t=abc,v1=abc",
                                    "t=1700000000", ",,,", "t=1e9,v1=00"])
def test_malformed_headers_are_rejected(header: str) -> None:
    assert not verify(SECRET, BODY, header)


# ---- a merchant endpoint -----------------------------------------------------------------------

@dataclass
class Receiver:
    url: str = ""
    status: int = 200
    hold: threading.Event | None = None  # when set, requests wait for it (a slow endpoint)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _headers, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.received.append((dict(self.headers), body))
            if state.hold is not None:
                state.hold.wait(10)
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield state
    if state.hold is not None:
        state.hold.set()
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


@dataclass
class Shop:
    app: Flask
    merchant_id: str
    webhook_secret: str

    def completed_session(self) -> str:
        """A session completed the way a payment completes it (with its outbox event)."""
        with self.app.app_context():
            db = get_db()
            from checkout.models import Merchant

            merchant = db.get(Merchant, self.merchant_id)
            checkout = create_session(db, merchant, {
                "amount": 12800, "currency": "JPY", "success_url": "https://shop.example/ok",
                "expires_at": int(time.time()) + 3600})
            db.flush()
            assert complete_session(db, checkout)
            db.commit()
            return checkout.id

    def deliver(self) -> int:
        with self.app.app_context():
            return deliver_due(get_db())

    def events(self) -> list[WebhookEvent]:
        with self.app.app_context():
            return list(get_db().scalars(select(WebhookEvent).order_by(WebhookEvent.id)))

    def make_due(self) -> None:
        """Pretend the backoff has passed: the events' and the merchant's."""
        from checkout.models import Merchant

        with self.app.app_context():
            get_db().execute(update(WebhookEvent).values(next_attempt_at=int(time.time()) - 1))
            get_db().execute(update(Merchant).values(webhook_paused_until=int(time.time()) - 1))
            get_db().commit()


def make_shop(app: Flask, webhook_url: str | None) -> Shop:
    with app.app_context():
        merchant, _key = create_merchant(get_db(), "Sakura Tea", ["https://shop.example"],
                                         webhook_url)
        get_db().commit()
        return Shop(app, merchant.id, merchant.webhook_secret)


@pytest.fixture
def shop(app: Flask, receiver: Receiver) -> Shop:
    return make_shop(app, receiver.url)


# ---- delivery ----------------------------------------------------------------------------------

def test_delivery_is_signed_with_the_merchants_secret(shop: Shop, receiver: Receiver) -> None:
    session_id = shop.completed_session()
    assert shop.deliver() == 1
    ((headers, body),) = receiver.received
    assert headers["Content-Type"] == "application/json"
    assert verify(shop.webhook_secret, body, headers[SIGNATURE_HEADER])
    assert not verify("whsec_someone_else", body, headers[SIGNATURE_HEADER])
    event = json.loads(body)
    assert set(event) >= {"id", "type", "created", "data"}
    assert event["id"].startswith("evt_")
    assert event["type"] == "checkout.session.completed"
    assert event["data"]["object"]["id"] == session_id
    assert event["data"]["object"]["status"] == "complete"
    (stored,) = shop.events()
    assert stored.delivered_at is not None and stored.attempts == 1
    assert shop.deliver() == 0  # delivered once, never again
    assert len(receiver.received) == 1


def test_the_event_body_is_the_session_as_the_api_shows_it(shop: Shop, receiver: Receiver,
                                                           app: Flask) -> None:
    session_id = shop.completed_session()
    shop.deliver()
    (event,) = receiver.bodies()
    with app.test_request_context():
        checkout = get_db().get(CheckoutSession, session_id)
        assert event["data"]["object"] == session_to_api(checkout)


def test_500s_are_retried_with_exponential_backoff(shop: Shop, receiver: Receiver) -> None:
    receiver.status = 500
    shop.completed_session()
    for attempt, backoff in ((1, BACKOFF), (2, 2 * BACKOFF), (3, 4 * BACKOFF)):
        before = int(time.time())
        assert shop.deliver() == 1
        after = int(time.time())
        (event,) = shop.events()
        assert event.attempts == attempt
        assert event.last_error == "HTTP 500"
        assert event.delivered_at is None and not event.given_up
        assert before + backoff <= event.next_attempt_at <= after + backoff
        assert shop.deliver() == 0, "retried before its backoff had passed"
        shop.make_due()
    receiver.status = 204
    assert shop.deliver() == 1
    (event,) = shop.events()
    assert event.delivered_at is not None and event.attempts == 4 and event.last_error is None
    assert len(receiver.received) == 4
    assert len({json.loads(body)["id"] for _h, body in receiver.received}) == 1


def test_a_failing_endpoint_backs_off_as_a_whole(shop: Shop, receiver: Receiver,
                                                  app: Flask) -> None:
    """Five events queued for an endpoint that fails: one try, then the merchant's lane pauses
    (10 s, 20 s, … on failures in a row) instead of spending a try — a timeout, for a hanging
    endpoint — on each queued event. The first success after a pause sends the rest."""
    from checkout.models import Merchant

    receiver.status = 503
    for _ in range(5):
        shop.completed_session()
    for failures, pause in ((1, BACKOFF), (2, 2 * BACKOFF)):
        before = int(time.time())
        assert shop.deliver() == 1, "one try per pause, not one per queued event"
        with app.app_context():
            merchant = get_db().get(Merchant, shop.merchant_id)
            assert merchant.webhook_failures_in_a_row == failures
            assert before + pause <= merchant.webhook_paused_until <= int(time.time()) + pause
        assert shop.deliver() == 0, "delivered to a paused merchant"
        assert sum(e.attempts for e in shop.events()) == failures  # the others never tried
        shop.make_due()
    receiver.status = 204
    assert shop.deliver() == 5
    assert all(e.delivered_at is not None for e in shop.events())
    with app.app_context():
        merchant = get_db().get(Merchant, shop.merchant_id)
        assert (merchant.webhook_failures_in_a_row, merchant.webhook_paused_until) == (0, 0)


def test_refused_connections_are_retried_then_given_up(app: Flask) -> None:
    shop = make_shop(app, closed_port_url())
    shop.completed_session()
    for attempt in (1, 2, 3, 4):
        assert shop.deliver() == 1
        (event,) = shop.events()
        assert event.attempts == attempt
        assert "ConnectError" in (event.last_error or "")
        shop.make_due()
    assert event.given_up
    assert shop.deliver() == 0  # given up: never tried again


def test_a_slow_endpoint_times_out_and_is_retried(app: Flask, receiver: Receiver) -> None:
    app.config["WEBHOOK_TIMEOUT_SECONDS"] = 0.3
    receiver.hold = threading.Event()
    shop = make_shop(app, receiver.url)
    shop.completed_session()
    assert shop.deliver() == 1
    (event,) = shop.events()
    assert "Timeout" in (event.last_error or "")
    assert event.delivered_at is None and event.attempts == 1


@pytest.mark.parametrize("url", ["http://[::1", "not a url", "ftp://shop.example/hooks"])
def test_an_unusable_webhook_url_counts_as_a_failed_attempt(app: Flask, url: str) -> None:
    shop = make_shop(app, url)
    shop.completed_session()
    assert shop.deliver() == 1
    (event,) = shop.events()
    assert event.attempts == 1 and event.last_error and event.locked_until == 0


def test_merchants_without_a_webhook_url_are_skipped(app: Flask) -> None:
    shop = make_shop(app, None)
    shop.completed_session()
    assert shop.deliver() == 0
    (event,) = shop.events()
    assert event.attempts == 0


def test_events_arrive_in_the_order_they_were_written(shop: Shop, receiver: Receiver) -> None:
    sessions = [shop.completed_session() for _ in range(6)]
    assert shop.deliver() == 6
    assert [e["data"]["object"]["id"] for e in receiver.bodies()] == sessions


def test_a_lease_keeps_a_second_worker_away_until_it_expires(shop: Shop,
                                                              receiver: Receiver) -> None:
    shop.completed_session()
    with shop.app.app_context():  # worker A claimed the event, then crashed
        get_db().execute(update(WebhookEvent).values(locked_until=int(time.time()) + 60))
        get_db().commit()
    assert shop.deliver() == 0
    assert receiver.received == []
    with shop.app.app_context():  # the lease runs out
        get_db().execute(update(WebhookEvent).values(locked_until=int(time.time()) - 1))
        get_db().commit()
    assert shop.deliver() == 1
    assert len(receiver.received) == 1


def test_concurrent_workers_deliver_each_event_once(shop: Shop, receiver: Receiver) -> None:
    sessions = {shop.completed_session() for _ in range(12)}
    workers = 3
    barrier = threading.Barrier(workers)
    attempted: list[int] = []

    def work() -> None:
        barrier.wait(10)
        attempted.append(shop.deliver())

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    delivered = [e["data"]["object"]["id"] for e in receiver.bodies()]
    assert sorted(delivered) == sorted(sessions)  # each one, exactly once
    assert sum(attempted) == 12
    assert all(e.delivered_at is not None and e.attempts == 1 for e in shop.events())


def test_enqueue_is_part_of_the_callers_transaction(shop: Shop, app: Flask) -> None:
    """An event for a change that rolled back must never be sent."""
    with app.app_context():
        db = get_db()
        checkout = db.scalars(select(CheckoutSession)).first()
        assert checkout is None
    session_id = shop.completed_session()
    with app.app_context():
        db = get_db()
        enqueue_event(db, db.get(CheckoutSession, session_id), "checkout.session.expired")
        db.rollback()
    assert [e.type for e in shop.events()] == ["checkout.session.completed"]
