"""What the templates show about a conversion, formatted for the shopper's locale by Babel.

``presentment_view(checkout)`` is the pay page's block (amount, merchant's price, rate,
source and time, mark-up, lock countdown, the currency choice, and what changed);
``ticker_view(checkout)`` the live rate box; ``receipt_view(payment)`` the line on the complete,
slip and virtual-account pages. Nothing here writes to the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from babel.dates import format_skeleton, format_timedelta
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent, get_currency_name
from flask import url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import current_locale, zone_name
from ..methods import CATALOG
from ..models import CheckoutSession, Payment, RateQuote
from ..money import format_money
from . import clock
from .conversion import parse_ratio, round_to_places, with_markup
from .ecb import ECB_SHIPPED_SOURCE, ECB_SOURCE, ECB_SOURCES, ECB_ZONE
from .quotes import (
    candidate_currencies,
    find_quote,
    in_flight,
    is_locked,
    is_stale,
    latest_quote,
    merchant_currency_allowed,
    seconds_left,
)

SOURCE_LABELS = {
    ECB_SOURCE: _l("ECB reference rate"),
    ECB_SHIPPED_SOURCE: _l("ECB reference rate (offline copy)"),
    "sandbox": _l("Sandbox rate (for testing)"),
}


@dataclass(frozen=True)
class CurrencyOption:
    code: str
    name: str
    amount: str
    checked: bool
    note: str = ""


@dataclass(frozen=True)
class Change:
    before: str
    after: str
    difference: str
    direction: str  # up | down | same


@dataclass(frozen=True)
class RateFacts:
    """One quote's facts as the shopper reads them."""

    amount: str
    base_amount: str
    rate: str
    source: str
    as_of: str
    markup: str
    markup_bps: int


@dataclass
class PresentmentView:
    checkout: CheckoutSession
    state: str  # locked | expired | stale | declined | settled
    quote: RateQuote
    facts: RateFacts
    converted: bool  # the shopper pays the converted amount
    live: bool  # session open, nothing in flight: show the countdown, ticker and choice
    seconds_left: int = 0
    countdown: str = ""
    locked_until: str = ""
    age: str = ""
    change: Change | None = None
    refusal: str | None = None
    options: list[CurrencyOption] = field(default_factory=list)
    ticker_url: str = ""
    ticker_seconds: int = 20
    choice_url: str = ""


def presentment_view(checkout: CheckoutSession | None) -> PresentmentView | None:
    """The pay page's FX block for this session, or None when there is no conversion."""
    if checkout is None:
        return None
    quote = latest_quote(checkout)
    if quote is None or quote.base_amount != checkout.amount:
        return None
    from .checks import refusal
    from .pricing import payable

    price = payable(checkout)
    moment = clock.now()
    converted = price.quote is quote
    live = checkout.status == "open" and not in_flight(checkout)
    if not live:
        state = "settled"
    elif quote.locked_until is None:
        state = "stale"
    elif not converted:
        state = "declined"
    elif is_locked(quote, moment):
        state = "locked"
    else:
        state = "expired"
    view = PresentmentView(checkout=checkout, state=state, quote=quote, facts=rate_facts(quote),
                           converted=converted, live=live, refusal=refusal())
    from flask import current_app

    view.ticker_seconds = current_app.config.get("FX_TICKER_SECONDS", 20)
    view.ticker_url = url_for("fx.ticker", session_id=checkout.id)
    view.choice_url = url_for("fx.choose_currency", session_id=checkout.id)
    if quote.locked_until is not None:
        view.seconds_left = seconds_left(quote, moment)
        view.countdown = countdown_text(view.seconds_left)
        view.locked_until = _time_in_zone(quote.locked_until)
    else:
        view.age = format_timedelta(timedelta(seconds=-(moment - quote.as_of)), threshold=2,
                                    add_direction=True, locale=current_locale())
    previous = find_quote(checkout, quote.previous_quote_id)
    if previous is not None and state in ("locked", "expired") \
            and previous.presentment_currency == quote.presentment_currency:
        view.change = _change(previous.presentment_amount, quote.presentment_amount,
                              quote.presentment_currency)
    view.options = _options(checkout, quote, converted)
    return view


def rate_facts(quote: RateQuote) -> RateFacts:
    locale = current_locale()
    reference = parse_ratio(quote.rate)
    return RateFacts(
        amount=format_money(quote.presentment_amount, quote.presentment_currency, locale),
        base_amount=format_money(quote.base_amount, quote.base_currency, locale),
        rate=rate_text(with_markup(reference, quote.markup_bps), quote.base_currency,
                       quote.presentment_currency),
        source=source_label(quote.source),
        as_of=as_of_text(quote.source, quote.as_of),
        markup=markup_text(quote.markup_bps),
        markup_bps=quote.markup_bps,
    )


def rate_text(rate: Fraction, base: str, presentment: str) -> str:
    """"1 CNY = 21.38 JPY" (2 decimals; 4 significant digits for a rate below 1)."""
    places = 2 if rate >= 1 else max(4, 3 - _magnitude(rate))
    shown = round_to_places(rate, places)
    number = format_decimal(shown, format="#,##0." + "0" * places, locale=current_locale())
    return _("1 %(base)s = %(rate)s %(quote)s", base=base, rate=number, quote=presentment)


def markup_text(markup_bps: int) -> str:
    return format_percent(Decimal(markup_bps).scaleb(-4), format="#,##0.##%",
                          locale=current_locale())


