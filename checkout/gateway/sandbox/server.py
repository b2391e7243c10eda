"""``kessai sandbox-gateway``: the sandbox ledger served over HTTP on the documented contract.

It is a separate application with its own database, secret and pages, so Kessai's HTTP gateway
client is tested against a real server on loopback (docs/gateway-openapi.yaml).
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import httpx
from flask import Blueprint, Flask, Response, request

from ... import assets as layout_assets
from ... import csrf, i18n, security, themes
from ...config import INSTANCE_DIR
from ...db import make_engine
from ...ids import new_id, now
from ...models import Base
from ...signatures import sign
from ..base import (
    EXPIRED,
    FAILED,
    PENDING,
    SUCCEEDED,
    CardDetails,
    GatewayError,
    GatewayPayment,
    PaymentRequest,
)
from .ledger import SandboxLedger, SandboxLinks
from .pages import bp as pages_bp
from .rates import sandbox_rate_table

log = logging.getLogger(__name__)


def create_sandbox_app(
    database_url: str | None = None,
    secret: str = "gw_sandbox_secret",  # noqa: S107 - sandbox default, same as Kessai's
    public_url: str = "http://localhost:8001",
    events_url: str | None = "http://localhost:8000/gateway/events",
) -> Flask:
    from ...themes import TEMPLATES_DIR

    app = Flask("kessai_sandbox_gateway", template_folder=str(TEMPLATES_DIR))
    app.jinja_environment = themes.ThemedEnvironment  # type: ignore[assignment]
    app.jinja_options = {"loader": themes.ThemeLoader(), "autoescape": True}
    app.config.update(
        SECRET_KEY=secrets.token_hex(16),
        GATEWAY_SECRET=secret,
        BABEL_DEFAULT_LOCALE="en",
        PUBLIC_URL=public_url,
    )
    engine = make_engine(database_url or f"sqlite:///{INSTANCE_DIR / 'sandbox-gateway.db'}")
    Base.metadata.create_all(engine, tables=[Base.metadata.tables["sandbox_payments"],
                                             Base.metadata.tables["sandbox_card_tokens"]])
    from sqlalchemy.orm import sessionmaker

    notify = _event_sender(secret, events_url)
    app.extensions["sandbox.ledger"] = SandboxLedger(
        sessionmaker(engine, expire_on_commit=False), SandboxLinks(public_url.rstrip("/")),
        notify=notify,
    )
    security.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    themes.init_app(app)
    layout_assets.init_app(app)  # the shared base layout links versioned CSS and scripts
    app.register_blueprint(themes.assets)
    app.register_blueprint(pages_bp)
    app.register_blueprint(_home())
    _api_routes(app, secret)
    return app


def _home() -> Blueprint:
    """``/`` says what this is. No language switcher: an issuer's pages follow the browser."""
    bp = Blueprint("site", __name__)
    bp.add_url_rule("/", "home", lambda: Response('{"service":"kessai sandbox gateway"}',
                                                   mimetype="application/json"))
    return bp


def _event_sender(secret: str, events_url: str | None) -> Any:
    def send(payment: GatewayPayment) -> None:
        if not events_url:
            return
        body = json.dumps({"id": new_id("gwevt"), "type": f"payment.{payment.status}",
                           "created": now(), "data": {"object": payment.to_json()}}).encode()
        try:
            httpx.post(events_url, content=body, timeout=5, headers={
                "Content-Type": "application/json",
                "Kessai-Gateway-Signature": sign(secret, body, now())})
        except httpx.HTTPError as exc:  # Kessai also asks us when the shopper comes back
            log.warning("could not deliver gateway event: %s", exc)

    return send


