"""The sandbox gateway: deterministic outcomes for test numbers, a ledger in the database.

It plays a separate system, so it keeps its own table (``sandbox_payments``) and its own
idempotency. Embedded in Kessai by default; ``kessai sandbox-gateway`` serves the same ledger
over HTTP (``checkout.gateway.sandbox.server``).

Card test numbers (Stripe's):
    4242 4242 4242 4242, 5555 5555 5555 4444, 3530 1113 3330 0000 — succeed (as does any other
    valid number); 4000 0000 0000 0002 — declined; 4000 0000 0000 9995 — insufficient funds;
    4000 0000 0000 0069 — expired card; 4000 0000 0000 0119 — processing error;
    4000 0027 6000 3184 — 3-D Secure challenge.

Other methods register their behaviour with ``@sandbox_method("id")``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ...cards import detect_brand
from ...ids import new_id, now
from ...models import SandboxCardToken, SandboxPayment
from ..base import (
    FAILED,
    PENDING,
    REQUIRES_ACTION,
    SUCCEEDED,
    CardDetails,
    CardToken,
    GatewayError,
    GatewayIdempotencyConflict,
    GatewayPayment,
    PaymentRequest,
    RateTable,
)

DECLINING_CARDS = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000119": "processing_error",
}
CHALLENGE_CARDS = {"4000002760003184"}


@dataclass
class Outcome:
    status: str
    failure_code: str | None = None
    next_action: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)


# method id → behaviour(request, payment_id, links) → Outcome
Behaviour = Callable[[PaymentRequest, str, "SandboxLinks"], Outcome]
BEHAVIOURS: dict[str, Behaviour] = {}


def sandbox_method(method: str) -> Callable[[Behaviour], Behaviour]:
    def register(behaviour: Behaviour) -> Behaviour:
        BEHAVIOURS[method] = behaviour
        return behaviour

    return register


@dataclass(frozen=True)
class SandboxLinks:
    """Where the sandbox's own pages live (in Kessai, or on the sandbox HTTP server)."""

    base_url: str

    def challenge(self, payment_id: str) -> str:
        return f"{self.base_url}/sandbox/challenge/{payment_id}"

    def page(self, kind: str, payment_id: str) -> str:
        return f"{self.base_url}/sandbox/{kind}/{payment_id}"


def test_outcome(number: str) -> str | None:
    """What a test card does: a decline code, ``"challenge"``, or None (it pays)."""
    if number in DECLINING_CARDS:
        return DECLINING_CARDS[number]
    return "challenge" if number in CHALLENGE_CARDS else None


def _card_outcome(outcome: str | None, request: PaymentRequest, payment_id: str,
                  links: SandboxLinks) -> Outcome:
    if outcome is None:
        return Outcome(SUCCEEDED)
    if outcome != "challenge":
        return Outcome(FAILED, outcome)
    if (request.details.get("authentication") or {}).get("method") == "passkey":
        # The shopper confirmed with a passkey (user verified): authenticated, frictionless.
        return Outcome(SUCCEEDED)
    return Outcome(REQUIRES_ACTION,
                   next_action={"type": "challenge", "url": links.challenge(payment_id)})


@sandbox_method("card")
def _card(request: PaymentRequest, payment_id: str, links: SandboxLinks) -> Outcome:
    if request.card is None:
        raise GatewayError("card details are required for method card", "parameter_missing")
    return _card_outcome(test_outcome(request.card.number), request, payment_id, links)


