"""A passkey payment killed in the middle, then the shopper's retry.

gunicorn runs for real on PostgreSQL. A returning shopper — remembered, with a passkey made by
a software authenticator (``soft_authenticator``: real keys, real signatures) — confirms a
one-click payment; the request is made to hang after the gateway has charged the saved card
and before Kessai records it (the test holds a lock on the webhook outbox, which the
completion writes to), and master and workers are killed with SIGKILL. After a restart the
same assertion is refused (its challenge was claimed before the crash), and a fresh
confirmation completes the order from the gateway's own record: one charge, never two.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text

from checkout.models import Notification, Payment, SandboxPayment

from returning_shopper import Shopper
from servers import gunicorn, wait_until
from support import MerchantInfo

BACKENDS = ("postgresql",)


def test_a_passkey_payment_killed_mid_request_is_charged_once(
        database_url: str, merchant: MerchantInfo, app: Any) -> None:
    engine = create_engine(database_url)
    env = {"KESSAI_DATABASE_URL": database_url, "KESSAI_SECRET_KEY": "crash-test-secret"}
    try:
        with gunicorn(env) as server:
            shopper = Shopper(server.url, merchant, code_in(engine))
            shopper.enrol()
            order = shopper.new_order(9800)
            body, csrf = shopper.confirm(order)
            blocker = engine.connect()
            blocker.begin()
            blocker.execute(text("LOCK TABLE webhook_events IN EXCLUSIVE MODE"))
            in_flight = threading.Thread(target=lambda: _ignore_errors(
                lambda: shopper.pay(order, body, csrf)), daemon=True)
            in_flight.start()

            def charged_not_recorded() -> bool:
                with engine.connect() as connection:
                    key = connection.scalar(select(Payment.idempotency_key).where(
                        Payment.session_id == order))
                    return key is not None and connection.scalar(
                        select(SandboxPayment.status).where(
                            SandboxPayment.idempotency_key == key)) == "succeeded"

            wait_until(charged_not_recorded, what="the gateway to charge the saved card")
            server.kill_hard()
            blocker.rollback()
            blocker.close()
            in_flight.join(30)
            port = server.port

        with engine.connect() as connection:  # Kessai never learnt the outcome
            assert connection.scalar(select(Payment.status).where(
                Payment.session_id == order)) == "processing"

        with gunicorn(env, port=port) as server:  # the same origin: the passkey still fits
            replayed = shopper.pay(order, body, csrf)
            assert replayed.status_code == 400  # its challenge was claimed before the crash
            assert replayed.json()["error"] == "passkey_refused"
            body, csrf = shopper.confirm(order)
            answer = shopper.pay(order, body, csrf)
            assert answer.status_code in (200, 204, 303), answer.text
            session = httpx.get(f"{server.url}/v1/checkout/sessions/{order}", headers={
                "Authorization": f"Bearer {merchant.secret_key}"}).json()
        assert session["payment_status"] == "paid"
        [payment] = session["payments"]
        assert payment["passkey_confirmed"] is True and payment["status"] == "succeeded"
        with engine.connect() as connection:  # one charge at the gateway for this order
            keys = connection.scalars(select(Payment.idempotency_key).where(
                Payment.session_id == order)).all()
            assert connection.scalar(select(func.count()).select_from(SandboxPayment).where(
                SandboxPayment.idempotency_key.in_(keys))) == 1
    finally:
        engine.dispose()


def code_in(engine: Any) -> Any:
    def code(order: str) -> str:
        with engine.connect() as connection:
            return str(connection.scalar(select(Notification.body).where(
                Notification.session_id == order)))
    return code


def _ignore_errors(call: Any) -> None:
    try:
        call()
    except httpx.HTTPError:
        pass  # the server was killed under it


def test_the_soft_authenticator_passes_every_server_check(
        database_url: str, merchant: MerchantInfo, app: Any) -> None:
    """The helper the crash test relies on: through gunicorn, its passkey registers and pays,
    and an assertion it signs for one order is refused for another."""
    engine = create_engine(database_url)
    env = {"KESSAI_DATABASE_URL": database_url, "KESSAI_SECRET_KEY": "crash-test-secret"}
    try:
        with gunicorn(env) as server:
            shopper = Shopper(server.url, merchant, code_in(engine))
            shopper.enrol()
            first, second = shopper.new_order(3300), shopper.new_order(3300)
            signed_for_first, _csrf = shopper.confirm(first)
            _body, csrf_second = shopper.confirm(second)
            refused = shopper.pay(second, signed_for_first, csrf_second)
            assert refused.status_code == 400 and refused.json()["error"] == "passkey_refused"
            body, csrf = shopper.confirm(first)
            assert shopper.pay(first, body, csrf).status_code in (200, 204, 303)
            paid = httpx.get(f"{server.url}/v1/checkout/sessions/{first}", headers={
                "Authorization": f"Bearer {merchant.secret_key}"}).json()
            assert paid["payment_status"] == "paid"
            assert json.dumps(paid).count("passkey_confirmed\": true") == 1
    finally:
        engine.dispose()
