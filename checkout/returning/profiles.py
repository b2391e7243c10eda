"""Profiles: a shopper opts in on the card form, confirms a code sent to their e-mail or, by
text, to their Korean or Japanese mobile, and is remembered by every merchant of this Kessai
host — their cards as the gateway's tokens (brand and last 4; never a number: ``vault``), and
the details they type while signed in on this device (``details``). Each is shown and
deletable on their Kessai page.

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

from flask import current_app, g, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import get_db
from ..emails import looks_like_email
from ..gateway.base import CardToken
from ..ids import new_id, now
from ..models import CheckoutSession, Enrolment, SavedCard, ShopperProfile
from ..notify import EMAIL, SMS, queue_message
from ..phones import normalize_mobile
from ..routing import known_gateways
from .details import remember_details

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
    """The profile this browser's cookie names, if the cookie is ours and the profile exists.
    Read once per request: the pay page asks for it to order the methods, fill the forms and
    name the card, and a payment again to learn what was typed."""
    if "kessai_device_profile" not in g:
        g.kessai_device_profile = _profile_from_cookie(db)
    return g.kessai_device_profile  # type: ignore[no-any-return]


def _profile_from_cookie(db: Session) -> ShopperProfile | None:
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


def awaiting_code(db: Session, checkout: CheckoutSession) -> bool:
    enrolment = enrolment_for(db, checkout)
    return enrolment is not None and enrolment.verified_at is None and \
        enrolment.attempts < MAX_CODE_ATTEMPTS
