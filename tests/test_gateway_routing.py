"""Several gateways: the rule table, circuit breakers, and failover without a double charge.

Two real HTTP sandbox providers (``kessai sandbox-gateway`` processes, each with its own
ledger database) stand for two acquirers. Kessai runs in this process and reaches them over
HTTP. One provider is killed with SIGKILL in the middle of a run of payments; one never answers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, update

from checkout import create_app
from checkout.db import get_db
from checkout.models import GatewayCircuit, Merchant, Payment, SandboxPayment

from servers import ROOT, free_port, silent_listener, wait_until
from support import TEST_CONFIG, MerchantInfo, metric_value

BACKENDS = ("sqlite", "postgresql")  # the breaker's conditional updates on both
SECRET = "gw_routing_test_secret_0123456789"
ROUTES = [
    # Large yen card orders to the instalment-capable acquirer A, B as its backup …
    {"methods": ["card"], "currencies": ["JPY"], "min_amount": 10000, "gateway": "acquirer-a",
     "backups": ["acquirer-b"]},
    # … everything else to B, A as its backup.
    {"gateway": "acquirer-b", "backups": ["acquirer-a"]},
]


class Provider:
    """A ``kessai sandbox-gateway`` process: an acquirer with its own ledger."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite:///{folder / f'{name}.db'}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Provider:
        env = {**os.environ, "KESSAI_GATEWAY_SECRET": SECRET,
               "KESSAI_SANDBOX_DATABASE_URL": self.database_url,
               "KESSAI_SANDBOX_EVENTS_URL": "http://127.0.0.1:9/gateway/events"}
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "checkout.cli", "sandbox-gateway", "--port", str(self.port)],
            cwd=ROOT, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, what=f"provider {self.name}")
        return self

    def answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/v1/rates", timeout=1,
                             headers={"Authorization": f"Bearer {SECRET}"}).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)  # mid-run: no clean-up
        self.process.wait(10)

    def charges(self) -> dict[str, str]:
        """Idempotency key → status, from the provider's own ledger."""
        engine = create_engine(self.database_url)
        with engine.connect() as connection:
            rows = connection.execute(select(SandboxPayment.idempotency_key,
                                             SandboxPayment.status)).all()
        engine.dispose()
        return dict(rows)  # type: ignore[arg-type]


@pytest.fixture
def providers(tmp_path: Path) -> Iterator[dict[str, Provider]]:
    started = {name: Provider(name, tmp_path).start() for name in ("acquirer-a", "acquirer-b")}
    yield started
    for provider in started.values():
        if provider.process and provider.process.poll() is None:
            provider.kill()


@pytest.fixture
def app_config(providers: dict[str, Provider]) -> dict[str, Any]:
    return {"GATEWAY_URL": providers["acquirer-a"].url, "GATEWAY_NAME": "acquirer-a",
            "GATEWAY_SECRET": SECRET,
            "GATEWAYS": {"acquirer-b": {"url": providers["acquirer-b"].url}},
            "GATEWAY_ROUTES": ROUTES, "GATEWAY_TIMEOUT_SECONDS": 1,
            "GATEWAY_DEADLINE_SECONDS": 2, "GATEWAY_BREAKER_FAILURES": 2,
            "GATEWAY_BREAKER_SECONDS": 3600}


def paid_on(client: FlaskClient, api: Any, pay: Any, amount: int) -> dict[str, Any]:
    session_id = api.create(amount=amount).get_json()["id"]
    assert pay(session_id).status_code == 303
    session = api.get(session_id).get_json()
    assert (session["status"], session["payment_status"]) == ("complete", "paid"), session
    (payment,) = session["payments"]
    return payment  # type: ignore[no-any-return]


def test_the_rule_table_routes_by_method_currency_and_amount(
        client: FlaskClient, api: Any, pay: Any, app: Flask, merchant: MerchantInfo,
        providers: dict[str, Provider]) -> None:
    large = paid_on(client, api, pay, 12800)
    small = paid_on(client, api, pay, 4800)
    assert (large["gateway"], small["gateway"]) == ("acquirer-a", "acquirer-b")
    assert list(providers["acquirer-a"].charges().values()) == ["succeeded"]
    assert list(providers["acquirer-b"].charges().values()) == ["succeeded"]
    # A merchant's own rule comes before the operator's table.
    with app.app_context():
        shop = get_db().get(Merchant, merchant.id)
        shop.settings = {**(shop.settings or {}), "gateway_routes": [{"gateway": "acquirer-b"}]}
        get_db().commit()
    assert paid_on(client, api, pay, 12800)["gateway"] == "acquirer-b"


