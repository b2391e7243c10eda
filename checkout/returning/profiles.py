"""Profiles: a shopper opts in on the card form, confirms a code sent to their e-mail or, by
text, to their Korean or Japanese mobile, and is remembered by every merchant of this Kessai
host — their cards as the gateway's tokens (brand and last 4; never a number), and the details
they type while signed in on this device: names and kana, contact, addresses, the konbini
chain, card company and method they chose (``REMEMBERED_FIELDS``). Each is shown and deletable
on their Kessai page.

The device cookie (signed with the app's secret, itsdangerous) only says which profile last
used this browser: it prefills the page and names the card, and never pays by itself — a
payment from a profile needs a passkey assertion bound to that payment (``passkeys``)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..addresses import address_form_kind
from ..db import get_db
from ..emails import looks_like_email
from ..fx.pricing import payable
from ..gateway import GatewayError, get_gateway
from ..gateway.base import CardToken
from ..ids import new_id, now
from ..models import CheckoutSession, Enrolment, SavedCard, ShopperProfile, VaultDeletion
from ..notify import EMAIL, SMS, queue_message
from ..phones import display_mobile, normalize_mobile
from ..routing import choose, known_gateways

log = logging.getLogger(__name__)

DEVICE_COOKIE = "kessai_shopper"
DEVICE_MAX_AGE = 180 * 86400
CODE_TTL_SECONDS = 15 * 60
MAX_CODE_ATTEMPTS = 5
CODE_KIND = "verification_code"  # notify.py kind


def _code_hash(enrolment_id: str, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{enrolment_id}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Contact:
    """Who a shopper is to Kessai: an e-mail address or a mobile number (E.164)."""

    email: str | None = None
    phone: str | None = None


def parse_contact(text: str) -> Contact | None:
    """What a shopper typed in "remember me": a Korean (010) or Japanese (070/080/090) mobile
    number, else an e-mail address; None when it is neither."""
    phone = normalize_mobile(text)
    if phone is not None:
        return Contact(phone=phone)
    email = normalize_email(text)
    return Contact(email=email) if email is not None else None


def start_enrolment(db: Session, checkout: CheckoutSession, contact: Contact,
                    card: CardToken | None, gateway: str | None,
                    details: Mapping[str, Any] | None = None) -> Enrolment:
    """"Remember me" on a payment: keep the card's token and the details typed with it until
    the shopper confirms the code we send now — by e-mail, or by text to a mobile (the caller
    commits)."""
    enrolment = Enrolment(id=new_id("enr"), session_id=checkout.id, email=contact.email,
                          phone=contact.phone,
                          card={**card.to_json(), "gateway": gateway} if card else {},
                          details=dict(details or {}),
                          code_hash="", attempts=0, expires_at=now() + CODE_TTL_SECONDS,
                          created=now())
    code = f"{secrets.randbelow(10**6):06d}"
    enrolment.code_hash = _code_hash(enrolment.id, code)
    db.add(enrolment)
    if contact.phone:
        # A text is read on a lock screen: who it is from, the code, short enough for one
        # SMS (90 bytes in Korea, where a Hangul syllable takes two).
        queue_message(db, channel=SMS, to=contact.phone, kind=CODE_KIND, session_id=checkout.id,
                      body=_("[Kessai] Code %(code)s: enter it on the payment page within "
                             "15 minutes.", code=code))
        return enrolment
    body = "\n\n".join([
        _("Your Kessai code: %(code)s", code=code),
        _("Enter it on the payment page to be remembered for faster checkout at %(merchant)s "
          "and other shops that use Kessai. It works for 15 minutes.",
          merchant=checkout.merchant.name),
        _("If you did not ask for it, ignore this message: nothing is saved without the code."),
    ])
    queue_message(db, channel=EMAIL, to=contact.email or "", body=body, kind=CODE_KIND,
                  session_id=checkout.id)
    return enrolment


def enrolment_for(db: Session, checkout: CheckoutSession) -> Enrolment | None:
    return db.scalar(select(Enrolment).where(Enrolment.session_id == checkout.id))


def confirm(db: Session, enrolment: Enrolment, code: str,
            checkout: CheckoutSession) -> ShopperProfile | None:
    """The profile once the code is right (created, or the one with this e-mail); None for a
    wrong, expired or used-up code. At most ``MAX_CODE_ATTEMPTS`` tries: a guess counts
    before it is checked, so parallel guesses cannot exceed it."""
    if enrolment.verified_at is not None:
        return db.get(ShopperProfile, enrolment.profile_id) if enrolment.profile_id else None
    counted = db.execute(
        update(Enrolment).where(Enrolment.id == enrolment.id,
                                Enrolment.attempts < MAX_CODE_ATTEMPTS,
                                Enrolment.verified_at.is_(None))
        .values(attempts=Enrolment.attempts + 1).execution_options(synchronize_session=False)
    ).rowcount == 1  # type: ignore[attr-defined]
    db.commit()
    db.refresh(enrolment)
    digits = "".join(c for c in code if c.isdigit())
    if not counted or enrolment.expires_at < now() or not hmac.compare_digest(
            _code_hash(enrolment.id, digits), enrolment.code_hash):
        return None
    profile = db.scalar(select(ShopperProfile).where(
        ShopperProfile.email == enrolment.email if enrolment.email
        else ShopperProfile.phone == enrolment.phone))
    if profile is None:
        profile = ShopperProfile(id=new_id("shp"), email=enrolment.email, phone=enrolment.phone,
                                 created=now(), name=(checkout.customer or {}).get("name"),
                                 details={})
        db.add(profile)
    remember_details(profile, enrolment.details or {})
    card = enrolment.card or {}
    if card.get("token"):
        saved = SavedCard(
            id=new_id("card"), gateway=str(card.get("gateway") or ""), token=str(card["token"]),
            brand=card.get("brand"), last4=str(card["last4"]), exp_month=int(card["exp_month"]),
            exp_year=int(card["exp_year"]), created=now())
        # The same card remembered again (another order, another device) has a new token:
        # keep one card, charged by the newest token.
        same = next((c for c in profile.cards if (c.gateway, c.brand, c.last4, c.exp_month,
                                                   c.exp_year) == (saved.gateway, saved.brand,
                                                                   saved.last4, saved.exp_month,
                                                                   saved.exp_year)), None)
        if same is not None:
            same.token = saved.token
        else:
            profile.cards.append(saved)
    enrolment.verified_at = now()
    enrolment.profile_id = profile.id
    db.commit()
    return profile


# ---- deleting cards: Kessai's row now, the gateway's vault through an outbox -------------------

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


# ---- the device cookie -------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kessai-shopper-device")


def remember_device(response: Any, profile: ShopperProfile) -> Any:
    """Prefill this browser's next checkouts (a signed profile id; SameSite=None over HTTPS so
    a merchant's frame sends it too)."""
    secure = request.is_secure
    response.set_cookie(DEVICE_COOKIE, _serializer().dumps(profile.id), max_age=DEVICE_MAX_AGE,
                        httponly=True, secure=secure, samesite="None" if secure else "Lax")
    return response


