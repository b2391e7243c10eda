"""Card instalments in Japan (分割払い): 一括, 分割 3–24回, ボーナス一括, リボ — offered from a
merchant-configurable amount (default ¥10,000). The choice goes to the gateway in the payment's
details (``{"instalments": {"plan": "split", "count": 12}}``) and shows on the result page and
in the API's payment object."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _

from ...fx.pricing import payable
from ...i18n import current_locale
from ...method_forms import form_parser
from ...methods import WEIGHT_RULES, PaymentMethod
from ...models import CheckoutSession
from .settings import instalments_from

SPLIT_COUNTS = (3, 5, 6, 10, 12, 15, 18, 20, 24)
LUMP, SPLIT, BONUS, REVOLVING = "lump", "split", "bonus", "revolving"


def offers_instalments(checkout: CheckoutSession) -> bool:
    price = payable(checkout)
    return price.currency == "JPY" and price.amount >= instalments_from(checkout.merchant)


def plan_label(plan: Mapping[str, Any] | None) -> str:
    """一括払い / 分割払い（12回）/ ボーナス一括払い / リボ払い, localized."""
    kind = (plan or {}).get("plan")
    if kind == SPLIT:
        count = int((plan or {}).get("count", 0))
        return _("%(num)d instalments (分割払い)", num=count)
    if kind == BONUS:
        return _("Bonus-month lump sum (ボーナス一括)")
    if kind == REVOLVING:
        return _("Revolving payment (リボ払い)")
    return _("Pay in full (一括払い)")


def instalment_options() -> tuple[tuple[str, str], ...]:
    """(form value, label) in the order a Japanese card form lists them."""
    return _options_in(current_locale())


# Twelve labels from the catalog on every JPY card form: the same for every page in a
# language, so they are looked up once per language (the catalog ships with the code).
@lru_cache(maxsize=8)
def _options_in(_locale: str) -> tuple[tuple[str, str], ...]:
    options = [(LUMP, plan_label({"plan": LUMP}))]
    options += [(f"{SPLIT}_{n}", plan_label({"plan": SPLIT, "count": n})) for n in SPLIT_COUNTS]
    options += [(BONUS, plan_label({"plan": BONUS})), (REVOLVING, plan_label({"plan": REVOLVING}))]
    return tuple(options)


def parse_choice(value: str) -> dict[str, Any] | None:
    if value in (LUMP, BONUS, REVOLVING):
        return {"plan": value}
    if value.startswith(f"{SPLIT}_"):
        count = value.removeprefix(f"{SPLIT}_")
        if count.isdigit() and int(count) in SPLIT_COUNTS:
            return {"plan": SPLIT, "count": int(count)}
    return None


@form_parser("card")
def parse_instalments(checkout: CheckoutSession,
                      form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    if not offers_instalments(checkout):
        return {}, {}
    plan = parse_choice(form.get("instalments", LUMP) or LUMP)
    if plan is None:
        return {}, {"instalments": _("Please choose how to pay from the list.")}
    return {"instalments": plan}, {}


def _card_forward_for_large_amounts(method: PaymentMethod, checkout: Any, amount: int,
                                    currency: str) -> int:
    """Large yen amounts are often paid by card in instalments: card goes first."""
    if method.id == "card" and checkout is not None and currency == "JPY" \
            and amount >= instalments_from(checkout.merchant):
        return 10_000
    return 0


WEIGHT_RULES.append(_card_forward_for_large_amounts)
