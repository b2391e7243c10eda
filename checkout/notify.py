"""Messages to the shopper (SMS receipts, virtual account details, deadline reminders by SMS
or e-mail) behind one interface.

A message is queued as a ``Notification`` row in the transaction that caused it (an outbox,
like webhooks: it can never be sent for a change that rolled back), and the worker hands due
rows to the configured :class:`Notifier`. The default is :class:`SandboxNotifier`, which sends
nothing and only marks the row delivered, so the demo and the tests read the messages from the
database. A real SMS / KakaoTalk / e-mail provider is a class with ``send_sms`` and
``send_email`` named by ``KESSAI_NOTIFIER=package.module:ClassName`` (constructed with the
Flask config); ``create_app`` builds it once (``build_notifier``) and hands it to the app.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Protocol

from flask import Blueprint, abort, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import get_db
from .ids import new_id, now
from .models import Notification

log = logging.getLogger(__name__)

SMS = "sms"
EMAIL = "email"
MAX_ATTEMPTS = 5


class NotifierError(Exception):
    """The provider refused or could not be reached; the worker retries later."""


class Notifier(Protocol):
    name: str

    def send_sms(self, to: str, body: str) -> str | None:
        """Send one text message to a Korean/Japanese phone number; return the provider's
        message id. Raise NotifierError on failure."""

    def send_email(self, to: str, subject: str, body: str) -> str | None:
        """Send one plain-text e-mail; return the provider's message id. Raise NotifierError
        on failure."""


class SandboxNotifier:
    """Sends nothing: the queued row is the message (shown in the demo, read by tests)."""

    name = "sandbox"

    def __init__(self, config: Any = None) -> None:
        self.config = config

    def send_sms(self, to: str, body: str) -> str | None:
        return None

    def send_email(self, to: str, subject: str, body: str) -> str | None:
        return None


def build_notifier(config: Any) -> Notifier:
    """The notifier ``KESSAI_NOTIFIER`` names (``create_app`` calls this once)."""
    spec = str(config.get("NOTIFIER") or "sandbox")
    if spec == "sandbox":
        return SandboxNotifier(config)
    module_name, _sep, class_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), class_name)(config)  # type: ignore[no-any-return]


def get_notifier() -> Notifier:
    notifier = current_app.extensions.get("kessai.notifier")
    if notifier is None:  # an app not built by create_app (the sandbox gateway's)
        notifier = current_app.extensions["kessai.notifier"] = build_notifier(current_app.config)
    return notifier  # type: ignore[no-any-return]


def queue_sms(db: Session, *, to: str, body: str, kind: str, session_id: str,
              payment_id: str | None = None) -> Notification | None:
    """Add an SMS to the outbox (the caller commits); see ``queue_message``."""
    return queue_message(db, channel=SMS, to=to, body=body, kind=kind, session_id=session_id,
                         payment_id=payment_id)


def queue_message(db: Session, *, channel: str, to: str, body: str, kind: str,
                  session_id: str, payment_id: str | None = None) -> Notification | None:
    """Add a message to the outbox (the caller commits). One message per payment and kind: a
    status seen twice (a poll and a gateway event) never texts the shopper twice. An e-mail's
    first line is its subject."""
    if payment_id is not None and db.scalar(
            select(Notification.id).where(Notification.payment_id == payment_id,
                                          Notification.kind == kind)) is not None:
        return None
    message = Notification(id=new_id("msg"), channel=channel, recipient=to[:254], body=body,
                           kind=kind, session_id=session_id, payment_id=payment_id,
                           created=now(), attempts=0)
    db.add(message)
    return message


def deliver_due(limit: int = 50) -> int:
    """Worker tick: hand unsent messages to the notifier. Returns how many went out."""
    db = get_db()
    notifier = get_notifier()
    due = db.scalars(
        select(Notification)
        .where(Notification.sent_at.is_(None), Notification.attempts < MAX_ATTEMPTS)
        .order_by(Notification.created).limit(limit)
    ).all()
    sent = 0
    for message in due:
        message.attempts += 1
        try:
            if message.channel == EMAIL:
                subject, _sep, text = message.body.partition("\n")
                message.provider_message_id = notifier.send_email(
                    message.recipient, subject, text.lstrip("\n"))
            else:
                message.provider_message_id = notifier.send_sms(message.recipient, message.body)
        except NotifierError as exc:
            message.last_error = str(exc)[:500]
            log.warning("%s %s not sent: %s", message.channel, message.id, exc)
        else:
            message.sent_at = now()
            message.provider = notifier.name
            sent += 1
        db.commit()
    return sent


def messages_for_session(session_id: str) -> list[Notification]:
    return list(get_db().scalars(
        select(Notification).where(Notification.session_id == session_id)
        .order_by(Notification.created)))


# The demo shows what the sandbox "sent" (its phone's inbox), per checkout session.
bp = Blueprint("notify", __name__)


@bp.record_once
def _setup(state: Any) -> None:
    state.app.extensions.setdefault("kessai.worker_hooks", []).append(deliver_due)
    state.app.jinja_env.globals.update(sent_messages=_sent_messages_if_demo)


def _sent_messages_if_demo(session_id: str) -> list[Notification]:
    if not current_app.config.get("DEMO_ENABLED") or not session_id:
        return []
    return messages_for_session(session_id)


@bp.get("/demo/sessions/<session_id>/messages.json")
def demo_messages(session_id: str) -> Any:
    """What the sandbox phone received for one session (demo only)."""
    if not current_app.config.get("DEMO_ENABLED"):
        abort(404)
    return {"messages": [{"to": m.recipient, "body": m.body, "kind": m.kind,
                          "created": m.created, "sent_at": m.sent_at}
                         for m in messages_for_session(session_id)]}
