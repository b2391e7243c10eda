"""Abuse limits: card-testing bots and key-guessing scripts meet a wall, shoppers do not.

Two kinds, for two threats:

* **Request rates** (Flask-Limiter, counted in Redis so every node shares them; in memory when
  ``KESSAI_REDIS_URL`` is unset or Redis is down): the merchant API per API key, and per
  address for requests with a bad key (a script guessing keys is stopped, a merchant's good
  key is not); pay-form posts per checkout session and per address. Over the limit: 429 with
  ``Retry-After`` — a JSON error for the API, a localized page for shoppers.
* **Declines in a row** (``checkout/declines.py``, in the database, because it is the
  session's state, not a rate): after
  ``DECLINES_BEFORE_PAUSE`` declined card payments in a row a session pauses card payments for
  ``DECLINE_PAUSE_SECONDS`` after the last one, tells the shopper so in their language, and tells
  the merchant — ``payment_attempts_paused_until`` on the session and the
  ``checkout.session.payment_attempts_paused`` webhook. A bot testing stolen cards against one
  session gets a handful of answers, not hundreds.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .ids import hash_secret


def init_app(app: Flask) -> None:
    """Limits for the API blueprint and the pay-form post (called once both are registered)."""
    config = app.config  # the limits themselves: config.py (KESSAI_*_LIMIT)
    # Flask-Limiter's own keys: Redis when configured, memory when Redis does not answer.
    config["RATELIMIT_STORAGE_URI"] = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    config.setdefault("RATELIMIT_ENABLED", True)
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    config.setdefault("RATELIMIT_KEY_PREFIX", "kessai")
    limiter = Limiter(key_func=get_remote_address, app=app)
    app.extensions["kessai.limiter"] = limiter

    from . import api

    limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_api_key,
                  scope="api-key")(api.bp)
    limiter.limit(lambda: current_app.config["API_BAD_KEY_LIMIT"], key_func=get_remote_address,
                  scope="api-bad-key", deduct_when=_refused_key)(api.bp)
    # This app's own view function is wrapped (Flask-Limiter finds route limits on the view it
    # calls); the blueprint's function stays as it is for other apps in the same process.
    submit: Any = app.view_functions["pay.submit"]
    submit = limiter.limit(lambda: current_app.config["PAY_POST_SESSION_LIMIT"],
                           key_func=_checkout, scope="pay-session", methods=["POST"])(submit)
    submit = limiter.limit(lambda: current_app.config["PAY_POST_ADDRESS_LIMIT"],
                           key_func=get_remote_address, scope="pay-address",
                           methods=["POST"])(submit)
    app.view_functions["pay.submit"] = submit
    # Every passkey ceremony and code check (checkout/returning), per address.
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("returning."):  # its pages are GETs: methods=["POST"] skips them
            app.view_functions[endpoint] = limiter.limit(  # type: ignore[assignment]
                lambda: current_app.config["PASSKEY_ADDRESS_LIMIT"], key_func=get_remote_address,
                scope="passkeys", methods=["POST"])(view)


def _api_key() -> str:
    """The key the request presents (hashed: no secret in Redis), valid or not."""
    header = request.headers.get("Authorization", "")
    return hash_secret(header.partition(" ")[2].strip() or "-")


def _refused_key(response: Response) -> bool:
    return response.status_code == 401


def _checkout() -> str:
    return str((request.view_args or {}).get("session_id", "-"))