def test_a_provider_killed_mid_run_fails_over_and_nothing_is_charged_twice(
        client: FlaskClient, api: Any, pay: Any, app: Flask,
        providers: dict[str, Provider]) -> None:
    a, b = providers["acquirer-a"], providers["acquirer-b"]
    before = client.get("/metrics").get_data(as_text=True)  # counters live for the whole run
    gateways = [paid_on(client, api, pay, 12800 + order)["gateway"] for order in range(4)]
    a.kill()
    gateways += [paid_on(client, api, pay, 12800 + order)["gateway"] for order in range(4, 12)]
    assert gateways == ["acquirer-a"] * 4 + ["acquirer-b"] * 8
    charged_a, charged_b = a.charges(), b.charges()
    assert len(charged_a) == 4 and len(charged_b) == 8
    assert not set(charged_a) & set(charged_b), "a payment reached both acquirers"
    assert set(charged_a.values()) | set(charged_b.values()) == {"succeeded"}
    with app.app_context():
        payments = get_db().scalars(select(Payment)).all()
        assert {p.idempotency_key: p.gateway for p in payments} == {
            **dict.fromkeys(charged_a, "acquirer-a"), **dict.fromkeys(charged_b, "acquirer-b")}
        circuit = get_db().get(GatewayCircuit, "acquirer-a")
        assert circuit is not None and circuit.state == "open"
    # The breaker opened after two refused calls: the last six payments never tried A.
    after = client.get("/metrics").get_data(as_text=True)

    def grew(name: str, **labels: str) -> float:
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    assert grew("kessai_gateway_request_seconds_count", gateway="acquirer-a",
                operation="create_payment", result="unavailable") == 2
    assert grew("kessai_gateway_failovers_total", from_gateway="acquirer-a",
                to_gateway="acquirer-b") == 8
    assert metric_value(after, "kessai_gateway_circuit_state", gateway="acquirer-a",
                        state="open") == 1

    # A comes back; once the cool-down has passed, one payment probes it and closes the breaker.
    a.start()
    with app.app_context():
        get_db().execute(update(GatewayCircuit).where(GatewayCircuit.gateway == "acquirer-a")
                         .values(open_until=int(time.time()) - 1))
        get_db().commit()
    assert paid_on(client, api, pay, 30000)["gateway"] == "acquirer-a"
    with app.app_context():
        circuit = get_db().get(GatewayCircuit, "acquirer-a")
        assert circuit is not None
        get_db().refresh(circuit)
        assert (circuit.state, circuit.failures_in_a_row) == ("closed", 0)


@pytest.fixture
def silent_acquirer() -> Iterator[str]:
    with silent_listener() as url:
        yield url


def test_a_provider_that_may_have_the_payment_is_never_bypassed(
        app: Flask, api: Any, pay: Any, providers: dict[str, Provider],
        silent_acquirer: str) -> None:
    """A timed-out request may have been taken, and the provider cannot be asked: the payment
    stays processing with it (the worker settles it later); the backup never sees it."""
    app.config["GATEWAY_URL"] = silent_acquirer
    app.extensions.pop("kessai.gateway", None)
    session_id = api.create(amount=12800).get_json()["id"]
    pay(session_id)
    session = api.get(session_id).get_json()
    assert session["status"] == "open"
    (payment,) = session["payments"]
    assert (payment["status"], payment["gateway"]) == ("processing", "acquirer-a")
    assert providers["acquirer-b"].charges() == {}


def test_a_route_naming_an_unknown_gateway_stops_the_app(database_url: str) -> None:
    with pytest.raises(ValueError, match="'acquirer-z', which is not configured"):
        create_app({**TEST_CONFIG, "DATABASE_URL": database_url,
                    "GATEWAY_ROUTES": [{"gateway": "acquirer-z"}]})


def test_the_half_open_probe_goes_to_exactly_one_of_many_racing_requests(app: Flask) -> None:
    """When a breaker's cool-down ends, many requests may ask at once; one conditional UPDATE
    lets exactly one of them probe the gateway, the others keep to the backup (repeated: a
    rare interleaving has every round to show)."""
    import threading

    from checkout import routing
    from checkout.ids import now

    with app.app_context():
        db = get_db()
        db.add(GatewayCircuit(gateway="a", state=routing.OPEN, failures_in_a_row=3,
                              open_until=0, updated=now()))
        db.commit()
    for _round in range(10):
        with app.app_context():
            get_db().execute(update(GatewayCircuit).where(GatewayCircuit.gateway == "a")
                             .values(state=routing.OPEN, open_until=now() - 1))
            get_db().commit()
        start = threading.Barrier(6)
        answers: list[bool] = []

        def ask(start: threading.Barrier = start, answers: list[bool] = answers) -> None:
            with app.app_context():
                start.wait()
                answers.append(routing.allows("a"))

        threads = [threading.Thread(target=ask) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answers) == [False] * 5 + [True], answers
        with app.app_context():
            circuit = get_db().get(GatewayCircuit, "a")
            assert circuit.state == routing.HALF_OPEN and circuit.open_until > now()


def test_a_merchant_edits_its_routing_rules_through_the_api(app: Flask, api: Any) -> None:
    """PUT /v1/gateway_routes replaces the merchant's rules; a rule naming an unconfigured
    gateway, or of the wrong shape, is refused with a precise error and changes nothing."""
    before = api.client.get("/v1/gateway_routes", headers=api.headers()).get_json()
    assert before["rules"] == [] and before["gateways"] == ["acquirer-a", "acquirer-b"]
    rules = [{"methods": ["card"], "currencies": ["JPY"], "min_amount": 10000,
              "gateway": "acquirer-b", "backups": ["acquirer-a"]}]
    put = api.client.put("/v1/gateway_routes", json={"rules": rules}, headers=api.headers())
    assert put.status_code == 200, put.get_data(as_text=True)
    assert put.get_json() == {**before, "rules": rules}
    for bad, fragment in (
            ({"rules": [{"gateway": "acquirer-x"}]}, "not configured"),
            ({"rules": [{"gateway": "acquirer-a", "min_amount": "10000"}]}, "integer"),
            ({"rules": [{"gateway": "acquirer-a", "methods": 5}]}, "list of names"),
            ({"rules": [{"gateway": "acquirer-a", "colour": "red"}]}, "unknown keys"),
            ({"rules": "card"}, "list of rule objects")):
        refused = api.client.put("/v1/gateway_routes", json=bad, headers=api.headers())
        error = refused.get_json()["error"]
        assert refused.status_code == 400 and error["param"] == "rules", bad
        assert fragment in error["message"], (bad, error)
    assert api.client.get("/v1/gateway_routes",
                          headers=api.headers()).get_json()["rules"] == rules
    assert api.client.get("/v1/gateway_routes").status_code == 401
