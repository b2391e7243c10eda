"""CSRF protection on every unsafe request, with explicit, visible exemptions.

Tokens are HMACs over a *binding* and a time. A page whose URL names an unguessable id — a
checkout session (``<session_id>``) or a gateway payment (``<payment_id>``: the issuer's 3-D
Secure page, a wallet's approval page) — binds its tokens to that id, because such a page may be
shown inside a merchant's iframe on another site, where the browser sends no SameSite cookie.
Every other page binds to a random per-browser id kept in a SameSite cookie. A view opts out
only with ``@csrf_exempt`` (the merchant API uses bearer keys, gateway events are signed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request
from flask.typing import ResponseReturnValue

F = TypeVar("F", bound=Callable[..., Any])

BROWSER_COOKIE = "kessai_browser"
TOKEN_FIELD = "csrf_token"  # noqa: S105 - a field name, not a secret
TOKEN_HEADER = "X-CSRF-Token"  # noqa: S105 - a header name
MAX_AGE_SECONDS = 24 * 3600 + 3600  # a checkout session lives at most 24 h
# URL parts that name an unguessable resource, in order of preference (see the docstring).
BINDING_VIEW_ARGS = ("session_id", "payment_id")
_exempt_views: set[str] = set()


def csrf_exempt(view: F) -> F:
    _exempt_views.add(_view_name(view))
    return view


def _view_name(view: Callable[..., Any]) -> str:
    return f"{view.__module__}.{view.__name__}"


def exempt_rules(app: Flask) -> set[str]:
    """The URL rules that skip CSRF (tests assert this list stays short and visible)."""
    return {rule.rule for rule in app.url_map.iter_rules()
            if _view_name(app.view_functions[rule.endpoint]) in _exempt_views}


def init_app(app: Flask) -> None:
    app.before_request(_protect)
    app.after_request(_set_browser_cookie)
    app.jinja_env.globals["csrf_token"] = csrf_token


def _binding() -> str:
    checkout = g.get("csrf_binding")
    if checkout:
        return f"cs:{checkout}"
    browser = request.cookies.get(BROWSER_COOKIE) or g.get("new_browser_id")
    if not browser:
        browser = g.new_browser_id = secrets.token_urlsafe(18)
    return f"br:{browser}"


def _sign(binding: str, issued: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"csrf|{binding}|{issued}".encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    issued = int(time.time())
    return f"{issued}.{_sign(_binding(), issued)}"


def bind_to_checkout(resource_id: str) -> None:
    """Bind this request's tokens to an unguessable id (before rendering and checking)."""
    g.csrf_binding = resource_id


def token_is_valid(token: str | None) -> bool:
    if not token or "." not in token:
        return False
    issued_text, _, signature = token.partition(".")
    if not issued_text.isdigit() or time.time() - int(issued_text) > MAX_AGE_SECONDS:
        return False
    return hmac.compare_digest(signature, _sign(_binding(), int(issued_text)))


def _protect() -> ResponseReturnValue | None:
    view_args = request.view_args or {}
    binding = next((view_args[name] for name in BINDING_VIEW_ARGS if view_args.get(name)), None)
    if binding:
        bind_to_checkout(binding)
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or _view_name(view) in _exempt_views:
        return None
    token = request.form.get(TOKEN_FIELD) or request.headers.get(TOKEN_HEADER)
    if not token_is_valid(token):
        abort(400, description="csrf")
    return None


def _set_browser_cookie(response: Any) -> Any:
    new_id = g.get("new_browser_id")
    if new_id:
        response.set_cookie(
            BROWSER_COOKIE, new_id, httponly=True, samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False), max_age=30 * 86400,
        )
    return response
