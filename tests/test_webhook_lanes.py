"""One merchant's dead endpoint never delays another merchant's webhooks.

Reported: the worker delivered one event at a time, oldest first, 10 s timeout each; a merchant
whose endpoint never answered delayed another merchant's event by 392 s. Now each merchant has
its own lane (checkout/webhooks.DeliveryLanes) and the worker's tick never waits for a lane.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from checkout.db import get_db
from checkout.merchants import create_merchant
from checkout.models import Merchant, WebhookEvent
from checkout.sessions import complete_session, create_session
from checkout.worker import run_forever

from servers import silent_listener, wait_until


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WEBHOOK_TIMEOUT_SECONDS": 4, "WORKER_POLL_SECONDS": 0.05}


@pytest.fixture
def dead_endpoint() -> Iterator[str]:
    """Accepts connections (the kernel does) and never answers."""
    with silent_listener() as url:
        yield f"{url}/hooks"


@pytest.fixture
def healthy_endpoint() -> Iterator[tuple[str, list[float]]]:
    arrivals: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            arrivals.append(time.monotonic())
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", arrivals
    server.shutdown()


def completed_session(app: Flask, merchant_id: str) -> None:
    with app.app_context():
        db = get_db()
        checkout = create_session(db, db.get(Merchant, merchant_id), {
            "amount": 1200, "currency": "JPY", "success_url": "https://shop.example/ok",
            "expires_at": int(time.time()) + 3600})
        db.flush()
        assert complete_session(db, checkout)
        db.commit()


def test_a_dead_endpoint_delays_only_its_own_merchant(
        app: Flask, dead_endpoint: str, healthy_endpoint: tuple[str, list[float]]) -> None:
    healthy_url, arrivals = healthy_endpoint
    with app.app_context():
        stuck, _ = create_merchant(get_db(), "Stuck shop", [], dead_endpoint)
        fine, _ = create_merchant(get_db(), "Fine shop", [], healthy_url)
        get_db().commit()
        stuck_id, fine_id = stuck.id, fine.id
    for _ in range(3):  # the stuck merchant's events are the oldest: first in line
        completed_session(app, stuck_id)
    stop = threading.Event()
    worker = threading.Thread(target=run_forever, args=(app, stop), daemon=True)
    worker.start()
    try:
        # Wait until the worker is inside the dead endpoint's first delivery …
        def stuck_in_flight() -> bool:
            with app.app_context():
                return any(e.locked_until > time.time() for e in get_db().scalars(
                    select(WebhookEvent).where(WebhookEvent.merchant_id == stuck_id)))

        wait_until(stuck_in_flight, timeout=10, what="the stuck merchant's delivery to start")
        created = time.monotonic()
        completed_session(app, fine_id)  # … then the healthy merchant's order completes.
        wait_until(lambda: arrivals, timeout=12, what="the healthy merchant's webhook")
        delay = arrivals[0] - created
        assert delay < 2, f"the healthy merchant waited {delay:.1f} s behind a dead endpoint"
        with app.app_context():
            stuck_events = get_db().scalars(
                select(WebhookEvent).where(WebhookEvent.merchant_id == stuck_id)).all()
            assert all(e.delivered_at is None for e in stuck_events)
    finally:
        stop.set()
        worker.join(timeout=30)
