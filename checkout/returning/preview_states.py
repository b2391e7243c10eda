"""Returning shoppers' page states in the designer preview (``kessai preview``)."""

from __future__ import annotations

from typing import Any

from ..cards import BRAND_LABELS
from ..ids import now
from ..models import Enrolment, Passkey, SavedCard, ShopperProfile
from ..preview import Fixtures, pay_page, preview_state
from .details import prefill
from .profiles import returning_view
from .views import account_context

# What a shopper who paid at konbini and by card while signed in has taught their profile.
PREVIEW_DETAILS: dict[str, Any] = {
    "fields": {"family_name": "山田", "given_name": "花子", "family_name_kana": "ヤマダ",
               "given_name_kana": "ハナコ", "phone": "09012345678", "konbini_store": "lawson"},
    "addresses": [{"country": "JP", "postal_code": "1000001", "state": "東京都",
                   "city": "千代田区", "line1": "千代田1-1", "line2": "パレス101"}],
    "method": "konbini",
}


def _profile(fx: Fixtures, passkey: bool = True) -> ShopperProfile:
    profile = ShopperProfile(id="shp_preview", email="hanako@example.jp", name="山田 花子",
                             created=now(), details=PREVIEW_DETAILS)
    profile.cards = [SavedCard(id="card_preview", gateway="sandbox", token="tok_preview",  # noqa: S106 - a fixture
                               brand="jcb", last4="0000", exp_month=12, exp_year=2034,
                               created=now())]
    profile.passkeys = [Passkey(id="pk_preview", credential_id="preview", public_key=b"",
                                sign_count=0, transports=["internal"], created=now())] \
        if passkey else []
    return profile


@preview_state("returning_pay", "Returning shopper: one click with a passkey", "pay.html",
               group="Returning shoppers")
def _returning_pay(fx: Fixtures) -> dict[str, Any]:
    checkout = fx.checkout()
    profile = _profile(fx)
    context = pay_page(fx, checkout)
    # The live page's own builder, so the gallery cannot drift from it.
    context["returning"] = returning_view(checkout, profile)
    context["recognised_profile"] = profile
    return context


@preview_state("returning_konbini", "Returning shopper: konbini form filled in from the profile",
               "pay.html", group="Returning shoppers")
def _returning_konbini(fx: Fixtures) -> dict[str, Any]:
    checkout = fx.checkout()
    profile = _profile(fx, passkey=False)
    context = pay_page(fx, checkout, method="konbini", values=prefill(profile, checkout))
    context["recognised_profile"] = profile
    return context


@preview_state("remember_me", "Card form: remember me ticked, contact error", "pay.html",
               group="Returning shoppers")
def _remember_me(fx: Fixtures) -> dict[str, Any]:
    from flask_babel import gettext as _

    return pay_page(fx, values={"remember_me": "1", "remember_contact": "hanako@"},
                    field_errors={"remember_contact": _(
                        "Enter the e-mail address or mobile number (010…, 090…) we should send "
                        "your code to.")})


def _remember(fx: Fixtures, step: str, code_error: str | None = None,
              phone: str | None = None) -> dict[str, Any]:
    checkout = fx.checkout(status="complete", payment_status="paid", completed_at=now())
    enrolment = Enrolment(id="enr_preview", session_id=checkout.id,
                          email=None if phone else "hanako@example.jp", phone=phone,
                          card={}, code_hash="", attempts=0, expires_at=now() + 900,
                          created=now())
    return {"checkout": checkout, "enrolment": enrolment, "step": step, "passkey_page": True,
            "code_error": code_error, "continue_url": "https://shop.example/thanks"}


@preview_state("remember_code", "After paying: enter the e-mail code", "returning/remember.html",
               group="Returning shoppers")
def _remember_code(fx: Fixtures) -> dict[str, Any]:
    return _remember(fx, "code")


@preview_state("remember_code_sms", "After paying: enter the code sent by text",
               "returning/remember.html", group="Returning shoppers")
def _remember_code_sms(fx: Fixtures) -> dict[str, Any]:
    return _remember(fx, "code", phone="+821012345678")


@preview_state("remember_code_wrong", "After paying: a wrong code", "returning/remember.html",
               group="Returning shoppers")
def _remember_code_wrong(fx: Fixtures) -> dict[str, Any]:
    from flask_babel import gettext as _

    return _remember(fx, "code", _(
        "This code is not right or has expired. Please check it and try again."))


@preview_state("remember_passkey", "After the code: create a passkey", "returning/remember.html",
               group="Returning shoppers")
def _remember_passkey(fx: Fixtures) -> dict[str, Any]:
    return _remember(fx, "passkey")


@preview_state("account", "The shopper's page: cards and passkeys", "returning/account.html",
               group="Returning shoppers")
def _account(fx: Fixtures) -> dict[str, Any]:
    return {"profile": _profile(fx), "brands": BRAND_LABELS, "passkey_page": True,
            **account_context()}


@preview_state("account_signed_out", "The shopper's page: sign in with a passkey",
               "returning/account.html", group="Returning shoppers")
def _account_signed_out(fx: Fixtures) -> dict[str, Any]:
    return {"profile": None, "brands": BRAND_LABELS, "passkey_page": True,
            **account_context()}
