"""HTTP client for a remote gateway backend speaking ``docs/gateway-openapi.yaml``.

Timeouts, connection failures and 5xx answers are retried with the *same* idempotency key (so
the gateway charges at most once); if the gateway stays unreachable the caller gets
``GatewayUnavailable`` and the payment stays "processing" until a later look-up settles it.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from .base import (
    GatewayError,
    GatewayIdempotencyConflict,
    GatewayPayment,
    GatewayUnavailable,
    PaymentRequest,
    RateTable,
)

RETRY_DELAYS = (0.2, 0.6)  # two retries after the first try


class HttpGateway:
    def __init__(self, base_url: str, secret: str, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {secret}", "User-Agent": "Kessai"},
            transport=transport,
        )

    def get_rates(self) -> RateTable:
        """``GET /v1/rates``: the gateway's current rates (exact decimal strings)."""
        data = self._call("GET", "/v1/rates")
        return RateTable.from_json(data)

    def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        body = request.to_json()
        body.pop("idempotency_key")
        data = self._call(
            "POST", "/v1/payments", json=body, headers={"Idempotency-Key": request.idempotency_key}
        )
        assert data is not None
        return GatewayPayment.from_json(data)

    def get_payment(self, payment_id: str) -> GatewayPayment:
        data = self._call("GET", f"/v1/payments/{payment_id}")
        assert data is not None
        return GatewayPayment.from_json(data)

    def find_payment(self, idempotency_key: str) -> GatewayPayment | None:
        data = self._call(
            "GET", "/v1/payments", params={"idempotency_key": idempotency_key}, missing_ok=True
        )
        return GatewayPayment.from_json(data) if data else None

    def cancel_payment(self, payment_id: str) -> GatewayPayment:
        data = self._call("POST", f"/v1/payments/{payment_id}/cancel")
        assert data is not None
        return GatewayPayment.from_json(data)

    def simulate(self, payment_id: str, outcome: str) -> GatewayPayment:
        """Test mode only: settle a waiting payment (slip paid, deposit made, expired …)."""
        data = self._call("POST", f"/v1/payments/{payment_id}/simulate", json={"outcome": outcome})
        assert data is not None
        return GatewayPayment.from_json(data)

    def _call(self, method: str, path: str, missing_ok: bool = False,
              **kwargs: Any) -> dict[str, Any] | None:
        last_error = "no attempt"
        for attempt in range(len(RETRY_DELAYS) + 1):
            if attempt:
                time.sleep(RETRY_DELAYS[attempt - 1])  # backoff before retrying the same key
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:  # timeouts, refused connections, resets
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code >= 500:
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code == 404 and missing_ok:
                return None
            payload = _json(response)
            if response.status_code == 409:
                raise GatewayIdempotencyConflict(_message(payload))
            if response.status_code >= 400:
                error = payload.get("error", {}) if isinstance(payload, dict) else {}
                raise GatewayError(_message(payload), str(error.get("code", "gateway_error")))
            return payload
        raise GatewayUnavailable(f"gateway unreachable after retries ({last_error})")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise GatewayUnavailable(f"gateway sent non-JSON (HTTP {response.status_code})") from exc
    if not isinstance(data, dict):
        raise GatewayUnavailable("gateway sent an unexpected body")
    return data


def _message(payload: dict[str, Any]) -> str:
    error = payload.get("error") if isinstance(payload, dict) else None
    return str(error.get("message")) if isinstance(error, dict) else "gateway error"
