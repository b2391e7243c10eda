"""Error pages: localized and themed for shoppers, JSON for the merchant API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException, InternalServerError

from .htmx import is_htmx
from .pages import render_page

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)


def _wants_json() -> bool:
    return request.path.startswith("/v1/") or request.path.startswith("/gateway/")


def handle_http_error(exc: HTTPException) -> Any:
    if _wants_json():
        from .api import http_error_as_json

        return http_error_as_json(exc)
    status = exc.code or 500
    _in_the_shoppers_session()
    kind = {404: "not_found", 410: "expired", 413: "too_large",
            429: "rate_limited"}.get(status, "generic")
    if status == 400 and exc.description == "csrf":
        kind = "csrf"
    response = render_page("error.html", status=status, kind=kind)
    if status == 429 and is_htmx():
        # An htmx post swaps #checkout-main; this page has none: show the whole page instead.
        response.headers.update({"HX-Retarget": "body", "HX-Reselect": "body",  # type: ignore[union-attr]
                                 "HX-Reswap": "outerHTML"})
    return response


def _in_the_shoppers_session() -> None:
    """An error on a checkout URL (a refused post, a rate limit before the view ran) speaks the
    session's language, as the page the shopper came from did."""
    session_id = (request.view_args or {}).get("session_id")
    if not session_id or "checkout_session" in g:
        return
    from flask_babel import refresh

    from .db import get_db
    from .models import CheckoutSession
    from .sessions import is_session_id

    try:
        checkout = get_db().get(CheckoutSession, session_id) if is_session_id(session_id) else None
    except Exception:  # noqa: BLE001 - the database may be why we are here; speak the default
        return
    if checkout is not None:
        g.checkout_session, g.merchant = checkout, checkout.merchant
        refresh()


def handle_unexpected(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())
