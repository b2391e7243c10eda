"""The shopper's hosted checkout: ``/pay/<session id>`` and what follows from it.

A flat URL table first; each view loads the session once (``load_checkout``), which also sets
the locale, theme and security policy for the request. Every view answers plain form posts
(no JavaScript) and htmx requests (fragments, ``HX-Redirect``) from the same templates.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, make_response, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from . import security
from .cards import BRAND_LABELS, validate_card
from .db import get_db
from .declines import paused_until
from .fx.pricing import payable
from .fx.quotes import refresh_quote
from .gateway import CardDetails
from .gateway.base import FAILED, PENDING, REQUIRES_ACTION, SUCCEEDED, NextAction
from .htmx import navigate, stop_polling
from .i18n import LOCALE_COOKIE, normalize_locale
from .ids import now
from .messages import card_error_message, card_pause_message, decline_message
from .method_forms import parse_method_form
from .methods import CATALOG, available_methods
from .models import CheckoutSession, Payment
from .pages import render_page
from .payments import (
    PaymentInProgress,
    SavedCharge,
    SessionNotOpen,
    StaleAttempt,
    cancel_waiting_payment,
    latest_payment,
    refresh_from_gateway,
    submit_payment,
)
from .returning import details as remembered
from .returning import profiles, vault
from .sessions import expire_if_overdue, is_session_id, success_redirect_url
from .themes import resolve_theme

bp = Blueprint("pay", __name__)

# What an htmx request may swap on the pay page without the rest of the page (pages.py).
PAY_PAGE_FRAGMENTS = {"method-panel": "partials/method_panel.html"}


# A page view reads the session, its merchant, payments and rate quotes: one query instead of
# three (rows: payments × quotes, a handful). Posts keep loading payments when first read, since
# a post may insert one by ``session_id`` (payments._claim_attempt) and must then see it.
READ_LOAD = (joinedload(CheckoutSession.payments), joinedload(CheckoutSession.rate_quotes))
# Built once: SQLAlchemy memoizes a statement's cache key on the object, so a page view skips
# rebuilding the query and its key (``db.get`` with options did both per request).
PAGE_VIEW = select(CheckoutSession).options(*READ_LOAD).where(
    CheckoutSession.id == bindparam("session_id"))


def load_checkout(session_id: str) -> CheckoutSession:
    """Find the session (404 otherwise), expire it if overdue, set locale/theme/policy."""
    db = get_db()
    if not is_session_id(session_id):
        checkout = None
    elif request.method in ("GET", "HEAD"):
        checkout = db.execute(PAGE_VIEW, {"session_id": session_id}).unique().scalar_one_or_none()
    else:
        checkout = db.get(CheckoutSession, session_id)
    if checkout is None:
        abort(404)
    expire_if_overdue(db, checkout)
    g.checkout_session = checkout
    g.merchant = checkout.merchant
    # The market look follows the currency the shopper pays (a CNY price paid in yen → jp-red).
    g.theme = resolve_theme(checkout.theme, checkout.merchant.theme, payable(checkout).currency)
    security.allow_frame_origins(checkout.merchant.allowed_origins or [])
    security.allow_form_targets(
        [checkout.success_url.replace("{CHECKOUT_SESSION_ID}", "x"), checkout.cancel_url or ""]
    )
    return checkout


@bp.get("/pay/<session_id>")
def checkout_page(session_id: str) -> Any:
    checkout = load_checkout(session_id)
    if checkout.status == "expired":
        return render_page("expired.html", status=410, checkout=checkout)
    if checkout.status == "complete":
        awaiting = latest_payment(checkout)
        if checkout.payment_status == "unpaid" and awaiting is not None \
                and (awaiting.details or {}).get("voucher_url"):
            # A slip was issued (konbini, virtual account): it is this order's page from now on.
            return navigate(awaiting.details["voucher_url"])
        return render_page("complete.html", checkout=checkout, payment=latest_payment(checkout),
                           brands=BRAND_LABELS, return_url=success_redirect_url(checkout))
    return _render_checkout(checkout, method_id=request.args.get("method"))


@bp.post("/pay/<session_id>")
def submit(session_id: str) -> Any:
    checkout = load_checkout(session_id)
    if checkout.status != "open":
        return navigate(url_for("pay.checkout_page", session_id=checkout.id))
    methods = _methods(checkout)
    method = CATALOG.get(request.form.get("method", "card"))
    if method is None or method not in methods:
        return _render_checkout(checkout, status=422,
                                notice=_("This payment method is not available for this order."))
    try:
        attempt = int(request.form.get("attempt", ""))
    except ValueError:
        attempt = -1
    card: CardDetails | None = None
    field_errors: dict[str, str] = {}
    if method.flow.takes_card:
        parsed, codes = validate_card(
            request.form.get("card_number", ""), request.form.get("card_expiry", ""),
            request.form.get("card_cvc", ""), request.form.get("card_name", ""),
        )
        # validate_card names fields "number", "expiry" …; the form's inputs are "card_number" …
        field_errors.update({f"card_{field}": card_error_message(code)
                             for field, code in codes.items()})
        if parsed is not None:
            card = CardDetails(parsed.number, parsed.exp_month, parsed.exp_year, parsed.cvc,
                               parsed.name)
    details, more_errors = parse_method_form(method.id, checkout, request.form)
    field_errors.update(more_errors)
    remember = None
    if method.flow.takes_card and request.form.get("remember_me") == "1":
        remember = profiles.parse_contact(request.form.get("remember_contact", ""))
        if remember is None:
            field_errors["remember_contact"] = _(
                "Enter the e-mail address or mobile number (010…, 090…) we should send your "
                "code to.")
    if field_errors:
        return _render_checkout(checkout, method_id=method.id, field_errors=field_errors,
                                values=_safe_values(), status=422)
    if method.id == "card" and (resume_at := paused_until(get_db(), checkout)):
        # Card testing: after several declines in a row the session takes no card for a while.
        seconds_left = resume_at - now()
        response = _render_checkout(checkout, method_id=method.id, status=429,
                                    notice=card_pause_message(max(1, -(-seconds_left // 60))))
        response.headers["Retry-After"] = str(seconds_left)  # type: ignore[union-attr]
        return response
    waiting = latest_payment(checkout)
    if (waiting is not None and waiting.status == REQUIRES_ACTION and waiting.method != method.id
            and waiting.attempt == attempt == checkout.attempt):
        # The shopper came back (browser back from a wallet QR or a 3-D Secure page) and chose
        # another method: give the waiting one up first, then pay on the next attempt.
        if cancel_waiting_payment(waiting):
            attempt = checkout.attempt
    return_url = url_for("pay.gateway_return", session_id=checkout.id, _external=True)
    saved, token = None, None
    if remember and card is not None:
        # "Remember me": the gateway keeps the card and this payment charges its token, so
        # the card saved is the card that paid. A gateway without a vault: no card is saved.
        token = vault.tokenize(checkout, card)
        if token is not None:
            saved = SavedCharge(token[0], token[1].token, token[1].brand, token[1].last4)
            card = None
    try:
        payment = submit_payment(checkout, attempt, method.id, return_url, card=card,
                                 details=details, saved=saved)
    except StaleAttempt:
        return _render_checkout(checkout, method_id=method.id, status=409, notice=_(
            "This page was out of date, so nothing was charged. Please check and pay again."))
    except SessionNotOpen:  # paid or expired meanwhile (another tab, an approval elsewhere)
        return navigate(url_for("pay.checkout_page", session_id=checkout.id))
    except PaymentInProgress:
        return _render_checkout(checkout, method_id=method.id, status=409, notice=_(
            "A payment for this order is still in progress, so nothing new was charged. "
            "Please wait a moment and check the status before paying again."))
    # What was typed is remembered only for a shopper who asked: ticked "remember me" now
    # (kept until the code is confirmed), or signed in on this device already.
    profile = profiles.device_profile(get_db())
    if payment.status != FAILED and (remember or profile is not None):
        learned = remembered.details_from(checkout, method.id, request.form)
        if remember:
            profiles.start_enrolment(get_db(), checkout, remember, token[1] if token else None,
                                     token[0] if token else None, details=learned)
        if profile is not None:
            remembered.remember_details(profile, learned)
        get_db().commit()
    return respond_to_payment(checkout, payment)


@bp.get("/pay/<session_id>/return")
def gateway_return(session_id: str) -> Any:
    """Where the gateway sends the shopper back (3-D Secure, wallets). Informational only:
    the outcome is read from the gateway, never from this URL."""
    checkout = load_checkout(session_id)
    payment = latest_payment(checkout)
    if payment is None:
        return navigate(url_for("pay.checkout_page", session_id=checkout.id))
    refresh_from_gateway(payment)
    return respond_to_payment(checkout, payment)


@bp.get("/pay/<session_id>/status")
def status(session_id: str) -> Any:
    """The status box: polled by htmx every 2 s; answers 286 (stop polling) once final."""
    checkout = load_checkout(session_id)
    payment = latest_payment(checkout)
    if payment is not None and payment.status in ("processing", PENDING, REQUIRES_ACTION):
        refresh_from_gateway(payment)
    final = checkout.status != "open" or (
        payment is not None and payment.status in (SUCCEEDED, FAILED))
    response = make_response(render_page("status.html", checkout=checkout, payment=payment,
                                         fragment=True, final=final))
    response.headers["Vary"] = "HX-Request"
    if final:
        stop_polling(response)
        if checkout.status == "complete" and checkout.payment_status == "paid":
            response.headers["HX-Redirect"] = success_redirect_url(checkout)
    return response


@bp.get("/pay/<session_id>/cancel")
def cancel(session_id: str) -> Any:
    """Back to the merchant. The session stays open until it expires (as in Stripe)."""
    checkout = load_checkout(session_id)
    if checkout.cancel_url:
        return redirect(checkout.cancel_url, code=303)
    return navigate(url_for("pay.checkout_page", session_id=checkout.id))


@bp.post("/pay/<session_id>/locale")
def choose_locale(session_id: str) -> Any:
    """The language switcher: the shopper's pick becomes this session's explicit locale."""
    checkout = load_checkout(session_id)
    chosen = normalize_locale(request.form.get("lang"))
    if chosen:
        checkout.locale = chosen
        get_db().commit()
    target = url_for("pay.checkout_page", session_id=checkout.id)
    response = redirect(target, code=303)
    if chosen:
        response.set_cookie(LOCALE_COOKIE, chosen, max_age=365 * 86400, samesite="Lax",
                            httponly=True, secure=request.is_secure)
    return response


# ---- rendering ------------------------------------------------------------------------------

def respond_to_payment(checkout: CheckoutSession, payment: Payment) -> Any:
    if payment.status == SUCCEEDED and checkout.status == "complete":
        if profiles.awaiting_code(get_db(), checkout):  # "remember me": the code comes first
            return navigate(url_for("returning.remember", session_id=checkout.id))
        return navigate(success_redirect_url(checkout))
    action = NextAction.from_json(payment.next_action)
    if payment.status in (REQUIRES_ACTION, PENDING) and action is not None:
        # Only the flow of the payment's own method answers (checkout/flows.py).
        method = CATALOG.get(payment.method)
        answer = method.flow.answer(checkout, payment, action) if method else None
        if answer is not None:
            return answer
    if payment.status == FAILED:
        # Post/redirect/get: the page shows the decline and a fresh attempt.
        return navigate(url_for("pay.checkout_page", session_id=checkout.id,
                                method=payment.method))
    if payment.status == PENDING:
        return navigate(url_for("pay.checkout_page", session_id=checkout.id))
    if payment.status == REQUIRES_ACTION:
        # A step the gateway did not hand to Kessai (its own SDK's challenge, an issuer still
        # deciding): it finishes there and says so by webhook, which the page polls for.
        return _render_checkout(
            checkout, method_id=payment.method, status=202, processing=payment,
            notice=_("Your card issuer is confirming this payment. This page updates by itself "
                     "when it is done; nothing more will be charged."))
    # Still processing: the gateway did not answer. Nothing more was charged; say so and poll.
    return _render_checkout(
        checkout, method_id=payment.method, status=503, processing=payment,
        notice=_("We could not reach the payment provider. You have not been charged twice — "
                 "we are checking the result, or you can try again."),
    )


def _methods(checkout: CheckoutSession) -> list[Any]:
    """The shopper's last method first: this browser's, else their profile's."""
    return pay_methods(checkout, preferred=request.cookies.get(LAST_METHOD_COOKIE)
                       or remembered.preferred_method(profiles.device_profile(get_db())))


