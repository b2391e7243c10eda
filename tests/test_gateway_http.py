"""The whole card flow through the HTTP gateway client, against the sandbox gateway served on
loopback — with a gateway that drops answers, times out or is down.

Three real servers on 127.0.0.1: Kessai (the shopper browses it with an HTTP client), the
sandbox gateway (its own app and database), and, where a test needs one, a proxy between them
that misbehaves on purpose.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, update
from werkzeug.serving import BaseWSGIServer, make_server

from checkout.db import get_db
from checkout.gateway.base import REQUIRES_ACTION, SUCCEEDED, GatewayError, GatewayUnavailable
from checkout.gateway.sandbox.server import create_sandbox_app
from checkout.gateway_events import SIGNATURE_HEADER
from checkout.models import GatewayEventReceipt, Payment, SandboxPayment, WebhookEvent
from checkout.webhooks import sign

from support import csrf_from, handed_off_to

GATEWAY_SECRET = "gw_test_secret_for_loopback"


def serve(app: Any = None, port: int = 0) -> tuple[BaseWSGIServer, str]:
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---- servers ---------------------------------------------------------------------------------

@pytest.fixture
def kessai_server() -> Iterator[tuple[BaseWSGIServer, str]]:
    """Kessai's HTTP server; its app is attached once the app exists (it needs this URL)."""
    server, url = serve()
    yield server, url
    server.shutdown()


@dataclass
class Sandbox:
    url: str
    database_url: str

    def payments(self) -> list[SandboxPayment]:
        engine = create_engine(self.database_url)
        with engine.connect() as connection:
            rows = connection.execute(select(SandboxPayment)).all()
        engine.dispose()
        return [SandboxPayment(**row._mapping) for row in rows]


@pytest.fixture
def sandbox(kessai_server: tuple[BaseWSGIServer, str], tmp_path: Path) -> Iterator[Sandbox]:
    server, url = serve()
    database_url = f"sqlite:///{tmp_path / 'sandbox-gateway.db'}"
    server.app = create_sandbox_app(  # type: ignore[attr-defined]
        database_url, secret=GATEWAY_SECRET, public_url=url,
        events_url=f"{kessai_server[1]}/gateway/events")
    yield Sandbox(url, database_url)
    server.shutdown()


@pytest.fixture
def gateway_url(sandbox: Sandbox) -> str:
    """Where Kessai sends gateway calls (tests override it with a proxy or a dead port)."""
    return sandbox.url


@pytest.fixture
def app_config(kessai_server: tuple[BaseWSGIServer, str], gateway_url: str) -> dict[str, Any]:
    return {"GATEWAY_URL": gateway_url, "GATEWAY_SECRET": GATEWAY_SECRET,
            "GATEWAY_TIMEOUT_SECONDS": 2, "PUBLIC_URL": kessai_server[1]}


@pytest.fixture
def kessai(app: Flask, kessai_server: tuple[BaseWSGIServer, str]) -> str:
    kessai_server[0].app = app  # type: ignore[attr-defined]
    return kessai_server[1]


# ---- a shopper with an HTTP client -------------------------------------------------------------

@dataclass
class Shopper:
    """Browses over HTTP like a browser without JavaScript: keeps cookies, follows nothing by
    itself so each redirect can be checked."""

    base_url: str
    language: str = "en"
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, timeout=15,
                                 headers={"Accept-Language": self.language})

    def open(self, url: str) -> httpx.Response:
        return self.http.get(url)  # relative redirects resolve against Kessai

    def pay(self, page_url: str, number: str = "4242424242424242",
            page: httpx.Response | None = None) -> httpx.Response:
        page = page or self.open(page_url)
        assert page.status_code in (200, 503), page.text
        attempt = re.search(r'name="attempt" value="(\d+)"', page.text)
        assert attempt
        return self.http.post(page_url, data={
            "csrf_token": csrf_from(page.text), "method": "card", "attempt": attempt.group(1),
            "card_number": number, "card_expiry": "12/34", "card_cvc": "123",
            "card_name": "Hanako Yamada"})

    def answer_challenge(self, challenge_url: str, outcome: str) -> httpx.Response:
        page = self.open(challenge_url)
        assert page.status_code == 200
        return self.http.post(challenge_url, data={"csrf_token": csrf_from(page.text),
                                                   "outcome": outcome})


