"""The pay page's FX endpoints: the live rate ticker and the shopper's currency choice.

    GET  /pay/<id>/rate       the ticker fragment (htmx polls it; 286 once there is nothing to
                              update; ``HX-Refresh`` when the lock ran out, so the page
                              re-quotes and says what changed before the shopper can pay)
    POST /pay/<id>/currency   pay in the converted currency or the merchant's own
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, make_response, redirect, request, url_for

from ..db import get_db
from ..htmx import is_htmx, stop_polling
from ..pages import render_page
from . import clock
from .display import ticker_view
from .quotes import (
    candidate_currencies,
    in_flight,
    is_locked,
    latest_quote,
    merchant_currency_allowed,
)

bp = Blueprint("fx", __name__)

TICKER = "widgets/rate_ticker/ticker.html"


@bp.get("/pay/<session_id>/rate")
def ticker(session_id: str) -> Any:
    from ..pay import load_checkout
    from .pricing import payable

    checkout = load_checkout(session_id)
    quote = latest_quote(checkout)
    price = payable(checkout)
    htmx = is_htmx()
    if checkout.status != "open" or quote is None or in_flight(checkout) \
            or (price.quote is None and quote.locked_until is not None):
        # Paid, expired, paying in the merchant's currency, or a payment under way: nothing
        # on this page depends on the market rate any more.
        response = make_response(render_page(TICKER, checkout=checkout, quote=None, ticker=None,
                                             fragment=True))
        stop_polling(response)
    elif quote.locked_until is not None and not is_locked(quote, clock.now()):
        # The lock ran out: the page itself must re-quote and show the change before paying.
        response = make_response(render_page(TICKER, checkout=checkout, quote=quote, ticker=None,
                                             expired=True, fragment=True))
        if htmx:
            response.headers["HX-Refresh"] = "true"
    else:
        view = ticker_view(quote)
        response = make_response(render_page(TICKER, checkout=checkout, quote=quote, ticker=view,
                                             fragment=True))
        if htmx and quote.locked_until is None and view is not None and not view.stale:
            response.headers["HX-Refresh"] = "true"  # fresh rates again: a lock is possible
    response.headers["Vary"] = "HX-Request"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/pay/<session_id>/currency")
def choose_currency(session_id: str) -> Any:
    """The shopper's explicit choice (the form works without JavaScript; htmx swaps the page)."""
    from ..pay import load_checkout

    checkout = load_checkout(session_id)
    chosen = (request.form.get("pay_currency") or "").upper()
    allowed = set(candidate_currencies(checkout))
    if merchant_currency_allowed(checkout):
        allowed.add(checkout.currency)
    if checkout.status == "open" and not in_flight(checkout) and chosen in allowed:
        checkout.pay_currency = chosen
        get_db().commit()
    return redirect(url_for("pay.checkout_page", session_id=checkout.id), code=303)
