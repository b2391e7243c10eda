"""Payment flows: how one kind of payment runs, from the pay form to its last event.

A :class:`~checkout.methods.PaymentMethod` holds its flow. Kessai asks the flow of the
payment's *own* method, so a flow never sees another flow's payments and never has to ask
whose a payment is:

* ``parse_form`` — the flow's own fields on the pay form (a method adds its fields with
  ``method_forms.form_parser``);
* ``answer`` — what the browser gets while the gateway waits on the shopper, for the typed
  ``next_action`` (``checkout.gateway.base.NextAction``) of this flow's kinds;
* ``on_pending`` / ``on_paid_later`` / ``on_failed`` — the payment's later life, inside the
  transaction that recorded the gateway's answer (may add rows and outbox events, never
  commits);
* ``blueprints`` — its pages (a slip, a QR page), registered once however many methods share it.

Four flows exist: cards (a 3-D Secure challenge, perhaps), redirects (a bank's or carrier's
page), wallets (a redirect on a phone, a QR on a computer: ``checkout/wallets.py``) and vouchers
(a slip paid later: ``checkout/vouchers``). How to add a method or a flow: docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import url_for
from sqlalchemy.orm import Session

from . import security
from .gateway.base import CHALLENGE, REDIRECT, NextAction
from .htmx import navigate
from .models import CheckoutSession, Payment


class Flow:
    """The interface, with the answers of a flow that has nothing to add."""

    id = "flow"
    takes_card = False  # the pay form's card fields go to the gateway (checkout/cards.py)
    blueprints: tuple[Any, ...] = ()

    def parse_form(self, checkout: CheckoutSession,
                   form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        """``(details for the gateway, errors by field)`` from the flow's own fields."""
        return {}, {}

    def answer(self, checkout: CheckoutSession, payment: Payment,
               action: NextAction) -> Any | None:
        """The browser's answer while the payment waits on the shopper; None: not this
        flow's kind of action (the page shows the payment as processing)."""
        return None

    def on_pending(self, db: Session, checkout: CheckoutSession, payment: Payment) -> None:
        """The gateway says: waiting for the shopper elsewhere (a slip, an account)."""

    def on_paid_later(self, db: Session, checkout: CheckoutSession, payment: Payment) -> None:
        """A session that completed unpaid (a slip was issued) has now been paid."""

    def on_failed(self, db: Session, checkout: CheckoutSession, payment: Payment) -> None:
        """The payment failed or expired."""

    def __repr__(self) -> str:
        return f"<Flow {self.id}>"


def follow(checkout: CheckoutSession, url: str) -> Any:
    """Send the shopper to a gateway's page (this page's form-action must allow it)."""
    if not url:
        return navigate(url_for("pay.checkout_page", session_id=checkout.id))
    security.allow_form_targets([url])
    return navigate(url)


class RedirectFlow(Flow):
    """A bank's or carrier's page by redirect, on every device (계좌이체, 휴대폰 결제)."""

    id = "redirect"

    def answer(self, checkout: CheckoutSession, payment: Payment,
               action: NextAction) -> Any | None:
        return follow(checkout, action.url) if action.type == REDIRECT else None


class CardFlow(Flow):
    """A card: the number goes to the gateway, perhaps through a 3-D Secure challenge."""

    id = "card"
    takes_card = True

    def answer(self, checkout: CheckoutSession, payment: Payment,
               action: NextAction) -> Any | None:
        return follow(checkout, action.url) if action.type in (CHALLENGE, REDIRECT) else None


CARD = CardFlow()
REDIRECT_FLOW = RedirectFlow()