def forget_device(response: Any) -> Any:
    response.delete_cookie(DEVICE_COOKIE)
    return response


def device_profile(db: Session) -> ShopperProfile | None:
    """The profile this browser's cookie names, if the cookie is ours and the profile exists."""
    value = request.cookies.get(DEVICE_COOKIE)
    if not value:
        return None
    try:
        profile_id = _serializer().loads(value, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return None
    return db.get(ShopperProfile, str(profile_id))


TICKET_MAX_AGE = 15 * 60


def sign_in_ticket(profile: ShopperProfile, checkout: CheckoutSession) -> str:
    """Who signed in with a passkey on this checkout, for the page to carry when the browser
    keeps no cookie (a merchant's frame on another site): like the device cookie it only names
    the profile — a payment still needs its own passkey assertion."""
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"],
                                        salt="kessai-sign-in-ticket")
    return serializer.dumps({"profile": profile.id, "session": checkout.id})


def ticket_profile(db: Session, ticket: str, checkout: CheckoutSession) -> ShopperProfile | None:
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"],
                                        salt="kessai-sign-in-ticket")
    try:
        data = serializer.loads(ticket, max_age=TICKET_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("session") != checkout.id:
        return None
    return db.get(ShopperProfile, str(data.get("profile")))


# ---- what a signed-in shopper types, remembered for next time -------------------------------

# Form fields worth not typing again, by the name every form gives them: names and kana and the
# contact of the Japanese forms, the name on a card, a 가상계좌 depositor, and choices — the
# konbini chain, the Korean card company, the bank. Never a card number, code or consent.
REMEMBERED_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana",
                     "email", "phone", "card_name", "depositor_name",
                     "konbini_store", "card_company", "deposit_bank")
MAX_ADDRESSES = 5
FIELD_MAX = 100


def details_from(checkout: CheckoutSession, method_id: str,
                 form: Mapping[str, str]) -> dict[str, Any]:
    """What this payment's form (already validated) adds to a profile: the fields above as
    typed, the address the session now holds, and the method chosen (a wallet, konbini …)."""
    fields = {key: " ".join(str(form.get(key, "")).split())[:FIELD_MAX]
              for key in REMEMBERED_FIELDS if str(form.get(key, "")).strip()}
    details: dict[str, Any] = {"fields": fields, "method": method_id}
    address = {key: value for key, value in (checkout.address or {}).items() if key != "type"}
    if address.get("line1"):
        details["addresses"] = [address]
    return details


def remember_details(profile: ShopperProfile, learned: Mapping[str, Any]) -> None:
    """Merge what a payment taught into the profile (the caller commits): newer fields win,
    an address already kept moves to the front, at most ``MAX_ADDRESSES``."""
    if not learned:
        return
    current = dict(profile.details or {})
    fields = {**current.get("fields", {}), **learned.get("fields", {})}
    addresses = list(learned.get("addresses", []))
    addresses += [a for a in current.get("addresses", []) if a not in addresses]
    current.update(fields=fields, addresses=addresses[:MAX_ADDRESSES])
    if learned.get("method"):
        current["method"] = learned["method"]
    profile.details = current  # a new dict: JSON columns see assignment, not mutation
    if not profile.name and fields.get("family_name"):
        profile.name = f"{fields['family_name']} {fields.get('given_name', '')}".strip()


