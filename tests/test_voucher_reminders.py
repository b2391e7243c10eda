"""The reminder the day before a slip's deadline (konbini, Pay-easy, 振込, 가상계좌): sent by the
worker through the notifier, once — even with two workers at the same moment — in the
shopper's language, never for a slip already paid or issued less than a day before."""

from __future__ import annotations

import threading

from flask import Flask
from flask.testing import FlaskClient
from test_korea_payments import ALL_AGREED, create_krw, submit

from checkout.db import get_db
from checkout.ids import now
from checkout.models import Notification, Voucher
from checkout.notify import deliver_due
from checkout.vouchers import remind_due_vouchers, simulate

from support import Api, MerchantInfo
from test_japan_konbini import konbini_form, shop  # noqa: F401 - the fixture

REMINDER = "deadline_reminder"
BACKENDS = ("sqlite", "postgresql")  # the claim is raced on both


def due_tomorrow(app: Flask, hours_left: int = 20, issued_days_ago: int = 2) -> None:
    """Move the one slip to a deadline ``hours_left`` away, issued days before."""
    with app.app_context():
        voucher = get_db().query(Voucher).one()
        voucher.expires_at = now() + hours_left * 3600
        voucher.created = now() - issued_days_ago * 86400
        get_db().commit()


def reminders(app: Flask) -> list[Notification]:
    with app.app_context():
        return list(get_db().query(Notification).filter_by(kind=REMINDER))


def test_konbini_slip_is_reminded_by_email_once_in_japanese(
        app: Flask, shop: MerchantInfo, api: Api, client: FlaskClient) -> None:  # noqa: F811
    client.set_cookie("kessai_lang", "ja")  # the shopper paid in Japanese
    session = api.create(amount=3000).get_json()
    konbini_form(client, session["id"])
    with app.app_context():
        assert remind_due_vouchers() == 0  # three days left: too early
    due_tomorrow(app)
    with app.app_context():
        assert remind_due_vouchers() == 1
        assert remind_due_vouchers() == 0  # once
        voucher = get_db().query(Voucher).one()
        assert deliver_due() == 1  # the notifier took it
    [message] = reminders(app)
    assert (message.channel, message.recipient) == ("email", "hanako@example.jp")
    assert "￥3,000をお支払いください" in message.body and "ローソンでのお支払い" in message.body
    assert f"/slip/{voucher.id}" in message.body
    assert "日本時間" in message.body  # the deadline in Japan's time, named
    assert message.sent_at is not None


def test_not_reminded_once_paid_or_when_issued_within_a_day(
        app: Flask, shop: MerchantInfo, api: Api, client: FlaskClient) -> None:  # noqa: F811
    konbini_form(client, api.create(amount=3000).get_json()["id"])
    due_tomorrow(app, hours_left=20, issued_days_ago=0)  # issued hours ago for a day's slip
    with app.app_context():
        assert remind_due_vouchers() == 0
    due_tomorrow(app)
    with app.app_context():
        simulate(get_db().query(Voucher).one().payment, "paid")
        assert remind_due_vouchers() == 0
    assert reminders(app) == []


def test_two_workers_at_once_remind_once(app: Flask, shop: MerchantInfo, api: Api,  # noqa: F811
                                         client: FlaskClient) -> None:
    for _ in range(3):
        konbini_form(client, api.create(amount=3000).get_json()["id"])
    with app.app_context():
        for voucher in get_db().query(Voucher):
            voucher.expires_at, voucher.created = now() + 3600, now() - 3 * 86400
        get_db().commit()
    for _round in range(5):  # repeated: a rare interleaving has five chances to show
        start = threading.Barrier(2)
        counts: list[int] = []

        def worker(start: threading.Barrier = start, counts: list[int] = counts) -> None:
            with app.app_context():
                start.wait()
                counts.append(remind_due_vouchers())

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(counts) == 2
    assert len(reminders(app)) == 3
    assert len({m.payment_id for m in reminders(app)}) == 3


def test_virtual_account_is_reminded_by_text_when_the_shopper_asked(
        app: Flask, api: Api, client: FlaskClient) -> None:
    texted = create_krw(api)
    submit(client, texted, "kr_virtual_account", headers={"Accept-Language": "ko"},
           deposit_bank="kb", depositor_name="홍길동", sms_receipt="1", sms_phone="010-2222-3333",
           **ALL_AGREED)
    silent = create_krw(api)
    submit(client, silent, "kr_virtual_account", deposit_bank="kb", depositor_name="김민지",
           **ALL_AGREED)
    with app.app_context():
        for voucher in get_db().query(Voucher):
            voucher.expires_at, voucher.created = now() + 7200, now() - 2 * 86400
        get_db().commit()
        assert remind_due_vouchers() == 1
    [message] = reminders(app)
    assert (message.channel, message.recipient, message.session_id) == (
        "sms", "010-2222-3333", texted)
    assert "₩62,000을 입금해 주세요" in message.body and "KB국민은행" in message.body
    assert "(대한민국 시간)까지" in message.body and "결제 기한 안내" in message.body




def test_an_english_shopper_is_reminded_in_english(
        app: Flask, shop: MerchantInfo, api: Api, client: FlaskClient) -> None:  # noqa: F811
    konbini_form(client, api.create(amount=3000).get_json()["id"])
    due_tomorrow(app)
    with app.app_context():
        assert remind_due_vouchers() == 1
    [message] = reminders(app)
    subject, _blank, rest = message.body.partition("\n\n")
    assert subject == "[Sakura Tea] Reminder: your payment is due tomorrow"
    assert "Please pay ¥3,000 by" in rest and "(Japan Time)" in rest and "Lawson" in rest
