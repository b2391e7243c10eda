"""Shopper-facing texts for machine codes (card field errors, gateway decline codes)."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _
from flask_babel import ngettext


def init_app(app: Flask) -> None:
    app.jinja_env.globals["decline_title"] = decline_title


def card_error_message(code: str) -> str:
    messages = {
        "required": _("Please fill in this field."),
        "invalid_number": _("This card number is not valid. Please check the digits."),
        "unsupported_brand": _("This card brand is not accepted. Use Visa, Mastercard, JCB, American Express or Diners Club."),
        "invalid_expiry": _("Enter the expiry date as MM/YY."),
        "expired_card": _("This card has expired."),
        "invalid_cvc": _("The security code is not valid."),
        "too_long": _("This is too long."),
    }
    return messages.get(code, _("Please check this field."))


def decline_message(code: str | None) -> str:
    messages = {
        "card_declined": _("Your card was declined. Please try another card or payment method."),
        "insufficient_funds": _("Your card has insufficient funds. Please try another card."),
        "expired_card": _("Your card has expired. Please try another card."),
        "processing_error": _("The card issuer could not process the payment. Please try again."),
        "authentication_failed": _("Card authentication (3-D Secure) was not completed. Please try again or use another card."),
        "expired": _("The payment was not completed in time."),
        # A wallet payment cancelled in the app, or given up for another method (wallets.py).
        "payment_canceled": _("The payment was cancelled, so nothing was charged. You can try again or choose another payment method."),
        "carrier_limit_exceeded": _("Your mobile carrier refused the payment (monthly limit reached). Please choose another payment method."),
    }
    return messages.get(code or "", _("The payment did not go through. Please try again or use another payment method."))


def decline_title(code: str | None) -> str:
    """The heading above :func:`decline_message`: a shopper who cancelled in the wallet's app
    was not refused by anyone, and must not read "Payment declined"."""
    titles = {
        "payment_canceled": _("Payment cancelled"),
        "expired": _("Payment not completed in time"),
        "authentication_failed": _("Authentication not completed"),
    }
    return titles.get(code or "", _("Payment declined"))


def card_pause_message(minutes: int) -> str:
    """Why a card is not taken now (declines.paused_until), and what the shopper can do."""
    return ngettext(
        "Several cards were declined in a row, so card payments are paused for your "
        "security. Please try again in %(num)d minute, or choose another payment method.",
        "Several cards were declined in a row, so card payments are paused for your "
        "security. Please try again in %(num)d minutes, or choose another payment method.",
        minutes)
