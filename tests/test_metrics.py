"""/metrics and /readyz, as Prometheus and an orchestrator meet them.

Counters are read from the exposition text and compared before/after (the in-process registry
is shared by the whole test run). The last test runs gunicorn as ``kessai serve`` does, with
several worker processes, and checks a scrape sums every process's counters.
"""

from __future__ import annotations

import os
import re
import socket
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from checkout.cli import gunicorn_options
from checkout.db import get_db
from checkout.models import Merchant

from servers import ROOT, wait_until
from support import MerchantInfo

DECLINED = "4000 0000 0000 0002"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client: FlaskClient, **headers: str) -> str:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.get_data(as_text=True)


def test_payments_are_counted_by_gateway_method_and_outcome(client: FlaskClient, api: Any,
                                                           pay: Any) -> None:
    succeeded = {"gateway": "sandbox", "method": "card", "currency": "JPY",
                 "outcome": "succeeded"}
    failed = {**succeeded, "outcome": "failed"}
    before = scrape(client)
    assert pay(api.create().get_json()["id"]).status_code == 303
    assert pay(api.create().get_json()["id"]).status_code == 303
    declined = api.create().get_json()["id"]
    pay(declined, number=DECLINED)
    after = scrape(client)
    assert value(after, "kessai_payments_total", **succeeded) \
        - value(before, "kessai_payments_total", **succeeded) == 2
    assert value(after, "kessai_payments_total", **failed) \
        - value(before, "kessai_payments_total", **failed) == 1
    # Every create_payment call was timed, answered by the gateway (a decline is an answer).
    calls = {"gateway": "sandbox", "operation": "create_payment", "result": "ok"}
    assert value(after, "kessai_gateway_request_seconds_count", **calls) \
        - value(before, "kessai_gateway_request_seconds_count", **calls) == 3
    assert value(after, "kessai_gateway_request_seconds_bucket", le="+Inf", **calls) \
        == value(after, "kessai_gateway_request_seconds_count", **calls)


def test_a_final_payment_is_counted_once_whatever_answers_again(
        client: FlaskClient, api: Any, pay: Any, app: Flask) -> None:
    """A late gateway answer for a payment already final changes nothing, counter included."""
    from checkout.gateway import get_gateway
    from checkout.models import CheckoutSession
    from checkout.payments import latest_payment, record_gateway_result

    succeeded = {"gateway": "sandbox", "method": "card", "currency": "JPY",
                 "outcome": "succeeded"}
    session_id = api.create().get_json()["id"]
    pay(session_id)
    before = value(scrape(client), "kessai_payments_total", **succeeded)
    with app.test_request_context():
        payment = latest_payment(get_db().get(CheckoutSession, session_id))
        assert payment is not None and payment.status == "succeeded"
        again = get_gateway().get_payment(payment.gateway_payment_id)
        record_gateway_result(get_db(), payment, again)
    assert value(scrape(client), "kessai_payments_total", **succeeded) == before


def test_an_unreachable_gateway_is_timed_as_unavailable_and_not_ready(app: Flask) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    app.config.update(GATEWAY_URL=closed, GATEWAY_NAME="acquirer-b",
                      GATEWAY_TIMEOUT_SECONDS=0.5, GATEWAY_DEADLINE_SECONDS=1)
    app.extensions.pop("kessai.gateway", None)
    client = app.test_client()
    before = scrape(client)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not_ready" and body["gateway"] == "acquirer-b"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["gateway"].startswith("unavailable")
    labels = {"gateway": "acquirer-b", "operation": "get_rates", "result": "unavailable"}
    assert value(scrape(client), "kessai_gateway_request_seconds_count", **labels) \
        - value(before, "kessai_gateway_request_seconds_count", **labels) == 1


def test_ready_when_the_database_and_the_gateway_answer(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "gateway": "sandbox",
                                   "checks": {"database": "ok", "gateway": "ok"}}


def test_the_webhook_outbox_is_read_from_the_database(client: FlaskClient, api: Any, pay: Any,
                                                      app: Flask, merchant: MerchantInfo) -> None:
    with app.app_context():
        get_db().get(Merchant, merchant.id).webhook_url = "http://127.0.0.1:9/hooks"
        get_db().commit()
    before = scrape(client)
    pay(api.create().get_json()["id"])
    after = scrape(client)
    assert value(after, "kessai_webhook_events_pending") \
        == value(before, "kessai_webhook_events_pending") + 1
    assert value(after, "kessai_webhook_oldest_pending_age_seconds") >= 0
    # The suite's 1-second backoff could end before the scrape on a busy machine.
    app.config["WEBHOOK_BACKOFF_SECONDS"] = 600
    with app.app_context():
        from checkout.webhooks import deliver_due

        deliver_due(get_db())  # refused: one failed attempt, the merchant backs off
    failed = scrape(client)
    assert value(failed, "kessai_webhook_failed_attempts") \
        == value(after, "kessai_webhook_failed_attempts") + 1
    assert value(failed, "kessai_webhook_merchants_paused") == 1


