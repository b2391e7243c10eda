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
    assert session["payment_method_types"] == ["card"]
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


@pytest.mark.parametrize("locale", ["auto", "en", "ja", "ko", "zh-Hans"])
def test_every_documented_locale_is_accepted_and_echoed(api: Any, locale: str) -> None:
    response = api.create(locale=locale)
    assert response.status_code == 200
    assert response.get_json()["locale"] == locale


def test_zh_hans_session_renders_in_simplified_chinese(api: Any, client: FlaskClient) -> None:
    session = api.create(locale="zh-Hans").get_json()
    page = client.get(f"/pay/{session['id']}", headers={"Accept-Language": "ja"})
    assert 'lang="zh-Hans"' in page.get_data(as_text=True)


@pytest.mark.parametrize("offset", [30 * 60 + 5, 24 * 3600 - 5])
def test_expires_at_inside_the_window(api: Any, offset: int) -> None:
    expires_at = int(time.time()) + offset
    response = api.create(expires_at=expires_at)
    assert response.status_code == 200
    assert response.get_json()["expires_at"] == expires_at


@pytest.mark.parametrize("offset", [-60, 0, 29 * 60, 24 * 3600 + 120, 10**12])
def test_expires_at_outside_the_window(api: Any, offset: int) -> None:
    assert_error(api.create(expires_at=int(time.time()) + offset), 422,
                 "expires_at_out_of_range", "expires_at")


@pytest.mark.parametrize("value", ["1900000000", 1.9e9, True, [], {}])
def test_expires_at_must_be_an_integer(api: Any, value: Any) -> None:
    assert_error(api.create(expires_at=value), 400, param="expires_at")


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

@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic c2tfdGVzdF94Og==",
                                    "Bearer sk_test_wrong", "sk_test_wrong"])
def test_missing_or_wrong_key_is_401(client: FlaskClient, merchant: Any,
                                     header: str | None) -> None:
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


@pytest.mark.parametrize("session_id", ["cs_doesnotexist", "x" * 300, "cs_%00", "%E2%82%AC"])
def test_unknown_session_is_404(api: Any, session_id: str) -> None:
    assert_error(api.get(session_id), 404, "resource_missing")


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

BAD_BODIES: list[tuple[str, Any, int, str | None]] = [
    # (raw body, —, status, param)
    ("", None, 400, None),
    ("   ", None, 400, None),
    ("{", None, 400, None),
    ('{"amount": 12800,}', None, 400, None),
    ("{'amount': 1}", None, 400, None),
    ("null", None, 400, None),
    ("[]", None, 400, None),
    ('"a string"', None, 400, None),
    ("42", None, 400, None),
    ("[" * 20_000 + "]" * 20_000, None, 400, None),
    ('{"a":' * 8_000 + "1" + "}" * 8_000, None, 400, None),
]


@pytest.mark.parametrize("raw", [b[0] for b in BAD_BODIES])
def test_malformed_or_non_object_json_is_400(client: FlaskClient, merchant: Any, raw: str) -> None:
    assert_error(post(client, merchant.secret_key, raw=raw), 400, "invalid_json")


def test_invalid_utf8_is_400(client: FlaskClient, merchant: Any) -> None:
    assert_error(post(client, merchant.secret_key, raw=b'{"currency": "\xff\xfe"}'), 400,
                 "invalid_json")


def test_form_encoded_body_is_400(client: FlaskClient, merchant: Any) -> None:
    response = client.post("/v1/checkout/sessions", data={"amount": "12800", "currency": "JPY"},
                           headers={"Authorization": f"Bearer {merchant.secret_key}"})
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("amount", ["12800", 12800.0, 12800.5, True, False, [12800],
                                    {"v": 1}, "1e3"])
def test_amount_of_the_wrong_type_is_400(api: Any, amount: Any) -> None:
    assert_error(api.create(amount=amount), 400, "parameter_invalid_integer", "amount")


