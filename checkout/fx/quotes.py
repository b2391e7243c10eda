"""Rate quotes: which currency a shopper sees, locking a rate, and re-quoting when it runs out.

The rules (docs/fx.md):

* A session's **latest** quote is what the page shows and what a payment in that currency
  charges (``pricing.payable``). Quotes are only ever *added*; nothing rewrites an amount.
* A quote is created at session creation when the currency is already clear, and otherwise
  when the page is rendered (``refresh_quote``). The page re-quotes only when the latest quote's
  lock has run out (or the shopper's currency changed), so the amount a shopper has seen never
  changes behind their back; when it does change the new quote names the one it replaced, and
  the page says by how much.
* Rates older than the staleness limit give an *indicative* quote (``locked_until`` NULL): shown
  with its age, never charged.
* Nothing is re-quoted while a payment is on its way (processing, or a slip/QR waiting), since
  that payment's amount is already fixed.
"""

from __future__ import annotations

import logging

from flask import current_app, has_request_context, request
from sqlalchemy.exc import IntegrityError

from ..db import get_db
from ..ids import new_id
from ..methods import CATALOG
from ..models import CheckoutSession, RateQuote
from ..money import CURRENCIES
from . import clock
from .conversion import ConversionError, convert_minor, cross_rate, ratio_text
from .settings import merchant_fx
from .sources import RatesUnavailable, current_rates

log = logging.getLogger(__name__)

# A shopper's language or zone says which market they are in.
LOCALE_CURRENCIES = {"ja": "JPY", "ko": "KRW"}
ZONE_CURRENCIES = {"Asia/Tokyo": "JPY", "Asia/Seoul": "KRW"}
IN_FLIGHT = frozenset({"processing", "pending", "requires_action"})


def latest_quote(checkout: CheckoutSession) -> RateQuote | None:
    if not checkout.presentment_currencies:
        return None  # no conversion possible, so no quotes: spare every page a query
    quotes = checkout.rate_quotes
    return quotes[-1] if quotes else None


def find_quote(checkout: CheckoutSession, quote_id: str | None) -> RateQuote | None:
    return next((q for q in checkout.rate_quotes if q.id == quote_id), None) if quote_id else None


def is_locked(quote: RateQuote, moment: int | None = None) -> bool:
    at = clock.now() if moment is None else moment
    return quote.locked_until is not None and at < quote.locked_until


def seconds_left(quote: RateQuote, moment: int | None = None) -> int:
    at = clock.now() if moment is None else moment
    return max(0, (quote.locked_until or 0) - at)


def is_stale(as_of: int, moment: int | None = None) -> bool:
    at = clock.now() if moment is None else moment
    return at - as_of > current_app.config["FX_MAX_AGE_SECONDS"]


def in_flight(checkout: CheckoutSession) -> bool:
    """A payment whose amount is already fixed is on its way (gateway, 3-D Secure, a slip)."""
    return bool(checkout.payments) and checkout.payments[-1].status in IN_FLIGHT


def candidate_currencies(checkout: CheckoutSession) -> list[str]:
    """Currencies this session may be paid in instead of its own, that one of its methods takes."""
    methods = [CATALOG[m] for m in (checkout.payment_method_types or []) if m in CATALOG]
    return [c for c in (checkout.presentment_currencies or [])
            if c != checkout.currency and c in CURRENCIES
            and any(c in method.currencies for method in methods)]


def merchant_currency_allowed(checkout: CheckoutSession) -> bool:
    """Whether any of the session's methods takes the merchant's own currency."""
    return any(checkout.currency in CATALOG[m].currencies
               for m in (checkout.payment_method_types or []) if m in CATALOG)


def target_currency(checkout: CheckoutSession, for_shopper: bool = True) -> str | None:
    """The currency this shopper sees the price in (None: the merchant's own).

    In order: the shopper's explicit choice; their language (ja → JPY, ko → KRW); their zone;
    the currency they were already quoted (so switching to English keeps the yen); the only
    candidate. ``for_shopper=False`` (at session creation) uses the session's locale instead of
    the request's, since the request then comes from the merchant's server.
    """
    candidates = candidate_currencies(checkout)
    chosen = checkout.pay_currency
    if chosen == checkout.currency and merchant_currency_allowed(checkout):
        return None
    if chosen in candidates:
        return chosen
    if not candidates:
        return None
    if for_shopper and has_request_context():
        from ..i18n import TZ_COOKIE, current_locale

        by_locale = LOCALE_CURRENCIES.get(current_locale())
        if by_locale in candidates:
            return by_locale
        by_zone = ZONE_CURRENCIES.get(request.cookies.get(TZ_COOKIE, ""))
        if by_zone in candidates:
            return by_zone
        latest = latest_quote(checkout)
        if latest is not None and latest.presentment_currency in candidates:
            return latest.presentment_currency
    else:
        by_locale = LOCALE_CURRENCIES.get((checkout.locale or "").split("-")[0])
        if by_locale in candidates:
            return by_locale
    if len(candidates) == 1:
        return candidates[0]
    if not merchant_currency_allowed(checkout):
        return candidates[0]  # nothing takes the merchant's currency: convert to the first
    return None


