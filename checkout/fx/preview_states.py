"""The FX page states in the designer preview (``kessai preview``), one call each.

A yuan price shown to a Japanese shopper in yen (a Korean one in won): the rate locked with
its countdown, the lock run out and re-quoted (the amount changed), a payment refused because
the lock ran out, stale rates (an estimate only), and the complete page's conversion line.
Fixtures only: quotes are built in memory from the app's rate source and never stored.
"""

from __future__ import annotations

from typing import Any

from flask import g

from ..methods import CATALOG
from ..models import CheckoutSession, RateQuote
from ..money import CURRENCIES
from ..preview import Fixtures, pay_page, preview_state
from . import clock
from .conversion import convert_minor, cross_rate, ratio_text
from .sources import current_rates

PRICE_CURRENCY = "CNY"
MARKUP_BPS = 150


def _presentment(fixtures: Fixtures) -> str:
    return "KRW" if fixtures.locale == "ko" or fixtures.theme == "kr-kakao" else "JPY"


def _session(fixtures: Fixtures, **overrides: Any) -> CheckoutSession:
    target = _presentment(fixtures)
    merchant = fixtures.merchant(settings={"fx": {"markup_bps": MARKUP_BPS}})
    methods = [m.id for m in sorted(CATALOG.values(), key=lambda m: -m.weight)
               if {PRICE_CURRENCY, target} & m.currencies]
    return fixtures.checkout(merchant=merchant, presentment_currencies=[target],
                             payment_method_types=methods, **overrides)


def _quote(checkout: CheckoutSession, *, locked_for: int | None, age: int = 0,
           shown: bool = True, drift_bps: int = 0, previous: RateQuote | None = None) -> RateQuote:
    """A quote on the real rates (moved by ``drift_bps`` to show a change), attached in memory."""
    table = current_rates()
    target = checkout.presentment_currencies[0] if checkout.presentment_currencies else "JPY"
    rate = cross_rate(table.rates, table.base, checkout.currency, target) * (10_000 + drift_bps) \
        / 10_000
    moment = clock.now()
    quote = RateQuote(
        id=f"rq_preview_{len(checkout.rate_quotes) + 1}", session_id=checkout.id,
        sequence=len(checkout.rate_quotes) + 1, base_currency=checkout.currency,
        base_amount=checkout.amount, presentment_currency=target,
        presentment_amount=convert_minor(checkout.amount, rate, MARKUP_BPS,
                                         CURRENCIES[checkout.currency].exponent,
                                         CURRENCIES[target].exponent),
        rate=ratio_text(rate), source=table.source,
        as_of=(moment - age) if age else min(table.as_of, moment), markup_bps=MARKUP_BPS,
        created=moment - (15 * 60 - (locked_for or 0)),
        locked_until=None if locked_for is None else moment + locked_for,
        shown_at=moment if shown else None,
        previous_quote_id=previous.id if previous is not None else None)
    checkout.rate_quotes.append(quote)
    return quote


@preview_state("fx_locked", "FX: rate locked, countdown running", "pay.html", group="FX",
               currency=PRICE_CURRENCY)
def _locked(fixtures: Fixtures) -> dict[str, Any]:
    checkout = _session(fixtures)
    _quote(checkout, locked_for=12 * 60 + 34)
    return pay_page(fixtures, checkout)


@preview_state("fx_requoted", "FX: lock ran out, re-quoted (amount changed)", "pay.html",
               group="FX", currency=PRICE_CURRENCY)
def _requoted(fixtures: Fixtures) -> dict[str, Any]:
    checkout = _session(fixtures)
    first = _quote(checkout, locked_for=-60)  # ran out a minute ago
    _quote(checkout, locked_for=15 * 60, drift_bps=37, previous=first)
    return pay_page(fixtures, checkout)


@preview_state("fx_refused", "FX: payment refused, the lock had run out", "pay.html",
               group="FX", currency=PRICE_CURRENCY)
def _refused(fixtures: Fixtures) -> dict[str, Any]:
    context = _requoted(fixtures)
    g.fx_refusal = "lock_expired"
    return context


@preview_state("fx_stale", "FX: stale rates (estimate only, pay in the shop's currency)",
               "pay.html", group="FX", currency=PRICE_CURRENCY)
def _stale(fixtures: Fixtures) -> dict[str, Any]:
    checkout = _session(fixtures)
    _quote(checkout, locked_for=None, age=5 * 86400)
    return pay_page(fixtures, checkout)


@preview_state("fx_complete", "FX: paid in yen/won (complete page)", "complete.html",
               group="FX", currency=PRICE_CURRENCY)
def _complete(fixtures: Fixtures) -> dict[str, Any]:
    from ..cards import BRAND_LABELS

    checkout = _session(fixtures, status="complete", payment_status="paid",
                        completed_at=clock.now())
    quote = _quote(checkout, locked_for=9 * 60)
    payment = fixtures.payment(checkout, status="succeeded", amount=quote.presentment_amount,
                               currency=quote.presentment_currency,
                               details={"fx_quote": quote.id})
    return {"checkout": checkout, "payment": payment, "brands": BRAND_LABELS,
            "return_url": f"https://shop.example/thanks?session_id={checkout.id}"}
