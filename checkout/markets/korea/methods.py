"""Korea's payment methods in the shared catalog (won only).

Weights put easy pay first — it is about 87% of Korean e-commerce value, Samsung Pay and
Kakao Pay about 72% together — then cards, then bank transfer, virtual account and carrier
billing. Limits are Stripe's: at least ₩100; Samsung Pay at most ₩2,000,000.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...flows import REDIRECT_FLOW
from ...methods import PaymentMethod, register
from ...wallets import WALLET

WON = frozenset({"KRW"})
MIN_WON = {"KRW": 100}
EASY_PAY = "easy_pay"

KAKAO_PAY = "kakao_pay"
NAVER_PAY = "naver_pay"
TOSS_PAY = "toss_pay"
SAMSUNG_PAY = "samsung_pay"
PAYCO = "payco"
BANK_TRANSFER = "kr_bank_transfer"
VIRTUAL_ACCOUNT = "kr_virtual_account"
MOBILE_CARRIER = "kr_mobile_carrier"

EASY_PAY_IDS = (KAKAO_PAY, SAMSUNG_PAY, NAVER_PAY, TOSS_PAY, PAYCO)

for method in (
    PaymentMethod(id=KAKAO_PAY, flow=WALLET, currencies=WON, name=_l("Kakao Pay"),
                  widget="wallet", weight=1300, markets=frozenset({"KR"}), min_amount=MIN_WON,
                  group=EASY_PAY),
    PaymentMethod(id=SAMSUNG_PAY, flow=WALLET, currencies=WON, name=_l("Samsung Pay"),
                  widget="wallet", weight=1250, markets=frozenset({"KR"}), min_amount=MIN_WON,
                  max_amount={"KRW": 2_000_000}, group=EASY_PAY),
    PaymentMethod(id=NAVER_PAY, flow=WALLET, currencies=WON, name=_l("Naver Pay"),
                  widget="wallet", weight=1200, markets=frozenset({"KR"}), min_amount=MIN_WON,
                  group=EASY_PAY),
    PaymentMethod(id=TOSS_PAY, flow=WALLET, currencies=WON, name=_l("Toss Pay"),
                  widget="wallet", weight=1150, markets=frozenset({"KR"}), min_amount=MIN_WON,
                  group=EASY_PAY),
    PaymentMethod(id=PAYCO, flow=WALLET, currencies=WON, name=_l("PAYCO"),
                  widget="wallet", weight=1100, markets=frozenset({"KR"}), min_amount=MIN_WON,
                  group=EASY_PAY),
):
    register(method)

# 계좌이체: the bank's page by redirect on every device (no QR: banks authenticate in place).
register(PaymentMethod(id=BANK_TRANSFER, flow=REDIRECT_FLOW, currencies=WON,
                       name=_l("Real-time bank transfer"), widget="kr_bank_transfer", weight=500,
                       markets=frozenset({"KR"}), min_amount=MIN_WON))

# 가상계좌 (an account number to deposit into later): checkout/markets/korea/virtual_account.py.

# 휴대폰 결제: charged to the phone bill after the carrier's confirmation page.
register(PaymentMethod(id=MOBILE_CARRIER, flow=REDIRECT_FLOW, currencies=WON,
                       name=_l("Mobile phone billing"), widget="kr_mobile_carrier", weight=300,
                       markets=frozenset({"KR"}), min_amount=MIN_WON))
