"""The designers' preview application: the production app with the preview blueprint, no
database and stand-in views (``kessai preview``; the gallery itself: ``checkout/preview.py``).

It sits at the top of the house, beside the CLI: it builds the whole app with ``create_app``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask, Response, redirect, request, url_for

from . import create_app
from .config import PROJECT_ROOT
from .htmx import is_htmx, stop_polling
from .preview import WATCHED_DIRS, watched_files


def import_market_states() -> None:
    """Register every market's gallery states (and the FX ones) without building an app:
    importing a market registers its methods, flows and states, as ``create_app`` does."""
    from .fx import preview_states  # noqa: F401
    from .markets import import_markets
    from .returning import preview_states as returning_states  # noqa: F401

    import_markets()


# ---- the preview application -------------------------------------------------------------------

# Production endpoints the preview serves for real: files only.
SERVED_ENDPOINTS = frozenset({"static", "assets.theme_css", "assets.scripts", "assets.theme_asset"})


def create_preview_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The production app with the preview blueprint, no database and stand-in views."""
    app = create_app({
        # In memory and never migrated: a view that tried to store something would fail loudly.
        "DATABASE_URL": "sqlite://",
        "PREVIEW_ENABLED": True,
        "TEMPLATES_AUTO_RELOAD": True,
        **(test_config or {}),
    })
    for endpoint in list(app.view_functions):
        if endpoint not in SERVED_ENDPOINTS and not endpoint.startswith("preview."):
            app.view_functions[endpoint] = _stand_in
    return app


def _stand_in(**_url_values: Any) -> Any:
    """Every production route in the preview app: back to the preview page it came from.

    A language switch goes to the same entry in the chosen locale; the method picker's links
    to the same entry with ``?method=``; a status poll is told to stop (htmx 286) without a swap.
    """
    back = _preview_referrer()
    if request.method == "POST":
        from .i18n import normalize_locale

        chosen = normalize_locale(request.form.get("lang"))
        if back and chosen:
            back = _with_locale(back, chosen)
        return redirect(back or url_for("preview.gallery"), code=303)
    if is_htmx() and "method" not in request.args:
        response = stop_polling(Response(""))
        response.headers["HX-Reswap"] = "none"
        return response
    if back and request.args.get("method"):
        back = _with_query(back, method=request.args["method"])
    return redirect(back or url_for("preview.gallery"), code=303)


def _preview_referrer() -> str | None:
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc != request.host or not parts.path.startswith("/preview/"):
        return None
    return urlunsplit(("", "", parts.path, parts.query, ""))


def _with_locale(url: str, locale: str) -> str:
    parts = urlsplit(url)
    segments = parts.path.split("/")  # ["", "preview", theme, locale, state]
    if len(segments) == 5:
        segments[3] = locale
    return urlunsplit(parts._replace(path="/".join(segments)))


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def run_preview(host: str, port: int) -> None:
    """Serve the preview with werkzeug's auto-reloader (``kessai preview``): the process restarts
    on Python, catalog and manifest changes (templates and theme CSS reload by themselves), and
    the open pages reload through ``/preview/version``."""
    from werkzeug.serving import run_simple

    app = create_preview_app()
    extra = [str(p) for p in watched_files([PROJECT_ROOT / d for d in WATCHED_DIRS])
             if p.suffix in (".mo", ".json", ".py")]
    if os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        print(f"Kessai preview on http://{host}:{port}/preview/  (Ctrl+C to stop)")  # noqa: T201
    run_simple(host, port, app, use_reloader=True, reloader_type="stat", extra_files=extra,
               threaded=True)
