"""The slip page: what the shopper prints, copies or scans, following the payment by polling
until it is final (HTTP 286 stops htmx), with test mode's "simulate" controls."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import segno
from flask import Blueprint, Flask, Response, abort, current_app, make_response, request, url_for
from flask_babel import ngettext
from markupsafe import Markup

from .. import csrf
from ..db import get_db
from ..htmx import navigate, stop_polling
from ..ids import now
from ..models import Voucher
from ..payments import refresh_from_gateway
from .kinds import ShownField, VoucherKind, voucher_kind
from .lifecycle import (
    AWAITING,
    OUTCOMES,
    SimulationUnavailable,
    can_simulate,
    expire_overdue_vouchers,
    is_final,
    simulate,
    slip_url,
    voucher_state,
)

bp = Blueprint("vouchers", __name__)

POLL_SECONDS = 5


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
    from ..pay import load_checkout

    load_checkout(voucher.session_id)  # locale, theme and security policy of the order
    # The forms on the slip (language, sandbox controls) post to the session's URLs.
    csrf.bind_to_checkout(voucher.session_id)
    return voucher


def _render_slip(voucher: Voucher, fragment: bool = False, notice: str | None = None,
                 status: int = 200) -> Response:
    from ..pages import render_page

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


def deadline_in(timestamp: int, zone: str) -> str:
    """``2026年11月28日(土) 23:59`` / ``Sat, Nov 28, 2026 23:59`` in ``zone`` (Babel's own
    skeletons, joined by the locale's date-time pattern)."""
    from babel.dates import format_skeleton, get_datetime_format, get_timezone

    from ..i18n import current_locale

    locale = current_locale()
    moment = datetime.fromtimestamp(timestamp, UTC)
    tz = get_timezone(zone)
    date_text = format_skeleton("yMMMEd", moment, tzinfo=tz, locale=locale)
    time_text = format_skeleton("Hm", moment, tzinfo=tz, locale=locale)
    return str(get_datetime_format("medium", locale=locale)).replace("{1}", date_text) \
        .replace("{0}", time_text)


def _zone_name(zone: str) -> str:
    from ..i18n import zone_name

    return zone_name(zone)


def _shopper_zone() -> str:
    from flask_babel import get_timezone as babel_zone

    return str(babel_zone())


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        qr_svg=qr_svg, remaining_parts=remaining_parts, deadline_in=deadline_in,
        zone_name=_zone_name, shopper_zone=_shopper_zone, now=now,
    )
    app.extensions.setdefault("kessai.worker_hooks", []).append(expire_overdue_vouchers)


bp.record_once(lambda state: init_app(state.app))  # type: ignore[arg-type]
