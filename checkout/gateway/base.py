"""The gateway contract as Python types. ``docs/gateway-openapi.yaml`` is the same contract
over HTTP."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
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
    """Timeout or connection failure: the outcome is unknown, so retry with the same key."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "gateway_unavailable")


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
class PaymentRequest:
    idempotency_key: str
    amount: int
    currency: str
    method: str
    return_url: str
    description: str = ""
    card: CardDetails | None = None
    # Method-specific fields (instalments, konbini store, wallet, customer contact …).
    details: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """What must match for a replay under the same idempotency key (never the full PAN)."""
        data = {
            "amount": self.amount,
            "currency": self.currency,
            "method": self.method,
            "card": self.card.number[-4:] if self.card else None,
            "details": self.details,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.card is None:
            data.pop("card")
        return data


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

    def to_json(self) -> dict[str, Any]:
        return {"object": "payment", **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GatewayPayment:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


class Gateway(Protocol):
    def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        """Create (and confirm) a payment. Same key + same request → the same payment."""

    def get_payment(self, payment_id: str) -> GatewayPayment:
        """The payment's current state."""

    def find_payment(self, idempotency_key: str) -> GatewayPayment | None:
        """The payment created under this key, if the gateway ever received it."""