def _api_routes(app: Flask, secret: str) -> None:
    ledger: SandboxLedger = app.extensions["sandbox.ledger"]

    def authorized() -> bool:
        return secrets.compare_digest(request.headers.get("Authorization", ""), f"Bearer {secret}")

    def error(status: int, code: str, message: str) -> Response:
        return Response(json.dumps({"error": {"code": code, "message": message}}), status=status,
                        mimetype="application/json")

    def ok(payment: GatewayPayment) -> Response:
        return Response(json.dumps(payment.to_json()), mimetype="application/json")

    @app.before_request
    def _check_auth() -> Response | None:
        if request.path.startswith("/v1/") and not authorized():
            return error(401, "unauthorized", "bad gateway secret")
        return None

    def rates() -> Response:
        """Intraday sandbox rates near the ECB reference (labelled "sandbox")."""
        return Response(json.dumps(sandbox_rate_table(now()).to_json()),
                        mimetype="application/json")

    app.add_url_rule("/v1/rates", "rates", rates, methods=["GET"])

    @csrf.csrf_exempt
    def create_payment() -> Response:
        key = request.headers.get("Idempotency-Key")
        body = request.get_json(silent=True)
        if not key or not isinstance(body, dict):
            return error(400, "invalid_request", "Idempotency-Key header and JSON body required")
        try:
            card = CardDetails(**body["card"]) if body.get("card") else None
            payment_request = PaymentRequest(
                idempotency_key=key, amount=int(body["amount"]), currency=str(body["currency"]),
                method=str(body["method"]), return_url=str(body.get("return_url", "")),
                description=str(body.get("description", "")), card=card,
                details=dict(body.get("details") or {}),
                card_token=str(body["card_token"]) if body.get("card_token") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            return error(400, "invalid_request", f"bad payment request: {exc}")
        try:
            return ok(ledger.create(payment_request))
        except GatewayError as exc:
            status = 409 if exc.code == "idempotency_conflict" else 400
            return error(status, exc.code, str(exc))

    @csrf.csrf_exempt
    def tokenize_card() -> Response:
        body = request.get_json(silent=True)
        try:
            card = CardDetails(**body["card"])  # type: ignore[index]
        except (KeyError, TypeError, ValueError) as exc:
            return error(400, "invalid_request", f"card required: {exc}")
        return Response(json.dumps(ledger.tokenize(card).to_json()), mimetype="application/json")

    @csrf.csrf_exempt
    def forget_card(token: str) -> Response:
        ledger.forget(token)
        return Response(status=204)

    def cancel_payment(payment_id: str) -> Response:
        try:
            return ok(ledger.cancel(payment_id))
        except GatewayError as exc:
            return error(404, exc.code, str(exc))

    def get_payment(payment_id: str) -> Response:
        try:
            return ok(ledger.get(payment_id))
        except GatewayError as exc:
            return error(404, exc.code, str(exc))

    def find_payment() -> Response:
        found = ledger.find(request.args.get("idempotency_key", ""))
        return ok(found) if found else error(404, "resource_missing", "no payment with that key")

    @csrf.csrf_exempt
    def simulate(payment_id: str) -> Response:
        outcome = (request.get_json(silent=True) or {}).get("outcome")
        statuses = {"succeeded": SUCCEEDED, "failed": FAILED, "expired": EXPIRED}
        if outcome not in statuses:
            return error(400, "invalid_request", "outcome must be succeeded, failed or expired")
        try:
            return ok(ledger.resolve(payment_id, statuses[outcome],
                                     None if outcome == "succeeded" else outcome,
                                     from_statuses=(PENDING,)))
        except GatewayError as exc:
            return error(404, exc.code, str(exc))

    app.add_url_rule("/v1/card_tokens", "tokenize_card", tokenize_card, methods=["POST"])
    app.add_url_rule("/v1/card_tokens/<token>", "forget_card", forget_card, methods=["DELETE"])
    app.add_url_rule("/v1/payments", "create_payment", create_payment, methods=["POST"])
    app.add_url_rule("/v1/payments", "find_payment", find_payment, methods=["GET"])
    app.add_url_rule("/v1/payments/<payment_id>", "get_payment", get_payment, methods=["GET"])
    app.add_url_rule("/v1/payments/<payment_id>/simulate", "simulate", simulate, methods=["POST"])
    app.add_url_rule("/v1/payments/<payment_id>/cancel", "cancel_payment",
                     csrf.csrf_exempt(cancel_payment), methods=["POST"])
    app.add_url_rule("/healthz", "health",
                     lambda: Response('{"status":"ok"}', mimetype="application/json"))
