"""Returning shoppers' pages and the JSON endpoints ``static/js/passkeys.js`` calls.

After a paid order with "remember me": ``/pay/<id>/remember`` asks for the e-mail code, then
offers a passkey, then continues to the shop. On a later checkout: a passkey signs the
shopper in (conditional mediation or a button), the page names their card, and one more
passkey confirmation pays — bound to the session, amount, currency, payee and card. The
shopper's own page, ``/account``, shows and deletes cards, passkeys and the whole profile.
Without JavaScript every payment page keeps its normal form.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, jsonify, make_response, request, url_for
from flask_babel import gettext as _

from ..cards import BRAND_LABELS
from ..db import get_db
from ..fx.pricing import payable
from ..gateway.base import FAILED
from ..htmx import navigate
from ..ids import now
from ..methods import CATALOG
from ..models import CheckoutSession, ShopperProfile
from ..pages import render_page
from ..pay import load_checkout, respond_to_payment
from ..payments import (
    PaymentInProgress,
    SavedCharge,
    SessionNotOpen,
    StaleAttempt,
    submit_payment,
)
from ..sessions import success_redirect_url
from . import details, passkeys, profiles, vault
from .passkeys import PasskeyRefused

log = logging.getLogger(__name__)

bp = Blueprint("returning", __name__)
bp.record_once(lambda state: state.app.extensions.setdefault(
    "kessai.worker_hooks", []).append(vault.forget_deleted_cards))


# ---- after the payment: the code, then a passkey ------------------------------------------------

def _paid_enrolment(checkout: CheckoutSession) -> Any:
    enrolment = profiles.enrolment_for(get_db(), checkout)
    if enrolment is None or checkout.payment_status != "paid":
        abort(404)
    return enrolment


@bp.get("/pay/<session_id>/remember")
def remember(session_id: str) -> Any:
    checkout = load_checkout(session_id)
    enrolment = _paid_enrolment(checkout)
    step = "passkey" if enrolment.verified_at else "code"
    return render_page("returning/remember.html", passkey_page=True, checkout=checkout,
                       enrolment=enrolment, step=step,
                       continue_url=success_redirect_url(checkout))


@bp.post("/pay/<session_id>/remember")
def confirm_code(session_id: str) -> Any:
    checkout = load_checkout(session_id)
    enrolment = _paid_enrolment(checkout)
    profile = profiles.confirm(get_db(), enrolment, request.form.get("code", ""), checkout)
    if profile is None:
        left = max(0, profiles.MAX_CODE_ATTEMPTS - enrolment.attempts)
        error = (_("This code is not right or has expired. Please check it and try again.")
                 if left else _("Too many wrong codes. Nothing was saved."))
        return render_page("returning/remember.html", passkey_page=True, checkout=checkout,
                           enrolment=enrolment, step="code" if left else "failed",
                           code_error=error,
                           continue_url=success_redirect_url(checkout), status=422)
    response = make_response(navigate(url_for("returning.remember", session_id=checkout.id)))
    return profiles.remember_device(response, profile)


@bp.post("/pay/<session_id>/passkeys/register/options")
def registration_options(session_id: str) -> Any:
    checkout = load_checkout(session_id)
    profile = _enrolled_profile(checkout)
    return _json(passkeys.registration_options(get_db(), profile))


@bp.post("/pay/<session_id>/passkeys/register")
def register_passkey(session_id: str) -> Any:
    checkout = load_checkout(session_id)
    profile = _enrolled_profile(checkout)
    try:
        passkeys.register(get_db(), profile, _credential())
    except PasskeyRefused as exc:
        log.info("passkey registration refused for %s: %s", checkout.id, exc.reason)
        return _refused()
    return navigate(success_redirect_url(checkout))


def _enrolled_profile(checkout: CheckoutSession) -> ShopperProfile:
    enrolment = _paid_enrolment(checkout)
    profile = get_db().get(ShopperProfile, enrolment.profile_id) if enrolment.profile_id else None
    if profile is None:
        abort(403)  # the code comes first
    return profile


# ---- a returning shopper: sign in, then pay with one confirmation -------------------------------

@bp.post("/pay/<session_id>/passkeys/sign-in/options")
def sign_in_options(session_id: str) -> Any:
    checkout = load_checkout(session_id)
    return _json(passkeys.sign_in_options(get_db(), checkout))


@bp.post("/pay/<session_id>/passkeys/sign-in")
def sign_in(session_id: str) -> Any:
    checkout = load_checkout(session_id)
    try:
        profile, _row = passkeys.authenticate(get_db(), _credential(), passkeys.SIGN_IN,
                                              session_id=checkout.id)
    except PasskeyRefused as exc:
        log.info("passkey sign-in refused on %s: %s", checkout.id, exc.reason)
        return _refused()
    # The returning box itself, for the page to swap in: a frame of another site may keep no
    # cookie, so the page carries the sign-in (a ticket) rather than the browser.
    returning = profiles.returning_view(checkout, profile)
    if returning is None:  # no card this checkout's gateways can charge: the form, prefilled
        response = make_response(navigate(url_for("pay.checkout_page", session_id=checkout.id)))
    else:
        response = make_response(render_page("returning/box.html", checkout=checkout,
                                             returning=returning, brands=BRAND_LABELS))
    return profiles.remember_device(response, profile)


def _binding(checkout: CheckoutSession, card_id: str) -> passkeys.Binding:
    price = payable(checkout)
    return passkeys.Binding(checkout.id, price.amount, price.currency, checkout.merchant_id,
                            card_id)


@bp.post("/pay/<session_id>/passkeys/pay/options")
def payment_options(session_id: str) -> Any:
    """A challenge for this payment, bound to what the page shows now."""
    checkout = load_checkout(session_id)
    body = request.get_json(silent=True) or {}
    profile = profiles.device_profile(get_db()) or profiles.ticket_profile(
        get_db(), str(body.get("ticket", "")), checkout)
    card = passkeys.card_of(profile, str(body.get("card", ""))) if profile else None
    if profile is None or card is None or not profile.passkeys or checkout.status != "open":
        abort(409)
    return _json(passkeys.payment_options(get_db(), profile, _binding(checkout, card.id)))


@bp.post("/pay/<session_id>/passkeys/pay")
def pay_with_passkey(session_id: str) -> Any:
    """Pay with the saved card the passkey confirmed. The cookie only named the card: the
    assertion decides, and only for the session, amount, currency, payee and card it was
    issued for."""
    checkout = load_checkout(session_id)
    body = request.get_json(silent=True) or {}
    card_id = str(body.get("card", ""))
    try:
        profile, _row = passkeys.authenticate(
            get_db(), dict(body.get("credential") or {}), passkeys.PAY,
            binding=_binding(checkout, card_id))
    except PasskeyRefused as exc:
        log.info("passkey payment refused on %s: %s", checkout.id, exc.reason)
        return _refused()
    card = passkeys.card_of(profile, card_id)
    if card is None:
        return _refused()
    try:
        attempt = int(body.get("attempt", checkout.attempt))
    except (TypeError, ValueError):
        attempt = -1
    try:
        payment = submit_payment(
            checkout, attempt, "card", url_for("pay.gateway_return", session_id=checkout.id,
                                               _external=True),
            details={"authentication": {"method": "passkey", "user_verified": True,
                                        "confirmed_at": now()}},
            saved=SavedCharge(card.gateway, card.token, card.brand, card.last4))
    except (StaleAttempt, SessionNotOpen, PaymentInProgress):
        return navigate(url_for("pay.checkout_page", session_id=checkout.id))
    if payment.status == FAILED:
        log.info("saved card declined on %s: %s", checkout.id, payment.failure_code)
    return respond_to_payment(checkout, payment)


@bp.post("/pay/<session_id>/not-you")
def not_you(session_id: str) -> Any:
    """"Not you?": forget this browser's profile; the page shows the normal form."""
    checkout = load_checkout(session_id)
    return profiles.forget_device(make_response(
        navigate(url_for("pay.checkout_page", session_id=checkout.id))))


