"""Exactly-once payments and state changes, on SQLite and PostgreSQL.

Concurrency here is real: several threads, each with its own test client (so its own
database connection), released together by a barrier.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from checkout.db import get_db, get_engine
from checkout.gateway import sandbox
from checkout.models import Base, CheckoutSession, Payment, SandboxPayment, WebhookEvent
from checkout.sessions import complete_session
from checkout.worker import expire_overdue_sessions, run_once

from support import csrf_from

BACKENDS = ("sqlite", "postgresql")

THREADS = 6
VISA = "4242424242424242"
DECLINED = "4000000000000002"
CHALLENGE = "4000002760003184"


def form_for(client: FlaskClient, session_id: str, number: str = VISA) -> dict[str, str]:
    html = client.get(f"/pay/{session_id}").get_data(as_text=True)
    attempt = re.search(r'name="attempt" value="(\d+)"', html)
    assert attempt, "no attempt field on the page"
    return {"csrf_token": csrf_from(html), "method": "card", "attempt": attempt.group(1),
            "card_number": number, "card_expiry": "12/34", "card_cvc": "123",
            "card_name": "Hanako Yamada"}


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released at the same moment; re-raise failures."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return get_db().scalar(select(func.count()).select_from(model).where(*where)) or 0


def events(app: Flask, session_id: str, event_type: str) -> list[dict[str, Any]]:
    with app.app_context():
        rows = get_db().scalars(select(WebhookEvent).where(WebhookEvent.type == event_type))
        bodies = [json.loads(row.body) for row in rows]
    return [b for b in bodies if b["data"]["object"]["id"] == session_id]


@pytest.fixture
def session_id(api: Any) -> str:
    response = api.create()
    assert response.status_code == 200
    return str(response.get_json()["id"])


# ---- exactly one gateway payment ----------------------------------------------------------------

def test_parallel_submits_of_one_form_charge_once(app: Flask, session_id: str, api: Any) -> None:
    form = form_for(app.test_client(), session_id)
    clients = [app.test_client() for _ in range(THREADS)]

    responses = run_together(THREADS, lambda i: clients[i].post(f"/pay/{session_id}", data=form))

    statuses = [r.status_code for r in responses]
    assert all(status == 303 for status in statuses), statuses
    assert count(app, SandboxPayment) == 1
    assert count(app, Payment, Payment.session_id == session_id) == 1
    session = api.get(session_id).get_json()
    assert session["status"] == "complete" and session["payment_status"] == "paid"
    assert [p["status"] for p in session["payments"]] == ["succeeded"]
    assert len(events(app, session_id, "checkout.session.completed")) == 1


def test_parallel_submits_with_different_cards_still_charge_once(app: Flask,
                                                                 session_id: str) -> None:
    """Two tabs, two cards, one attempt: the gateway's idempotency key wins, not the card."""
    base = form_for(app.test_client(), session_id)
    cards = [VISA, "5555555555554444", "3530111333300000"] * 2
    clients = [app.test_client() for _ in range(THREADS)]

    responses = run_together(THREADS, lambda i: clients[i].post(
        f"/pay/{session_id}", data={**base, "card_number": cards[i]}))

    assert all(r.status_code == 303 for r in responses)
    assert count(app, SandboxPayment) == 1
    assert count(app, Payment, Payment.session_id == session_id) == 1
    assert len(events(app, session_id, "checkout.session.completed")) == 1


def test_a_reloaded_post_after_success_sends_nothing(app: Flask, client: FlaskClient,
                                                     session_id: str) -> None:
    form = form_for(client, session_id)
    first = client.post(f"/pay/{session_id}", data=form)
    assert first.status_code == 303 and first.headers["Location"].startswith("https://shop.example/ok")
    again = client.post(f"/pay/{session_id}", data=form)
    assert again.status_code == 303
    assert again.headers["Location"].endswith(f"/pay/{session_id}")
    assert count(app, SandboxPayment) == 1
    assert count(app, Payment) == 1
    assert len(events(app, session_id, "checkout.session.completed")) == 1


