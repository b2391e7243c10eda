"""Pages and files that belong to no checkout: home, language choice, theme assets, health."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, request, send_file, url_for

from .assets import asset_response, serve_scripts
from .db import get_engine
from .i18n import LOCALE_COOKIE, normalize_locale
from .pages import render_page
from .themes import theme_asset_path, theme_css_asset, theme_exists

bp = Blueprint("site", __name__)
assets = Blueprint("assets", __name__)


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
    with get_engine().connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    return Response('{"status":"ok"}', mimetype="application/json")


def theme_css_file(theme: str) -> Response:
    """Compressed once per process, cached for a year under its versioned URL (assets.py)."""
    if not theme_exists(theme):
        abort(404)
    return asset_response(theme_css_asset(theme))


assets.add_url_rule("/assets/theme/<theme>.css", "theme_css", theme_css_file)
assets.add_url_rule("/assets/js/<names>.js", "scripts", serve_scripts)


@assets.get("/themes/<theme>/assets/<path:filename>")
def theme_asset(theme: str, filename: str) -> Response:
    if not theme_exists(theme):
        abort(404)
    path = theme_asset_path(theme, filename)
    if path is None:
        abort(404)
    return send_file(path, max_age=86400)
