"""Vouchers: payments the shopper completes later, elsewhere (konbini, Pay-easy, bank transfer,
a Korean virtual account …), generic over the kind of slip.

The lifecycle, in one place:

1. The gateway answers a payment with status ``pending`` and
   ``next_action = {"type": "voucher", "voucher": {"kind": …, "expires_at": …, "fields": {…}}}``.
2. ``issue_voucher`` (an ``async_hook("pending")``) stores a :class:`~checkout.models.Voucher`
   whose id is an unguessable token, puts the slip URL into the payment's details (so the
   merchant API and webhooks carry it) and completes the session as *unpaid*:
   ``checkout.session.completed`` with ``payment_status: "unpaid"`` (as Stripe does).
3. The shopper sees ``/slip/<token>`` (survives restarts: it is a database row), which polls
   ``/slip/<token>/status`` until the state is final (HTTP 286 stops htmx polling).
4. The gateway reports the outcome: paid → ``checkout.session.async_payment_succeeded``;
   expired or failed → ``checkout.session.async_payment_failed``.

A market describes how its slips read by registering a :class:`VoucherKind` (title, the fields
to show with their labels, numbered steps, notes, the zone its deadline is defined in). In test
mode the slip has "simulate" controls; the same is available as
``POST /v1/test_helpers/payments/<payment id>/simulate`` and ``kessai sandbox simulate``.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import segno
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    make_response,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import csrf
from .db import get_db
from .gateway import GatewayError, get_gateway
from .gateway.base import EXPIRED, FAILED, PENDING, SUCCEEDED
from .htmx import navigate, stop_polling
from .ids import new_id, now
from .models import CheckoutSession, Payment, Voucher
from .payments import apply_gateway_payment, async_hook, refresh_from_gateway
from .sessions import complete_session
from .webhooks import enqueue_event

log = logging.getLogger(__name__)

bp = Blueprint("vouchers", __name__)

POLL_SECONDS = 5
NEXT_ACTION_TYPE = "voucher"

# What the shopper sees, derived from the payment's status.
AWAITING, PAID, EXPIRED_STATE, FAILED_STATE = "awaiting", "paid", "expired", "failed"


# ---- describing a kind of voucher ----------------------------------------------------------

@dataclass(frozen=True)
class ShownField:
    """One line of a slip: a label, the value to type or show, and whether to offer copying."""

    key: str
    label: str
    value: str
    copyable: bool = True
    # How to show it (grouped digits for reading aloud); ``value`` is what gets copied.
    display: str | None = None
    hint: str | None = None


def _nothing(_voucher: Voucher) -> list[str]:
    return []


@dataclass(frozen=True)
class VoucherKind:
    """How a kind of slip reads. Every callable gets the :class:`Voucher` row and returns
    strings already localized for the current request."""

    id: str
    title: Callable[[Voucher], str]
    fields: Callable[[Voucher], list[ShownField]]
    steps: Callable[[Voucher], list[str]]
    notes: Callable[[Voucher], list[str]] = _nothing
    # The zone the deadline is defined in (konbini: JST; virtual accounts: KST). The slip
    # shows the deadline there, and in the shopper's own zone too when it differs.
    zone: str = "UTC"
    # A short name for CSS and tests (e.g. the konbini chain): ``slip--<variant>``.
    variant: Callable[[Voucher], str] = field(default=lambda voucher: voucher.kind)
    # The shopper moves money into an account (bank transfer, 가상계좌) rather than paying at a
    # counter: the slip then says "deposit" (入金, 입금), as the bank and the shopper do.
    deposit: bool = False


VOUCHER_KINDS: dict[str, VoucherKind] = {}


def register_voucher_kind(kind: VoucherKind) -> VoucherKind:
    VOUCHER_KINDS[kind.id] = kind
    return kind


def _generic_fields(voucher: Voucher) -> list[ShownField]:
    fields = (voucher.data or {}).get("fields") or {}
    return [ShownField(str(k), str(k), str(v)) for k, v in fields.items()]


GENERIC_KIND = VoucherKind(
    id="generic",
    title=lambda _v: _("Payment instructions"),
    fields=_generic_fields,
    steps=_nothing,
)


def voucher_kind(voucher: Voucher) -> VoucherKind:
    return VOUCHER_KINDS.get(voucher.kind, GENERIC_KIND)


def voucher_fields(voucher: Voucher) -> dict[str, Any]:
    """The numbers the gateway issued (store, receipt number, account number …)."""
    return dict((voucher.data or {}).get("fields") or {})


# ---- state ---------------------------------------------------------------------------------

def voucher_state(voucher: Voucher) -> str:
    status = voucher.payment.status
    if status == SUCCEEDED:
        return PAID
    if status == EXPIRED:
        return EXPIRED_STATE
    if status == FAILED:
        return FAILED_STATE
    return AWAITING


def is_final(voucher: Voucher) -> bool:
    return voucher_state(voucher) != AWAITING


def slip_url(voucher_id: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/slip/{voucher_id}"


def voucher_for_payment(db: Session, payment: Payment) -> Voucher | None:
    return db.scalar(select(Voucher).where(Voucher.payment_id == payment.id))


# ---- lifecycle hooks (run inside record_gateway_result's transaction) -----------------------

@async_hook("pending")
def issue_voucher(db: Session, checkout: CheckoutSession, payment: Payment) -> None:
    action = payment.next_action or {}
    if action.get("type") != NEXT_ACTION_TYPE:
        return  # a wallet or another flow waiting: not ours
    if voucher_for_payment(db, payment) is not None:
        return
    data = dict(action.get("voucher") or {})
    try:
        expires_at = int(data.get("expires_at") or 0)
    except (TypeError, ValueError):
        expires_at = 0
    if expires_at <= 0:
        log.warning("voucher for %s came without a deadline; using 3 days", payment.id)
        expires_at = now() + 3 * 86400
    voucher = Voucher(id=new_id("slip", 24), payment_id=payment.id, session_id=checkout.id,
                      kind=str(data.get("kind") or "generic")[:40], data=data,
                      expires_at=expires_at, created=now())
    db.add(voucher)
    # Before the session completes, so the completed webhook already carries the slip URL.
    payment.details = {**(payment.details or {}), "voucher_url": slip_url(voucher.id),
                       "voucher_expires_at": expires_at}
    complete_session(db, checkout, paid=False)


@async_hook("paid")
def voucher_paid(db: Session, checkout: CheckoutSession, payment: Payment) -> None:
    if voucher_for_payment(db, payment) is None:
        return
    result = db.execute(
        update(CheckoutSession)
        .where(CheckoutSession.id == checkout.id, CheckoutSession.status == "complete",
               CheckoutSession.payment_status == "unpaid")
        .values(payment_status="paid")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        db.refresh(checkout)
        enqueue_event(db, checkout, "checkout.session.async_payment_succeeded")


@async_hook("failed")
def voucher_failed(db: Session, checkout: CheckoutSession, payment: Payment) -> None:
    if voucher_for_payment(db, payment) is None:
        return
    db.refresh(checkout)
    if checkout.status == "complete" and checkout.payment_status == "unpaid":
        enqueue_event(db, checkout, "checkout.session.async_payment_failed")


# ---- simulating the outside world (test mode) ----------------------------------------------

class SimulationUnavailable(Exception):
    """The gateway in use cannot simulate (a live gateway), or the payment is not waiting."""


OUTCOMES = {"paid": SUCCEEDED, "expired": EXPIRED}


def can_simulate(payment: Payment | None = None) -> bool:
    return get_gateway(payment.gateway if payment else None).test_controls() is not None


def simulate(payment: Payment, outcome: str) -> None:
    """Test mode: the shopper paid at the store / the deadline passed. The gateway reports it
    the way it reports a real outcome (its event), so the same code path runs."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if payment.status != PENDING or not payment.gateway_payment_id:
        raise SimulationUnavailable("this payment is not waiting to be paid")
    status = OUTCOMES[outcome]
    failure = None if status == SUCCEEDED else "expired"
    # The gateway this payment went to (routing.py), if it is a test-mode one.
    controls = get_gateway(payment.gateway).test_controls()
    if controls is None:
        raise SimulationUnavailable("the gateway in use cannot simulate outcomes")
    answer = controls.settle(payment.gateway_payment_id, status, failure)
    if answer is not None:
        apply_gateway_payment(answer)
    get_db().refresh(payment)


