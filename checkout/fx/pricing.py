"""What the shopper pays: one function every page, button, method filter and payment asks.

The merchant's amount in the merchant's currency, unless the session's latest rate quote
converted it (the shopper pays in JPY/KRW for a CNY/USD price): then the quote's presentment
amount, computed on the server when the quote was made and stored with it (checkout/fx,
docs/fx.md). It is never taken from a form. A quote whose rates were stale (``locked_until``
NULL) is only an estimate, so the shopper pays the merchant's amount; a quote whose lock ran
out is still what the page showed, and a payment against it is refused (``checks.py``) and
re-quoted before anything is charged.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import CheckoutSession, RateQuote
from .quotes import latest_quote


@dataclass(frozen=True)
class Payable:
    amount: int  # minor units
    currency: str
    quote: RateQuote | None = None  # the quote it comes from, when converted

    @property
    def token(self) -> str:
        """What the pay form echoes back (``expected_price``): "27385 JPY"."""
        return f"{self.amount} {self.currency}"


def payable(checkout: CheckoutSession) -> Payable:
    quote = latest_quote(checkout)
    if quote is None or quote.locked_until is None or checkout.pay_currency == checkout.currency \
            or quote.base_amount != checkout.amount or quote.base_currency != checkout.currency:
        return Payable(checkout.amount, checkout.currency)
    return Payable(quote.presentment_amount, quote.presentment_currency, quote)
