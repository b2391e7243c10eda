"""The server's side of the rate lock: a payment is sent only for the price the page showed,
and only while its rate is locked.

Registered as a form parser for every method (``"*"``), so it runs on every pay-form post
before anything reaches the gateway. A refused post goes back to the page (HTTP 422), which
re-quotes and says what changed; nothing is charged. The pay button carries the price it showed
(``expected_price``: "27385 JPY"); a form without one is still refused when the lock ran out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import g
from flask_babel import gettext as _

from ..method_forms import form_parser
from ..models import CheckoutSession
from . import clock
from .pricing import payable
from .quotes import find_quote, is_locked

EXPECTED_PRICE_FIELD = "expected_price"
LOCK_EXPIRED = "lock_expired"
PRICE_CHANGED = "price_changed"


@form_parser("*")
def check_locked_price(checkout: CheckoutSession,
                       form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    price = payable(checkout)
    expected = form.get(EXPECTED_PRICE_FIELD)
    if price.quote is not None and not is_locked(price.quote, clock.now()):
        return _refuse(LOCK_EXPIRED, price.quote.id)
    if expected and expected.strip() != price.token:
        return _refuse(PRICE_CHANGED, None)
    return ({"fx_quote": price.quote.id} if price.quote is not None else {}), {}


def _refuse(reason: str, quote_id: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    # The page (widgets/order_summary/presentment.html) explains it next to the new amount.
    g.fx_refusal = reason
    g.fx_refused_quote = quote_id
    if reason == LOCK_EXPIRED:
        message = _("The exchange rate lock ran out before you paid, so your payment was not "
                    "sent. Please check the new amount and pay again.")
    else:
        message = _("The amount to pay changed after this page was shown, so your payment was "
                    "not sent. Please check the new amount and pay again.")
    return {}, {EXPECTED_PRICE_FIELD: message}


def refusal() -> str | None:
    return g.get("fx_refusal")


def refused_quote(checkout: CheckoutSession) -> Any:
    return find_quote(checkout, g.get("fx_refused_quote"))
