"""Prometheus metrics: what an operator watches to know checkout is healthy.

* ``kessai_payments_total{gateway, method, currency, outcome}`` — payments that reached a
  final state (succeeded, failed, expired, canceled): the success rate per channel and market.
* ``kessai_gateway_request_seconds{gateway, operation, result}`` — every call to a gateway
  backend, its latency and whether it answered (``ok``), refused (``error``) or could not be
  reached (``unavailable``).
* ``kessai_gateway_failovers_total{from_gateway, to_gateway}`` and
  ``kessai_gateway_circuit_state{gateway, state}`` — routing (checkout/routing.py).
* ``kessai_webhook_*`` — the webhook outbox, read from the database at each scrape, so every
  node reports the same queue whichever worker (on whichever machine) delivers it.

Under gunicorn the counters live in ``PROMETHEUS_MULTIPROC_DIR`` (set by
``checkout/gunicorn_conf.py``), so a scrape answered by any worker process sums them all.
``/metrics`` wants ``Authorization: Bearer $KESSAI_METRICS_TOKEN`` when that is set; without a
token it is open in development and absent (404) in production. docs/operations.md lists the
metrics and ships a Grafana dashboard.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

PAYMENTS = Counter(
    "kessai_payments_total", "Payments that reached a final state.",
    ["gateway", "method", "currency", "outcome"])
GATEWAY_SECONDS = Histogram(
    "kessai_gateway_request_seconds", "Calls to a gateway backend, by operation and result.",
    ["gateway", "operation", "result"],
    # The seed's target is 500 ms per gateway response; the deadline is 12 s.
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0))

FAILOVERS = Counter(
    "kessai_gateway_failovers_total",
    "Payments moved to the next gateway because the previous one provably did not take them.",
    ["from_gateway", "to_gateway"])

bp = Blueprint("metrics", __name__)


def payment_finished(gateway: str, method: str, currency: str, outcome: str) -> None:
    PAYMENTS.labels(gateway=gateway, method=method, currency=currency, outcome=outcome).inc()


def failover(from_gateway: str, to_gateway: str) -> None:
    FAILOVERS.labels(from_gateway=from_gateway, to_gateway=to_gateway).inc()


def gateway_call(gateway: str, operation: str, result: str, seconds: float) -> None:
    GATEWAY_SECONDS.labels(gateway=gateway, operation=operation, result=result).observe(seconds)


class OutboxCollector(Collector):
    """The webhook outbox as the database holds it, at the moment of the scrape."""

    def collect(self) -> Iterator[Metric]:
        from .db import get_db
        from .models import Merchant, WebhookEvent

        db = get_db()
        current = int(time.time())
        waiting = (WebhookEvent.delivered_at.is_(None), WebhookEvent.given_up.is_(False))
        pending, oldest = db.execute(
            select(func.count(), func.min(WebhookEvent.created)).where(*waiting)).one()
        given_up = db.scalar(select(func.count()).where(WebhookEvent.given_up.is_(True)))
        attempts, delivered = db.execute(select(
            func.coalesce(func.sum(WebhookEvent.attempts), 0),
            func.count(WebhookEvent.delivered_at))).one()
        paused = db.scalar(select(func.count()).select_from(Merchant)
                           .where(Merchant.webhook_paused_until > current))
        db.rollback()
        yield GaugeMetricFamily("kessai_webhook_events_pending",
                                "Webhook events not yet delivered (and not given up).",
                                value=pending)
        yield GaugeMetricFamily("kessai_webhook_oldest_pending_age_seconds",
                                "Age of the oldest webhook event still waiting (0: none).",
                                value=max(0, current - oldest) if oldest else 0)
        yield GaugeMetricFamily("kessai_webhook_events_given_up",
                                "Webhook events given up after the last attempt.",
                                value=given_up or 0)
        yield GaugeMetricFamily("kessai_webhook_failed_attempts",
                                "Delivery attempts that failed, over the outbox's life.",
                                value=int(attempts) - int(delivered))
        yield GaugeMetricFamily("kessai_webhook_merchants_paused",
                                "Merchants whose endpoint is backing off right now.",
                                value=paused or 0)
        from .routing import circuit_states

        circuits = GaugeMetricFamily(
            "kessai_gateway_circuit_state",
            "Each gateway's circuit breaker: 1 for the state it is in (closed, open, half_open).",
            labels=["gateway", "state"])
        for gateway, state in circuit_states().items():
            for name in ("closed", "open", "half_open"):
                circuits.add_metric([gateway, name], 1 if state == name else 0)
        yield circuits


def exposition() -> bytes:
    """This process's (or, under gunicorn, every worker's) counters, then the outbox."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    outbox = CollectorRegistry()
    outbox.register(OutboxCollector())
    return generate_latest(processes) + generate_latest(outbox)


@bp.get("/metrics")
def metrics() -> Any:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.encode()):
            response = jsonify(error={"type": "authentication_error", "code": "invalid_token",
                                      "message": "Send Authorization: Bearer <metrics token>."})
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif current_app.config["ENV_NAME"] == "production":
        abort(404)  # no token set: production does not publish its figures
    return Response(exposition(), content_type=CONTENT_TYPE_LATEST)