# ---- the shopper's own page ----------------------------------------------------------------------

@bp.get("/account")
def account() -> Any:
    profile = profiles.device_profile(get_db())
    return render_page("returning/account.html", passkey_page=True, profile=profile,
                       brands=BRAND_LABELS, **account_context())


def account_context() -> dict[str, Any]:
    """The names the shopper's page shows remembered choices by (a method's, an address)."""
    return {"method_names": {method.id: method.name for method in CATALOG.values()},
            "shown_address": details.shown_address}


@bp.post("/account/sign-in/options")
def account_sign_in_options() -> Any:
    return _json(passkeys.sign_in_options(get_db(), None))


@bp.post("/account/sign-in")
def account_sign_in() -> Any:
    try:
        profile, _row = passkeys.authenticate(get_db(), _credential(), passkeys.SIGN_IN)
    except PasskeyRefused as exc:
        log.info("passkey sign-in to the account page refused: %s", exc.reason)
        return _refused()
    return profiles.remember_device(make_response(navigate(url_for("returning.account"))),
                                    profile)


@bp.post("/account/cards/<card_id>/delete")
def delete_card(card_id: str) -> Any:
    profile = _signed_in()
    card = passkeys.card_of(profile, card_id)
    if card is not None:
        vault.delete_cards(get_db(), profile, [card])
        get_db().commit()
    return navigate(url_for("returning.account"))


@bp.post("/account/passkeys/<passkey_id>/delete")
def delete_passkey(passkey_id: str) -> Any:
    profile = _signed_in()
    for passkey in list(profile.passkeys):
        if passkey.id == passkey_id:
            profile.passkeys.remove(passkey)
    get_db().commit()
    return navigate(url_for("returning.account"))


@bp.post("/account/details/<key>/delete")
def forget_detail(key: str) -> Any:
    """One remembered detail: a field (``fields.phone``), an address (``address.0``), the
    preferred method (``method``)."""
    profile = _signed_in()
    details.forget_detail(profile, key)
    get_db().commit()
    return navigate(url_for("returning.account"))


@bp.post("/account/delete")
def delete_profile() -> Any:
    """Everything: the profile, its cards (and, through the outbox, the gateways' copies) and
    passkeys. The browser may still offer the passkey; it no longer opens anything here."""
    profile = _signed_in()
    vault.delete_cards(get_db(), profile, list(profile.cards))
    get_db().delete(profile)
    get_db().commit()
    return profiles.forget_device(make_response(navigate(url_for("returning.account"))))


@bp.post("/account/sign-out")
def sign_out() -> Any:
    return profiles.forget_device(make_response(navigate(url_for("returning.account"))))


def _signed_in() -> ShopperProfile:
    profile = profiles.device_profile(get_db())
    if profile is None:
        abort(403)
    return profile


# ---- helpers -------------------------------------------------------------------------------------

def _credential() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400)
    return body


def _json(options: str) -> Any:
    response = make_response(options)
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused() -> Any:
    """One answer for every refusal (no account enumeration): the page says "not confirmed,
    pay another way"; the reason is in the log."""
    response = jsonify(error="passkey_refused",
                       message=_("Your passkey could not be confirmed. Nothing was charged. "
                                 "Please try again or pay with the form."))
    response.status_code = 400
    return response