def build_quote(checkout: CheckoutSession, currency: str, moment: int,
                previous: RateQuote | None = None) -> RateQuote | None:
    """A new quote (not yet stored) from the current rates, or None when this pair or amount
    cannot be converted (no rate for it, or outside the currency's limits)."""
    try:
        table = current_rates()
        reference = cross_rate(table.rates, table.base, checkout.currency, currency)
    except (RatesUnavailable, ConversionError) as exc:
        log.info("no quote %s→%s: %s", checkout.currency, currency, exc)
        return None
    settings = merchant_fx(checkout.merchant, current_app.config["FX_LOCK_MINUTES"])
    amount = convert_minor(checkout.amount, reference, settings.markup_bps,
                           CURRENCIES[checkout.currency].exponent, CURRENCIES[currency].exponent)
    rule = CURRENCIES[currency]
    if not rule.minimum <= amount <= rule.maximum:
        return None
    latest = latest_quote(checkout)
    return RateQuote(
        id=new_id("rq"),
        session_id=checkout.id,
        sequence=(latest.sequence + 1) if latest is not None else 1,
        base_currency=checkout.currency,
        base_amount=checkout.amount,
        presentment_currency=currency,
        presentment_amount=amount,
        rate=ratio_text(reference),
        source=table.source,
        as_of=table.as_of,
        markup_bps=settings.markup_bps,
        created=moment,
        locked_until=None if is_stale(table.as_of, moment) else moment + settings.lock_seconds,
        shown_at=None,
        previous_quote_id=previous.id if previous is not None else None,
    )


def quote_new_session(checkout: CheckoutSession) -> RateQuote | None:
    """At creation: quote now when the currency is already clear (the API then shows the
    presentment). The caller commits."""
    target = target_currency(checkout, for_shopper=False)
    if target is None:
        return None
    quote = build_quote(checkout, target, clock.now())
    if quote is not None:
        checkout.rate_quotes.append(quote)  # saved with the session (cascade)
    return quote


def refresh_quote(checkout: CheckoutSession) -> RateQuote | None:
    """Before a page shows the price: make sure the latest quote is for this shopper's
    currency and still locked, re-quoting if not. Returns the quote shown (or None)."""
    if checkout.status != "open" or in_flight(checkout):
        return None
    target = target_currency(checkout)
    if target is None:
        return None
    moment = clock.now()
    latest = latest_quote(checkout)
    current = latest if latest is not None and latest.presentment_currency == target \
        and latest.base_amount == checkout.amount else None
    if current is not None and is_locked(current, moment):
        mark_shown(current, moment)
        return current
    replacement = build_quote(checkout, target, moment, previous=_last_seen_lock(checkout, target))
    if replacement is None:
        return current
    if current is not None and current.locked_until is None and replacement.locked_until is None \
            and (current.rate, current.as_of, current.source) == \
            (replacement.rate, replacement.as_of, replacement.source):
        mark_shown(current, moment)
        return current  # the same stale rates: one indicative quote is enough
    replacement.shown_at = moment
    return _store(checkout, replacement)


def mark_shown(quote: RateQuote, moment: int) -> None:
    if quote.shown_at is None:
        quote.shown_at = moment
        get_db().commit()


def _last_seen_lock(checkout: CheckoutSession, currency: str) -> RateQuote | None:
    """The last locked quote in ``currency`` the shopper saw: the page compares with it."""
    for quote in reversed(checkout.rate_quotes):
        if quote.presentment_currency == currency and quote.locked_until is not None \
                and quote.shown_at is not None:
            return quote
    return None


def _store(checkout: CheckoutSession, quote: RateQuote) -> RateQuote | None:
    db = get_db()
    checkout.rate_quotes.append(quote)
    try:
        db.commit()
    except IntegrityError:
        # Another request re-quoted this session at the same moment: show its quote.
        db.rollback()
        db.refresh(checkout)
        return latest_quote(checkout)
    return quote