def pay_methods(checkout: CheckoutSession, preferred: str | None = None) -> list[Any]:
    """The methods this session offers at its payable amount, with every eligibility and
    weight rule applied, the shopper's last method first."""
    price = payable(checkout)
    return available_methods(checkout.payment_method_types or ["card"], price.amount,
                             price.currency, preferred=preferred, checkout=checkout)


def pay_page_context(checkout: CheckoutSession, methods: list[Any], method_id: str | None = None,
                     field_errors: dict[str, str] | None = None,
                     values: dict[str, str] | None = None, notice: str | None = None,
                     decline: str | None = None, declined_payment: Payment | None = None,
                     processing: Payment | None = None) -> dict[str, Any]:
    """What ``pay.html`` is rendered with — by the live page and by the preview gallery, so
    the two cannot drift apart."""
    selected = next((m for m in methods if m.id == method_id), methods[0])
    return {"checkout": checkout, "methods": methods, "method": selected,
            "field_errors": field_errors or {}, "values": values or {}, "notice": notice,
            "decline": decline, "declined_payment": declined_payment, "processing": processing,
            "brands": BRAND_LABELS}


def _render_checkout(checkout: CheckoutSession, method_id: str | None = None,
                     field_errors: dict[str, str] | None = None,
                     values: dict[str, str] | None = None, notice: str | None = None,
                     status: int = 200, processing: Payment | None = None) -> Any:
    # The price shown must be locked: re-quote if the rate lock ran out (the page says what
    # changed), before methods are filtered by the amount and currency.
    refresh_quote(checkout)
    methods = _methods(checkout)
    if not methods:
        return render_page("unavailable.html", checkout=checkout, status=422)
    payment = latest_payment(checkout)
    decline = None
    if payment is not None and payment.status == FAILED and payment.attempt < checkout.attempt:
        decline = decline_message(payment.failure_code)
    if payment is not None and payment.status == "processing" and processing is None:
        processing = payment
    profile = profiles.device_profile(get_db())
    if profile is not None:  # a recognised shopper: their contact where the form has none
        values = {**remembered.prefill(profile, checkout), **(values or {})}
    context = pay_page_context(checkout, methods, method_id, field_errors, values, notice,
                               decline, payment if decline else None, processing)
    context["returning"] = profiles.returning_view(checkout, profile)  # their card, one click
    context["recognised_profile"] = profile
    response = make_response(render_page("pay.html", fragments=PAY_PAGE_FRAGMENTS, **context),
                             status)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


# Never echoed back into a page after an error.
SECRET_FIELDS = frozenset({"card_number", "card_cvc", "csrf_token"})


def _safe_values() -> dict[str, str]:
    """Form values worth showing again after an error (names, kana, address, the chosen store
    …): never the card number or code."""
    return {key: value[:200] for key, value in request.form.items() if key not in SECRET_FIELDS}


LAST_METHOD_COOKIE = "kessai_last_method"


@bp.after_request
def _remember_last_method(response: Response) -> Response:
    """The method a shopper paid with (or got a slip for) comes first next time."""
    checkout = g.get("checkout_session")
    payment = latest_payment(checkout) if checkout is not None else None
    if payment is not None and payment.status in (SUCCEEDED, PENDING) \
            and request.cookies.get(LAST_METHOD_COOKIE) != payment.method:
        response.set_cookie(LAST_METHOD_COOKIE, payment.method, max_age=365 * 86400,
                            samesite="Lax", httponly=True, secure=request.is_secure)
    return response
