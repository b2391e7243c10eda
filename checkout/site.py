"""Pages that belong to no checkout: home, language choice, health and readiness."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    request,
    url_for,
)

from .db import get_engine
from .gateway import GatewayError, get_gateway
from .i18n import LOCALE_COOKIE, normalize_locale
from .pages import render_page
from .routing import default_gateway

bp = Blueprint("site", __name__)


@bp.get("/")
def home() -> Any:
    return render_page("home.html", demo_enabled=current_app.config["DEMO_ENABLED"])


@bp.post("/locale")
def choose_locale() -> Any:
    chosen = normalize_locale(request.form.get("lang"))
    target = request.form.get("next") or url_for("site.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = url_for("site.home")  # only our own pages: no open redirect
    response = redirect(target, code=303)
    if chosen:
        response.set_cookie(LOCALE_COOKIE, chosen, max_age=365 * 86400, samesite="Lax",
                            httponly=True, secure=request.is_secure)
    return response


@bp.get("/healthz")
def health() -> Response:
    """Alive: the process answers and reaches its database (a load balancer's check)."""
    with get_engine().connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    return Response('{"status":"ok"}', mimetype="application/json")


@bp.get("/readyz")
def ready() -> Any:
    """Ready to take payments: the database answers and so does the gateway (its rates, a
    read-only call of the contract). 503 names what is not ready, for an orchestrator to hold
    traffic back or an operator to look at."""
    checks: dict[str, str] = {}
    try:
        with get_engine().connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        get_gateway().get_rates()
        checks["gateway"] = "ok"
    except GatewayError as exc:
        checks["gateway"] = f"unavailable: {exc.code}"
    except Exception as exc:  # noqa: BLE001 - a broken adapter is not ready either
        checks["gateway"] = f"unavailable: {type(exc).__name__}"
    ok = all(value == "ok" for value in checks.values())
    response = jsonify(status="ready" if ok else "not_ready",
                       gateway=default_gateway(), checks=checks)
    response.status_code = 200 if ok else 503
    return response
