"""Japanese wallets and carrier billing on the generic wallet flow (``checkout/wallets.py``):
a QR to scan on a computer, the wallet's page by redirect on a phone. Carrier billing only
for merchants that sell digital goods (``digital_only``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...methods import PaymentMethod, register
from ...wallets import WALLET

YEN = frozenset({"JPY"})
JP = frozenset({"JP"})

for method in (
    # Weights follow market share: wallets ~8% of Japanese cross-border e-commerce.
    PaymentMethod(id="paypay", flow=WALLET, currencies=YEN, name=_l("PayPay"),
                  widget="wallet", weight=80, markets=JP, min_amount={"JPY": 1}, group="wallet"),
    PaymentMethod(id="rakuten_pay", flow=WALLET, currencies=YEN, name=_l("Rakuten Pay"),
                  widget="wallet", weight=70, markets=JP, min_amount={"JPY": 1}, group="wallet"),
    PaymentMethod(id="merpay", flow=WALLET, currencies=YEN, name=_l("Merpay"),
                  widget="wallet", weight=60, markets=JP, min_amount={"JPY": 1}, group="wallet"),
    PaymentMethod(id="au_pay", flow=WALLET, currencies=YEN, name=_l("au PAY"),
                  widget="wallet", weight=55, markets=JP, min_amount={"JPY": 1}, group="wallet"),
    PaymentMethod(id="docomo_carrier", flow=WALLET, currencies=YEN, name=_l("d Payment (docomo)"),
                  widget="wallet", weight=35, markets=JP, min_amount={"JPY": 1},
                  max_amount={"JPY": 100_000}, group="carrier", digital_only=True),
    PaymentMethod(id="au_carrier", flow=WALLET, currencies=YEN, name=_l("au Easy Payment"),
                  widget="wallet", weight=34, markets=JP, min_amount={"JPY": 1},
                  max_amount={"JPY": 100_000}, group="carrier", digital_only=True),
    PaymentMethod(id="softbank_carrier", flow=WALLET, currencies=YEN,
                  name=_l("SoftBank Carrier Billing"), widget="wallet", weight=33, markets=JP,
                  min_amount={"JPY": 1}, max_amount={"JPY": 100_000}, group="carrier",
                  digital_only=True),
):
    register(method)
