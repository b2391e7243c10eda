"""The ``presentment`` object on the merchant API's checkout session (docs/fx.md)."""

from __future__ import annotations

from typing import Any

from ..models import CheckoutSession
from . import clock
from .conversion import parse_ratio, round_to_places, with_markup
from .quotes import is_locked, latest_quote

RATE_PLACES = 10  # decimals in the API's display rate; the exact rate is ``rate_exact``


def presentment_to_api(checkout: CheckoutSession) -> dict[str, Any] | None:
    """The session's latest quote, or None when the shopper pays in the merchant's currency
    with no conversion ever quoted."""
    quote = latest_quote(checkout)
    if quote is None:
        return None
    from .pricing import payable

    reference = parse_ratio(quote.rate)
    applied = with_markup(reference, quote.markup_bps)
    charged = any((p.details or {}).get("fx_quote") == quote.id
                  and p.status in ("succeeded", "pending", "processing", "requires_action")
                  for p in checkout.payments)
    if charged:
        status = "charged"  # a payment was made (or is under way) at this quote's amount
    elif quote.locked_until is None:
        status = "indicative"  # stale rates: shown as an estimate, never charged
    elif is_locked(quote, clock.now()):
        status = "locked"
    else:
        status = "expired"
    return {
        "id": quote.id,
        "amount": quote.presentment_amount,
        "currency": quote.presentment_currency,
        "base_amount": quote.base_amount,
        "base_currency": quote.base_currency,
        "rate": str(round_to_places(applied, RATE_PLACES)),
        "rate_exact": f"{applied.numerator}/{applied.denominator}",
        "reference_rate": str(round_to_places(reference, RATE_PLACES)),
        "source": quote.source,
        "as_of": quote.as_of,
        "markup_bps": quote.markup_bps,
        "created": quote.created,
        "locked_until": quote.locked_until,
        "status": status,
        "selected": payable(checkout).quote is quote,
    }