@pytest.mark.parametrize("config, headers, status", [
    ({"METRICS_TOKEN": "m-token-123456"}, {}, 401),
    ({"METRICS_TOKEN": "m-token-123456"}, {"Authorization": "Bearer wrong-token"}, 401),
    ({"METRICS_TOKEN": "m-token-123456"}, {"Authorization": "Bearer m-token-123456"}, 200),
    ({"ENV_NAME": "production", "METRICS_TOKEN": None}, {}, 404),
])
def test_metrics_are_protected(app: Flask, config: dict[str, Any], headers: dict[str, str],
                               status: int) -> None:
    app.config.update(config)
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.get_json()["error"]["code"] == "invalid_token"
        assert "kessai_payments_total" not in response.get_data(as_text=True)



def test_gunicorn_workers_are_summed_in_one_scrape(database_url: str, merchant: MerchantInfo,
                                                   tmp_path: Any) -> None:
    """Three worker processes as ``kessai serve`` runs them (its gunicorn options, with the
    multiprocess directory made by checkout/gunicorn_conf.py): whichever worker answers a
    scrape, it reports the payments every worker saw."""
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    env = {**os.environ, "KESSAI_DATABASE_URL": database_url, "KESSAI_PUBLIC_URL": url,
           "KESSAI_SANDBOX_LATENCY_MS": "0", "KESSAI_WEB_WORKERS": "3",
           "KESSAI_SECRET_KEY": "metrics-" + "s" * 32, "KESSAI_FX_ECB_URL": "off",
           "KESSAI_METRICS_PORT": str(metrics_port)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "wsgi:app", *gunicorn_options("127.0.0.1", port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _answers(url), what="gunicorn")
        headers = {"Authorization": f"Bearer {merchant.secret_key}"}
        orders = 9
        with httpx.Client(timeout=20) as shopper:  # a new connection per request: any worker
            for order in range(orders):
                created = httpx.post(f"{url}/v1/checkout/sessions", headers=headers, json={
                    "amount": 1000 + order, "currency": "JPY",
                    "success_url": "https://shop.example/ok"}, timeout=20)
                session_id = created.json()["id"]
                html = shopper.get(f"{url}/pay/{session_id}").text
                token = re.search(r'name="csrf_token" value="([^"]+)"', html)
                assert token
                shopper.post(f"{url}/pay/{session_id}", data={
                    "csrf_token": token.group(1), "method": "card", "attempt": "1",
                    "card_number": "4242 4242 4242 4242", "card_expiry": "12/34",
                    "card_cvc": "123", "card_name": "Hanako Yamada"})
        labels = {"gateway": "sandbox", "method": "card", "currency": "JPY",
                 "outcome": "succeeded"}
        for _ in range(6):  # several scrapes, answered by different workers
            text = httpx.get(f"{url}/metrics", headers={"Connection": "close"}, timeout=20).text
            assert value(text, "kessai_payments_total", **labels) == orders
        # The operator's separate port (KESSAI_METRICS_PORT), served by the master: the same.
        separate = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=20)
        assert separate.status_code == 200
        assert value(separate.text, "kessai_payments_total", **labels) == orders
        assert "kessai_webhook_events_pending" in separate.text
        assert httpx.get(f"http://127.0.0.1:{metrics_port}/pay/x", timeout=20).status_code == 404
    finally:
        server.terminate()
        server.wait(20)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_grafana_dashboard_reads_metrics_kessai_exposes(client: FlaskClient, api: Any,
                                                            pay: Any) -> None:
    import json

    pay(api.create().get_json()["id"])
    exposed = {name for name, _labels in samples(scrape(client))}
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    used = {name for panel in dashboard["panels"] for target in panel["targets"]
            for name in re.findall(r"kessai_[a-z_]+", target["expr"])}
    assert used and used <= exposed, used - exposed
    thresholds = {panel["title"]: [step["value"] for step in
                                   panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]
                  for panel in dashboard["panels"]
                  if "thresholds" in panel["fieldConfig"]["defaults"]}
    assert sorted(value for steps in thresholds.values() for value in steps if value) \
        == [0.5, 0.97, 0.98]  # the seed's targets: 500 ms, 97 % (won), 98 % (yen)