def expire_overdue_vouchers(limit: int = 50) -> int:
    """Worker tick: ask the gateway about slips past their deadline. A real gateway reports the
    expiry itself; the embedded sandbox has no clock of its own, so the worker plays it."""
    db = get_db()
    overdue = db.scalars(
        select(Voucher).join(Payment, Payment.id == Voucher.payment_id)
        .where(Voucher.expires_at <= now(), Payment.status == PENDING)
        .limit(limit)
    ).all()
    count = 0
    for voucher in overdue:
        payment = refresh_from_gateway(voucher.payment)
        controls = get_gateway(payment.gateway).test_controls()
        if payment.status == PENDING and controls is not None and controls.plays_the_clock:
            try:
                simulate(payment, "expired")
            except (SimulationUnavailable, GatewayError) as exc:
                log.warning("could not expire voucher %s: %s", voucher.id, exc)
                continue
        count += payment.status != PENDING
    return count


# ---- showing a slip --------------------------------------------------------------------------

@dataclass
class SlipView:
    voucher: Voucher
    kind: VoucherKind
    state: str
    title: str
    fields: list[ShownField]
    steps: list[str]
    notes: list[str]
    url: str
    deadline_zone: str

    @property
    def final(self) -> bool:
        return self.state != AWAITING


def slip_view(voucher: Voucher) -> SlipView:
    kind = voucher_kind(voucher)
    return SlipView(voucher=voucher, kind=kind, state=voucher_state(voucher),
                    title=kind.title(voucher), fields=kind.fields(voucher),
                    steps=kind.steps(voucher), notes=kind.notes(voucher),
                    url=slip_url(voucher.id), deadline_zone=kind.zone)


