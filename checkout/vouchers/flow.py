"""The voucher flow: the shopper is sent to the slip; the slip is issued, paid and expired by
the gateway's answers about this flow's own payments."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy.orm import Session

from ..db import get_db
from ..flows import Flow
from ..gateway.base import VOUCHER, NextAction
from ..htmx import navigate
from ..models import CheckoutSession, Payment
from . import lifecycle, reminders  # noqa: F401 - reminders: the worker's tick
from .slips import bp
from .test_helpers import test_api


class VoucherFlow(Flow):
    """A slip or an account number, paid later elsewhere (konbini, Pay-easy, 振込, 가상계좌)."""

    id = "voucher"
    blueprints = (bp, test_api)

    def answer(self, checkout: CheckoutSession, payment: Payment,
               action: NextAction) -> Any | None:
        if action.type != VOUCHER:
            return None
        url = (payment.details or {}).get("voucher_url")
        if not url:
            voucher = lifecycle.voucher_for_payment(get_db(), payment)
            if voucher is None:  # not issued yet: the pay page shows the payment waiting
                return navigate(url_for("pay.checkout_page", session_id=checkout.id))
            url = lifecycle.slip_url(voucher.id)
        return navigate(url)

    def on_pending(self, db: Session, checkout: CheckoutSession, payment: Payment) -> None:
        lifecycle.issue_voucher(db, checkout, payment)

    def on_paid_later(self, db: Session, checkout: CheckoutSession, payment: Payment) -> None:
        lifecycle.voucher_paid(db, checkout, payment)

    def on_failed(self, db: Session, checkout: CheckoutSession, payment: Payment) -> None:
        lifecycle.voucher_failed(db, checkout, payment)


VOUCHER_FLOW = VoucherFlow()
