"""Vouchers: payments the shopper completes later, elsewhere (konbini, Pay-easy, bank transfer,
a Korean virtual account …), generic over the kind of slip.

The lifecycle, in one place:

1. The gateway answers a payment with status ``pending`` and
   ``next_action = {"type": "voucher", "voucher": {"kind": …, "expires_at": …, "fields": {…}}}``.
2. ``issue_voucher`` (the voucher flow's ``on_pending``, ``flow.py``) stores a
   :class:`~checkout.models.Voucher` whose id is an unguessable token, puts the slip URL into
   the payment's details (so the merchant API and webhooks carry it) and completes the
   session as *unpaid*:
   ``checkout.session.completed`` with ``payment_status: "unpaid"`` (as Stripe does).
3. The shopper sees ``/slip/<token>`` (survives restarts: it is a database row), which polls
   ``/slip/<token>/status`` until the state is final (HTTP 286 stops htmx polling).
4. The gateway reports the outcome: paid → ``checkout.session.async_payment_succeeded``;
   expired or failed → ``checkout.session.async_payment_failed``.

A market describes how its slips read by registering a :class:`VoucherKind` (title, the fields
to show with their labels, numbered steps, notes, the zone its deadline is defined in). In test
mode the slip has "simulate" controls; the same is available as
``POST /v1/test_helpers/payments/<payment id>/simulate`` and ``kessai sandbox simulate``.

The package, one job a module: ``kinds`` (how a slip reads), ``lifecycle`` (issue, paid,
expired, simulate, the worker's ticks), ``slips`` (the slip page), ``test_helpers`` (the
merchant API's simulate), ``flow`` (the :class:`~checkout.flows.Flow` tying them together).
"""

from __future__ import annotations

from .flow import VOUCHER_FLOW, VoucherFlow
from .kinds import ShownField, VoucherKind, register_voucher_kind, voucher_fields, voucher_kind
from .lifecycle import (
    OUTCOMES,
    SimulationUnavailable,
    expire_overdue_vouchers,
    simulate,
    voucher_for_payment,
)
from .reminders import remind_due_vouchers
from .slips import SlipView, deadline_in, slip_view

__all__ = ["OUTCOMES", "VOUCHER_FLOW", "ShownField", "SimulationUnavailable", "SlipView",
           "VoucherFlow", "VoucherKind", "deadline_in", "expire_overdue_vouchers",
           "register_voucher_kind", "remind_due_vouchers", "simulate", "slip_view",
           "voucher_fields", "voucher_for_payment", "voucher_kind"]
