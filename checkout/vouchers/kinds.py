"""How a kind of slip reads: a market registers a :class:`VoucherKind` (title, the fields to
show with their labels, numbered steps, notes, the zone its deadline is defined in)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from ..models import Voucher


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