@pytest.mark.parametrize("raw_amount", ["NaN", "Infinity", "-Infinity", "1e400", "12800.0"])
def test_non_integer_json_numbers_are_400(client: FlaskClient, merchant: Any,
                                          raw_amount: str) -> None:
    raw = ('{"currency":"JPY","success_url":"https://shop.example/","amount":' + raw_amount + "}")
    assert_error(post(client, merchant.secret_key, raw=raw), 400, "parameter_invalid_integer",
                 "amount")


@pytest.mark.parametrize("amount", [0, -1, -12800])
def test_zero_or_negative_amount_is_422(api: Any, amount: int) -> None:
    assert_error(api.create(amount=amount), 422, "amount_too_small", "amount")


@pytest.mark.parametrize(("currency", "amount", "code"), [
    ("JPY", 49, "amount_too_small"),
    ("JPY", 100_000_000, "amount_too_large"),
    ("KRW", 99, "amount_too_small"),
    ("KRW", 1_000_000_000, "amount_too_large"),
    ("USD", 10**30, "amount_too_large"),
])
def test_amount_outside_the_currency_limits_is_422(api: Any, currency: str, amount: int,
                                                   code: str) -> None:
    assert_error(api.create(currency=currency, amount=amount), 422, code, "amount")


def test_amount_limits_are_inclusive(api: Any) -> None:
    assert api.create(currency="JPY", amount=50).status_code == 200
    assert api.create(currency="JPY", amount=99_999_999).status_code == 200


def test_line_item_total_over_the_limit_is_422(api: Any) -> None:
    items = [{"name": "Gold", "quantity": 10_000, "unit_amount": 10**12}]
    assert_error(api.create(amount=None, line_items=items), 422, "amount_too_large", "amount")


def test_missing_amount_and_line_items_is_400(api: Any) -> None:
    assert_error(api.create(amount=None), 400, "parameter_missing", "amount")


@pytest.mark.parametrize(("fields", "status", "code", "param"), [
    ({"currency": None}, 400, "parameter_missing", "currency"),
    ({"currency": "XYZ"}, 422, "currency_unsupported", "currency"),
    ({"currency": "BTC"}, 422, "currency_unsupported", "currency"),
    ({"currency": "JP"}, 400, "currency_invalid", "currency"),
    ({"currency": "J1Y"}, 400, "currency_invalid", "currency"),
    ({"currency": "ＪＰＹ"}, 400, "currency_invalid", "currency"),
    ({"currency": "JPYY"}, 400, None, "currency"),
    ({"currency": ""}, 400, None, "currency"),
    ({"currency": 392}, 400, "parameter_invalid_type", "currency"),
    ({"currency": ["JPY"]}, 400, "parameter_invalid_type", "currency"),
])
def test_bad_currency(api: Any, fields: dict[str, Any], status: int, code: str | None,
                      param: str) -> None:
    assert_error(api.create(**fields), status, code, param)


def test_lowercase_currency_is_normalised(api: Any) -> None:
    response = api.create(currency="usd", amount=1999)
    assert response.status_code == 200
    assert response.get_json()["currency"] == "USD"


@pytest.mark.parametrize(("fields", "param"), [
    ({"amount_total": 1}, "amount_total"),
    ({"mode": "payment"}, "mode"),
    ({"line_items": [{"name": "Tea", "unit_amount": 100, "price": "p_1"}]},
     "line_items[0].price"),
    ({"customer": {"name": "A", "address": "Tokyo"}}, "customer.address"),
])
def test_unknown_fields_are_400(api: Any, fields: dict[str, Any], param: str) -> None:
    assert_error(api.create(**fields), 400, "parameter_unknown", param)


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


@pytest.mark.parametrize("url", [
    "/relative/path",
    "shop.example/ok",
    "//shop.example/ok",
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://shop.example/ok",
    "file:///etc/passwd",
    "https://",
    "https:///path",
    " https://shop.example/ok",
    "https://shop.example/ok ",
    "https://shop.example/o k",
    "https://shop.example/ok\n",
    "https://shop.example/\tok",
    "https://shop.example/\x00",
    "https://shop.example/\x7f",
    "http://[::1",
    "http://[not-an-ip]/",
    "https://shop.example:99999/",
    "https://shop.example:port/",
    "https://" + "a" * 2000 + ".example/",
    "",
])
@pytest.mark.parametrize("field", ["success_url", "cancel_url"])
def test_bad_urls_are_400(api: Any, field: str, url: str) -> None:
    error = assert_error(api.create(**{field: url}), 400, param=field)
    assert error["code"] in ("url_invalid", "parameter_too_long", "parameter_invalid_string")