def forget_detail(profile: ShopperProfile, key: str) -> None:
    """Delete one remembered field (``fields.<name>``), address (``address.<n>``) or the
    preferred method (``method``) — the shopper's page's delete buttons."""
    current = dict(profile.details or {})
    kind, _sep, name = key.partition(".")
    if kind == "fields":
        current["fields"] = {k: v for k, v in current.get("fields", {}).items() if k != name}
    elif kind == "address" and name.isdigit():
        current["addresses"] = [a for i, a in enumerate(current.get("addresses", []))
                                if i != int(name)]
    elif kind == "method":
        current.pop("method", None)
    profile.details = current


def preferred_method(profile: ShopperProfile | None) -> str | None:
    return (profile.details or {}).get("method") if profile is not None else None


def prefill(profile: ShopperProfile, checkout: CheckoutSession | None = None) -> dict[str, str]:
    """Form values a remembered shopper need not type again: the e-mail or mobile they are
    known by (konbini, Pay-easy, remember me), what they typed last time while signed in, the
    name a 가상계좌 deposit is made in, and the newest address of the form this checkout shows
    (unless this session already holds one)."""
    values: dict[str, str] = {"remember_contact": profile.known_as}
    if profile.email:
        values["email"] = profile.email
    if profile.phone:
        values["phone"] = display_mobile(profile.phone).replace("-", "")
    if profile.name:
        values["depositor_name"] = profile.name
    details = profile.details or {}
    values.update(details.get("fields", {}))
    if checkout is not None and not checkout.address:
        kind = address_form_kind(checkout)
        for address in details.get("addresses", []):
            if kind and {"jp": "JP", "kr": "KR"}.get(kind, address.get("country")) == \
                    address.get("country"):
                values.update(_address_values(address, kind))
                break
    return values


def shown_address(address: Mapping[str, Any]) -> str:
    """One line, as the address's country writes it: 〒100-0001 東京都千代田区千代田1-1,
    (04524) 서울특별시 중구 세종대로 110, else line 1, line 2, city, region postal code, country."""
    line2 = address.get("line2") or ""
    if address.get("country") == "JP":
        postal = str(address.get("postal_code") or "")
        if len(postal) == 7 and postal.isdigit():
            postal = f"{postal[:3]}-{postal[3:]}"
        place = "".join(str(address.get(k) or "") for k in ("state", "city", "line1"))
        return " ".join(part for part in (f"〒{postal}", place, line2) if part)
    if address.get("country") == "KR":
        return " ".join(part for part in (f"({address.get('postal_code') or ''})",
                                          address.get("line1") or "", line2) if part)
    region = " ".join(str(address.get(k) or "") for k in ("state", "postal_code")).strip()
    return ", ".join(str(part) for part in (address.get("line1"), line2, address.get("city"),
                                            region, address.get("country")) if part)


def _address_values(address: Mapping[str, Any], kind: str) -> dict[str, str]:
    values = {"postal_code": address.get("postal_code") or "", "city": address.get("city") or "",
              "address_line1": address.get("line1") or "",
              "address_line2": address.get("line2") or "",
              "country": address.get("country") or "", "state": address.get("state") or ""}
    if kind == "jp":
        values["prefecture"] = values["state"]
    return values


def usable_card(profile: ShopperProfile | None, gateways: set[str]) -> SavedCard | None:
    """The profile's newest card that a gateway of this checkout can charge, not expired."""
    if profile is None:
        return None
    today = datetime.now(UTC)
    for card in reversed(profile.cards):
        if card.gateway in gateways and (card.exp_year, card.exp_month) >= (today.year,
                                                                           today.month):
            return card
    return None


def returning_view(checkout: CheckoutSession,
                   profile: ShopperProfile | None = None) -> dict[str, Any] | None:
    """What the pay page shows a recognised shopper (by this browser's cookie, or ``profile``
    just signed in with a passkey): their card and the one-click button."""
    profile = profile or device_profile(get_db())
    card = usable_card(profile, set(known_gateways()))
    if profile is None or card is None or checkout.status != "open":
        return None
    return {"profile": profile, "card": card,
            "has_passkey": bool(profile.passkeys),
            "ticket": sign_in_ticket(profile, checkout), "attempt": checkout.attempt}


def normalize_email(text: str) -> str | None:
    """An address as typed (full-width characters and spaces forgiven), lower-cased, or None
    when it is not one."""
    address = unicodedata.normalize("NFKC", text or "").strip().lower()
    if len(address) > 254 or not looks_like_email(address):
        return None
    return address


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


def awaiting_code(db: Session, checkout: CheckoutSession) -> bool:
    enrolment = enrolment_for(db, checkout)
    return enrolment is not None and enrolment.verified_at is None and \
        enrolment.attempts < MAX_CODE_ATTEMPTS