def test_decline_advances_the_attempt_and_another_card_succeeds(app: Flask, client: FlaskClient,
                                                                session_id: str, api: Any) -> None:
    declined_form = form_for(client, session_id, DECLINED)
    assert declined_form["attempt"] == "1"
    declined = client.post(f"/pay/{session_id}", data=declined_form)
    assert declined.status_code == 303
    page = client.get(declined.headers["Location"])
    assert page.status_code == 200
    assert "declined" in page.get_data(as_text=True)

    # Reloading the declined POST shows the decline again and sends nothing.
    reloaded = client.post(f"/pay/{session_id}", data=declined_form)
    assert reloaded.status_code == 303
    assert count(app, SandboxPayment) == 1

    retry_form = form_for(client, session_id, "5555 5555 5555 4444")
    assert retry_form["attempt"] == "2"
    paid = client.post(f"/pay/{session_id}", data=retry_form)
    assert paid.status_code == 303
    assert paid.headers["Location"].startswith("https://shop.example/ok")

    session = api.get(session_id).get_json()
    assert [(p["status"], p["failure_code"]) for p in session["payments"]] == [
        ("failed", "card_declined"), ("succeeded", None)]
    assert count(app, SandboxPayment) == 2
    with app.app_context():
        attempts = get_db().scalars(select(Payment.attempt).where(
            Payment.session_id == session_id).order_by(Payment.attempt)).all()
    assert attempts == [1, 2]
    assert len(events(app, session_id, "checkout.session.completed")) == 1


def test_parallel_declines_advance_the_attempt_once(app: Flask, session_id: str) -> None:
    form = form_for(app.test_client(), session_id, DECLINED)
    clients = [app.test_client() for _ in range(THREADS)]
    run_together(THREADS, lambda i: clients[i].post(f"/pay/{session_id}", data=form))
    with app.app_context():
        assert get_db().get(CheckoutSession, session_id).attempt == 2
    assert count(app, SandboxPayment) == 1


def test_a_forged_attempt_number_charges_nothing(app: Flask, client: FlaskClient,
                                                 session_id: str) -> None:
    form = form_for(client, session_id)
    for attempt in ("7", "0", "-1", "x", ""):
        response = client.post(f"/pay/{session_id}", data={**form, "attempt": attempt})
        assert response.status_code == 409, attempt
    assert count(app, SandboxPayment) == 0
    assert count(app, Payment) == 0


# ---- state changes happen once, each with its one outbox event ------------------------------

def test_concurrent_completion_emits_one_event(app: Flask, session_id: str) -> None:
    def complete(_index: int) -> bool:
        with app.app_context():
            db = get_db()
            checkout = db.get(CheckoutSession, session_id)
            changed = complete_session(db, checkout)
            db.commit()
            return changed

    results = run_together(THREADS, complete)
    assert results.count(True) == 1
    completed = events(app, session_id, "checkout.session.completed")
    assert len(completed) == 1
    assert completed[0]["data"]["object"]["status"] == "complete"
    assert completed[0]["data"]["object"]["payment_status"] == "paid"


def test_the_completed_event_carries_the_final_session(app: Flask, client: FlaskClient,
                                                       session_id: str, api: Any) -> None:
    client.post(f"/pay/{session_id}", data=form_for(client, session_id))
    (event,) = events(app, session_id, "checkout.session.completed")
    assert event["type"] == "checkout.session.completed"
    assert event["id"].startswith("evt_")
    snapshot = event["data"]["object"]
    assert snapshot["status"] == "complete" and snapshot["payment_status"] == "paid"
    assert [p["status"] for p in snapshot["payments"]] == ["succeeded"]
    assert snapshot["completed_at"] is not None
    assert snapshot == api.get(session_id).get_json()


def _make_overdue(app: Flask, session_id: str) -> None:
    with app.app_context():
        get_db().get(CheckoutSession, session_id).expires_at = int(time.time()) - 1
        get_db().commit()


def test_worker_sweep_expires_once(app: Flask, session_id: str, api: Any) -> None:
    _make_overdue(app, session_id)

    def sweep(_index: int) -> int:
        with app.app_context():
            return expire_overdue_sessions()

    assert sum(run_together(THREADS, sweep)) == 1
    assert run_once(app)["expired"] == 0
    (event,) = events(app, session_id, "checkout.session.expired")
    assert event["data"]["object"]["status"] == "expired"
    assert api.get(session_id).get_json()["status"] == "expired"
    assert events(app, session_id, "checkout.session.completed") == []


def test_an_expired_session_cannot_be_paid(app: Flask, client: FlaskClient,
                                           session_id: str) -> None:
    form = form_for(client, session_id)
    _make_overdue(app, session_id)
    response = client.post(f"/pay/{session_id}", data=form)
    assert response.status_code == 303
    assert client.get(f"/pay/{session_id}").status_code == 410
    assert count(app, SandboxPayment) == 0
    assert len(events(app, session_id, "checkout.session.expired")) == 1


