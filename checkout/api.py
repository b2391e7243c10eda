"""The merchant API (``/v1``): JSON in, JSON out, Bearer secret keys, idempotency keys.

Every error is ``{"error": {"type", "code", "message", "param"}}``; no HTML, no 500 for bad
input. See docs/api.md and docs/openapi.yaml.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from .csrf import csrf_exempt
from .db import get_db
from .ids import hash_secret, now
from .models import CheckoutSession, IdempotencyRecord, Merchant
from .payments import settle_live_payment
from .routing import default_gateway, known_gateways, validate_routes
from .serialize import session_to_api
from .session_params import ApiError, parse_create_params
from .sessions import create_session, expire_if_overdue, expire_session, is_session_id

bp = Blueprint("api", __name__, url_prefix="/v1")



@bp.before_request
def authenticate() -> Response | None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return error_response(ApiError(401, "authentication_required",
                                       "Send your secret key as 'Authorization: Bearer sk_test_…'.",
                                       type="authentication_error"))
    key_hash = hash_secret(key.strip())
    merchant = get_db().scalar(select(Merchant).where(Merchant.secret_key_hash == key_hash))
    if merchant is None:
        return error_response(ApiError(401, "invalid_api_key", "The API key is not valid.",
                                       type="authentication_error"))
    g.merchant = merchant
    return None


@csrf_exempt
@bp.post("/checkout/sessions")
def create_checkout_session() -> Response:
    body = _json_body(_read_body())
    key = request.headers.get("Idempotency-Key")
    if key is None:
        response = _create(body)
        get_db().commit()
        return response
    if not 1 <= len(key) <= 255:
        raise ApiError(400, "idempotency_key_invalid", "Idempotency-Key must be 1–255 characters.")
    return _idempotent(key, body, lambda: _create(body))


@bp.get("/checkout/sessions/<session_id>")
def retrieve_checkout_session(session_id: str) -> Response:
    checkout = _own_session(session_id)
    return _json(session_to_api(checkout))


@csrf_exempt
@bp.post("/checkout/sessions/<session_id>/expire")
def expire_checkout_session(session_id: str) -> Response:
    db = get_db()
    checkout = _own_session(session_id)
    if checkout.status == "open":
        settle_live_payment(checkout)  # cancel a waiting payment at the gateway first
    if not expire_session(db, checkout):
        db.refresh(checkout)
        if checkout.status == "open":
            raise ApiError(409, "payment_in_progress",
                           "A payment for this session is in progress and may still succeed; "
                           "try again once it has settled.")
        raise ApiError(409, "session_not_open",
                       f"Only an open session can be expired; this one is {checkout.status}.")
    db.commit()
    return _json(session_to_api(checkout))


# ---- helpers ------------------------------------------------------------------------------

def _create(body: Any) -> Response:
    """Validate and add the session; the caller commits (with its idempotency record)."""
    fields = parse_create_params(body, g.merchant)
    checkout = create_session(get_db(), g.merchant, fields)
    get_db().flush()
    return _json(session_to_api(checkout))


def _own_session(session_id: str) -> CheckoutSession:
    db = get_db()
    # Anything that cannot be one of our ids never reaches the database (PostgreSQL would
    # refuse a NUL, for instance, with an error instead of "not found").
    checkout = db.get(CheckoutSession, session_id) if is_session_id(session_id) else None
    if checkout is None or checkout.merchant_id != g.merchant.id:
        raise ApiError(404, "resource_missing", "No such checkout session.", "id")
    expire_if_overdue(db, checkout)
    return checkout


# ---- routing rules: the merchant's own (checkout/routing.py, docs/gateway.md) ------------------

MAX_ROUTES = 50


@bp.get("/gateway_routes")
def get_gateway_routes() -> Response:
    return _json(_routes_to_api(g.merchant))


@csrf_exempt
@bp.put("/gateway_routes")
def put_gateway_routes() -> Response:
    """Replace the merchant's routing rules (they come before the operator's). A rule naming a
    gateway this Kessai has not configured is refused: a payment never meets it."""
    body = _json_body(_read_body())
    rules = body.get("rules") if isinstance(body, dict) else None
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise ApiError(400, "parameter_invalid", "rules must be a list of rule objects.", "rules")
    if len(rules) > MAX_ROUTES:
        raise ApiError(400, "parameter_invalid", f"At most {MAX_ROUTES} rules.", "rules")
    try:
        validate_routes(rules, known_gateways())
    except (ValueError, TypeError) as exc:
        raise ApiError(400, "parameter_invalid", str(exc), "rules") from exc
    merchant: Merchant = g.merchant
    merchant.settings = {**(merchant.settings or {}), "gateway_routes": rules}
    get_db().commit()
    return _json(_routes_to_api(merchant))


def _routes_to_api(merchant: Merchant) -> dict[str, Any]:
    return {"object": "gateway_routes",
            "rules": list((merchant.settings or {}).get("gateway_routes") or []),
            "gateways": known_gateways(), "default_gateway": default_gateway()}


def _read_body() -> bytes:
    raw = request.get_data(cache=True)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    # A chunked body (no Content-Length) is cut at the limit by werkzeug rather than refused:
    # a body that reached the limit is too large, never silently truncated JSON.
    if limit is not None and len(raw) >= limit:
        raise RequestEntityTooLarge()
    return raw


def _json_body(raw: bytes) -> Any:
    if not raw.strip():
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"The request body is not valid JSON: {exc}.") from exc
    except RecursionError as exc:  # a few kilobytes of "[[[[" would otherwise be a 500
        raise ApiError(400, "invalid_json", "The request body is nested too deeply.") from exc
    try:
        # JSON may spell a lone UTF-16 surrogate ("\\ud800"), which no database, template or
        # webhook can encode: refuse it here, once, instead of failing wherever it lands.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ApiError(400, "invalid_json",
                       "The request body contains a lone surrogate (\\ud800–\\udfff), "
                       "which is not text.") from exc
    return body


def _idempotent(key: str, body: Any, handler: Callable[[], Response]) -> Response:
    """Same key + same body → the stored response; same key + other body → 409.

    The key is claimed (committed) with a lease before the work starts, so a concurrent retry
    sees it and gets 409; the response is stored in the same transaction as the work itself,
    and only by the request still holding the lease. A request whose process was killed never
    answers: once its lease ran out (``IDEMPOTENCY_LEASE_SECONDS``) a retry takes the key over
    and does the work, which had left nothing behind.
    """
    db = get_db()
    fingerprint = hashlib.sha256(
        (request.path + "\n" + json.dumps(body, sort_keys=True)).encode()
    ).hexdigest()
    lease_seconds = int(current_app.config["IDEMPOTENCY_LEASE_SECONDS"])
    token = secrets.token_hex(16)
    record = db.get(IdempotencyRecord, (g.merchant.id, key))
    if record is None:
        db.add(IdempotencyRecord(merchant_id=g.merchant.id, key=key,
                                 request_fingerprint=fingerprint, lease_token=token,
                                 locked_until=now() + lease_seconds))
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            record = db.get(IdempotencyRecord, (g.merchant.id, key))
    if record is not None:
        if record.request_fingerprint != fingerprint:
            raise ApiError(409, "idempotency_key_reused",
                           "This Idempotency-Key was used with a different request.",
                           type="idempotency_error")
        if record.response_status is not None:
            response = Response(record.response_body, status=record.response_status,
                                mimetype="application/json")
            response.headers["Idempotent-Replayed"] = "true"
            return response
        if not _take_over_expired_lease(key, token, lease_seconds):
            raise ApiError(409, "idempotency_key_in_use",
                           "A request with this Idempotency-Key is still being processed.",
                           type="idempotency_error")
    try:
        response = handler()
        stored = db.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.merchant_id == g.merchant.id, IdempotencyRecord.key == key,
                   IdempotencyRecord.lease_token == token)
            .values(response_status=response.status_code,
                    response_body=response.get_data(as_text=True))
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if stored != 1:  # the lease ran out and a retry took the key: its answer counts
            raise ApiError(409, "idempotency_key_in_use",
                           "A request with this Idempotency-Key is still being processed.",
                           type="idempotency_error")
        db.commit()
    except BaseException:
        # Nothing happened (validation failed, or the work rolled back): free the key so the
        # merchant can retry, as Stripe does for requests that never ran.
        db.rollback()
        _release_key(key, token)
        raise
    return response


def _take_over_expired_lease(key: str, token: str, lease_seconds: int) -> bool:
    """Claim a key whose running request outlived its lease (its process died)."""
    db = get_db()
    taken = db.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.merchant_id == g.merchant.id, IdempotencyRecord.key == key,
               IdempotencyRecord.response_status.is_(None),
               or_(IdempotencyRecord.locked_until.is_(None),
                   IdempotencyRecord.locked_until <= now()))
        .values(lease_token=token, locked_until=now() + lease_seconds)
        .execution_options(synchronize_session=False)
    ).rowcount == 1  # type: ignore[attr-defined]
    db.commit()
    return taken


def _release_key(key: str, token: str) -> None:
    db = get_db()
    db.execute(delete(IdempotencyRecord).where(IdempotencyRecord.merchant_id == g.merchant.id,
                                               IdempotencyRecord.key == key,
                                               IdempotencyRecord.lease_token == token,
                                               IdempotencyRecord.response_status.is_(None)))
    db.commit()


def _json(data: dict[str, Any], status: int = 200) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False), status=status,
                        mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def error_response(error: ApiError) -> Response:
    return _json(error.to_json(), error.status)


@bp.errorhandler(ApiError)
def handle_api_error(error: ApiError) -> Response:
    return error_response(error)


HTTP_CODES = {
    400: "bad_request",
    404: "resource_missing",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def http_error_as_json(exc: HTTPException) -> Response:
    """Used by the app for any HTTP error under /v1 (including unrouted paths)."""
    status = exc.code or 500
    code = HTTP_CODES.get(status, "api_error")
    message = {
        404: "No such endpoint.",
        405: "Method not allowed for this endpoint.",
        413: "The request body is too large.",
        429: "Too many requests. Retry after the number of seconds in the Retry-After header.",
    }.get(status, exc.description or "Request failed.")
    error_type = "api_error" if status >= 500 else "invalid_request_error"
    response = _json({"error": {"type": error_type, "code": code, "message": message,
                                "param": None}}, status)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response
