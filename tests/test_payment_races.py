"""Money state under races: two requests at once, repeated until a rare race would show.

Each round starts a 3-D Secure card payment (left ``requires_action`` at the sandbox), then
fires two requests released by one barrier: the issuer's "approve" and either a switch to
PayPay on the pay page, or the merchant's ``expire``. Whatever the interleaving, the money and
the order must agree afterwards:

* the gateway holds at most one succeeded payment per session;
* the session is paid exactly when the gateway took money, with exactly one succeeded payment;
* a completed session has no payment still waiting for money, and an expired one none at all;
* the merchant hears of completion or expiry, never both.

These ran inconsistent in 15 of 40 rounds (embedded sandbox on SQLite) before the database
enforced one live payment per session and final states that never change.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from checkout.db import get_db
from checkout.models import Payment, SandboxPayment, WebhookEvent

from support import csrf_from, handed_off_to
from test_storage import run_together

BACKENDS = ("sqlite", "postgresql")
ROUNDS = 40
CHALLENGE_CARD = "4000002760003184"
LIVE = {"processing", "requires_action", "pending"}


def page_form(client: FlaskClient, session_id: str, method: str) -> dict[str, str]:
    html = client.get(f"/pay/{session_id}?method={method}").get_data(as_text=True)
    attempt = re.search(r'name="attempt" value="(\d+)"', html)
    assert attempt, "no attempt field on the page"
    return {"csrf_token": csrf_from(html), "method": method, "attempt": attempt.group(1)}


def start_challenge(app: Flask, api: Any) -> tuple[str, str]:
    """A session whose card payment waits for 3-D Secure: (session id, gateway payment id)."""
    session_id = api.create().get_json()["id"]
    shopper = app.test_client()
    form = {**page_form(shopper, session_id, "card"), "card_number": CHALLENGE_CARD,
            "card_expiry": "12/34", "card_cvc": "123", "card_name": "Hanako Yamada"}
    assert shopper.post(f"/pay/{session_id}", data=form).status_code == 303
    with app.app_context():
        payment = get_db().scalar(select(Payment).where(Payment.session_id == session_id))
        assert payment is not None and payment.status == "requires_action"
        assert payment.gateway_payment_id
        return session_id, payment.gateway_payment_id


def issuer_approval(app: Flask, gateway_payment_id: str) -> tuple[FlaskClient, dict[str, str]]:
    issuer = app.test_client()
    html = issuer.get(f"/sandbox/challenge/{gateway_payment_id}").get_data(as_text=True)
    return issuer, {"csrf_token": csrf_from(html), "outcome": "approve"}


def the_state(app: Flask, api: Any, session_id: str) -> dict[str, Any]:
    session = api.get(session_id).get_json()
    with app.app_context():
        db = get_db()
        ledger = db.scalars(select(SandboxPayment).where(
            SandboxPayment.idempotency_key.startswith(f"{session_id}:"))).all()
        event_types = [json.loads(e.body)["data"]["object"]["id"] == session_id and e.type
                       for e in db.scalars(select(WebhookEvent))]
    return {"session": session, "ledger": [row.status for row in ledger],
            "events": [t for t in event_types if t]}


def inconsistencies(state: dict[str, Any]) -> list[str]:
    session, ledger, events = state["session"], state["ledger"], state["events"]
    kessai = [p["status"] for p in session["payments"]]
    found = []
    if ledger.count("succeeded") > 1 or kessai.count("succeeded") > 1:
        found.append("charged twice")
    paid = session["payment_status"] == "paid"
    if paid != ("succeeded" in ledger):
        found.append(f"paid={paid} but the gateway holds {ledger}")
    if paid and kessai.count("succeeded") != 1:
        found.append(f"paid with payments {kessai}")
    if session["status"] != "open" and (LIVE & set(kessai) or LIVE & set(ledger)):
        found.append(f"{session['status']} with a payment still live: {kessai} / {ledger}")
    if {"checkout.session.completed", "checkout.session.expired"} <= set(events):
        found.append("both completed and expired sent")
    return found


def test_approval_racing_a_switch_to_another_method_never_double_charges(
        app: Flask, api: Any) -> None:
    bad = []
    for round_ in range(ROUNDS):
        session_id, gateway_payment_id = start_challenge(app, api)
        issuer, approval = issuer_approval(app, gateway_payment_id)
        shopper = app.test_client()
        switch = page_form(shopper, session_id, "paypay")

        requests = [
            lambda issuer=issuer, gw=gateway_payment_id, form=approval: issuer.post(
                f"/sandbox/challenge/{gw}", data=form),
            lambda shopper=shopper, sid=session_id, form=switch: shopper.post(
                f"/pay/{sid}", data=form),
        ]
        answers = run_together(2, lambda i, calls=requests: calls[i]())
        assert all(answer.status_code < 500 for answer in answers)
        state = the_state(app, api, session_id)
        bad += [f"round {round_}: {problem}" for problem in inconsistencies(state)]
    assert bad == []


def test_approval_racing_the_merchants_expiry_ends_one_way_only(
        app: Flask, api: Any) -> None:
    bad = []
    outcomes = set()
    for round_ in range(ROUNDS):
        session_id, gateway_payment_id = start_challenge(app, api)
        issuer, approval = issuer_approval(app, gateway_payment_id)
        merchant = app.test_client()

        requests = [
            lambda issuer=issuer, gw=gateway_payment_id, form=approval: issuer.post(
                f"/sandbox/challenge/{gw}", data=form),
            lambda merchant=merchant, sid=session_id: merchant.post(
                f"/v1/checkout/sessions/{sid}/expire", headers=api.headers()),
        ]
        codes = [r.status_code for r in run_together(2, lambda i, calls=requests: calls[i]())]
        assert codes[1] in (200, 409), codes
        state = the_state(app, api, session_id)
        outcomes.add(state["session"]["status"])
        bad += [f"round {round_}: {problem}" for problem in inconsistencies(state)]
        if state["session"]["status"] != "open":
            assert len(state["events"]) == 1, state["events"]
    assert bad == []
    assert outcomes <= {"complete", "expired"}


def test_a_final_payment_is_never_rewritten_by_a_late_cancellation(
        app: Flask, api: Any) -> None:
    """The approval lands first; the shopper's switch then cancels at the gateway, which
    answers with the succeeded payment: it stays succeeded, and nothing new is charged."""
    session_id, gateway_payment_id = start_challenge(app, api)
    shopper = app.test_client()
    switch = page_form(shopper, session_id, "paypay")
    issuer, approval = issuer_approval(app, gateway_payment_id)
    handed_off_to(issuer.post(f"/sandbox/challenge/{gateway_payment_id}", data=approval))
    shopper.post(f"/pay/{session_id}", data=switch)
    state = the_state(app, api, session_id)
    assert inconsistencies(state) == []
    assert [p["status"] for p in state["session"]["payments"]] == ["succeeded"]
    assert state["ledger"] == ["succeeded"]


@pytest.mark.parametrize("tabs", [2, 4])
def test_two_tabs_paying_at_once_charge_once(app: Flask, api: Any, tabs: int) -> None:
    session_id = api.create().get_json()["id"]
    shoppers = [app.test_client() for _ in range(tabs)]
    forms = [{**page_form(s, session_id, "card"), "card_number": "4242424242424242",
              "card_expiry": "12/34", "card_cvc": "123", "card_name": "Hanako Yamada"}
             for s in shoppers]
    run_together(tabs, lambda i: shoppers[i].post(f"/pay/{session_id}", data=forms[i]))
    state = the_state(app, api, session_id)
    assert inconsistencies(state) == []
    assert state["ledger"] == ["succeeded"]
