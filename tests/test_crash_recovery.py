"""A crash in the middle of a merchant's request, then the merchant's retry.

gunicorn runs for real on PostgreSQL; the create-session request is made to hang after it has
claimed its Idempotency-Key (the test holds a lock on ``checkout_sessions``), and then master
and workers are killed with SIGKILL. Before keys had leases, the restarted server answered
``409 idempotency_key_in_use`` to the same request forever, so that order could never be
created.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text

from checkout.models import CheckoutSession, IdempotencyRecord

from servers import gunicorn, wait_until
from support import MerchantInfo

BACKENDS = ("postgresql",)
LEASE_SECONDS = 2
BODY = {"amount": 12800, "currency": "JPY", "success_url": "https://shop.example/ok"}


def create(url: str, merchant: MerchantInfo, key: str, timeout: float = 10) -> httpx.Response:
    return httpx.post(f"{url}/v1/checkout/sessions", json=BODY, timeout=timeout,
                      headers={"Authorization": f"Bearer {merchant.secret_key}",
                               "Idempotency-Key": key})


def test_a_key_held_by_a_killed_request_is_free_after_its_lease(
        database_url: str, merchant: MerchantInfo, app: Any) -> None:
    env = {"KESSAI_DATABASE_URL": database_url,
           "KESSAI_IDEMPOTENCY_LEASE_SECONDS": str(LEASE_SECONDS)}
    engine = create_engine(database_url)
    key = "order-4711"
    try:
        with gunicorn(env) as server:
            blocker = engine.connect()
            blocker.begin()
            blocker.execute(text("LOCK TABLE checkout_sessions IN EXCLUSIVE MODE"))
            in_flight = threading.Thread(target=lambda: _ignore_errors(
                lambda: create(server.url, merchant, key, timeout=30)), daemon=True)
            in_flight.start()

            def key_claimed() -> bool:
                with engine.connect() as connection:
                    return connection.scalar(select(func.count()).select_from(
                        IdempotencyRecord).where(IdempotencyRecord.key == key)) == 1

            wait_until(key_claimed, what="the request to claim its key")
            server.kill_hard()
            blocker.rollback()
            blocker.close()
            in_flight.join(30)

        with gunicorn(env) as server:
            answers = []

            def retry_succeeds() -> bool:
                answer = create(server.url, merchant, key)
                answers.append(answer.status_code)
                assert answer.status_code in (200, 409), answer.text
                return answer.status_code == 200

            wait_until(retry_succeeds, timeout=LEASE_SECONDS + 20, every=0.25,
                       what="the retry to go through once the lease ran out")
            replayed = create(server.url, merchant, key)
            assert replayed.status_code == 200
            assert replayed.headers["Idempotent-Replayed"] == "true"
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(CheckoutSession)) == 1
        assert answers[-1] == 200
    finally:
        engine.dispose()


def _ignore_errors(call: Any) -> None:
    try:
        call()
    except httpx.HTTPError:
        pass  # the server was killed under this request: that is the point
