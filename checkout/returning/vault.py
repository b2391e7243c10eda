"""Saved cards in the gateway's vault: kept there when a shopper asks to be remembered
(``tokenize``), and forgotten there when they delete a card or everything — Kessai's row goes
at once, the gateway's copy through an outbox (``vault_deletions``) the worker sends, again on
each tick while the gateway cannot be reached."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import get_db
from ..fx.pricing import payable
from ..gateway import GatewayError, get_gateway
from ..gateway.base import CardToken
from ..ids import new_id, now
from ..models import CheckoutSession, SavedCard, ShopperProfile, VaultDeletion
from ..routing import choose, known_gateways

log = logging.getLogger(__name__)

def tokenize(checkout: CheckoutSession, card: Any) -> tuple[str, CardToken] | None:
    """Keep the card in the vault of the gateway this payment goes to: ``(gateway, token)``,
    or None when that gateway has no vault or does not answer — the payment then
    goes on with the card as typed, and no card is saved."""
    price = payable(checkout)
    name = choose(checkout, "card", price.currency, price.amount)[0]
    # Never call a gateway inside a write transaction (the form's address is on the session
    # by now): the embedded sandbox writes through its own connection, and SQLite would lock.
    get_db().commit()
    try:
        return name, get_gateway(name).tokenize_card(card)
    except GatewayError as exc:
        log.info("card not saved for %s: %s", checkout.id, exc)
        return None


MAX_VAULT_ATTEMPTS = 20


def delete_cards(db: Session, profile: ShopperProfile, cards: list[SavedCard]) -> None:
    """The shopper deleted these cards (or everything): gone from the profile now, and each
    queued to be forgotten by the gateway that keeps it (the caller commits)."""
    for card in cards:
        db.add(VaultDeletion(id=new_id("vdel"), gateway=card.gateway, token=card.token,
                             attempts=0, created=now()))
        if card in profile.cards:
            profile.cards.remove(card)


def forget_deleted_cards(limit: int = 50) -> int:
    """Worker tick: ask each gateway to forget the cards shoppers deleted; a row goes once
    the gateway confirms, and is tried again on the next tick while it cannot be reached
    (``MAX_VAULT_ATTEMPTS`` times, then left for an operator with its last error)."""
    db = get_db()
    due = db.scalars(select(VaultDeletion).where(VaultDeletion.attempts < MAX_VAULT_ATTEMPTS)
                     .order_by(VaultDeletion.created).limit(limit)).all()
    forgotten = 0
    for deletion in due:
        deletion.attempts += 1
        try:
            if deletion.gateway in known_gateways():
                get_gateway(deletion.gateway).forget_card(deletion.token)
        except GatewayError as exc:  # GatewayUnavailable included
            deletion.last_error = str(exc)[:500]
            log.warning("saved card not yet forgotten by %s: %s", deletion.gateway, exc)
        else:
            db.delete(deletion)
            forgotten += 1
        db.commit()
    return forgotten