def remaining_parts(deadline: int, moment: int | None = None) -> list[str]:
    """``["2 days", "5 hours", "12 minutes"]`` until the deadline, localized; [] once past."""
    left = deadline - (moment if moment is not None else now())
    if left <= 0:
        return []
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(num)d day", "%(num)d days", days))
    if days or hours:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours))
    parts.append(ngettext("%(num)d minute", "%(num)d minutes", minutes))
    return parts


def qr_svg(data: str, label: str) -> Markup:
    """A QR code as inline SVG: presentation attributes only (no ``style``), so the strict
    CSP holds; its size comes from the widget's CSS."""
    code = segno.make(data, error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", xmldecl=False, svgns=True, omitsize=True, border=4,
              svgclass="qr__svg", lineclass="qr__modules", title=None)
    svg = buffer.getvalue().decode()
    # An image with a name for screen readers (the URL is written next to it as well).
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1)
    return Markup(svg)  # noqa: S704 - segno's output, with our escaped label


def _load(voucher_id: str) -> Voucher:
    if len(voucher_id) > 64:
        abort(404)
    voucher = get_db().get(Voucher, voucher_id)
    if voucher is None:
        abort(404)
    from .pay import load_checkout

    load_checkout(voucher.session_id)  # locale, theme and security policy of the order
    # The forms on the slip (language, sandbox controls) post to the session's URLs.
    csrf.bind_to_checkout(voucher.session_id)
    return voucher


def _render_slip(voucher: Voucher, fragment: bool = False, notice: str | None = None,
                 status: int = 200) -> Response:
    from .pages import render_page

    view = slip_view(voucher)
    template = "widgets/voucher/voucher_status.html" if fragment else "slip.html"
    response = make_response(render_page(
        template, checkout=voucher.session, slip=view, fragment=fragment, notice=notice,
        simulate=can_simulate(voucher.payment) and not view.final,
        poll_seconds=current_app.config.get("VOUCHER_POLL_SECONDS", POLL_SECONDS),
        receipt_layout=request.args.get("layout") == "receipt",
    ), status)
    response.headers["Vary"] = "HX-Request"
    return response


@bp.get("/slip/<voucher_id>")
def show(voucher_id: str) -> Any:
    voucher = _load(voucher_id)
    return _render_slip(voucher)


@bp.get("/slip/<voucher_id>/status")
def status(voucher_id: str) -> Any:
    """The slip's status box, polled by htmx; 286 stops the polling once the state is final."""
    voucher = _load(voucher_id)
    if not is_final(voucher):
        refresh_from_gateway(voucher.payment)
    response = _render_slip(voucher, fragment=True)
    if is_final(voucher):
        stop_polling(response)
    return response


@bp.post("/pay/<session_id>/slip/<voucher_id>/simulate")
def simulate_from_slip(session_id: str, voucher_id: str) -> Any:
    voucher = _load(voucher_id)
    if voucher.session_id != session_id:
        abort(404)
    outcome = request.form.get("outcome", "")
    if outcome not in OUTCOMES:
        abort(400)
    try:
        simulate(voucher.payment, outcome)
    except SimulationUnavailable:
        pass  # already final (a second click): the slip shows the outcome
    return navigate(url_for("vouchers.show", voucher_id=voucher.id))


def _follow_to_slip(checkout: CheckoutSession, payment: Payment) -> Any:
    from flask import redirect

    url = (payment.details or {}).get("voucher_url")
    if not url:
        voucher = voucher_for_payment(get_db(), payment)
        if voucher is None:
            return redirect(url_for("pay.checkout_page", session_id=checkout.id), code=303)
        url = slip_url(voucher.id)
    return navigate(url)


# ---- test helpers for merchants (API) --------------------------------------------------------

test_api = Blueprint("voucher_test_api", __name__, url_prefix="/v1/test_helpers")


