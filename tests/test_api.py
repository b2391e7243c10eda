"""The merchant API contract (issue 2), on SQLite and PostgreSQL.

Every answer under ``/v1`` is JSON; every error is ``{"error": {"type", "code", "message",
"param"}}`` with 400 (malformed or wrongly typed input), 401, 404, 405, 409, 413 or 422 (well
formed but not acceptable: unsupported currency, limits, mismatched sums, expiry range).
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from checkout.db import get_db
from checkout.merchants import create_merchant
from checkout.methods import CATALOG
from checkout.models import CheckoutSession, IdempotencyRecord, Merchant

BACKENDS = ("sqlite", "postgresql")

VALID: dict[str, Any] = {
    "amount": 12800,
    "currency": "JPY",
    "success_url": "https://shop.example/ok",
    "cancel_url": "https://shop.example/cancel",
}


def post(client: FlaskClient, key: str, body: Any = None, raw: bytes | str | None = None,
         **headers: str) -> Any:
    data = raw if raw is not None else json.dumps(body)
    return client.post("/v1/checkout/sessions", data=data, content_type="application/json",
                       headers={"Authorization": f"Bearer {key}", **headers})


def assert_error(response: Any, status: int, code: str | None = None,
                 param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    error = body["error"]
    assert set(error) == {"type", "code", "message", "param"}
    assert all(isinstance(error[k], str) and error[k] for k in ("type", "code", "message"))
    if code is not None:
        assert error["code"] == code
    if param is not None:
        assert error["param"] == param
    return error


def expect_errors(send: Any, cases: list[tuple[Any, int, str | None, str | None]]) -> None:
    """``send(value)`` for every case; fail once, listing every case answered wrongly.

    (One app per table of cases instead of one per case keeps the suite fast on two cores.)
    """
    wrong = []
    for value, status, code, param in cases:
        try:
            assert_error(send(value), status, code, param)
        except AssertionError as exc:
            wrong.append(f"{value!r}: {exc}".splitlines()[0][:300])
    assert not wrong, "\n".join(wrong)


def session_count(app: Flask) -> int:
    with app.app_context():
        return get_db().scalar(select(func.count()).select_from(CheckoutSession)) or 0


# ---- create ---------------------------------------------------------------------------------

def test_create_with_amount_returns_the_documented_object(api: Any, merchant: Any) -> None:
    before = int(time.time())
    response = api.create()
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    session = response.get_json()
    assert session["id"].startswith("cs_") and len(session["id"]) > 20
    assert session["object"] == "checkout.session"
    assert session["url"] == f"http://localhost/pay/{session['id']}"
    assert session["status"] == "open"
    assert session["payment_status"] == "unpaid"
    assert session["amount"] == 12800 and session["currency"] == "JPY"
    assert session["locale"] == "auto"
    assert session["payments"] == []
    assert session["line_items"] == []
    assert session["payment_method_types"][0] == "card"  # every method for JPY, card first
    assert set(session["payment_method_types"]) <= set(CATALOG)
    assert session["metadata"] == {} and session["customer"] == {}
    assert session["client_reference_id"] is None
    # Default expiry: 24 hours.
    assert before + 24 * 3600 <= session["expires_at"] <= int(time.time()) + 24 * 3600


def test_create_with_line_items_sums_them(api: Any) -> None:
    items = [{"name": "抹茶ラテ", "quantity": 2, "unit_amount": 4900},
             {"name": "送料", "quantity": 1, "unit_amount": 3000}]
    response = api.create(amount=None, line_items=items)
    assert response.status_code == 200, response.get_data(as_text=True)
    session = response.get_json()
    assert session["amount"] == 12800
    assert session["line_items"] == items


def test_line_item_quantity_defaults_to_one(api: Any) -> None:
    response = api.create(amount=None, line_items=[{"name": "Tea", "unit_amount": 500}])
    assert response.status_code == 200
    assert response.get_json()["line_items"][0]["quantity"] == 1


def test_amount_and_line_items_must_agree(api: Any) -> None:
    items = [{"name": "Tea", "quantity": 2, "unit_amount": 4900}]
    agree = api.create(amount=9800, line_items=items)
    assert agree.status_code == 200
    mismatch = api.create(amount=9801, line_items=[{"name": "Tea", "quantity": 2,
                                                    "unit_amount": 4900}])
    assert_error(mismatch, 422, "amount_mismatch", "amount")


def test_all_optional_fields_round_trip(api: Any) -> None:
    expires_at = int(time.time()) + 3600
    response = api.create(
        currency="krw", amount=59000, locale="ko", theme="default",
        payment_method_types=["card"], customer={"name": "김민지", "email": "minji@example.kr",
                                                 "phone": "010-1234-5678"},
        client_reference_id="order-42", metadata={"order": "42", "channel": "web"},
        expires_at=expires_at,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    session = response.get_json()
    assert session["currency"] == "KRW"
    assert session["locale"] == "ko"
    assert session["theme"] == "default"
    assert session["customer"] == {"name": "김민지", "email": "minji@example.kr",
                                   "phone": "010-1234-5678"}
    assert session["client_reference_id"] == "order-42"
    assert session["metadata"] == {"order": "42", "channel": "web"}
    assert session["expires_at"] == expires_at
    assert api.get(session["id"]).get_json() == session


def test_every_documented_locale_is_accepted_and_echoed(api: Any) -> None:
    for locale in ("auto", "en", "ja", "ko", "zh-Hans"):
        response = api.create(locale=locale)
        assert response.status_code == 200, locale
        assert response.get_json()["locale"] == locale


def test_zh_hans_session_renders_in_simplified_chinese(api: Any, client: FlaskClient) -> None:
    session = api.create(locale="zh-Hans").get_json()
    page = client.get(f"/pay/{session['id']}", headers={"Accept-Language": "ja"})
    assert 'lang="zh-Hans"' in page.get_data(as_text=True)


def test_expires_at_inside_the_window(api: Any) -> None:
    for offset in (30 * 60 + 60, 24 * 3600 - 60):  # a minute of slack for a slow machine
        expires_at = int(time.time()) + offset
        response = api.create(expires_at=expires_at)
        assert response.status_code == 200
        assert response.get_json()["expires_at"] == expires_at


def test_expires_at_outside_the_window_or_not_an_integer(api: Any) -> None:
    def send(offset: Any) -> Any:
        return api.create(expires_at=int(time.time()) + offset)

    expect_errors(send, [(offset, 422, "expires_at_out_of_range", "expires_at")
                         for offset in (-60, 0, 29 * 60, 24 * 3600 + 120, 10**12)])
    expect_errors(lambda value: api.create(expires_at=value), [
        (value, 400, "parameter_invalid_type", "expires_at")
        for value in ("1900000000", 1.9e9, True, [], {})])


# ---- success redirect ------------------------------------------------------------------------

def _pay_and_follow(api: Any, pay: Any, **fields: Any) -> tuple[str, Any]:
    session = api.create(**fields).get_json()
    response = pay(session["id"])
    assert response.status_code == 303, response.get_data(as_text=True)
    return session["id"], urlsplit(response.headers["Location"])


def test_success_url_placeholder_is_replaced(api: Any, pay: Any) -> None:
    session_id, target = _pay_and_follow(
        api, pay, success_url="https://shop.example/thanks/{CHECKOUT_SESSION_ID}?ref=a")
    assert target.netloc == "shop.example"
    assert target.path == f"/thanks/{session_id}"
    query = parse_qs(target.query)
    assert query["ref"] == ["a"]
    assert "session_id" not in query
    assert "{CHECKOUT_SESSION_ID}" not in target.geturl()


def test_success_url_without_placeholder_gets_session_id_appended(api: Any, pay: Any) -> None:
    session_id, target = _pay_and_follow(api, pay, success_url="https://shop.example/ok?order=7")
    assert target.path == "/ok"
    query = parse_qs(target.query)
    assert query["order"] == ["7"]
    assert query["session_id"] == [session_id]


# ---- retrieve and expire ---------------------------------------------------------------------

def test_retrieve_lists_every_payment_attempt(api: Any, pay: Any) -> None:
    session = api.create().get_json()
    assert pay(session["id"], number="4000 0000 0000 0002").status_code == 303
    assert pay(session["id"], number="5555 5555 5555 4444").status_code == 303
    retrieved = api.get(session["id"]).get_json()
    assert retrieved["status"] == "complete" and retrieved["payment_status"] == "paid"
    payments = retrieved["payments"]
    assert [p["status"] for p in payments] == ["failed", "succeeded"]
    assert [p["failure_code"] for p in payments] == ["card_declined", None]
    for payment in payments:
        assert payment["id"].startswith("pay_")
        assert payment["method"] == "card"
        assert payment["amount"] == 12800 and payment["currency"] == "JPY"
        assert isinstance(payment["created"], int)
    assert payments[1]["card"] == {"brand": "mastercard", "last4": "4444"}
    assert "5555555555554444" not in json.dumps(retrieved)


def test_expire_an_open_session_then_409(api: Any, client: FlaskClient) -> None:
    session = api.create().get_json()
    path = f"/v1/checkout/sessions/{session['id']}/expire"
    first = client.post(path, headers=api.headers())
    assert first.status_code == 200
    assert first.get_json()["status"] == "expired"
    assert api.get(session["id"]).get_json()["status"] == "expired"
    assert_error(client.post(path, headers=api.headers()), 409, "session_not_open")


def test_expire_a_completed_session_is_409(api: Any, client: FlaskClient, pay: Any) -> None:
    session = api.create().get_json()
    pay(session["id"])
    response = client.post(f"/v1/checkout/sessions/{session['id']}/expire", headers=api.headers())
    assert_error(response, 409, "session_not_open")
    assert api.get(session["id"]).get_json()["status"] == "complete"


def test_overdue_session_reads_as_expired(api: Any, app: Flask) -> None:
    session = api.create().get_json()
    with app.app_context():
        get_db().get(CheckoutSession, session["id"]).expires_at = int(time.time()) - 1
        get_db().commit()
    assert api.get(session["id"]).get_json()["status"] == "expired"


# ---- authentication and ownership ------------------------------------------------------------

def test_missing_or_wrong_key_is_401(client: FlaskClient, merchant: Any) -> None:
    for header in (None, "", "Bearer", "Bearer ", "Basic c2tfdGVzdF94Og==",
                   "Bearer sk_test_wrong", "sk_test_wrong", f"Bearer {merchant.secret_key}x",
                   f"Bearer {merchant.secret_key.upper()}"):
        headers = {} if header is None else {"Authorization": header}
        for response in (
            client.post("/v1/checkout/sessions", json=VALID, headers=headers),
            client.get("/v1/checkout/sessions/cs_x", headers=headers),
            client.post("/v1/checkout/sessions/cs_x/expire", headers=headers),
        ):
            error = assert_error(response, 401)
            assert error["type"] == "authentication_error"


def test_only_the_key_hash_is_stored(app: Flask, merchant: Any) -> None:
    with app.app_context():
        record = get_db().get(Merchant, merchant.id)
        assert record.secret_key_hash == hashlib.sha256(merchant.secret_key.encode()).hexdigest()
        stored = json.dumps([str(getattr(record, c.key)) for c in Merchant.__table__.columns])
    assert merchant.secret_key.startswith("sk_test_")
    assert merchant.secret_key not in stored
    assert merchant.secret_key[len("sk_test_"):] not in stored


def test_another_merchants_session_is_404(api: Any, app: Flask, client: FlaskClient) -> None:
    session = api.create().get_json()
    with app.app_context():
        _other, other_key = create_merchant(get_db(), "Other Shop")
        get_db().commit()
    headers = {"Authorization": f"Bearer {other_key}"}
    assert_error(client.get(f"/v1/checkout/sessions/{session['id']}", headers=headers), 404,
                 "resource_missing")
    assert_error(client.post(f"/v1/checkout/sessions/{session['id']}/expire", headers=headers),
                 404, "resource_missing")
    assert api.get(session["id"]).get_json()["status"] == "open"


def test_unknown_session_is_404(api: Any) -> None:
    expect_errors(api.get, [(session_id, 404, "resource_missing", "id") for session_id in (
        "cs_doesnotexist", "x" * 300, "cs_%00", "%E2%82%AC", "cs_a%0Ab")])


# ---- idempotency -----------------------------------------------------------------------------

def test_same_key_same_body_replays_the_first_response(api: Any, app: Flask) -> None:
    first = api.create(idempotency_key="order-1")
    second = api.create(idempotency_key="order-1")
    assert first.status_code == second.status_code == 200
    assert second.get_data() == first.get_data()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert session_count(app) == 1


def test_same_key_with_reordered_keys_is_the_same_body(api: Any, client: FlaskClient,
                                                       merchant: Any, app: Flask) -> None:
    first = post(client, merchant.secret_key, raw='{"amount":500,"currency":"JPY",'
                 '"success_url":"https://a.example/"}', **{"Idempotency-Key": "k"})
    second = post(client, merchant.secret_key, raw='{"success_url":"https://a.example/",'
                  '"currency":"JPY","amount":500}', **{"Idempotency-Key": "k"})
    assert first.get_data() == second.get_data()
    assert session_count(app) == 1


def test_same_key_different_body_is_409(api: Any, app: Flask) -> None:
    assert api.create(idempotency_key="order-2").status_code == 200
    assert_error(api.create(idempotency_key="order-2", amount=12801), 409,
                 "idempotency_key_reused")
    assert session_count(app) == 1


def test_keys_are_per_merchant(api: Any, app: Flask, client: FlaskClient) -> None:
    assert api.create(idempotency_key="shared").status_code == 200
    with app.app_context():
        _other, other_key = create_merchant(get_db(), "Other Shop")
        get_db().commit()
    response = post(client, other_key, VALID, **{"Idempotency-Key": "shared"})
    assert response.status_code == 200
    assert session_count(app) == 2


def test_a_rejected_request_does_not_burn_its_key(api: Any, app: Flask) -> None:
    assert_error(api.create(idempotency_key="k1", currency="XXX"), 422, "currency_unsupported")
    assert api.create(idempotency_key="k1").status_code == 200
    assert session_count(app) == 1


def test_idempotency_key_length_is_checked(api: Any) -> None:
    assert_error(api.create(idempotency_key="k" * 256), 400, "idempotency_key_invalid")


def test_key_in_progress_is_409(app: Flask, merchant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A retry that arrives while the first request is still running gets 409, not a second
    session; once the first finishes, the retry gets its stored response."""
    import checkout.api as api_module

    entered, release = threading.Event(), threading.Event()
    real_create = api_module.create_session

    def slow_create(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(10)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(api_module, "create_session", slow_create)
    results: dict[str, Any] = {}

    def first_request() -> None:
        results["first"] = post(app.test_client(), merchant.secret_key, VALID,
                                **{"Idempotency-Key": "slow"})

    thread = threading.Thread(target=first_request)
    thread.start()
    try:
        assert entered.wait(10)
        monkeypatch.setattr(api_module, "create_session", real_create)
        concurrent = post(app.test_client(), merchant.secret_key, VALID,
                          **{"Idempotency-Key": "slow"})
        assert_error(concurrent, 409, "idempotency_key_in_use")
    finally:
        release.set()
        thread.join(10)
    assert results["first"].status_code == 200
    replay = post(app.test_client(), merchant.secret_key, VALID, **{"Idempotency-Key": "slow"})
    assert replay.get_data() == results["first"].get_data()
    assert session_count(app) == 1


def test_a_crash_inside_the_handler_releases_the_key(app: Flask, merchant: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error must neither leave a session behind nor lock the key forever."""
    import checkout.api as api_module

    real_create = api_module.create_session

    def broken_create(*args: Any, **kwargs: Any) -> Any:
        real_create(*args, **kwargs)
        raise RuntimeError("database went away")

    monkeypatch.setattr(api_module, "create_session", broken_create)
    client = app.test_client()
    failed = post(client, merchant.secret_key, VALID, **{"Idempotency-Key": "crash"})
    assert_error(failed, 500)
    assert session_count(app) == 0
    monkeypatch.setattr(api_module, "create_session", real_create)
    retried = post(client, merchant.secret_key, VALID, **{"Idempotency-Key": "crash"})
    assert retried.status_code == 200
    assert session_count(app) == 1
    with app.app_context():
        record = get_db().get(IdempotencyRecord, (merchant.id, "crash"))
        assert record.response_status == 200


# ---- bad input: every class answers JSON with the right status ---------------------------------

def test_malformed_or_non_object_json_is_400(client: FlaskClient, merchant: Any) -> None:
    bodies = ["", "   ", "{", '{"amount": 12800,}', "{'amount': 1}", "null", "[]", '"a string"',
              "42", "[" * 20_000 + "]" * 20_000, '{"a":' * 8_000 + "1" + "}" * 8_000]
    expect_errors(lambda raw: post(client, merchant.secret_key, raw=raw),
                  [(raw, 400, "invalid_json", None) for raw in bodies])


def test_invalid_utf8_is_400(client: FlaskClient, merchant: Any) -> None:
    assert_error(post(client, merchant.secret_key, raw=b'{"currency": "\xff\xfe"}'), 400,
                 "invalid_json")


def test_form_encoded_body_is_400(client: FlaskClient, merchant: Any) -> None:
    response = client.post("/v1/checkout/sessions", data={"amount": "12800", "currency": "JPY"},
                           headers={"Authorization": f"Bearer {merchant.secret_key}"})
    assert_error(response, 400, "invalid_json")


def test_amount_of_the_wrong_type_is_400(api: Any) -> None:
    expect_errors(lambda amount: api.create(amount=amount), [
        (amount, 400, "parameter_invalid_integer", "amount")
        for amount in ("12800", 12800.0, 12800.5, True, False, [12800], {"v": 1}, "1e3")])


def test_non_integer_json_numbers_are_400(client: FlaskClient, merchant: Any) -> None:
    def send(raw_amount: str) -> Any:
        raw = '{"currency":"JPY","success_url":"https://shop.example/","amount":' + raw_amount
        return post(client, merchant.secret_key, raw=raw + "}")

    expect_errors(send, [(raw, 400, "parameter_invalid_integer", "amount")
                         for raw in ("NaN", "Infinity", "-Infinity", "1e400", "12800.0")])


def test_zero_or_negative_amount_is_422(api: Any) -> None:
    expect_errors(lambda amount: api.create(amount=amount),
                  [(amount, 422, "amount_too_small", "amount") for amount in (0, -1, -12800)])


def test_amount_outside_the_currency_limits_is_422(api: Any) -> None:
    expect_errors(lambda case: api.create(currency=case[0], amount=case[1]), [
        (("JPY", 49), 422, "amount_too_small", "amount"),
        (("JPY", 100_000_000), 422, "amount_too_large", "amount"),
        (("KRW", 99), 422, "amount_too_small", "amount"),
        (("KRW", 1_000_000_000), 422, "amount_too_large", "amount"),
        (("USD", 10**30), 422, "amount_too_large", "amount"),
    ])


def test_amount_limits_are_inclusive(api: Any) -> None:
    assert api.create(currency="JPY", amount=50).status_code == 200
    assert api.create(currency="JPY", amount=99_999_999).status_code == 200


def test_line_item_total_over_the_limit_is_422(api: Any) -> None:
    items = [{"name": "Gold", "quantity": 10_000, "unit_amount": 10**12}]
    assert_error(api.create(amount=None, line_items=items), 422, "amount_too_large", "amount")


def test_missing_amount_and_line_items_is_400(api: Any) -> None:
    assert_error(api.create(amount=None), 400, "parameter_missing", "amount")


def test_bad_currency(api: Any) -> None:
    expect_errors(lambda currency: api.create(currency=currency), [
        (None, 400, "parameter_missing", "currency"),
        ("XYZ", 422, "currency_unsupported", "currency"),
        ("BTC", 422, "currency_unsupported", "currency"),
        ("JP", 400, "currency_invalid", "currency"),
        ("J1Y", 400, "currency_invalid", "currency"),
        ("ＪＰＹ", 400, "currency_invalid", "currency"),
        ("JPYY", 400, "parameter_too_long", "currency"),
        ("", 400, "currency_invalid", "currency"),
        (392, 400, "parameter_invalid_type", "currency"),
        (["JPY"], 400, "parameter_invalid_type", "currency"),
    ])


def test_lowercase_currency_is_normalised(api: Any) -> None:
    response = api.create(currency="usd", amount=1999)
    assert response.status_code == 200
    assert response.get_json()["currency"] == "USD"


def test_unknown_fields_are_400(api: Any) -> None:
    expect_errors(lambda fields: api.create(**fields), [
        ({"amount_total": 1}, 400, "parameter_unknown", "amount_total"),
        ({"mode": "payment"}, 400, "parameter_unknown", "mode"),
        ({"line_items": [{"name": "Tea", "unit_amount": 100, "price": "p_1"}]}, 400,
         "parameter_unknown", "line_items[0].price"),
        ({"customer": {"name": "A", "address": "Tokyo"}}, 400, "parameter_unknown",
         "customer.address"),
    ])


def test_oversized_body_is_413_json(client: FlaskClient, merchant: Any) -> None:
    body = {**VALID, "metadata": {"note": "x" * 500}, "client_reference_id": "y" * 100_000}
    response = post(client, merchant.secret_key, body)
    error = assert_error(response, 413, "body_too_large")
    assert error["type"] == "invalid_request_error"


def test_oversized_body_without_content_length_is_413_json(client: FlaskClient,
                                                            merchant: Any) -> None:
    response = client.post(
        "/v1/checkout/sessions", input_stream=io.BytesIO(b" " * 100_000),
        # What a server sets for a chunked body (werkzeug then enforces the limit while reading).
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Authorization": f"Bearer {merchant.secret_key}",
                 "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    assert_error(response, 413, "body_too_large")


BAD_URLS = [
    "/relative/path", "shop.example/ok", "//shop.example/ok", "javascript:alert(1)",
    "JAVASCRIPT:alert(1)", "data:text/html,<script>alert(1)</script>", "ftp://shop.example/ok",
    "file:///etc/passwd", "https://", "https:///path", " https://shop.example/ok",
    "https://shop.example/ok ", "https://shop.example/o k", "https://shop.example/ok\n",
    "https://shop.example/\tok", "https://shop.example/\x00", "https://shop.example/\x7f",
    "http://[::1", "http://[not-an-ip]/", "https://shop.example:99999/",
    "https://shop.example:port/", "https://" + "a" * 2000 + ".example/", "",
]


def test_bad_urls_are_400(api: Any) -> None:
    for field in ("success_url", "cancel_url"):
        wrong = []
        for url in BAD_URLS:
            response = api.create(**{field: url})
            error = (response.get_json() or {}).get("error") or {}
            if response.status_code != 400 or error.get("param") != field or error.get(
                    "code") not in ("url_invalid", "parameter_too_long",
                                    "parameter_invalid_string"):
                wrong.append(f"{field}={url!r}: {response.status_code} {error}")
        assert not wrong, "\n".join(wrong)
    expect_errors(lambda url: api.create(success_url=url), [
        (url, 400, "parameter_invalid_type", "success_url")
        for url in (123, ["https://shop.example"], {"url": "x"}, True)])


def test_success_url_is_required(api: Any) -> None:
    assert_error(api.create(success_url=None), 400, "parameter_missing", "success_url")


def test_good_urls_are_accepted(api: Any) -> None:
    for url in ("http://localhost:3000/ok", "https://shop.example/ok?session={CHECKOUT_SESSION_ID}",
                "https://例え.jp/完了", "https://[2001:db8::1]:8443/ok"):
        response = api.create(success_url=url)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["success_url"] == url


def test_bad_locale(api: Any) -> None:
    expect_errors(lambda locale: api.create(locale=locale), [
        (locale, 422, "locale_unsupported", "locale")
        for locale in ("fr", "zh", "zh_Hans", "zh-Hant", "ja-JP", "EN", "")
    ] + [("x" * 11, 400, "parameter_too_long", "locale"),
         (1, 400, "parameter_invalid_type", "locale"),
         (["ja"], 400, "parameter_invalid_type", "locale")])


def test_bad_theme(api: Any) -> None:
    expect_errors(lambda theme: api.create(theme=theme), [
        (theme, 422, "theme_unknown", "theme")
        for theme in ("no-such-theme", "../themes/default", "default/../default", "/default", "",
                      "DEFAULT", ".")
    ] + [(7, 400, "parameter_invalid_type", "theme"),
         ("t" * 41, 400, "parameter_too_long", "theme")])


def test_bad_payment_method_types(api: Any) -> None:
    expect_errors(lambda methods: api.create(payment_method_types=methods), [
        (methods, 400, "parameter_invalid_type", "payment_method_types")
        for methods in ([], "card", [1], [None], {"card": True})
    ] + [(methods, 422, "payment_method_unsupported", "payment_method_types")
         for methods in (["bitcoin"], ["card", "bitcoin"])])


def test_duplicate_payment_method_types_are_collapsed(api: Any) -> None:
    response = api.create(payment_method_types=["card", "card"])
    assert response.get_json()["payment_method_types"] == ["card"]


def test_bad_metadata_is_400(api: Any) -> None:
    expect_errors(lambda metadata: api.create(metadata=metadata), [
        ("order=1", 400, "parameter_invalid_type", "metadata"),
        (["a"], 400, "parameter_invalid_type", "metadata"),
        ({"order": 1}, 400, "parameter_invalid_type", "metadata.order"),
        ({"order": None}, 400, "parameter_invalid_type", "metadata.order"),
        ({"order": {"nested": "x"}}, 400, "parameter_invalid_type", "metadata.order"),
        ({"k" * 41: "v"}, 400, "parameter_invalid_string", "metadata." + "k" * 41),
        ({"note": "v" * 501}, 400, "parameter_too_long", "metadata.note"),
        ({"": "v"}, 400, "parameter_invalid_string", "metadata."),
        ({"bad\x00key": "v"}, 400, "parameter_invalid_string", None),
        ({"k": "bad\x00value"}, 400, "parameter_invalid_string", "metadata.k"),
        ({f"k{i}": "v" for i in range(51)}, 400, "parameter_too_long", "metadata"),
    ])


def test_bad_customer_is_400(api: Any) -> None:
    expect_errors(lambda customer: api.create(customer=customer), [
        ("someone@example.com", 400, "parameter_invalid_type", "customer"),
        ({"email": "not-an-email"}, 400, "email_invalid", "customer.email"),
        ({"email": "two@@example.com"}, 400, "email_invalid", "customer.email"),
        ({"email": "a@b"}, 400, "email_invalid", "customer.email"),
        ({"email": "a b@example.com"}, 400, "email_invalid", "customer.email"),
        ({"email": 5}, 400, "parameter_invalid_type", "customer.email"),
        ({"email": "x" * 250 + "@example.com"}, 400, "parameter_too_long", "customer.email"),
        ({"name": ["Hanako"]}, 400, "parameter_invalid_type", "customer.name"),
        ({"phone": 9012345678}, 400, "parameter_invalid_type", "customer.phone"),
        ({"name": "Hana\x00ko"}, 400, "parameter_invalid_string", "customer.name"),
    ])


def test_bad_line_items(api: Any) -> None:
    def send(items: Any) -> Any:
        return api.create(amount=None, line_items=items)

    tea = {"name": "Tea", "unit_amount": 100}
    expect_errors(send, [
        ("tea", 400, "parameter_invalid_type", "line_items"),
        ({"name": "Tea"}, 400, "parameter_invalid_type", "line_items"),
        (["tea"], 400, "parameter_invalid_type", "line_items[0]"),
        ([{"quantity": 1, "unit_amount": 100}], 400, "parameter_missing", "line_items[0].name"),
        ([{**tea, "name": ""}], 400, "parameter_invalid_type", "line_items[0].name"),
        ([{**tea, "name": "   "}], 400, "parameter_invalid_type", "line_items[0].name"),
        ([{**tea, "name": 5}], 400, "parameter_invalid_type", "line_items[0].name"),
        ([{**tea, "name": "n" * 201}], 400, "parameter_too_long", "line_items[0].name"),
        ([{"name": "Tea"}], 400, "parameter_missing", "line_items[0].unit_amount"),
        ([{**tea, "unit_amount": "100"}], 400, "parameter_invalid_integer",
         "line_items[0].unit_amount"),
        ([{**tea, "unit_amount": 1.5}], 400, "parameter_invalid_integer",
         "line_items[0].unit_amount"),
        ([{**tea, "unit_amount": 0}], 422, "amount_too_small", "line_items[0].unit_amount"),
        ([{**tea, "unit_amount": -100}], 422, "amount_too_small", "line_items[0].unit_amount"),
        ([{**tea, "quantity": 0}], 400, "parameter_invalid_integer", "line_items[0].quantity"),
        ([{**tea, "quantity": 1.0}], 400, "parameter_invalid_integer", "line_items[0].quantity"),
        ([{**tea, "quantity": True}], 400, "parameter_invalid_integer", "line_items[0].quantity"),
        ([{**tea, "quantity": 10_001}], 400, "parameter_invalid_integer",
         "line_items[0].quantity"),
        ([tea] * 101, 400, "parameter_too_long", "line_items"),
        ([{**tea, "name": "Te\x00a"}], 400, "parameter_invalid_string", "line_items[0].name"),
    ])


def test_bad_client_reference_id(api: Any) -> None:
    expect_errors(lambda value: api.create(client_reference_id=value), [
        (5, 400, "parameter_invalid_type", "client_reference_id"),
        ("r" * 201, 400, "parameter_too_long", "client_reference_id"),
        ("a\x00b", 400, "parameter_invalid_string", "client_reference_id"),
    ])


# ---- routing ---------------------------------------------------------------------------------

def test_unknown_v1_path_is_json_404(client: FlaskClient, merchant: Any) -> None:
    for path in ("/v1/nothing", "/v1/checkout", "/v1/checkout/sessions/cs_1/x", "/v1/"):
        for headers in ({}, {"Authorization": f"Bearer {merchant.secret_key}"}):
            assert_error(client.get(path, headers=headers), 404, "resource_missing")
            assert_error(client.post(path, headers=headers), 404, "resource_missing")


def test_wrong_method_is_json_405(client: FlaskClient, merchant: Any) -> None:
    for method, path in (("GET", "/v1/checkout/sessions"), ("PUT", "/v1/checkout/sessions"),
                         ("DELETE", "/v1/checkout/sessions/cs_1"),
                         ("PATCH", "/v1/checkout/sessions/cs_1"),
                         ("POST", "/v1/checkout/sessions/cs_1"),
                         ("GET", "/v1/checkout/sessions/cs_1/expire")):
        response = client.open(path, method=method,
                               headers={"Authorization": f"Bearer {merchant.secret_key}"})
        assert_error(response, 405, "method_not_allowed")
        allowed = response.headers["Allow"].split(", ")
        assert method not in allowed and {"GET", "POST"} & set(allowed)


def test_api_answers_carry_no_cookies_and_are_not_cached(api: Any) -> None:
    response = api.create()
    assert "Set-Cookie" not in response.headers
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