class SandboxLedger:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        links: SandboxLinks,
        latency_ms: int = 0,
        notify: Callable[[GatewayPayment], None] | None = None,
    ) -> None:
        self._sessions = session_factory
        self.links = links
        self.latency_ms = latency_ms
        self.notify = notify

    # -- the contract -------------------------------------------------------------------
    def create(self, request: PaymentRequest) -> GatewayPayment:
        behaviour = BEHAVIOURS.get(request.method)
        if behaviour is None:
            raise GatewayError(f"method {request.method!r} is not supported", "method_unsupported")
        if self.latency_ms:
            # A real gateway is a network hop and an acquirer away; demos should feel it.
            time.sleep(self.latency_ms / 1000)
        fingerprint = request.fingerprint()
        with self._sessions() as db:
            existing = db.scalar(
                select(SandboxPayment).where(
                    SandboxPayment.idempotency_key == request.idempotency_key
                )
            )
            if existing is not None:
                return self._replay(existing, fingerprint)
            payment_id = new_id("gwpay")
            brand, last4 = (detect_brand(request.card.number), request.card.number[-4:]) \
                if request.card else (None, None)
            if request.card_token is not None:  # a card from the vault, charged again
                saved = db.get(SandboxCardToken, request.card_token)
                if saved is None or request.method != "card":
                    raise GatewayError("no such card token", "token_invalid")
                brand, last4 = saved.brand, saved.last4
                outcome = _card_outcome(saved.outcome, request, payment_id, self.links)
            else:
                outcome = behaviour(request, payment_id, self.links)
            row = SandboxPayment(
                id=payment_id,
                idempotency_key=request.idempotency_key,
                request_fingerprint=fingerprint,
                status=outcome.status,
                method=request.method,
                amount=request.amount,
                currency=request.currency,
                failure_code=outcome.failure_code,
                card_brand=brand,
                card_last4=last4,
                details={**request.details, **outcome.details},
                next_action=outcome.next_action,
                return_url=request.return_url,
                created=now(),
            )
            db.add(row)
            try:
                db.commit()
            except IntegrityError:
                # A parallel request with the same key won the race: replay its payment.
                db.rollback()
                winner = db.scalar(
                    select(SandboxPayment).where(
                        SandboxPayment.idempotency_key == request.idempotency_key
                    )
                )
                if winner is None:
                    raise
                return self._replay(winner, fingerprint)
            return to_gateway_payment(row)

    def tokenize(self, card: CardDetails) -> CardToken:
        """Keep a card to charge again: the vault keeps its brand, last 4, expiry and test
        outcome — not the number (so no number is at rest, not even in the sandbox)."""
        token = CardToken(new_id("tok"), detect_brand(card.number), card.number[-4:],
                          card.exp_month, card.exp_year)
        with self._sessions() as db:
            db.add(SandboxCardToken(token=token.token, brand=token.brand, last4=token.last4,
                                    exp_month=token.exp_month, exp_year=token.exp_year,
                                    outcome=test_outcome(card.number), created=now()))
            db.commit()
        return token

    def forget(self, token: str) -> None:
        with self._sessions() as db:
            db.execute(delete(SandboxCardToken).where(SandboxCardToken.token == token))
            db.commit()

    def get(self, payment_id: str) -> GatewayPayment:
        with self._sessions() as db:
            row = db.get(SandboxPayment, payment_id)
            if row is None:
                raise GatewayError(f"no payment {payment_id}", "resource_missing")
            return to_gateway_payment(row)

    def find(self, idempotency_key: str) -> GatewayPayment | None:
        with self._sessions() as db:
            row = db.scalar(
                select(SandboxPayment).where(SandboxPayment.idempotency_key == idempotency_key)
            )
            return to_gateway_payment(row) if row else None

    # -- the sandbox's own controls (its pages and test-mode API) ---------------------------
    def return_url(self, payment_id: str) -> str | None:
        with self._sessions() as db:
            row = db.get(SandboxPayment, payment_id)
            return row.return_url if row else None

    def resolve(
        self, payment_id: str, status: str, failure_code: str | None = None,
        from_statuses: tuple[str, ...] = (REQUIRES_ACTION, PENDING),
    ) -> GatewayPayment:
        """Move a waiting payment to a final status (3-D Secure answered, slip paid …).

        One conditional UPDATE, so an approval and a cancellation racing each other (in any
        number of processes, on SQLite as on PostgreSQL) settle the payment once: the first
        write wins and the other sees the final payment unchanged.
        """
        values: dict[str, Any] = {"status": status, "failure_code": failure_code}
        if status != PENDING:
            values["next_action"] = None
        with self._sessions() as db:
            changed = db.execute(
                update(SandboxPayment)
                .where(SandboxPayment.id == payment_id, SandboxPayment.status.in_(from_statuses))
                .values(**values)
            ).rowcount == 1  # type: ignore[attr-defined]
            db.commit()
            row = db.get(SandboxPayment, payment_id)
            if row is None:
                raise GatewayError(f"no payment {payment_id}", "resource_missing")
            payment = to_gateway_payment(row)
        if changed and self.notify is not None:
            self.notify(payment)
        return payment

    def cancel(self, payment_id: str) -> GatewayPayment:
        """The merchant side gave up on a waiting payment (the shopper chose another method)."""
        return self.resolve(payment_id, FAILED, "payment_canceled")

    def _replay(self, row: SandboxPayment, fingerprint: str) -> GatewayPayment:
        if row.request_fingerprint != fingerprint:
            raise GatewayIdempotencyConflict()
        return to_gateway_payment(row)


