"""Error pages: localized and themed for shoppers, JSON for the merchant API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import HTTPException, InternalServerError

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
    kind = {404: "not_found", 410: "expired", 413: "too_large"}.get(status, "generic")
    if status == 400 and exc.description == "csrf":
        kind = "csrf"
    return render_page("error.html", status=status, kind=kind)


def handle_unexpected(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())