@pytest.mark.parametrize("url", [123, ["https://shop.example"], {"url": "x"}, True])
def test_urls_must_be_strings(api: Any, url: Any) -> None:
    assert_error(api.create(success_url=url), 400, "parameter_invalid_type", "success_url")


def test_success_url_is_required(api: Any) -> None:
    assert_error(api.create(success_url=None), 400, "parameter_missing", "success_url")


@pytest.mark.parametrize("url", [
    "http://localhost:3000/ok",
    "https://shop.example/ok?session={CHECKOUT_SESSION_ID}&a=1",
    "https://例え.jp/完了",
    "https://[2001:db8::1]:8443/ok",
])
def test_good_urls_are_accepted(api: Any, url: str) -> None:
    response = api.create(success_url=url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["success_url"] == url


@pytest.mark.parametrize(("locale", "status"), [
    ("fr", 422), ("zh", 422), ("zh_Hans", 422), ("zh-Hant", 422), ("ja-JP", 422),
    ("EN", 422), ("", 422), ("x" * 11, 400), (1, 400), (["ja"], 400),
])
def test_bad_locale(api: Any, locale: Any, status: int) -> None:
    assert_error(api.create(locale=locale), status, param="locale")


@pytest.mark.parametrize(("theme", "status"), [
    ("no-such-theme", 422), ("../themes/default", 422), ("default/../default", 422),
    ("/default", 422), ("", 422), ("DEFAULT", 422), (7, 400), ("t" * 41, 400),
])
def test_bad_theme(api: Any, theme: Any, status: int) -> None:
    assert_error(api.create(theme=theme), status, param="theme")


@pytest.mark.parametrize(("methods", "status"), [
    ([], 400), ("card", 400), ([1], 400), ([None], 400), ({"card": True}, 400),
    (["bitcoin"], 422), (["card", "bitcoin"], 422),
])
def test_bad_payment_method_types(api: Any, methods: Any, status: int) -> None:
    assert_error(api.create(payment_method_types=methods), status, param="payment_method_types")


def test_duplicate_payment_method_types_are_collapsed(api: Any) -> None:
    response = api.create(payment_method_types=["card", "card"])
    assert response.get_json()["payment_method_types"] == ["card"]


@pytest.mark.parametrize(("metadata", "param"), [
    ("order=1", "metadata"),
    (["a"], "metadata"),
    ({"order": 1}, "metadata.order"),
    ({"order": None}, "metadata.order"),
    ({"order": {"nested": "x"}}, "metadata.order"),
    ({"k" * 41: "v"}, "metadata." + "k" * 41),
    ({"note": "v" * 501}, "metadata.note"),
    ({"": "v"}, "metadata."),
    ({"bad\x00key": "v"}, None),
    ({"k": "bad\x00value"}, "metadata.k"),
    ({f"k{i}": "v" for i in range(51)}, "metadata"),
])
def test_bad_metadata_is_400(api: Any, metadata: Any, param: str | None) -> None:
    assert_error(api.create(metadata=metadata), 400, param=param)


@pytest.mark.parametrize(("customer", "param"), [
    ("someone@example.com", "customer"),
    ({"email": "not-an-email"}, "customer.email"),
    ({"email": "two@@example.com"}, "customer.email"),
    ({"email": "a@b"}, "customer.email"),
    ({"email": "a b@example.com"}, "customer.email"),
    ({"email": 5}, "customer.email"),
    ({"email": "x" * 250 + "@example.com"}, "customer.email"),
    ({"name": ["Hanako"]}, "customer.name"),
    ({"phone": 9012345678}, "customer.phone"),
    ({"name": "Hana\x00ko"}, "customer.name"),
])
def test_bad_customer_is_400(api: Any, customer: Any, param: str) -> None:
    assert_error(api.create(customer=customer), 400, param=param)


@pytest.mark.parametrize(("items", "param"), [
    ("tea", "line_items"),
    ({"name": "Tea"}, "line_items"),
    (["tea"], "line_items[0]"),
    ([{"quantity": 1, "unit_amount": 100}], "line_items[0].name"),
    ([{"name": "", "unit_amount": 100}], "line_items[0].name"),
    ([{"name": "   ", "unit_amount": 100}], "line_items[0].name"),
    ([{"name": 5, "unit_amount": 100}], "line_items[0].name"),
    ([{"name": "n" * 201, "unit_amount": 100}], "line_items[0].name"),
    ([{"name": "Tea"}], "line_items[0].unit_amount"),
    ([{"name": "Tea", "unit_amount": "100"}], "line_items[0].unit_amount"),
    ([{"name": "Tea", "unit_amount": 1.5}], "line_items[0].unit_amount"),
    ([{"name": "Tea", "unit_amount": 100, "quantity": 0}], "line_items[0].quantity"),
    ([{"name": "Tea", "unit_amount": 100, "quantity": 1.0}], "line_items[0].quantity"),
    ([{"name": "Tea", "unit_amount": 100, "quantity": True}], "line_items[0].quantity"),
    ([{"name": "Tea", "unit_amount": 100, "quantity": 10_001}], "line_items[0].quantity"),
    ([{"name": "Tea", "unit_amount": 100}] * 101, "line_items"),
])
def test_bad_line_items_are_400(api: Any, items: Any, param: str) -> None:
    assert_error(api.create(amount=None, line_items=items), 400, param=param)


@pytest.mark.parametrize("unit_amount", [0, -100])
def test_non_positive_line_item_amounts_are_422(api: Any, unit_amount: int) -> None:
    items = [{"name": "Tea", "unit_amount": unit_amount}]
    assert_error(api.create(amount=None, line_items=items), 422,
                 param="line_items[0].unit_amount")


@pytest.mark.parametrize(("value", "status"), [(5, 400), ("r" * 201, 400), ("a\x00b", 400)])
def test_bad_client_reference_id(api: Any, value: Any, status: int) -> None:
    assert_error(api.create(client_reference_id=value), status, param="client_reference_id")


def test_nul_characters_never_reach_the_database(api: Any) -> None:
    """PostgreSQL refuses NUL in text: it must be a 400, not a 500."""
    items = [{"name": "Te\x00a", "unit_amount": 12800}]
    assert_error(api.create(amount=None, line_items=items), 400, param="line_items[0].name")


# ---- routing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/v1/nothing", "/v1/checkout", "/v1/checkout/sessions/cs_1/x",
                                  "/v1/"])
def test_unknown_v1_path_is_json_404(client: FlaskClient, merchant: Any, path: str) -> None:
    for headers in ({}, {"Authorization": f"Bearer {merchant.secret_key}"}):
        assert_error(client.get(path, headers=headers), 404)
        assert_error(client.post(path, headers=headers), 404)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/checkout/sessions"),
    ("PUT", "/v1/checkout/sessions"),
    ("DELETE", "/v1/checkout/sessions/cs_1"),
    ("PATCH", "/v1/checkout/sessions/cs_1"),
    ("POST", "/v1/checkout/sessions/cs_1"),
    ("GET", "/v1/checkout/sessions/cs_1/expire"),
])
def test_wrong_method_is_json_405(client: FlaskClient, merchant: Any, method: str,
                                  path: str) -> None:
    response = client.open(path, method=method,
                           headers={"Authorization": f"Bearer {merchant.secret_key}"})
    assert_error(response, 405, "method_not_allowed")
    assert "Allow" in response.headers


def test_api_answers_carry_no_cookies_and_are_not_cached(api: Any) -> None:
    response = api.create()
    assert "Set-Cookie" not in response.headers
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