def source_label(source: str) -> str:
    label = SOURCE_LABELS.get(source)
    return str(label) if label is not None else source


def as_of_text(source: str, as_of: int) -> str:
    """ECB rates in Frankfurt time, as the ECB states them ("Oct 30, 16:00 Central European
    Time"); any other source in the shopper's own zone."""
    zone = ECB_ZONE if source in ECB_SOURCES else get_timezone()
    moment = datetime.fromtimestamp(as_of, UTC).astimezone(zone)
    locale = current_locale()
    return _("%(date)s, %(time)s %(zone)s",
             date=format_skeleton("MMMd", moment, locale=locale),
             time=format_skeleton("Hm", moment, locale=locale),
             zone=zone_name(str(zone), width="long"))


def countdown_text(seconds: int) -> str:
    minutes, secs = divmod(max(0, seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _time_in_zone(timestamp: int) -> str:
    zone = get_timezone()
    moment = datetime.fromtimestamp(timestamp, UTC).astimezone(zone)
    locale = current_locale()
    return _("%(time)s %(zone)s", time=format_skeleton("Hm", moment, locale=locale),
             zone=zone_name(str(zone)))


def _change(before: int, after: int, currency: str) -> Change:
    locale = current_locale()
    direction = "up" if after > before else "down" if after < before else "same"
    return Change(before=format_money(before, currency, locale),
                  after=format_money(after, currency, locale),
                  difference=format_money(abs(after - before), currency, locale),
                  direction=direction)


def _options(checkout: CheckoutSession, quote: RateQuote, converted: bool) -> list[CurrencyOption]:
    """Pay in the converted currency, or in the merchant's own (optional and explicit)."""
    locale = current_locale()
    options = []
    if quote.locked_until is not None \
            and quote.presentment_currency in candidate_currencies(checkout):
        options.append(CurrencyOption(
            code=quote.presentment_currency,
            name=get_currency_name(quote.presentment_currency, locale=locale),
            amount=format_money(quote.presentment_amount, quote.presentment_currency, locale),
            checked=converted))
    if merchant_currency_allowed(checkout):
        options.append(CurrencyOption(
            code=checkout.currency, name=get_currency_name(checkout.currency, locale=locale),
            amount=format_money(checkout.amount, checkout.currency, locale),
            checked=not converted, note=_only_in(checkout, quote.presentment_currency)))
    return options if len(options) > 1 else []


def _only_in(checkout: CheckoutSession, presentment: str) -> str:
    """When some methods need the converted currency (konbini → JPY …): which ones remain."""
    methods = [CATALOG[m] for m in (checkout.payment_method_types or []) if m in CATALOG]
    kept = [str(m.name) for m in methods if checkout.currency in m.currencies]
    if len(kept) == len([m for m in methods if {checkout.currency, presentment} & m.currencies]):
        return ""
    return _("In %(currency)s you can pay with %(methods)s only.", currency=checkout.currency,
             methods=format_list(kept, style="or", locale=current_locale()))


def _magnitude(rate: Fraction) -> int:
    """Position of the first significant digit (0.0425 → -2)."""
    digits = 0
    while rate < 1:
        rate *= 10
        digits -= 1
    return digits


# ---- the live rate ticker ---------------------------------------------------------------------

@dataclass(frozen=True)
class TickerView:
    market_rate: str
    market_source: str
    market_as_of: str
    move: str  # "+0.12%" against the locked reference rate
    direction: str  # up | down | same
    stale: bool


def ticker_view(quote: RateQuote) -> TickerView | None:
    """The market's reference rate right now, beside the locked quote's (never changes it)."""
    from .conversion import ConversionError, cross_rate
    from .sources import RatesUnavailable, current_rates

    try:
        table = current_rates()
        market = cross_rate(table.rates, table.base, quote.base_currency,
                            quote.presentment_currency)
    except (RatesUnavailable, ConversionError):
        return None
    locked = parse_ratio(quote.rate)
    move = (market - locked) / locked
    shown = round_to_places(abs(move), 4)
    direction = "same" if shown == 0 else "up" if move > 0 else "down"
    sign = {"up": "+", "down": "−", "same": "±"}[direction]
    return TickerView(
        market_rate=rate_text(market, quote.base_currency, quote.presentment_currency),
        market_source=source_label(table.source),
        market_as_of=as_of_text(table.source, table.as_of),
        move=sign + format_percent(shown, format="#,##0.00%", locale=current_locale()),
        direction=direction,
        stale=is_stale(table.as_of),
    )


# ---- receipts (complete page, konbini slip, virtual account) ----------------------------------

def receipt_view(paid: Payment | CheckoutSession | None) -> RateFacts | None:
    """The conversion a payment was made at (``payment.details["fx_quote"]``), or None. Given
    a session, its latest payment (slip and virtual-account pages have the session at hand)."""
    payment = paid.payments[-1] if isinstance(paid, CheckoutSession) and paid.payments else paid
    if not isinstance(payment, Payment):
        return None
    quote_id = (payment.details or {}).get("fx_quote")
    checkout = payment.session
    quote = find_quote(checkout, quote_id) if checkout is not None else None
    if quote is None or quote.presentment_currency != payment.currency:
        return None
    return rate_facts(quote)


def template_globals() -> dict[str, Any]:
    return {"fx_presentment": presentment_view, "fx_receipt_facts": receipt_view}