@csrf.csrf_exempt
@test_api.post("/payments/<payment_id>/simulate")
def simulate_api(payment_id: str) -> Response:
    """``{"outcome": "paid" | "expired"}`` → the session, after the gateway reported it."""
    from .api import _json
    from .serialize import session_to_api
    from .session_params import ApiError

    db = get_db()
    payment = db.get(Payment, payment_id)
    if payment is None or payment.session.merchant_id != g.merchant.id:
        raise ApiError(404, "resource_missing", f"No such payment: {payment_id}.", "id")
    outcome = (request.get_json(silent=True) or {}).get("outcome")
    if outcome not in OUTCOMES:
        raise ApiError(400, "parameter_invalid", "outcome must be paid or expired.", "outcome")
    if voucher_for_payment(db, payment) is None:
        raise ApiError(409, "payment_not_voucher", "Only a voucher payment can be simulated.")
    try:
        simulate(payment, outcome)
    except SimulationUnavailable as exc:
        raise ApiError(409, "payment_not_pending", str(exc)) from exc
    checkout = payment.session
    db.refresh(checkout)
    return _json(session_to_api(checkout))


def _register_test_api_auth() -> None:
    from .api import authenticate, handle_api_error
    from .session_params import ApiError

    test_api.before_request(authenticate)
    test_api.register_error_handler(ApiError, handle_api_error)


_register_test_api_auth()


# ---- wiring ------------------------------------------------------------------------------------

def _deadline_in(timestamp: int, zone: str) -> str:
    """``2026年11月28日(土) 23:59`` / ``Sat, Nov 28, 2026 23:59`` in ``zone`` (Babel's own
    skeletons, joined by the locale's date-time pattern)."""
    from babel.dates import format_skeleton, get_datetime_format, get_timezone

    from .i18n import current_locale

    locale = current_locale()
    moment = datetime.fromtimestamp(timestamp, UTC)
    tz = get_timezone(zone)
    date_text = format_skeleton("yMMMEd", moment, tzinfo=tz, locale=locale)
    time_text = format_skeleton("Hm", moment, tzinfo=tz, locale=locale)
    return str(get_datetime_format("medium", locale=locale)).replace("{1}", date_text) \
        .replace("{0}", time_text)


def _zone_name(zone: str) -> str:
    from .i18n import zone_name

    return zone_name(zone)


def _shopper_zone() -> str:
    from flask_babel import get_timezone as babel_zone

    return str(babel_zone())


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        qr_svg=qr_svg, remaining_parts=remaining_parts, deadline_in=_deadline_in,
        zone_name=_zone_name, shopper_zone=_shopper_zone, now=now,
    )
    app.extensions.setdefault("kessai.worker_hooks", []).append(expire_overdue_vouchers)


bp.record_once(lambda state: init_app(state.app))  # type: ignore[arg-type]


def _register_next_action() -> None:
    from .pay import next_action_handler

    next_action_handler(NEXT_ACTION_TYPE)(_follow_to_slip)


_register_next_action()

# Market modules list these (``BLUEPRINTS``) to switch the voucher machinery on.
BLUEPRINTS = (bp, test_api)


# ---- CLI: ``kessai sandbox simulate <payment|slip|session> paid|expired`` ------------------------

def _sandbox_cli() -> Any:
    import click

    @click.group("sandbox")
    def sandbox() -> None:
        """Test-mode controls for the sandbox gateway."""

    @sandbox.command("simulate")
    @click.argument("reference")
    @click.argument("outcome", type=click.Choice(sorted(OUTCOMES)))
    def simulate_command(reference: str, outcome: str) -> None:
        """Mark a slip paid or expired. REFERENCE is a payment id (pay_…), a slip id (slip_…)
        or a checkout session id (cs_…: its latest slip)."""
        from . import create_app

        app = create_app()
        with app.app_context():
            db = get_db()
            voucher = db.get(Voucher, reference)
            if voucher is None:
                payment = db.get(Payment, reference)
                if payment is None:
                    voucher = db.scalar(select(Voucher).where(Voucher.session_id == reference)
                                        .order_by(Voucher.created.desc()))
                else:
                    voucher = voucher_for_payment(db, payment)
            if voucher is None:
                raise click.ClickException(f"no slip found for {reference}")
            try:
                simulate(voucher.payment, outcome)
            except SimulationUnavailable as exc:
                raise click.ClickException(str(exc)) from exc
            db.refresh(voucher.session)
            click.echo(f"{voucher.payment.id}: {voucher.payment.status}; session "
                       f"{voucher.session_id} {voucher.session.status}/"
                       f"{voucher.session.payment_status}")

    return sandbox


sandbox_cli = _sandbox_cli()
