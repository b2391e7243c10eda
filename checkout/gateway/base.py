"""The gateway contract as Python types. ``docs/gateway-openapi.yaml`` is the same contract
over HTTP."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

# Payment statuses a gateway reports.
SUCCEEDED = "succeeded"
FAILED = "failed"
REQUIRES_ACTION = "requires_action"  # next_action says what the shopper must do
PENDING = "pending"  # waiting for the shopper to pay elsewhere (konbini, bank transfer, wallet)
PROCESSING = "processing"
EXPIRED = "expired"
FINAL_STATUSES = frozenset({SUCCEEDED, FAILED, EXPIRED})


class GatewayError(Exception):
    """The gateway refused the request (a contract error, not a decline)."""

    def __init__(self, message: str, code: str = "gateway_error") -> None:
        super().__init__(message)
        self.code = code


class GatewayUnavailable(GatewayError):
    """Timeout or connection failure: the outcome is unknown, so retry with the same key.

    ``reached`` is False only when no try can have reached the gateway (every connection was
    refused, or the call was never started): then, and only then, the request may go to
    another gateway without asking this one first."""

    def __init__(self, message: str, reached: bool = True) -> None:
        super().__init__(message, "gateway_unavailable")
        self.reached = reached


class GatewayIdempotencyConflict(GatewayError):
    """The idempotency key was already used with different parameters."""

    def __init__(self, message: str = "idempotency key reused with different parameters") -> None:
        super().__init__(message, "idempotency_conflict")


@dataclass(frozen=True)
class CardDetails:
    number: str
    exp_month: int
    exp_year: int
    cvc: str
    name: str

    def __repr__(self) -> str:
        return f"CardDetails(last4={self.number[-4:]!r})"


@dataclass(frozen=True)
class CardToken:
    """A card the gateway keeps in its vault, to charge again with ``card_token``: Kessai keeps
    this token, the brand, last 4 and expiry — never the number."""

    token: str
    brand: str | None
    last4: str
    exp_month: int
    exp_year: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PaymentRequest:
    idempotency_key: str
    amount: int
    currency: str
    method: str
    return_url: str
    description: str = ""
    card: CardDetails | None = None
    # Method-specific fields (instalments, konbini store, wallet, customer contact …). A
    # passkey-confirmed payment carries ``authentication: {"method": "passkey", …}``.
    details: dict[str, Any] = field(default_factory=dict)
    # A card saved earlier (``Gateway.tokenize_card``), charged instead of ``card``.
    card_token: str | None = None

    def fingerprint(self) -> str:
        """What must match for a replay under the same idempotency key (never the full PAN)."""
        data = {
            "amount": self.amount,
            "currency": self.currency,
            "method": self.method,
            "card": self.card.number[-4:] if self.card else None,
            "card_token": self.card_token,
            "details": self.details,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.card is None:
            data.pop("card")
        if self.card_token is None:
            data.pop("card_token")
        return data


# What the shopper must do next, as a gateway says it (``GatewayPayment.next_action``): the
# wire and the database keep the JSON object; Kessai reads it typed, as a ``NextAction``.
REDIRECT = "redirect"  # open ``url`` (a wallet's, bank's or carrier's page)
CHALLENGE = "challenge"  # a 3-D Secure challenge at ``url``
QR = "qr"  # scan ``qr_url`` with a phone; ``url`` is the same page on this device
VOUCHER = "voucher"  # pay later, elsewhere: ``voucher`` holds kind, deadline and fields
NEXT_ACTION_TYPES = (REDIRECT, CHALLENGE, QR, VOUCHER)


@dataclass(frozen=True)
class NextAction:
    type: str
    url: str = ""
    qr_url: str = ""
    voucher: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> NextAction | None:
        """The typed action, or None when there is none or its type is one Kessai does not
        know (a newer gateway): the payment then waits as any processing payment does."""
        if not data or data.get("type") not in NEXT_ACTION_TYPES:
            return None
        voucher = data.get("voucher")
        return cls(type=str(data["type"]), url=str(data.get("url") or ""),
                   qr_url=str(data.get("qr_url") or ""),
                   voucher=dict(voucher) if isinstance(voucher, dict) else {})


@dataclass
class GatewayPayment:
    id: str
    status: str
    method: str
    amount: int
    currency: str
    failure_code: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    next_action: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    created: int = 0

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def action(self) -> NextAction | None:
        return NextAction.from_json(self.next_action)

    def to_json(self) -> dict[str, Any]:
        return {"object": "payment", **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GatewayPayment:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class RateTable:
    """Exchange rates at one moment: units of each currency per one unit of ``base``.

    Rates are exact decimals (never floats), sent over HTTP as strings. ``as_of`` is when the
    rates were set (unix seconds); ``source`` names who set them ("ecb", "sandbox" …).
    """

    base: str
    rates: dict[str, Decimal]
    as_of: int
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"object": "rate_table", "base": self.base, "as_of": self.as_of,
                "source": self.source, "rates": {k: str(v) for k, v in sorted(self.rates.items())}}

    @classmethod
    def from_json(cls, data: Any) -> RateTable:
        """Parse and validate (a rate must be a positive, finite decimal; a code 3 letters)."""
        try:
            base = str(data["base"]).upper()
            as_of = data["as_of"]
            if not isinstance(as_of, int) or isinstance(as_of, bool):
                raise ValueError("as_of must be unix seconds")
            rates = {}
            for code, value in dict(data["rates"]).items():
                if isinstance(value, float):
                    raise ValueError("rates must be decimal strings, not binary floats")
                rate = Decimal(str(value))
                if not rate.is_finite() or rate <= 0 or len(rate.as_tuple().digits) > 20 \
                        or len(str(code)) != 3:
                    raise ValueError(f"bad rate for {code!r}")
                rates[str(code).upper()] = rate
            source = str(data.get("source") or "gateway")[:40]
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise GatewayError(f"bad rate table: {exc}", "invalid_rates") from exc
        if len(base) != 3:
            raise GatewayError("bad rate table: base must be a currency code", "invalid_rates")
        return cls(base=base, rates=rates, as_of=as_of, source=source)


class Gateway(Protocol):
    def get_rates(self) -> RateTable:
        """The gateway's current exchange rates (what it would convert at right now)."""

    def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        """Create (and confirm) a payment. Same key + same request → the same payment."""

    def get_payment(self, payment_id: str) -> GatewayPayment:
        """The payment's current state."""

    def find_payment(self, idempotency_key: str) -> GatewayPayment | None:
        """The payment created under this key, if the gateway ever received it."""

    def cancel_payment(self, payment_id: str) -> GatewayPayment:
        """Cancel a payment still waiting for the shopper (a wallet QR nobody will scan), so
        a late approval cannot charge; a final payment is returned unchanged."""

    def tokenize_card(self, card: CardDetails) -> CardToken:
        """Keep the card in the gateway's vault; its token charges it again later
        (``PaymentRequest.card_token``). A gateway that cannot raises GatewayError
        ("method_unsupported")."""

    def forget_card(self, token: str) -> None:
        """Delete a saved card from the vault (the shopper deleted it, or their whole
        profile). A token the vault no longer has is already forgotten, not an error;
        GatewayUnavailable when the gateway cannot be reached (Kessai tries again later)."""

    def test_controls(self) -> TestControls | None:
        """What a test-mode gateway lets Kessai do that a real one never would; None for a
        real gateway."""


class TestControls(Protocol):
    """A test-mode gateway's controls: the outside world, played on demand.

    ``plays_the_clock``: the gateway has no clock of its own (the embedded sandbox), so
    Kessai's worker expires its overdue slips; an HTTP sandbox (or a real gateway) reports
    expiries itself."""

    plays_the_clock: bool

    def settle(self, payment_id: str, status: str,
               failure_code: str | None = None) -> GatewayPayment | None:
        """Decide a waiting payment (the shopper paid at the store; the deadline passed).
        Returns the gateway's answer for Kessai to apply, or None when the gateway already
        told Kessai itself (in process)."""
