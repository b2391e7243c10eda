"""Wallets paid in their own app (Kakao Pay, Naver Pay, PayPay …): one generic flow.

The shopper's device decides how the wallet is reached:

* on a phone the wallet's approval page opens by redirect and comes back through
  ``/pay/<id>/return`` (pay.py's ``redirect`` next action);
* on a computer the page shows a QR code that the phone scans; this page follows the payment by
  polling ``/pay/<id>/wallet/status`` and moves on by itself once the gateway says it is final.

Which one is decided on the server from the form's ``device`` field (set by
``static/js/wallet.js`` from ``matchMedia("(pointer: coarse)")``), with the client hints /
User-Agent as a fallback. Without JavaScript nothing could poll, so it is always a redirect.
The decision travels to the gateway as ``details["wallet_display"]`` (``"qr"`` or
``"redirect"``); the gateway answers with the matching ``next_action``.

A wallet method is one call: ``register_wallet(PaymentMethod(..., widget="wallet"))``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from flask import Blueprint, current_app, make_response, request, url_for
from werkzeug.datastructures import Headers

from .flows import Flow, follow
from .gateway.base import FAILED, PENDING, REQUIRES_ACTION, NextAction
from .htmx import is_htmx, navigate, stop_polling
from .methods import CATALOG
from .models import CheckoutSession, Payment
from .pages import render_page
from .pay import load_checkout, respond_to_payment
from .payments import cancel_waiting_payment, latest_payment, refresh_from_gateway
from .sessions import success_redirect_url

bp = Blueprint("wallets", __name__)

QR = "qr"
REDIRECT = "redirect"
CANCELED = "payment_canceled"

# Phones and tablets in the User-Agent, when client hints are not sent (Safari, Firefox).
_MOBILE_AGENT = re.compile(r"Mobi|Android|iPhone|iPad|iPod|Windows Phone|Opera Mini|IEMobile")


def wallet_display(form: Mapping[str, str], headers: Headers | Mapping[str, str]) -> str:
    """``"qr"`` for a computer whose page can poll, else ``"redirect"``.

    ``device`` is ``phone`` / ``desktop`` when wallet.js could tell, ``unknown`` when it ran
    but could not (no ``matchMedia``), and absent without JavaScript.
    """
    device = form.get("device", "")
    if device == "phone":
        return REDIRECT
    if device == "desktop":
        return QR
    if device != "unknown":
        return REDIRECT  # no JavaScript: nothing would poll a QR page
    hint = headers.get("Sec-CH-UA-Mobile")
    if hint in ("?0", "?1"):
        return REDIRECT if hint == "?1" else QR
    return REDIRECT if _MOBILE_AGENT.search(headers.get("User-Agent", "")) else QR


def is_waiting_wallet(payment: Payment | None) -> bool:
    return (payment is not None and payment.status in (REQUIRES_ACTION, PENDING)
            and (payment.next_action or {}).get("type") == QR)


class WalletFlow(Flow):
    """A wallet's page by redirect on a phone, its QR on a computer (this module's pages)."""

    id = "wallet"
    blueprints = (bp,)

    def parse_form(self, checkout: CheckoutSession,
                   form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        return {"wallet_display": wallet_display(form, request.headers)}, {}

    def answer(self, checkout: CheckoutSession, payment: Payment,
               action: NextAction) -> Any | None:
        if action.type == QR:
            return navigate(url_for("wallets.wallet_page", session_id=checkout.id))
        return follow(checkout, action.url) if action.type == REDIRECT else None


WALLET = WalletFlow()


# ---- views -----------------------------------------------------------------------------------

@bp.get("/pay/<session_id>/wallet")
def wallet_page(session_id: str) -> Any:
    """The QR to scan, and a status box that follows the payment."""
    checkout = load_checkout(session_id)
    payment = latest_payment(checkout)
    if payment is not None and checkout.status == "open" and payment.status in (
            REQUIRES_ACTION, PENDING):
        refresh_from_gateway(payment)
    if not is_waiting_wallet(payment) or checkout.status != "open":
        return _after_wallet(checkout, payment)
    assert payment is not None
    action = payment.next_action or {}
    return render_page("wallet.html", checkout=checkout, payment=payment,
                       method_name=str(CATALOG[payment.method].name),
                       qr_target=_absolute(str(action.get("qr_url") or action.get("url") or "")),
                       here_url=str(action.get("url") or ""))


@bp.get("/pay/<session_id>/wallet/status")
def wallet_status(session_id: str) -> Any:
    """Polled every 2 s by the QR page: 286 stops htmx, ``HX-Redirect`` moves the page on."""
    checkout = load_checkout(session_id)
    payment = latest_payment(checkout)
    if payment is not None and payment.status in (REQUIRES_ACTION, PENDING, "processing"):
        refresh_from_gateway(payment)
    waiting = checkout.status == "open" and is_waiting_wallet(payment)
    response = make_response(render_page("widgets/wallet/wallet_status.html", checkout=checkout,
                                         payment=payment, final=not waiting))
    response.headers["Vary"] = "HX-Request"
    if not waiting and is_htmx():
        stop_polling(response)
        response.headers["HX-Redirect"] = _next_url(checkout, payment)
    return response


@bp.post("/pay/<session_id>/wallet/cancel")
def cancel_wallet(session_id: str) -> Any:
    """"Choose another method": cancel the waiting wallet payment at the gateway first, so a
    late approval on the phone can never charge the shopper a second time."""
    checkout = load_checkout(session_id)
    payment = latest_payment(checkout)
    if is_waiting_wallet(payment) and checkout.status == "open":
        assert payment is not None
        cancel_waiting_payment(payment)
    return _after_wallet(checkout, latest_payment(checkout))


# ---- helpers ---------------------------------------------------------------------------------

def _after_wallet(checkout: CheckoutSession, payment: Payment | None) -> Any:
    if payment is None or checkout.status != "open":
        # Paid: the shop; expired (or paid another way): the checkout page says so. Never back
        # to the QR handler, which would send the shopper here again.
        return navigate(_next_url(checkout, payment))
    return respond_to_payment(checkout, payment)


def _next_url(checkout: CheckoutSession, payment: Payment | None) -> str:
    if checkout.status == "complete" and checkout.payment_status == "paid":
        return success_redirect_url(checkout)
    if checkout.status == "open" and payment is not None and payment.status in (FAILED, "expired"):
        return url_for("pay.checkout_page", session_id=checkout.id, method=payment.method)
    return url_for("pay.checkout_page", session_id=checkout.id)


def _absolute(url: str) -> str:
    """The phone scanning the QR is another device: it needs a full URL."""
    if not url:
        return url
    return urljoin(current_app.config["PUBLIC_URL"].rstrip("/") + "/", url)


