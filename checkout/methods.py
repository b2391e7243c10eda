"""The payment method catalog: one entry per method, data not if-chains.

An entry says which currencies and markets a method serves, its amount limits, its *flow*
(how the page and gateway handle it), its localized name, the widget that renders its form and
its ordering weight. Adding a method: docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from .flows import CARD, Flow


@dataclass(frozen=True)
class PaymentMethod:
    id: str
    flow: Flow  # how it is paid: checkout/flows.py
    currencies: frozenset[str]
    name: Any  # lazy string: localized at render time
    widget: str  # widgets/<widget>/<widget>.html renders the method's form
    weight: int = 100  # higher first (market share)
    markets: frozenset[str] = frozenset({"*"})
    min_amount: dict[str, int] = field(default_factory=dict)
    max_amount: dict[str, int] = field(default_factory=dict)
    group: str = ""
    # Offered only when the merchant published its legal disclosure (Japan's 特定商取引法表記).
    requires_legal_disclosure: bool = False
    # Offered only when the merchant sells digital goods (carrier billing).
    digital_only: bool = False

    def allows(self, amount: int, currency: str) -> bool:
        if currency not in self.currencies:
            return False
        low = self.min_amount.get(currency)
        high = self.max_amount.get(currency)
        return (low is None or amount >= low) and (high is None or amount <= high)


CATALOG: dict[str, PaymentMethod] = {}

# Market modules add rules here instead of if-chains in the views:
# an eligibility rule says whether the checkout may offer a method (merchant settings …);
# a weight rule adds to a method's ordering weight for this checkout (large amounts → card).
EligibilityRule = Callable[[PaymentMethod, Any], bool]
WeightRule = Callable[[PaymentMethod, Any, int, str], int]
ELIGIBILITY_RULES: list[EligibilityRule] = []
WEIGHT_RULES: list[WeightRule] = []


def register(method: PaymentMethod) -> PaymentMethod:
    CATALOG[method.id] = method
    return method


register(
    PaymentMethod(
        id="card",
        flow=CARD,
        currencies=frozenset({"JPY", "KRW", "CNY", "USD", "EUR", "HKD", "TWD", "SGD", "GBP"}),
        name=_l("Card"),
        widget="card_form",
        weight=1000,
    )
)


def default_method_ids(currency: str) -> list[str]:
    """Every method that serves the currency (the session filters by amount at render time)."""
    by_weight = sorted(CATALOG.values(), key=lambda m: -m.weight)
    return [m.id for m in by_weight if currency in m.currencies]


def available_methods(method_ids: list[str], amount: int, currency: str,
                      preferred: str | None = None, checkout: Any = None) -> list[PaymentMethod]:
    """The session's methods that allow this amount, the shopper's last method first, then by
    weight (market share, adjusted by the weight rules)."""
    methods = [CATALOG[m] for m in method_ids
               if m in CATALOG and CATALOG[m].allows(amount, currency)]
    if checkout is not None:
        methods = [m for m in methods if all(rule(m, checkout) for rule in ELIGIBILITY_RULES)]

    def weight(method: PaymentMethod) -> int:
        extra = sum(rule(method, checkout, amount, currency) for rule in WEIGHT_RULES)
        return method.weight + extra

    methods.sort(key=lambda m: (m.id != preferred, -weight(m)))
    return methods
