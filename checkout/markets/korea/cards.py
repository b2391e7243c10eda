"""Korean card payments: the card company chooser and 할부 (instalments).

할부 of 2–12 months is offered only from ₩50,000; below that the payment is 일시불 (one
payment). Cards issued abroad (``other``) pay 일시불. Which months are 무이자 (interest-free) for
which card company is the merchant's promotion: ``korea_settings(merchant)["interest_free"]``,
e.g. ``{"shinhan": [2, 3, 4, 5, 6], "kb": [2, 3]}`` (``kessai merchants configure-korea``).

The choice goes to the gateway as ``details``: ``card_company``, ``instalment_months``
(0 = 일시불) and ``interest_free``; the result page and the API's payment object show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...fx.pricing import payable
from ...method_forms import form_parser
from ...models import CheckoutSession, Merchant
from .settings import korea_settings

INSTALMENT_MINIMUM = 50_000  # won
INSTALMENT_MONTHS = tuple(range(2, 13))
LUMP_SUM = 0  # 일시불
ABROAD = "other"

CARD_COMPANIES: dict[str, Any] = {
    "shinhan": _l("Shinhan Card"),
    "samsung": _l("Samsung Card"),
    "hyundai": _l("Hyundai Card"),
    "kb": _l("KB Kookmin Card"),
    "lotte": _l("Lotte Card"),
    "hana": _l("Hana Card"),
    "woori": _l("Woori Card"),
    "nh": _l("NH NongHyup Card"),
    "bc": _l("BC Card"),
    ABROAD: _l("Other card (issued abroad)"),
}


@dataclass(frozen=True)
class CardOptions:
    """What the card form offers for this checkout."""

    companies: dict[str, Any]
    instalments_allowed: bool
    months: tuple[int, ...]
    interest_free: dict[str, list[int]]  # card company → interest-free months
    minimum: int = INSTALMENT_MINIMUM


def interest_free_months(merchant: Merchant) -> dict[str, list[int]]:
    configured = korea_settings(merchant).get("interest_free") or {}
    return {company: sorted(int(m) for m in months if int(m) in INSTALMENT_MONTHS)
            for company, months in configured.items()
            if company in CARD_COMPANIES and company != ABROAD}


def card_options(checkout: CheckoutSession) -> CardOptions:
    allowed = payable(checkout).amount >= INSTALMENT_MINIMUM
    return CardOptions(
        companies=CARD_COMPANIES,
        instalments_allowed=allowed,
        months=INSTALMENT_MONTHS if allowed else (),
        interest_free=interest_free_months(checkout.merchant) if allowed else {},
    )


def parse_months(text: str) -> list[int]:
    """``"2-6"``, ``"2,3,6"`` or ``"2-3,6"`` → ``[2, 3, 6]``; raises ValueError outside 2–12."""
    months: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _sep, last = part.partition("-")
        low, high = int(first), int(last or first)
        if low > high:
            raise ValueError(f"{part}: the range is backwards")
        months.update(range(low, high + 1))
    if not months or not months <= set(INSTALMENT_MONTHS):
        raise ValueError("instalment months are 2 to 12")
    return sorted(months)


def month_ranges(months: list[int]) -> list[tuple[int, int]]:
    """[2, 3, 4, 6] → [(2, 4), (6, 6)] (for "2~4, 6개월")."""
    ranges: list[tuple[int, int]] = []
    for month in sorted(months):
        if ranges and month == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], month)
        else:
            ranges.append((month, month))
    return ranges


def describe_months(months: list[int]) -> str:
    parts = [str(a) if a == b else _("%(first)s–%(last)s", first=a, last=b)
             for a, b in month_ranges(months)]
    return _("%(months)s months", months=", ".join(parts))


def describe_plan(details: Mapping[str, Any]) -> str | None:
    """"신한카드 · 3개월 할부 (무이자)" for the result page; None for non-Korean payments."""
    company = details.get("card_company")
    if company not in CARD_COMPANIES:
        return None
    months = int(details.get("instalment_months") or 0)
    if months < 2:
        plan = _("Single payment (no instalments)")
    elif details.get("interest_free"):
        plan = _("%(months)s-month instalments, interest-free", months=months)
    else:
        plan = _("%(months)s-month instalments", months=months)
    return _("%(company)s · %(plan)s", company=CARD_COMPANIES[company], plan=plan)


@form_parser("card")
def parse_korean_card(checkout: CheckoutSession,
                      form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    if payable(checkout).currency != "KRW":
        return {}, {}
    errors: dict[str, str] = {}
    company = form.get("card_company", "")
    if company not in CARD_COMPANIES:
        errors["card_company"] = _("Please choose your card company.")
    options = card_options(checkout)
    try:
        months = int(form.get("instalment_months") or LUMP_SUM)
    except ValueError:
        months = -1
    if months not in (LUMP_SUM, 1):
        if not options.instalments_allowed:
            errors["instalment_months"] = _(
                "Instalments are available from %(minimum)s. This payment is a single payment.",
                minimum=_won(INSTALMENT_MINIMUM))
        elif months not in options.months:
            errors["instalment_months"] = _("Please choose a single payment or 2 to 12 months.")
        elif company == ABROAD:
            errors["instalment_months"] = _("Cards issued abroad can only pay in a single payment.")
    if errors:
        return {}, errors
    months = max(months, LUMP_SUM) if months != 1 else LUMP_SUM
    free = months in options.interest_free.get(company, [])
    return {"card_company": company, "instalment_months": months, "interest_free": free}, {}


def _won(amount: int) -> str:
    from ...i18n import money

    return money(amount, "KRW")