@pytest.fixture
def shopper(kessai: str) -> Iterator[Shopper]:
    person = Shopper(kessai)
    yield person
    person.http.close()


def new_session(api: Any) -> dict[str, Any]:
    response = api.create()
    assert response.status_code == 200
    session: dict[str, Any] = response.get_json()
    return session


def kessai_payments(app: Flask) -> list[Payment]:
    with app.app_context():
        return list(get_db().scalars(select(Payment).order_by(Payment.created)))


def completed_events(app: Flask) -> int:
    with app.app_context():
        return get_db().scalar(select(func.count()).select_from(WebhookEvent).where(
            WebhookEvent.type == "checkout.session.completed")) or 0


# ---- the card flow over HTTP -------------------------------------------------------------------

def test_card_success(kessai: str, api: Any, shopper: Shopper, sandbox: Sandbox,
                      app: Flask) -> None:
    session = new_session(api)
    assert session["url"].startswith(kessai)
    paid = shopper.pay(session["url"])
    assert paid.status_code == 303
    assert paid.headers["Location"].startswith("https://shop.example/ok")
    (gateway_payment,) = sandbox.payments()
    assert gateway_payment.status == SUCCEEDED and gateway_payment.card_last4 == "4242"
    (payment,) = kessai_payments(app)
    assert payment.gateway_payment_id == gateway_payment.id
    assert api.get(session["id"]).get_json()["payment_status"] == "paid"
    assert completed_events(app) == 1


def test_card_decline_then_retry(kessai: str, api: Any, shopper: Shopper, sandbox: Sandbox) -> None:
    session = new_session(api)
    declined = shopper.pay(session["url"], "4000000000009995")
    assert declined.status_code == 303
    page = shopper.open(declined.headers["Location"])
    assert "insufficient funds" in page.text
    assert shopper.pay(session["url"], page=page).status_code == 303
    assert [p.status for p in sorted(sandbox.payments(), key=lambda p: p.idempotency_key)] == [
        "failed", "succeeded"]
    statuses = [p["status"] for p in api.get(session["id"]).get_json()["payments"]]
    assert statuses == ["failed", "succeeded"]


def test_3ds_challenge_approved(kessai: str, api: Any, shopper: Shopper, sandbox: Sandbox,
                                app: Flask) -> None:
    session = new_session(api)
    sent = shopper.pay(session["url"], "4000002760003184")
    assert sent.status_code == 303
    challenge_url = sent.headers["Location"]
    assert challenge_url.startswith(f"{sandbox.url}/sandbox/challenge/gwpay_")
    assert api.get(session["id"]).get_json()["payments"][0]["status"] == REQUIRES_ACTION

    answered = shopper.answer_challenge(challenge_url, "approve")
    back = handed_off_to(answered)
    assert back == f"{kessai}/pay/{session['id']}/return"
    # The sandbox's signed event reached Kessai before the shopper is even back.
    assert api.get(session["id"]).get_json()["payment_status"] == "paid"
    with app.app_context():
        assert get_db().scalar(select(func.count()).select_from(GatewayEventReceipt)) == 1

    returned = shopper.open(back)
    assert returned.status_code == 303
    assert returned.headers["Location"].startswith("https://shop.example/ok")
    assert len(sandbox.payments()) == 1
    assert completed_events(app) == 1


def test_3ds_challenge_failed(kessai: str, api: Any, shopper: Shopper, sandbox: Sandbox) -> None:
    session = new_session(api)
    challenge_url = shopper.pay(session["url"], "4000002760003184").headers["Location"]
    back = handed_off_to(shopper.answer_challenge(challenge_url, "fail"))
    returned = shopper.open(back)
    assert returned.status_code == 303
    page = shopper.open(returned.headers["Location"])
    assert "3-D Secure" in page.text
    retrieved = api.get(session["id"]).get_json()
    assert retrieved["status"] == "open"
    assert [(p["status"], p["failure_code"]) for p in retrieved["payments"]] == [
        ("failed", "authentication_failed")]
    # The shopper can try again with another card.
    assert shopper.pay(session["url"], page=page).headers["Location"].startswith(
        "https://shop.example/ok")


# ---- signed gateway events ---------------------------------------------------------------------

