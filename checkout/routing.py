"""Which gateway a payment goes to, and what happens when that gateway fails.

**Rules.** An ordered table; the first rule that matches a payment names its gateway and the
backups to fail over to, in order. A merchant's own rules (``settings["gateway_routes"]``) come
before the operator's (``KESSAI_GATEWAY_ROUTES``); without a match the payment goes to the
default gateway (``KESSAI_GATEWAY_NAME``). A rule matches on any of::

    {"methods": ["card"], "currencies": ["JPY"], "min_amount": 10000, "max_amount": 99999999,
     "goods": "digital", "countries": ["JP"], "gateway": "acquirer-a", "backups": ["acquirer-b"]}

(amounts in minor units, bounds inclusive; ``goods`` is the session's ``metadata.goods``,
``countries`` the shopper's address country when the session collects one).

**What a gateway can take.** Stripe is mapped for cards only (``METHODS_BY_TYPE``): a rule
that would send it a konbini or wallet payment is passed over for that payment (its backups
that can take it are used, else the next rule), and a rule that names such a method for it
is refused when the table is set — so no shopper ever meets ``method_unsupported``.

**Circuit breakers.** Each gateway has one, in the database (``gateway_circuits``) so every
node and worker sees the same. ``KESSAI_GATEWAY_BREAKER_FAILURES`` unreachable calls in a row
open it: for ``KESSAI_GATEWAY_BREAKER_SECONDS`` nothing is sent there. Then one call — the
half-open probe, claimed by a conditional UPDATE so exactly one request makes it — is let
through; its success closes the breaker, its failure opens it again.

**Failover** (payments._send) moves a payment to the next gateway only when the one before
provably did not take it: the connection was refused (nothing was sent), or, after a timeout,
the gateway answers an idempotent look-up with "no such payment". When neither can be known,
the payment stays with that gateway as ``processing`` and the worker settles it there later.
A payment is never sent to two gateways that might both charge it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from .db import get_engine
from .ids import now
from .models import CheckoutSession, GatewayCircuit

log = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
RULE_KEYS = frozenset({"methods", "currencies", "min_amount", "max_amount", "goods",
                       "countries", "gateway", "backups"})
# The Kessai methods a configured gateway of each type can be sent; a type not listed takes
# every method (the sandbox plays them all, embedded or over HTTP). gateway/stripe_adapter.py
# refuses anything else, and a test holds the two together.
METHODS_BY_TYPE: dict[str, frozenset[str]] = {"stripe": frozenset({"card"})}


@dataclass(frozen=True)
class Route:
    gateway: str
    backups: tuple[str, ...] = ()
    methods: frozenset[str] | None = None
    currencies: frozenset[str] | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    goods: str | None = None
    countries: frozenset[str] | None = None

    @classmethod
    def parse(cls, rule: Mapping[str, Any]) -> Route:
        """One rule from settings; ValueError says what is wrong with it."""
        unknown = set(rule) - RULE_KEYS
        if unknown:
            raise ValueError(f"unknown keys in a gateway route: {sorted(unknown)}")
        if not isinstance(rule.get("gateway"), str) or not rule["gateway"]:
            raise ValueError("a gateway route needs a gateway name")

        def names(key: str) -> frozenset[str] | None:
            value = rule.get(key)
            if value is None:
                return None
            if not isinstance(value, str | list) or not all(
                    isinstance(item, str) for item in ([value] if isinstance(value, str)
                                                      else value)):
                raise ValueError(f"{key} is a name or a list of names")
            items = [value] if isinstance(value, str) else list(value)
            return frozenset(items)

        def amount(key: str) -> int | None:
            value = rule.get(key)
            if value is not None and type(value) is not int:
                raise ValueError(f"{key} is an integer amount in minor units")
            return value

        if rule.get("goods") is not None and not isinstance(rule["goods"], str):
            raise ValueError("goods is a name (digital, physical)")
        names("backups")  # checked; kept in order: the first backup is tried first
        backups = rule.get("backups") or []
        return cls(gateway=rule["gateway"],
                   backups=tuple([backups] if isinstance(backups, str) else backups),
                   methods=names("methods"),
                   currencies=frozenset(c.upper() for c in names("currencies") or ()) or None,
                   min_amount=amount("min_amount"), max_amount=amount("max_amount"),
                   goods=rule.get("goods"),
                   countries=frozenset(c.upper() for c in names("countries") or ()) or None)

    def matches(self, method: str, currency: str, amount: int, goods: str | None,
                country: str | None) -> bool:
        return ((self.methods is None or method in self.methods)
                and (self.currencies is None or currency in self.currencies)
                and (self.min_amount is None or amount >= self.min_amount)
                and (self.max_amount is None or amount <= self.max_amount)
                and (self.goods is None or goods == self.goods)
                and (self.countries is None or (country or "").upper() in self.countries))


def default_gateway() -> str:
    return str(current_app.config.get("GATEWAY_NAME") or "sandbox")


def known_gateways() -> list[str]:
    return [default_gateway(), *(current_app.config.get("GATEWAYS") or {})]


def takes(gateway: str, method: str) -> bool:
    """Whether ``gateway`` can be sent a payment by ``method``."""
    spec = (current_app.config.get("GATEWAYS") or {}).get(gateway) or {}
    methods = METHODS_BY_TYPE.get(str(spec.get("type") or ""))
    return methods is None or method in methods


def is_remote(spec: Mapping[str, Any]) -> bool:
    """A named gateway reached over the network (the HTTP contract, or Stripe): it tells Kessai
    of outcomes by signed events, where an embedded sandbox tells it in process."""
    return bool(spec.get("url")) or spec.get("type") == "stripe"


def routes_for(checkout: CheckoutSession) -> list[Route]:
    merchant_rules = (checkout.merchant.settings or {}).get("gateway_routes") or []
    operator_rules = current_app.config.get("GATEWAY_ROUTES") or []
    return [Route.parse(rule) for rule in (*merchant_rules, *operator_rules)]


def choose(checkout: CheckoutSession, method: str, currency: str, amount: int) -> list[str]:
    """The gateways to try for this payment, in order: the first matching rule's gateway and
    backups that can take this method."""
    goods = (checkout.metadata_ or {}).get("goods")
    country = (checkout.address or {}).get("country")
    for route in routes_for(checkout):
        if route.matches(method, currency, amount, goods, country):
            able = [name for name in dict.fromkeys((route.gateway, *route.backups))
                    if takes(name, method)]
            if able:
                return able
    return [default_gateway()]


def validate_routes(rules: Iterable[Mapping[str, Any]], gateways: Iterable[str]) -> None:
    """Refuse a table that names a gateway nobody configured (at start-up, not at payment)."""
    configured = set(gateways)
    for rule in rules:
        route = Route.parse(rule)
        for name in (route.gateway, *route.backups):
            if name not in configured:
                raise ValueError(f"gateway route names {name!r}, which is not configured "
                                 f"(configured: {', '.join(sorted(configured))})")
            refused = sorted(m for m in route.methods or () if not takes(name, m))
            if refused:
                raise ValueError(f"gateway {name!r} cannot take {', '.join(refused)} "
                                 f"(docs/gateway.md says which method can go where)")


# ---- circuit breakers ---------------------------------------------------------------------

def allows(gateway: str) -> bool:
    """Whether a call may go to ``gateway`` now (closed; or this call is the half-open probe)."""
    current = now()
    with get_engine().begin() as connection:
        row = connection.execute(select(GatewayCircuit.state, GatewayCircuit.open_until)
                                 .where(GatewayCircuit.gateway == gateway)).first()
        if row is None or row.state == CLOSED:
            return True
        if row.open_until > current:
            return False  # cooling down, or another request's probe is in flight
        # One caller wins the probe; its lease (the gateway deadline) ends a probe that died.
        lease = int(float(current_app.config.get("GATEWAY_DEADLINE_SECONDS") or 12)) + 1
        claimed = connection.execute(
            update(GatewayCircuit)
            .where(GatewayCircuit.gateway == gateway, GatewayCircuit.state == row.state,
                   GatewayCircuit.open_until == row.open_until)
            .values(state=HALF_OPEN, open_until=current + lease, updated=current))
        won = claimed.rowcount == 1  # type: ignore[attr-defined]
    if won:
        log.info("gateway %s: half-open, probing with one call", gateway)
    return won


def record_success(gateway: str) -> None:
    with get_engine().begin() as connection:
        moved = connection.execute(
            update(GatewayCircuit)
            .where(GatewayCircuit.gateway == gateway,
                   (GatewayCircuit.state != CLOSED) | (GatewayCircuit.failures_in_a_row != 0))
            .values(state=CLOSED, failures_in_a_row=0, open_until=0, updated=now()))
    if moved.rowcount:  # type: ignore[attr-defined]
        log.info("gateway %s: answering again, circuit closed", gateway)


def record_failure(gateway: str) -> None:
    """An unreachable call: count it, and open the breaker at the threshold (or at once when
    the failed call was the half-open probe)."""
    current = now()
    threshold = max(1, int(current_app.config.get("GATEWAY_BREAKER_FAILURES", 3)))
    cooldown = max(1, int(current_app.config.get("GATEWAY_BREAKER_SECONDS", 30)))
    _ensure_row(gateway)
    with get_engine().begin() as connection:
        connection.execute(update(GatewayCircuit).where(GatewayCircuit.gateway == gateway)
                           .values(failures_in_a_row=GatewayCircuit.failures_in_a_row + 1,
                                   updated=current))
        row = connection.execute(select(GatewayCircuit.state, GatewayCircuit.failures_in_a_row)
                                 .where(GatewayCircuit.gateway == gateway)).one()
        if row.state == HALF_OPEN or row.failures_in_a_row >= threshold:
            connection.execute(update(GatewayCircuit).where(GatewayCircuit.gateway == gateway)
                               .values(state=OPEN, open_until=current + cooldown))
            log.warning("gateway %s: %s failures in a row, circuit open for %s s", gateway,
                        row.failures_in_a_row, cooldown)


def circuit_states() -> dict[str, str]:
    """Every configured gateway's breaker state (closed when it never failed)."""
    with get_engine().connect() as connection:
        rows = dict(connection.execute(select(GatewayCircuit.gateway, GatewayCircuit.state))
                    .all())
    return {name: rows.get(name, CLOSED) for name in known_gateways()}


def _ensure_row(gateway: str) -> None:
    with get_engine().connect() as connection:
        exists = connection.execute(select(GatewayCircuit.gateway)
                                    .where(GatewayCircuit.gateway == gateway)).first()
    if exists:
        return
    try:
        with get_engine().begin() as connection:
            connection.execute(insert(GatewayCircuit).values(gateway=gateway, updated=now()))
    except IntegrityError:
        pass  # another request made it first
