"""가상계좌 (virtual account): an account number issued for this order, paid by bank transfer
later. Async like a konbini slip, on the shared voucher machinery (``checkout.vouchers``):
issued → ``checkout.session.completed`` (unpaid) → deposit → ``async_payment_succeeded``, or
the deadline passes → ``async_payment_failed``.

The deadline is 23:59:59 KST on the last day: 3 days by default, the merchant may choose 1–14
(``korea_settings(merchant)["virtual_account_days"]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ...i18n import money, zone_name
from ...ids import now
from ...method_forms import choice, form_parser
from ...methods import PaymentMethod, register
from ...models import CheckoutSession, Payment, Voucher
from ...notify import queue_sms
from ...vouchers import ShownField, VoucherFlow, VoucherKind, deadline_in, register_voucher_kind
from .methods import MIN_WON, VIRTUAL_ACCOUNT, WON
from .settings import korea_settings

KIND = "kr_virtual_account"
SEOUL = ZoneInfo("Asia/Seoul")
DEFAULT_DAYS = 3
MAX_DAYS = 14
DEPOSITOR_MAX = 20

# Banks that issue virtual accounts (the sandbox issues their numbers: gateway/sandbox/korea.py).
DEPOSIT_BANKS: dict[str, Any] = {
    "kb": _l("KB Kookmin Bank"),
    "shinhan": _l("Shinhan Bank"),
    "woori": _l("Woori Bank"),
    "hana": _l("Hana Bank"),
    "nh": _l("NH NongHyup Bank"),
    "ibk": _l("IBK Industrial Bank"),
}

ACCOUNT_ISSUED = "virtual_account_issued"  # the SMS with the account (notify.py kind)


class VirtualAccountFlow(VoucherFlow):
    """A voucher whose account number is also texted, when the shopper asked for texts."""

    def on_pending(self, db: Session, checkout: CheckoutSession, payment: Payment) -> None:
        super().on_pending(db, checkout, payment)
        details = payment.details or {}
        to = details.get("sms_receipt_to")
        voucher = (payment.next_action or {}).get("voucher") or {}
        if not to or voucher.get("kind") != KIND:
            return
        with force_locale(str(details.get("sms_locale") or "ko")):
            body = account_text(checkout, payment, voucher)
        queue_sms(db, to=str(to), body=body, kind=ACCOUNT_ISSUED, session_id=checkout.id,
                  payment_id=payment.id)


register(PaymentMethod(id=VIRTUAL_ACCOUNT, flow=VirtualAccountFlow(), currencies=WON,
                       name=_l("Virtual account (deposit)"), widget="kr_virtual_account",
                       weight=400, markets=frozenset({"KR"}), min_amount=MIN_WON))


def deposit_days(checkout: CheckoutSession) -> int:
    try:
        days = int(korea_settings(checkout.merchant).get("virtual_account_days", DEFAULT_DAYS))
    except (TypeError, ValueError):
        days = DEFAULT_DAYS
    return min(max(days, 1), MAX_DAYS)


def deadline_after(days: int, moment: int | None = None) -> int:
    """23:59:59 KST on the ``days``-th day from today (Seoul)."""
    today = datetime.fromtimestamp(moment if moment is not None else now(), UTC).astimezone(SEOUL)
    last_day = (today + timedelta(days=days)).date()
    return int(datetime(last_day.year, last_day.month, last_day.day, 23, 59, 59,
                        tzinfo=SEOUL).timestamp())


@form_parser(VIRTUAL_ACCOUNT)
def parse_virtual_account(checkout: CheckoutSession,
                          form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    bank = choice(form, "deposit_bank", DEPOSIT_BANKS,
                  _("Please choose the bank for your virtual account."), errors)
    depositor = " ".join(form.get("depositor_name", "").split())
    if not depositor:
        errors["depositor_name"] = _("Please enter the depositor's name.")
    elif len(depositor) > DEPOSITOR_MAX:
        errors["depositor_name"] = _("Use at most %(count)s characters.", count=DEPOSITOR_MAX)
    if errors:
        return {}, errors
    return {"deposit_bank": bank, "depositor_name": depositor,
            "expires_at": deadline_after(deposit_days(checkout)),
            "merchant_name": checkout.merchant.name[:40]}, {}


# ---- how the slip reads --------------------------------------------------------------------

def _bank_name(code: Any) -> str:
    return str(DEPOSIT_BANKS.get(str(code), code))


def _grouped(number: str) -> str:
    return " ".join(number[i:i + 4] for i in range(0, len(number), 4))


def _fields(voucher: Voucher) -> list[ShownField]:
    data = (voucher.data or {}).get("fields") or {}
    amount = money(voucher.payment.amount, voucher.payment.currency)
    shown = [
        ShownField("bank", _("Bank"), _bank_name(data.get("bank")), copyable=False),
        ShownField("account_number", _("Account number"), str(data.get("account_number", "")),
                   display=_grouped(str(data.get("account_number", "")))),
        ShownField("account_holder", _("Account holder"), str(data.get("account_holder", "")),
                   copyable=False),
        ShownField("amount", _("Amount to deposit"), str(voucher.payment.amount),
                   display=amount, hint=_("Deposit exactly this amount.")),
    ]
    if data.get("depositor_name"):
        shown.append(ShownField("depositor_name", _("Depositor name"),
                                str(data["depositor_name"]), copyable=False))
    return shown


def _steps(voucher: Voucher) -> list[str]:
    return [
        _("Open your banking app or internet banking, or go to an ATM."),
        _("Transfer the exact amount to the account above before the deadline."),
        _("Once the deposit arrives, this page and your order update by themselves."),
    ]


def _notes(voucher: Voucher) -> list[str]:
    return [
        _("This account is for this order only. If the amount differs, the deposit is "
          "refused."),
        _("After the deadline the account closes and the order is cancelled automatically."),
    ]


register_voucher_kind(VoucherKind(
    id=KIND,
    title=lambda voucher: _("Virtual account: deposit details"),
    fields=_fields,
    steps=_steps,
    notes=_notes,
    zone="Asia/Seoul",
    deposit=True,
    variant=lambda voucher: str(((voucher.data or {}).get("fields") or {}).get("bank", KIND)),
))


def account_text(checkout: CheckoutSession, payment: Payment, voucher: Mapping[str, Any]) -> str:
    """The SMS with the deposit details (in the locale the caller forced)."""
    fields = voucher.get("fields") or {}
    return _("[%(merchant)s] Please deposit %(amount)s to %(bank)s %(account)s (holder: "
             "%(holder)s) by %(deadline)s.", merchant=checkout.merchant.name,
             amount=money(payment.amount, payment.currency), bank=_bank_name(fields.get("bank")),
             account=fields.get("account_number", ""), holder=fields.get("account_holder", ""),
             deadline=f'{deadline_in(int(voucher.get("expires_at") or 0), "Asia/Seoul")} '
                      f'{zone_name("Asia/Seoul")}')
