"""What the shopper pays: one function every page, button and payment asks.

Today the merchant's amount in the merchant's currency. The FX work (issue 5) makes this the
locked presentment amount when the shopper pays in JPY/KRW for a CNY/USD price.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import CheckoutSession


@dataclass(frozen=True)
class Payable:
    amount: int  # minor units
    currency: str


def payable(checkout: CheckoutSession) -> Payable:
    return Payable(checkout.amount, checkout.currency)