def test_expiry_while_the_gateway_decides_is_refused_and_only_completion_is_sent(
    app: Flask, session_id: str, merchant: Any, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merchant expires the session while the gateway is still deciding; the gateway then
    takes the money. One of the two must win, never both: the expiry is refused with 409
    payment_in_progress, the session completes, and the merchant hears only of completion."""
    at_gateway, decide = threading.Event(), threading.Event()
    real_card = sandbox.BEHAVIOURS["card"]

    def slow_card(*args: Any) -> Any:
        at_gateway.set()
        assert decide.wait(10)
        return real_card(*args)

    monkeypatch.setitem(sandbox.BEHAVIOURS, "card", slow_card)
    form = form_for(app.test_client(), session_id)
    paying = threading.Thread(target=lambda: app.test_client().post(f"/pay/{session_id}",
                                                                    data=form))
    paying.start()
    try:
        assert at_gateway.wait(10)
        expired = app.test_client().post(f"/v1/checkout/sessions/{session_id}/expire",
                                         headers={"Authorization": f"Bearer {merchant.secret_key}"})
        assert expired.status_code == 409
        assert expired.get_json()["error"]["code"] == "payment_in_progress"
    finally:
        decide.set()
        paying.join(10)

    session = api.get(session_id).get_json()
    assert session["status"] == "complete" and session["payment_status"] == "paid"
    assert [p["status"] for p in session["payments"]] == ["succeeded"]
    with app.app_context():
        order = get_db().scalars(select(WebhookEvent.type).order_by(WebhookEvent.created,
                                                                    WebhookEvent.id)).all()
    assert order == ["checkout.session.completed"]


def test_unknown_and_malformed_session_pages_are_404(client: FlaskClient) -> None:
    for path in ("/pay/cs_nothing", "/pay/cs_%00", "/pay/" + "x" * 100, "/pay/cs_%00/status"):
        assert client.get(path).status_code == 404, path


# ---- no card data at rest or in logs -----------------------------------------------------------

def database_text(app: Flask) -> str:
    """Every row of every table, as text."""
    with app.app_context(), get_engine().connect() as connection:
        dump = []
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table)).all()
            dump.append(f"{table.name}: {[tuple(str(v) for v in row) for row in rows]}")
    return "\n".join(dump)


def test_no_card_number_or_code_in_the_database_or_logs(
    app: Flask, client: FlaskClient, api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # it pins itself to WARN otherwise
    pans = {VISA: "4242 4242 4242 4242", DECLINED: "4000 0000 0000 0002",
            CHALLENGE: "4000 0027 6000 3184", "378282246310005": "3782 822463 10005"}
    cvc = "7319"
    for number, spaced in pans.items():
        session = api.create().get_json()
        form = form_for(client, session["id"], spaced)
        form["card_cvc"] = cvc if number.startswith("37") else "731"
        response = client.post(f"/pay/{session['id']}", data=form)
        assert response.status_code == 303
        if number == CHALLENGE:  # answer the sandbox's 3-D Secure page
            challenge = client.get(response.headers["Location"])
            client.post(response.headers["Location"], data={
                "csrf_token": csrf_from(challenge.get_data(as_text=True)), "outcome": "approve"})
    # A form with a mistake is shown again: without the number or the code in it.
    session = api.create().get_json()
    form = {**form_for(client, session["id"], "4242 4242 4242 4242"), "card_expiry": "13/99",
            "card_cvc": cvc}
    again = client.post(f"/pay/{session['id']}", data=form)
    assert again.status_code == 422
    page = again.get_data(as_text=True)
    assert VISA not in page and "4242 4242 4242 4242" not in page and cvc not in page

    stored = database_text(app)
    logged = caplog.text
    assert "sandbox_payments" in stored and "4242" in stored  # the dump really has the rows
    assert "SELECT" in logged or "INSERT" in logged  # SQL with its parameters was logged
    for number, spaced in pans.items():
        for haystack in (stored, logged):
            assert number not in haystack
            assert spaced not in haystack
    assert cvc not in logged
    assert "cvc" not in stored.lower()
    assert f"'{cvc}'" not in stored and f'"{cvc}"' not in stored
