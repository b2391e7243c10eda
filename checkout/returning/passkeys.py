"""Passkeys (WebAuthn, py_webauthn): registration at opt-in, sign-in that recognises a
returning shopper, and the confirmation of one payment.

Every challenge is made and kept here (``passkey_challenges``), expires with the ceremony and
is used once: claimed by one conditional UPDATE before the signature is even checked, so a
replayed assertion — or two at once — finds it used. A payment's challenge is bound to the
checkout session, the amount and currency the shopper pays now, the payee (the merchant) and
the saved card; the assertion is refused when any of them differs when it comes back. User
verification (the fingerprint or face, not just a touch) is required in the options *and*
checked on the server; the sign count must grow; origin and RP ID hash are checked by
py_webauthn against this host's public URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..ids import new_id, now
from ..models import CheckoutSession, Passkey, PasskeyChallenge, SavedCard, ShopperProfile

CEREMONY_SECONDS = 120  # the browser's timeout; the challenge expires with it
REGISTER, SIGN_IN, PAY = "register", "sign_in", "pay"


class PasskeyRefused(Exception):
    """The assertion or attestation is not accepted; ``reason`` says why (for logs/tests)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Binding:
    """What a payment's challenge is bound to: checked again when the assertion comes back."""

    session_id: str
    amount: int
    currency: str
    payee: str
    saved_card_id: str


def rp_id() -> str:
    """This Kessai host (a domain: WebAuthn refuses IP addresses); ``KESSAI_PASSKEY_RP_ID``
    may name a parent domain shared by several Kessai hosts."""
    configured = current_app.config.get("PASSKEY_RP_ID")
    return str(configured or urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost")


def expected_origin() -> str:
    parts = urlsplit(current_app.config["PUBLIC_URL"])
    return f"{parts.scheme}://{parts.netloc}"


def _challenge(db: Session, purpose: str, options_challenge: bytes, *,
               profile: ShopperProfile | None = None, binding: Binding | None = None,
               session_id: str | None = None) -> PasskeyChallenge:
    row = PasskeyChallenge(
        id=new_id("pkc"), challenge=bytes_to_base64url(options_challenge), purpose=purpose,
        profile_id=profile.id if profile else None,
        session_id=binding.session_id if binding else session_id,
        amount=binding.amount if binding else None, currency=binding.currency if binding else None,
        payee=binding.payee if binding else None,
        saved_card_id=binding.saved_card_id if binding else None,
        expires_at=now() + CEREMONY_SECONDS)
    db.add(row)
    db.commit()
    return row


def registration_options(db: Session, profile: ShopperProfile) -> str:
    """Options for ``navigator.credentials.create``: a discoverable credential (so a returning
    shopper is recognised without a cookie, on a new device too where passkeys sync), user
    verification required."""
    options = generate_registration_options(
        rp_id=rp_id(), rp_name="Kessai", user_name=profile.known_as,
        user_id=profile.id.encode(), user_display_name=profile.name or profile.known_as,
        timeout=CEREMONY_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                             for p in profile.passkeys])
    _challenge(db, REGISTER, options.challenge, profile=profile)
    return options_to_json(options)


def register(db: Session, profile: ShopperProfile, credential: dict[str, Any]) -> Passkey:
    row = _claim(db, credential, REGISTER)
    if row.profile_id != profile.id:
        raise PasskeyRefused("challenge_for_another_profile")
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=base64url_to_bytes(row.challenge),
            expected_rp_id=rp_id(), expected_origin=expected_origin(),
            require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRefused(f"invalid_registration: {exc}") from exc
    passkey = Passkey(id=new_id("pk"), credential_id=bytes_to_base64url(verified.credential_id),
                      profile_id=profile.id, public_key=verified.credential_public_key,
                      sign_count=verified.sign_count,
                      transports=list((credential.get("response") or {}).get("transports") or []),
                      created=now())
    db.add(passkey)
    db.commit()
    return passkey


def sign_in_options(db: Session, checkout: CheckoutSession | None) -> str:
    """Options for ``navigator.credentials.get`` with no credential named: the browser offers
    this host's passkeys (conditional mediation in the e-mail field, or a button)."""
    options = generate_authentication_options(
        rp_id=rp_id(), timeout=CEREMONY_SECONDS * 1000,
        user_verification=UserVerificationRequirement.REQUIRED)
    _challenge(db, SIGN_IN, options.challenge, session_id=checkout.id if checkout else None)
    return options_to_json(options)


def payment_options(db: Session, profile: ShopperProfile, binding: Binding) -> str:
    """Options to confirm one payment: this profile's passkeys, the challenge bound."""
    options = generate_authentication_options(
        rp_id=rp_id(), timeout=CEREMONY_SECONDS * 1000,
        user_verification=UserVerificationRequirement.REQUIRED,
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                           for p in profile.passkeys])
    _challenge(db, PAY, options.challenge, profile=profile, binding=binding)
    return options_to_json(options)


def authenticate(db: Session, credential: dict[str, Any], purpose: str, *,
                 session_id: str | None = None,
                 binding: Binding | None = None) -> tuple[ShopperProfile, PasskeyChallenge]:
    """The profile whose passkey signed this challenge, with the challenge row. For ``pay``
    the challenge must be bound to exactly ``binding``; for ``sign_in`` to ``session_id``."""
    row = _claim(db, credential, purpose)
    if purpose == PAY:
        bound = Binding(str(row.session_id), int(row.amount or 0), str(row.currency),
                        str(row.payee), str(row.saved_card_id))
        if binding is None or bound != binding:
            raise PasskeyRefused("payment_changed")  # another session, amount, payee or card
    elif row.session_id != session_id:
        raise PasskeyRefused("challenge_for_another_session")
    passkey = db.scalar(select(Passkey).where(
        Passkey.credential_id == str(credential.get("rawId") or credential.get("id") or "")))
    if passkey is None:
        raise PasskeyRefused("unknown_credential")
    if purpose == PAY and passkey.profile_id != row.profile_id:
        raise PasskeyRefused("passkey_of_another_profile")
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=base64url_to_bytes(row.challenge),
            expected_rp_id=rp_id(), expected_origin=expected_origin(),
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count, require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRefused(f"invalid_assertion: {exc}") from exc
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now()
    db.commit()
    return passkey.profile, row


def card_of(profile: ShopperProfile, card_id: str) -> SavedCard | None:
    return next((card for card in profile.cards if card.id == card_id), None)


def _claim(db: Session, credential: dict[str, Any], purpose: str) -> PasskeyChallenge:
    """The challenge this credential answers, claimed for good (used once, not expired)."""
    try:
        client_data = json.loads(base64url_to_bytes(
            str((credential.get("response") or {}).get("clientDataJSON") or "")))
        challenge = str(client_data["challenge"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PasskeyRefused("unreadable_client_data") from exc
    row = db.scalar(select(PasskeyChallenge).where(PasskeyChallenge.challenge == challenge))
    if row is None or row.purpose != purpose:
        raise PasskeyRefused("unknown_challenge")
    claimed = db.execute(
        update(PasskeyChallenge)
        .where(PasskeyChallenge.id == row.id, PasskeyChallenge.used_at.is_(None),
               PasskeyChallenge.expires_at >= now())
        .values(used_at=now()).execution_options(synchronize_session=False)
    ).rowcount == 1  # type: ignore[attr-defined]
    db.commit()
    if not claimed:
        raise PasskeyRefused("challenge_used_or_expired")
    db.refresh(row)
    return row
