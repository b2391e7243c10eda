"""What the reminder the day before a slip's deadline says, and to whom (``lifecycle``'s
``remind_due_vouchers`` sends it): an e-mail to the address the order gave (Japan's slips
collect one), or a text when the shopper asked for texts (Korea's SMS receipt). No address,
no reminder: Kessai never writes to a shopper who gave it no way and no leave to."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..db import get_db
from ..gateway.base import PENDING
from ..i18n import money, zone_name
from ..ids import now
from ..models import Payment, Voucher
from ..notify import EMAIL, SMS, queue_message
from .kinds import voucher_kind
from .slips import bp, deadline_in, slip_url, slip_view

# The language a slip's reminder falls back to when the shopper's own is not known (a slip
# issued by a gateway event rather than the shopper's request): its market's.
ZONE_LOCALES = {"Asia/Tokyo": "ja", "Asia/Seoul": "ko"}


@dataclass(frozen=True)
class Reminder:
    voucher: Voucher
    channel: str
    to: str
    locale: str

    def render(self) -> tuple[str, str, str]:
        """``(channel, to, body)`` in the locale the caller forced; an e-mail's first line is
        its subject."""
        voucher, payment = self.voucher, self.voucher.payment
        view = slip_view(voucher)
        values = {
            "merchant": voucher.session.merchant.name,
            "amount": money(payment.amount, payment.currency),
            "deadline": f"{deadline_in(voucher.expires_at, view.deadline_zone)} "
                        f"({zone_name(view.deadline_zone)})",
            "url": slip_url(voucher.id),
        }
        if view.kind.deposit:
            ask = _("Please deposit %(amount)s by %(deadline)s.", **values)
        else:
            ask = _("Please pay %(amount)s by %(deadline)s.", **values)
        # What the shopper needs at the store or the bank: the slip's own numbers.
        numbers = [f"{f.label}: {f.display or f.value}" for f in view.fields]
        lines = [ask, view.title, *numbers, _("Your payment slip: %(url)s", **values)]
        if self.channel == EMAIL:
            subject = _("[%(merchant)s] Reminder: your payment is due tomorrow", **values)
            body = "\n\n".join([subject, "\n".join(lines), _(
                "If you have already paid, thank you: you can ignore this message.")])
        else:
            body = " ".join([_("[%(merchant)s] Reminder:", **values), *lines])
        return self.channel, self.to, body


def reminder_for(voucher: Voucher) -> Reminder | None:
    details = voucher.payment.details or {}
    locale = str(details.get("sms_locale") or (voucher.data or {}).get("shopper_locale")
                 or ZONE_LOCALES.get(voucher_kind(voucher).zone, "en"))
    if details.get("sms_receipt_to"):
        return Reminder(voucher, SMS, str(details["sms_receipt_to"]), locale)
    email = (details.get("customer") or {}).get("email")
    if email:
        return Reminder(voucher, EMAIL, str(email), locale)
    return None


# ---- the worker's tick ----------------------------------------------------------------------

REMIND_BEFORE_SECONDS = 24 * 3600
REMINDER = "deadline_reminder"  # notify.py kind


def remind_due_vouchers(limit: int = 50) -> int:
    """Worker tick: the day before a slip's deadline, remind its shopper once through the
    notifier — by e-mail to the order's address (Japan's slips), or by text when the shopper
    asked for texts (가상계좌). A slip issued less than a day before its deadline gets none (the
    shopper has just read it). Each slip is claimed by one conditional UPDATE in the
    transaction that queues its message, so two workers never remind twice. Returns how many
    reminders were queued."""
    db = get_db()
    moment = now()
    due = db.scalars(
        select(Voucher).join(Payment, Payment.id == Voucher.payment_id)
        .where(Voucher.reminded_at.is_(None), Payment.status == PENDING,
               Voucher.expires_at > moment,
               Voucher.expires_at <= moment + REMIND_BEFORE_SECONDS,
               Voucher.created < Voucher.expires_at - REMIND_BEFORE_SECONDS)
        .order_by(Voucher.expires_at).limit(limit)
    ).all()
    queued = 0
    for voucher in due:
        claimed = db.execute(
            update(Voucher).where(Voucher.id == voucher.id, Voucher.reminded_at.is_(None))
            .values(reminded_at=moment).execution_options(synchronize_session=False)
        ).rowcount == 1  # type: ignore[attr-defined]
        if not claimed:  # another worker has it
            db.rollback()
            continue
        message = reminder_for(voucher)
        if message is not None:
            with force_locale(message.locale):
                channel, to, body = message.render()
            queue_message(db, channel=channel, to=to, body=body, kind=REMINDER,
                          session_id=voucher.session_id, payment_id=voucher.payment_id)
            queued += 1
        db.commit()
    return queued


bp.record_once(lambda state: state.app.extensions.setdefault(
    "kessai.worker_hooks", []).append(remind_due_vouchers))
