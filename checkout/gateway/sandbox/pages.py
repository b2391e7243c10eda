"""The sandbox gateway's own pages (a 3-D Secure challenge; wallet and slip pages join later).

Served by Kessai when the sandbox is embedded, and by ``kessai sandbox-gateway`` when it runs
as its own HTTP server. They are the *gateway's* pages, so they only talk to the ledger.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, request

from ... import security
from ...navigation import hand_off
from ...pages import render_page
from ..base import FAILED, REQUIRES_ACTION, SUCCEEDED, GatewayError
from .ledger import SandboxLedger, embedded_ledger

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


def current_ledger() -> SandboxLedger:
    """The HTTP sandbox's own ledger, or (embedded) the one in Kessai's database."""
    ledger = current_app.extensions.get("sandbox.ledger")
    return ledger if ledger is not None else embedded_ledger()  # type: ignore[no-any-return]


@bp.get("/challenge/<payment_id>")
def challenge(payment_id: str) -> Any:
    ledger = current_ledger()
    try:
        payment = ledger.get(payment_id)
    except GatewayError:
        abort(404)
    g.theme = "default"
    security.allow_any_frame()  # like an issuer's challenge, shown inside the checkout's frame
    return render_page("sandbox/challenge.html", payment=payment,
                       waiting=payment.status == REQUIRES_ACTION)


@bp.post("/challenge/<payment_id>")
def answer_challenge(payment_id: str) -> Any:
    ledger = current_ledger()
    approve = request.form.get("outcome") == "approve"
    try:
        ledger.resolve(payment_id, SUCCEEDED if approve else FAILED,
                       None if approve else "authentication_failed",
                       from_statuses=(REQUIRES_ACTION,))
    except GatewayError:
        abort(404)
    # The return URL leads on to the merchant, which this page's form-action cannot name.
    return hand_off(ledger.return_url(payment_id) or "/")


# The wallet's approval page lives in its own module and attaches itself to ``bp``.
from . import wallets  # noqa: E402,F401