def signed_event(payment: dict[str, Any], event_id: str, at: int | None = None,
                 secret: str = GATEWAY_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": event_id, "type": f"payment.{payment['status']}",
                       "created": int(time.time()), "data": {"object": payment}}).encode()
    return body, {"Content-Type": "application/json",
                  SIGNATURE_HEADER: sign(secret, body, at or int(time.time()))}


@pytest.fixture
def waiting_payment(kessai: str, api: Any, shopper: Shopper, sandbox: Sandbox) -> dict[str, Any]:
    """A card payment waiting for its 3-D Secure answer, as the gateway would describe it."""
    session = new_session(api)
    shopper.pay(session["url"], "4000002760003184")
    (row,) = sandbox.payments()
    return {"object": "payment", "id": row.id, "status": row.status, "method": row.method,
            "amount": row.amount, "currency": row.currency, "idempotency_key": row.idempotency_key,
            "card_brand": row.card_brand, "card_last4": row.card_last4, "session": session["id"]}


def post_event(kessai: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{kessai}/gateway/events", content=body, headers=headers)


def settle_at_gateway(sandbox: Sandbox, payment_id: str, status: str, **changes: Any) -> None:
    """The gateway's own record changes (its event to Kessai is what the test then sends)."""
    engine = create_engine(sandbox.database_url)
    with engine.begin() as connection:
        connection.execute(update(SandboxPayment).where(SandboxPayment.id == payment_id)
                           .values(status=status, next_action=None, **changes))
    engine.dispose()


def test_a_signed_event_is_applied_once(kessai: str, api: Any, app: Flask, sandbox: Sandbox,
                                        waiting_payment: dict[str, Any]) -> None:
    settle_at_gateway(sandbox, waiting_payment["id"], "succeeded")
    succeeded = {**waiting_payment, "status": "succeeded"}
    body, headers = signed_event(succeeded, "gwevt_1")
    first = post_event(kessai, body, headers)
    assert (first.status_code, first.json()) == (200, {"result": "applied"})
    assert api.get(waiting_payment["session"]).get_json()["payment_status"] == "paid"
    replayed = post_event(kessai, body, headers)
    assert (replayed.status_code, replayed.json()) == (200, {"result": "duplicate"})
    assert completed_events(app) == 1


def test_another_gateway_signs_its_events_with_its_own_secret(
        kessai: str, api: Any, app: Flask, sandbox: Sandbox,
        waiting_payment: dict[str, Any]) -> None:
    """With several gateways (docs/gateway.md), each posts to /gateway/events/<its name>
    signed with its own secret; the default gateway's secret does not sign for it, and its
    event ids have their own receipts."""
    own_secret = "gw_acquirer_b_secret_0123456789abcdef"
    app.config["GATEWAYS"] = {"acquirer-b": {"url": sandbox.url, "secret": own_secret}}
    settle_at_gateway(sandbox, waiting_payment["id"], "succeeded")
    succeeded = {**waiting_payment, "status": "succeeded"}
    url = f"{kessai}/gateway/events/acquirer-b"
    wrong = httpx.post(url, content=signed_event(succeeded, "gwevt_b1")[0],
                       headers=signed_event(succeeded, "gwevt_b1")[1])
    assert (wrong.status_code, wrong.json()) == (400, {"result": "signature_invalid"})
    body, headers = signed_event(succeeded, "gwevt_b1", secret=own_secret)
    assert httpx.post(url, content=body, headers=headers).json() == {"result": "applied"}
    assert api.get(waiting_payment["session"]).get_json()["payment_status"] == "paid"
    assert httpx.post(url, content=body, headers=headers).json() == {"result": "duplicate"}
    unknown = httpx.post(f"{kessai}/gateway/events/acquirer-z", content=body, headers=headers)
    assert unknown.status_code == 404


@pytest.mark.parametrize("forged_amount", [None, 1])
def test_a_validly_signed_event_the_gateway_does_not_confirm_changes_nothing(
    kessai: str, api: Any, app: Flask, waiting_payment: dict[str, Any],
    forged_amount: int | None,
) -> None:
    """Whoever holds the event secret (or guesses a default one) still cannot mark an order
    paid: Kessai reads the payment back from the gateway, which says it is still waiting."""
    forged = {**waiting_payment, "status": "succeeded",
              **({"amount": forged_amount} if forged_amount else {})}
    response = post_event(kessai, *signed_event(forged, "gwevt_forged"))
    assert (response.status_code, response.json()) == (200, {"result": "unchanged"})
    session = api.get(waiting_payment["session"]).get_json()
    assert (session["status"], session["payment_status"]) == ("open", "unpaid")
    assert [p["status"] for p in session["payments"]] == ["requires_action"]
    assert completed_events(app) == 0


def test_a_gateway_answer_for_another_amount_is_refused(
    kessai: str, api: Any, app: Flask, sandbox: Sandbox, waiting_payment: dict[str, Any],
) -> None:
    """Even the gateway's own answer is applied only if it is the payment Kessai asked for."""
    settle_at_gateway(sandbox, waiting_payment["id"], "succeeded", amount=1)
    response = post_event(kessai, *signed_event({**waiting_payment, "status": "succeeded",
                                                 "amount": 1}, "gwevt_cheap"))
    assert response.status_code == 200 and response.json()["result"] != "applied"
    session = api.get(waiting_payment["session"]).get_json()
    assert session["payment_status"] == "unpaid" and completed_events(app) == 0


def test_an_event_that_failed_to_apply_is_applied_on_redelivery(
    kessai: str, api: Any, app: Flask, sandbox: Sandbox, waiting_payment: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Receipt and change commit together: a crash while applying must not leave a receipt
    that makes the gateway's redelivery look like a duplicate (the payment would be lost)."""
    import checkout.gateway_events as events_module

    def crash(_payment: Any) -> None:
        raise RuntimeError("database hiccup")

    settle_at_gateway(sandbox, waiting_payment["id"], "succeeded")
    body, headers = signed_event({**waiting_payment, "status": "succeeded"}, "gwevt_3")
    monkeypatch.setattr(events_module, "confirm_gateway_event", crash)
    assert post_event(kessai, body, headers).status_code == 500
    monkeypatch.undo()
    redelivered = post_event(kessai, body, headers)
    assert redelivered.json() == {"result": "applied"}
    assert api.get(waiting_payment["session"]).get_json()["payment_status"] == "paid"


def test_the_same_event_twice_at_once_is_applied_once(kessai: str, app: Flask, sandbox: Sandbox,
                                                      waiting_payment: dict[str, Any]) -> None:
    settle_at_gateway(sandbox, waiting_payment["id"], "succeeded")
    body, headers = signed_event({**waiting_payment, "status": "succeeded"}, "gwevt_4")
    barrier = threading.Barrier(4)
    results: list[str] = []

    def deliver() -> None:
        barrier.wait(10)
        results.append(post_event(kessai, body, headers).json()["result"])

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["applied", "duplicate", "duplicate", "duplicate"]
    assert completed_events(app) == 1


def test_an_out_of_order_event_never_undoes_a_final_payment(
    kessai: str, api: Any, app: Flask, sandbox: Sandbox, waiting_payment: dict[str, Any]
) -> None:
    settle_at_gateway(sandbox, waiting_payment["id"], "succeeded")
    post_event(kessai, *signed_event({**waiting_payment, "status": "succeeded"}, "gwevt_5"))
    late = {**waiting_payment, "status": "requires_action",
            "next_action": {"type": "challenge", "url": f"{kessai}/evil"}}
    assert post_event(kessai, *signed_event(late, "gwevt_6")).json() == {"result": "unchanged"}
    session = api.get(waiting_payment["session"]).get_json()
    assert session["payment_status"] == "paid"
    assert [p["status"] for p in session["payments"]] == ["succeeded"]
    (payment,) = kessai_payments(app)
    assert payment.next_action is None


def test_events_for_unknown_payments_are_acknowledged_and_ignored(kessai: str) -> None:
    stranger = {"id": "gwpay_nobody", "status": "succeeded", "method": "card", "amount": 1,
                "currency": "JPY", "idempotency_key": "cs_nobody:1"}
    assert post_event(kessai, *signed_event(stranger, "gwevt_7")).json() == {"result": "ignored"}


def test_an_event_that_cannot_be_confirmed_now_is_left_for_redelivery(
    kessai: str, api: Any, app: Flask, sandbox: Sandbox, waiting_payment: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Gateway unreachable while confirming: 503 and no receipt, so the redelivery counts."""
    from checkout.gateway.http import HttpGateway

    settle_at_gateway(sandbox, waiting_payment["id"], "succeeded")
    body, headers = signed_event({**waiting_payment, "status": "succeeded"}, "gwevt_8")
    with monkeypatch.context() as patch:
        patch.setattr(HttpGateway, "get_payment", lambda *_: (_ for _ in ()).throw(
            GatewayUnavailable("down")))
        down = post_event(kessai, body, headers)
    assert (down.status_code, down.json()) == (503, {"result": "gateway_unreachable"})
    assert post_event(kessai, body, headers).json() == {"result": "applied"}


# ---- a gateway that drops answers, is slow, or is down ---------------------------------------

@dataclass
class Proxy:
    """Forwards to the sandbox; ``misbehave(request_line)`` decides, per request, to drop the
    answer after the gateway has processed the request ("drop"), to hold it ("hold"), or to
    forward it normally (None)."""

    upstream: str
    misbehave: Callable[[str], str | None] = lambda _line: None
    release: threading.Event = field(default_factory=threading.Event)
    seen: list[str] = field(default_factory=list)


def start_proxy(proxy: Proxy, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            line = f"{self.command} {self.path.split('?')[0]}"
            proxy.seen.append(line)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "content-length", "connection")}
            answer = httpx.request(self.command, proxy.upstream + self.path, content=body,
                                   headers=headers, timeout=10)
            behaviour = proxy.misbehave(line)
            if behaviour == "drop":  # the gateway did the work; its answer never arrives
                self.close_connection = True
                return
            if behaviour == "hold":  # ... or arrives after the client gave up
                proxy.release.wait(10)
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("content-type", ""))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = _forward  # noqa: N815 - http.server's names

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server


def first_create_only(behaviour: str) -> Callable[[str], str | None]:
    done: list[bool] = []

    def decide(line: str) -> str | None:
        if line == "POST /v1/payments" and not done:
            done.append(True)
            return behaviour
        return None

    return decide


@pytest.fixture
def proxy_port() -> int:
    return free_port()


@pytest.fixture
def proxy(sandbox: Sandbox, proxy_port: int) -> Iterator[Proxy]:
    """The gateway, reachable (through the proxy) at ``proxy_port`` from now on."""
    state = Proxy(sandbox.url)
    server = start_proxy(state, proxy_port)
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


class TestLostAnswers:
    @pytest.fixture
    def gateway_url(self, proxy: Proxy, proxy_port: int) -> str:
        return f"http://127.0.0.1:{proxy_port}"

    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "GATEWAY_TIMEOUT_SECONDS": 2}

    @pytest.mark.parametrize("behaviour", ["drop", "hold"])
    def test_a_lost_answer_is_retried_with_the_same_key(
        self, behaviour: str, proxy: Proxy, kessai: str, api: Any, shopper: Shopper,
        sandbox: Sandbox, app: Flask,
    ) -> None:
        proxy.misbehave = first_create_only(behaviour)
        session = new_session(api)
        paid = shopper.pay(session["url"])
        assert paid.status_code == 303
        assert paid.headers["Location"].startswith("https://shop.example/ok")
        assert proxy.seen.count("POST /v1/payments") >= 2  # the client really retried
        (gateway_payment,) = sandbox.payments()  # ... and the gateway charged once
        assert gateway_payment.status == SUCCEEDED
        retrieved = api.get(session["id"]).get_json()
        assert [p["status"] for p in retrieved["payments"]] == ["succeeded"]
        assert completed_events(app) == 1

    def test_status_polling_settles_a_payment_whose_answers_were_all_lost(
        self, proxy: Proxy, kessai: str, api: Any, shopper: Shopper, sandbox: Sandbox,
        app: Flask,
    ) -> None:
        """The gateway took the payment but every answer was lost and the shopper never
        retries: the status box asks the gateway by idempotency key and completes the order."""
        proxy.misbehave = lambda line: "drop" if line == "POST /v1/payments" else None
        session = new_session(api)
        lost = shopper.pay(session["url"])
        assert lost.status_code == 503
        assert proxy.seen.count("POST /v1/payments") == 3  # the first try and two retries
        assert len(sandbox.payments()) == 1
        assert shopper.open(f"{session['url']}/status").status_code == 200
        assert api.get(session["id"]).get_json()["payment_status"] == "paid"
        assert completed_events(app) == 1


class TestGatewayDown:
    @pytest.fixture
    def gateway_url(self, proxy_port: int) -> str:
        return f"http://127.0.0.1:{proxy_port}"  # nothing listens there yet

    def test_shopper_is_told_and_a_later_retry_charges_once(
        self, kessai: str, api: Any, sandbox: Sandbox, app: Flask, request: pytest.FixtureRequest
    ) -> None:
        shopper = Shopper(kessai, language="ja")
        session = new_session(api)
        refused = shopper.pay(session["url"])
        assert refused.status_code == 503
        assert "決済代行会社に接続できませんでした" in refused.text
        assert "二重に請求されることはありません" in refused.text
        assert sandbox.payments() == []
        (payment,) = api.get(session["id"]).get_json()["payments"]
        assert payment["status"] == "processing"
        assert shopper.open(f"{session['url']}/status").status_code == 200  # polling goes on

        request.getfixturevalue("proxy")  # the gateway is back, at the same address
        paid = shopper.pay(session["url"], page=refused)
        assert paid.status_code == 303
        assert paid.headers["Location"].startswith("https://shop.example/ok")
        (gateway_payment,) = sandbox.payments()
        assert gateway_payment.idempotency_key == f"{session['id']}:1"
        retrieved = api.get(session["id"]).get_json()
        assert [p["status"] for p in retrieved["payments"]] == ["succeeded"]
        assert completed_events(app) == 1
        shopper.http.close()


# ---- the worker settles what a slow or unreachable gateway left undecided ---------------------

def make_overdue(app: Flask, session_id: str) -> None:
    from checkout.models import CheckoutSession

    with app.app_context():
        get_db().get(CheckoutSession, session_id).expires_at = int(time.time()) - 1
        get_db().commit()


def session_events(app: Flask) -> list[str]:
    with app.app_context():
        return list(get_db().scalars(select(WebhookEvent.type).order_by(WebhookEvent.created,
                                                                         WebhookEvent.id)))


class TestReconciliation:
    @pytest.fixture
    def gateway_url(self, proxy: Proxy, proxy_port: int) -> str:
        return f"http://127.0.0.1:{proxy_port}"

    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "GATEWAY_TIMEOUT_SECONDS": 1, "RECONCILE_AFTER_SECONDS": 0}

    def test_a_payment_the_gateway_took_after_kessai_gave_up_completes_not_expires(
        self, proxy: Proxy, kessai: str, api: Any, shopper: Shopper, sandbox: Sandbox,
        app: Flask,
    ) -> None:
        """Every answer is lost, the shopper closes the tab, the session runs out: the worker
        asks the gateway first, so the merchant hears 'completed' (the gateway holds the
        money), never 'expired'."""
        from checkout.worker import run_once

        proxy.misbehave = lambda line: "drop" if line == "POST /v1/payments" else None
        session = new_session(api)
        assert shopper.pay(session["url"]).status_code == 503
        (held,) = sandbox.payments()
        assert held.status == SUCCEEDED
        make_overdue(app, session["id"])
        assert run_once(app)["settled"] == 1
        retrieved = api.get(session["id"]).get_json()
        assert (retrieved["status"], retrieved["payment_status"]) == ("complete", "paid")
        assert session_events(app) == ["checkout.session.completed"]

    def test_a_session_does_not_expire_while_its_payment_is_undecided(
        self, proxy: Proxy, kessai: str, api: Any, shopper: Shopper, sandbox: Sandbox,
        app: Flask,
    ) -> None:
        from checkout.worker import run_once

        proxy.misbehave = lambda line: "drop" if line.startswith(("POST /v1/payments",
                                                                  "GET /v1/payments")) else None
        session = new_session(api)
        assert shopper.pay(session["url"]).status_code == 503
        make_overdue(app, session["id"])
        assert run_once(app)["expired"] == 0  # the gateway cannot say: nothing is decided
        assert api.get(session["id"]).get_json()["status"] == "open"
        # Not the 410 "expired, you have not been charged" page: the charge is undecided.
        assert shopper.open(session["url"]).status_code != 410
        proxy.misbehave = lambda _line: None  # the gateway answers again
        assert run_once(app)["settled"] == 1
        assert api.get(session["id"]).get_json()["payment_status"] == "paid"
        assert session_events(app) == ["checkout.session.completed"]


class TestGatewayNeverReceived:
    @pytest.fixture
    def gateway_url(self, proxy_port: int) -> str:
        return f"http://127.0.0.1:{proxy_port}"  # nothing listens there yet

    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "RECONCILE_AFTER_SECONDS": 0}

    def test_the_worker_fails_it_and_the_session_can_expire(
        self, kessai: str, api: Any, shopper: Shopper, app: Flask,
        request: pytest.FixtureRequest,
    ) -> None:
        from checkout.worker import run_once

        session = new_session(api)
        assert shopper.pay(session["url"]).status_code == 503
        make_overdue(app, session["id"])
        assert run_once(app) == {"settled": 0, "expired": 0, "webhooks": 0}
        request.getfixturevalue("proxy")  # the gateway is reachable; it has no such payment
        result = run_once(app)
        assert (result["settled"], result["expired"]) == (1, 1)
        retrieved = api.get(session["id"]).get_json()
        assert retrieved["status"] == "expired"
        assert [(p["status"], p["failure_code"]) for p in retrieved["payments"]] == [
            ("failed", "gateway_never_received")]
        assert session_events(app) == ["checkout.session.expired"]


# ---- a slow gateway holds a thread for a bounded time, and not every thread -------------------

def test_one_call_ends_by_its_deadline_across_retries(proxy: Proxy, proxy_port: int) -> None:
    from checkout.gateway.http import HttpGateway

    proxy.misbehave = lambda line: "hold"
    gateway = HttpGateway(f"http://127.0.0.1:{proxy_port}", GATEWAY_SECRET, timeout=10,
                          deadline=1.0)
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable, match="within 1s"):
        gateway.get_payment("gwpay_x")
    # Three tries at a 10 s timeout took ~31 s before; the deadline cuts the whole call.
    assert time.monotonic() - started < 8
    assert proxy.seen.count("GET /v1/payments/gwpay_x") == 1


def test_calls_beyond_the_concurrency_cap_fail_fast(proxy: Proxy, proxy_port: int) -> None:
    from checkout.gateway.http import HttpGateway

    proxy.misbehave = lambda line: "hold"
    gateway = HttpGateway(f"http://127.0.0.1:{proxy_port}", GATEWAY_SECRET, timeout=5,
                          deadline=5, concurrency=1)
    holding = threading.Thread(target=lambda: pytest.raises(GatewayError,
                                                            gateway.get_payment, "gwpay_1"))
    holding.start()
    try:
        wait_for(lambda: proxy.seen.count("GET /v1/payments/gwpay_1") == 1)
        with pytest.raises(GatewayUnavailable, match="too many"):
            gateway.get_payment("gwpay_2")
        assert "GET /v1/payments/gwpay_2" not in proxy.seen
    finally:
        proxy.release.set()
        holding.join(10)


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> None:
    ends = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < ends, "condition not met in time"
        time.sleep(0.02)


def test_a_saved_card_over_http_is_kept_charged_and_forgotten(app: Flask, sandbox: Sandbox,
                                                              kessai: str) -> None:
    """The vault half of the contract over real HTTP: tokenize, charge the token, forget it
    (twice: an unknown token is already forgotten), and a caller without the secret cannot."""
    from checkout.gateway import CardDetails, PaymentRequest, get_gateway
    from checkout.models import SandboxCardToken

    def tokens() -> set[str]:
        engine = create_engine(sandbox.database_url)
        with engine.connect() as connection:
            found = set(connection.scalars(select(SandboxCardToken.token)).all())
        engine.dispose()
        return found

    with app.test_request_context():
        gateway = get_gateway()
        saved = gateway.tokenize_card(CardDetails("4242424242424242", 12, 2034, "123", "A"))
        assert (saved.brand, saved.last4) == ("visa", "4242") and saved.token in tokens()
        paid = gateway.create_payment(PaymentRequest(
            idempotency_key="cs_vault:1", amount=1200, currency="JPY", method="card",
            return_url=f"{kessai}/r", card_token=saved.token))
        assert paid.status == "succeeded" and paid.card_last4 == "4242"
        forged = httpx.delete(f"{sandbox.url}/v1/card_tokens/{saved.token}",
                              headers={"Authorization": "Bearer wrong-secret"})
        assert forged.status_code == 401 and saved.token in tokens()
        gateway.forget_card(saved.token)
        assert saved.token not in tokens()
        gateway.forget_card(saved.token)  # already forgotten: not an error
