"""Two app nodes and two workers on one PostgreSQL, as a deployment runs them.

A shopper's requests land on either node (the page from one, the payment post to the other);
the merchant's API calls alternate too. Both workers deliver webhooks from the same outbox; one
is killed with SIGKILL in the middle of a delivery. Every completed order's webhook must still
reach the merchant — the killed worker's event once its lease runs out — and no order may be
charged twice or completed twice.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from checkout.db import get_db
from checkout.models import Merchant, Payment, WebhookEvent

from servers import ROOT, gunicorn, wait_until
from support import MerchantInfo

BACKENDS = ("postgresql",)
ORDERS = 8


class MerchantEndpoint:
    """The merchant's webhook URL. The first delivery it receives is held until released:
    the worker delivering it is killed meanwhile."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with owner.lock:
                    first = not owner.holding.is_set()
                    owner.holding.set()
                if first:
                    owner.release.wait(30)  # the worker sending this one dies meanwhile
                    return  # no answer: the connection just closes
                with owner.lock:
                    owner.received.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def event_ids(self) -> set[str]:
        with self.lock:
            return {event["id"] for event in self.received}


@contextmanager
def worker(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "checkout.cli", "worker"], env=env, cwd=ROOT,
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(20)


@pytest.fixture
def endpoint() -> Iterator[MerchantEndpoint]:
    receiver = MerchantEndpoint()
    yield receiver
    receiver.release.set()
    receiver.server.shutdown()


def pay(shopper: httpx.Client, page_node: str, post_node: str, session_id: str) -> None:
    html = shopper.get(f"{page_node}/pay/{session_id}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    attempt = re.search(r'name="attempt" value="(\d+)"', html)
    assert token and attempt
    answer = shopper.post(f"{post_node}/pay/{session_id}", data={
        "csrf_token": token.group(1), "method": "card", "attempt": attempt.group(1),
        "card_number": "4242 4242 4242 4242", "card_expiry": "12/34", "card_cvc": "123",
        "card_name": "Hanako Yamada"})
    assert answer.status_code == 303, answer.text[:300]
    assert answer.headers["Location"].startswith("https://shop.example/ok")


def test_two_nodes_and_two_workers_lose_nothing_and_charge_once(
        app: Flask, database_url: str, merchant: MerchantInfo,
        endpoint: MerchantEndpoint) -> None:
    with app.app_context():
        get_db().get(Merchant, merchant.id).webhook_url = endpoint.url
        get_db().commit()
    env = {**os.environ, "KESSAI_DATABASE_URL": database_url, "KESSAI_SANDBOX_LATENCY_MS": "0",
           "KESSAI_WEBHOOK_TIMEOUT": "1", "KESSAI_WEBHOOK_LEASE_SECONDS": "3",
           "KESSAI_WEBHOOK_BACKOFF_SECONDS": "1", "KESSAI_WORKER_POLL_SECONDS": "0.1",
           "KESSAI_FX_ECB_URL": "off", "KESSAI_SECRET_KEY": "two-nodes-" + "s" * 32}
    api_headers = {"Authorization": f"Bearer {merchant.secret_key}"}
    with gunicorn(env, workers=2) as node_a, gunicorn(env, workers=2) as node_b, \
            httpx.Client(timeout=20) as shopper:
        nodes = [node_a.url, node_b.url]
        session_ids = []
        for order in range(ORDERS):
            created = httpx.post(f"{nodes[order % 2]}/v1/checkout/sessions", headers=api_headers,
                                 json={"amount": 1000 + order, "currency": "JPY",
                                       "success_url": "https://shop.example/ok"}, timeout=20)
            assert created.status_code == 200, created.text
            session_ids.append(created.json()["id"])
            # The page from one node, the payment to the other.
            pay(shopper, nodes[order % 2], nodes[(order + 1) % 2], session_ids[-1])

        with worker(env) as doomed:
            wait_until(endpoint.holding.is_set, timeout=20, what="a delivery in flight")
            os.killpg(doomed.pid, signal.SIGKILL)  # mid-delivery: no clean-up runs
            doomed.wait(10)
            endpoint.release.set()
            with worker(env), worker(env):
                wait_until(lambda: len(endpoint.event_ids()) >= ORDERS, timeout=60,
                           what="every order's webhook")
        for session_id in session_ids:
            session = httpx.get(f"{nodes[0]}/v1/checkout/sessions/{session_id}",
                                headers=api_headers, timeout=20).json()
            assert (session["status"], session["payment_status"]) == ("complete", "paid")
    with app.app_context():
        db = get_db()
        events = db.scalars(select(WebhookEvent)).all()
        payments = db.scalars(select(Payment)).all()
    assert sorted(e.type for e in events) == ["checkout.session.completed"] * ORDERS
    assert endpoint.event_ids() == {e.id for e in events}  # none lost
    assert all(e.delivered_at is not None for e in events)
    assert len(payments) == ORDERS and {p.status for p in payments} == {"succeeded"}