def to_gateway_payment(row: SandboxPayment) -> GatewayPayment:
    return GatewayPayment(
        id=row.id,
        status=row.status,
        method=row.method,
        amount=row.amount,
        currency=row.currency,
        failure_code=row.failure_code,
        card_brand=row.card_brand,
        card_last4=row.card_last4,
        next_action=row.next_action,
        details=dict(row.details or {}),
        idempotency_key=row.idempotency_key,
        created=row.created,
    )


def embedded_ledger() -> SandboxLedger:
    """The ledger inside Kessai's own process and database. It tells Kessai of a payment it
    settles through the event sink ``create_app`` hands it (``kessai.gateway_event_sink``),
    as the HTTP sandbox posts the same event to ``/gateway/events``."""
    assert has_app_context()
    return SandboxLedger(
        current_app.extensions["kessai.db"],
        # Same origin as Kessai: relative links keep working behind any host name.
        SandboxLinks(""),
        latency_ms=current_app.config.get("SANDBOX_LATENCY_MS", 0),
        notify=current_app.extensions.get("kessai.gateway_event_sink"),
    )


class EmbeddedSandboxGateway:
    """The sandbox ledger inside Kessai's own process and database."""

    def _ledger(self) -> SandboxLedger:
        return embedded_ledger()

    def get_rates(self) -> RateTable:
        """Intraday sandbox rates near the ECB reference, on Kessai's FX clock (so a test that
        moves the clock moves the rates)."""
        from ...fx.clock import now as fx_now
        from .rates import sandbox_rate_table

        return sandbox_rate_table(fx_now())

    def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        return self._ledger().create(request)

    def get_payment(self, payment_id: str) -> GatewayPayment:
        return self._ledger().get(payment_id)

    def find_payment(self, idempotency_key: str) -> GatewayPayment | None:
        return self._ledger().find(idempotency_key)

    def cancel_payment(self, payment_id: str) -> GatewayPayment:
        return self._ledger().cancel(payment_id)

    def tokenize_card(self, card: CardDetails) -> CardToken:
        return self._ledger().tokenize(card)

    def forget_card(self, token: str) -> None:
        self._ledger().forget(token)

    def ledger(self) -> SandboxLedger:
        return self._ledger()

    def test_controls(self) -> EmbeddedControls:
        return EmbeddedControls(self)


class EmbeddedControls:
    """The embedded sandbox decides a waiting payment in its ledger, which tells Kessai in
    process; having no clock, it leaves expiring its slips to Kessai's worker."""

    plays_the_clock = True

    def __init__(self, gateway: EmbeddedSandboxGateway) -> None:
        self.gateway = gateway

    def settle(self, payment_id: str, status: str,
               failure_code: str | None = None) -> GatewayPayment | None:
        self.gateway.ledger().resolve(payment_id, status, failure_code,
                                      from_statuses=(PENDING,))
        return None
