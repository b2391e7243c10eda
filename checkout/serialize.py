"""Checkout sessions and payments as the API and the webhooks show them (docs/openapi.yaml)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from .fx.api import presentment_to_api
from .i18n import LOCALE_TO_API
from .models import CheckoutSession
from .routing import default_gateway


def session_url(checkout: CheckoutSession) -> str:
    return f"{current_app.config['PUBLIC_URL']}/pay/{checkout.id}"


def payment_to_api(payment: Any) -> dict[str, Any]:
    data = {
        "id": payment.id,
        "object": "payment",
        "status": payment.status,
        "method": payment.method,
        "amount": payment.amount,
        "currency": payment.currency,
        "created": payment.created,
        "failure_code": payment.failure_code,
        # The gateway it went to (checkout/routing.py); older payments: the default one.
        "gateway": payment.gateway or default_gateway(),
    }
    if payment.card_brand:
        data["card"] = {"brand": payment.card_brand, "last4": payment.card_last4}
    if payment.method == "card":
        # Whether the shopper confirmed with a passkey (never who they are elsewhere).
        data["passkey_confirmed"] = ((payment.details or {}).get("authentication") or {}).get(
            "method") == "passkey"
    public_details = {k: v for k, v in (payment.details or {}).items() if not k.startswith("_")}
    if public_details:
        data["details"] = public_details
    return data


def _api_locale(stored: str) -> str:
    """Sessions store the API's name (``zh-Hans``) or, after the switcher, ours (``zh_Hans``)."""
    return stored if stored == "auto" else LOCALE_TO_API.get(stored, stored)


def session_to_api(checkout: CheckoutSession) -> dict[str, Any]:
    return {
        "id": checkout.id,
        "object": "checkout.session",
        "url": session_url(checkout),
        "status": checkout.status,
        "payment_status": checkout.payment_status,
        "amount": checkout.amount,
        "currency": checkout.currency,
        "line_items": checkout.line_items or [],
        "locale": _api_locale(checkout.locale),
        "theme": checkout.theme,
        "payment_method_types": checkout.payment_method_types or [],
        "presentment_currencies": checkout.presentment_currencies or [],
        "presentment": presentment_to_api(checkout),
        "customer": checkout.customer or {},
        "client_reference_id": checkout.client_reference_id,
        "metadata": checkout.metadata_ or {},
        "success_url": checkout.success_url,
        "cancel_url": checkout.cancel_url,
        "created": checkout.created,
        "expires_at": checkout.expires_at,
        "completed_at": checkout.completed_at,
        "payments": [payment_to_api(p) for p in checkout.payments],
        "address_collection": checkout.address_collection or "none",
        # What the shopper gave when asked: {type, country, postal_code, state, city, line1, line2}.
        "address": checkout.address,
        # Card payments paused after declines in a row (card testing): until when, else null.
        "payment_attempts_paused_until": _paused_until(checkout),
        "livemode": False,
    }


def _paused_until(checkout: CheckoutSession) -> int | None:
    from .db import get_db
    from .declines import paused_until

    return paused_until(get_db(), checkout) if checkout.status == "open" else None
