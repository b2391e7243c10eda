"""A demo shop (``/demo``) so a newcomer sees the whole flow in a minute.

It behaves like a merchant's server: it calls Kessai's real merchant API (in-process WSGI, with
the demo merchant's secret key), sends the shopper to the returned ``url``, shows the session
fetched from the API on its success page, and receives signed webhooks at ``/demo/webhook``.
Off in production (``KESSAI_DEMO=0``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.test import Client

from .csrf import csrf_exempt
from .db import get_db
from .ids import hash_secret
from .models import Merchant, WebhookEvent
from .pages import render_page
from .webhooks import SIGNATURE_HEADER, verify

bp = Blueprint("demo", __name__, url_prefix="/demo")

@dataclass(frozen=True)
class DemoOrder:
    title: Any  # lazy strings: shown in the shopper's language
    button: Any
    body: dict[str, Any]  # what the demo merchant sends to POST /v1/checkout/sessions


DEMO_ORDERS = {
    "jp": DemoOrder(_l("Order from Japan (JPY)"), _l("Check out in yen"), {
        "currency": "JPY", "locale": "auto",
        "line_items": [{"name": "抹茶ラテ ギフトセット", "quantity": 1, "unit_amount": 9800},
                       {"name": "送料", "quantity": 1, "unit_amount": 3000}],
    }),
    "kr": DemoOrder(_l("Order from Korea (KRW)"), _l("Check out in won"), {
        "currency": "KRW", "locale": "auto",
        "line_items": [{"name": "한방 스킨케어 세트", "quantity": 1, "unit_amount": 59000},
                       {"name": "배송비", "quantity": 1, "unit_amount": 3000}],
    }),
    # A Chinese brand pricing in yuan: the shopper sees and pays a locked yen amount (FX).
    "cn": DemoOrder(_l("Priced in yuan, paid in yen (CNY → JPY)"),
                    _l("Check out with the live yen amount"), {
        "currency": "CNY", "locale": "auto", "presentment_currencies": ["JPY"],
        "line_items": [{"name": "桂花乌龙茶礼盒", "quantity": 1, "unit_amount": 12800}],
    }),
}


# The demo shop's 特定商取引法 disclosure (konbini, Pay-easy and bank transfer need one).
# Plainly a demo: no real seller stands behind it.
DEMO_LEGAL = {
    "seller": {"ja": "Kessai デモショップ（サンドボックス）", "en": "Kessai Demo Shop (sandbox)",
               "ko": "Kessai 데모 숍 (샌드박스)", "zh-Hans": "Kessai 演示商店（沙盒）"},
    "address": {"ja": "デモ用のため実在の住所はありません", "en": "A demo: no real address",
                "ko": "데모용이므로 실제 주소가 없습니다", "zh-Hans": "演示用，无真实地址"},
    "phone": "00-0000-0000",
    "email": "demo@example.com",
    "prices": {"ja": "各商品に表示（税込）", "en": "As shown for each item (tax included)",
               "ko": "각 상품에 표시 (세금 포함)", "zh-Hans": "以各商品标示为准（含税）"},
    "fees": {"ja": "送料は注文内容に表示", "en": "Shipping is shown in the order",
             "ko": "배송비는 주문 내역에 표시", "zh-Hans": "运费见订单明细"},
    "payment_methods": {"ja": "クレジットカード、コンビニ払い、ペイジー、銀行振込、PayPay",
                        "en": "Card, konbini, Pay-easy, bank transfer, PayPay",
                        "ko": "카드, 편의점 결제, Pay-easy, 계좌이체, PayPay",
                        "zh-Hans": "银行卡、便利店付款、Pay-easy、银行转账、PayPay"},
    "delivery": {"ja": "デモのため発送はありません", "en": "A demo: nothing is shipped",
                 "ko": "데모이므로 배송되지 않습니다", "zh-Hans": "演示用，不会发货"},
    "returns": {"ja": "デモのため返品はありません", "en": "A demo: no returns",
                "ko": "데모이므로 반품이 없습니다", "zh-Hans": "演示用，无退货"},
}


def _demo_settings(settings: dict[str, Any] | None) -> dict[str, Any]:
    merged = dict(settings or {})
    japan = dict(merged.get("japan") or {})
    japan.setdefault("legal", DEMO_LEGAL)
    merged["japan"] = japan
    return merged


def demo_secret_key() -> str:
    """Derived from the server secret, so the demo can use its key while only the hash is
    stored (like every merchant's)."""
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, b"kessai-demo-merchant", hashlib.sha256).hexdigest()
    return "sk_test_demo_" + digest[:40]


def ensure_demo_merchant() -> tuple[Merchant, bool]:
    db = get_db()
    key_hash = hash_secret(demo_secret_key())
    merchant = db.scalar(select(Merchant).where(Merchant.is_demo.is_(True)))
    public_url = current_app.config["PUBLIC_URL"]
    if merchant is not None:
        merchant.secret_key_hash = key_hash  # the server secret may have changed
        merchant.webhook_url = f"{public_url}/demo/webhook"
        merchant.settings = _demo_settings(merchant.settings)
        db.commit()
        return merchant, False
    from .merchants import create_merchant

    merchant, _secret = create_merchant(
        db, name="Kessai Demo Shop", origins=[public_url], webhook_url=f"{public_url}/demo/webhook",
        secret_key=demo_secret_key(), is_demo=True,
    )
    merchant.settings = _demo_settings(merchant.settings)
    db.commit()
    return merchant, True


def _call_api(
    method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    client = Client(current_app)
    response = client.open(
        path, method=method, json=body,
        headers={"Authorization": f"Bearer {demo_secret_key()}"},
        base_url=current_app.config["PUBLIC_URL"],
    )
    return response.status_code, json.loads(response.get_data(as_text=True))


@bp.get("/")
def shop() -> Any:
    return render_page("demo/shop.html", orders=DEMO_ORDERS)


@bp.post("/checkout/<order>")
def start_checkout(order: str) -> Any:
    if order not in DEMO_ORDERS:
        return redirect(url_for("demo.shop"), code=303)
    ensure_demo_merchant()
    base = current_app.config["PUBLIC_URL"]
    status, session = _call_api("POST", "/v1/checkout/sessions", {
        **DEMO_ORDERS[order].body,
        "success_url": f"{base}/demo/success?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}/demo/",
        "metadata": {"demo_order": order},
    })
    if status != 200:
        return render_page("demo/shop.html", orders=DEMO_ORDERS, error=session.get("error"),
                           status=502)
    return redirect(session["url"], code=303)


@bp.get("/success")
def success() -> Any:
    session_id = request.args.get("session_id", "")
    status, session = _call_api("GET", f"/v1/checkout/sessions/{session_id}")
    events = []
    if status == 200:
        events = list(get_db().scalars(
            select(WebhookEvent).where(WebhookEvent.body.contains(session_id)).order_by(WebhookEvent.created)
        ))
    g.theme = "default"
    return render_page("demo/success.html", session=session if status == 200 else None,
                       session_json=json.dumps(session, ensure_ascii=False, indent=2),
                       events=events,
                       status=200 if status == 200 else 404)


@csrf_exempt
@bp.post("/webhook")
def webhook() -> Response:
    """The demo merchant's webhook endpoint: verifies the signature as a merchant should."""
    merchant = get_db().scalar(select(Merchant).where(Merchant.is_demo.is_(True)))
    if merchant is None or not verify(merchant.webhook_secret, request.get_data(),
                                      request.headers.get(SIGNATURE_HEADER, "")):
        return Response('{"received":false}', status=400, mimetype="application/json")
    return Response('{"received":true}', mimetype="application/json")
