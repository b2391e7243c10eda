"""HTTP client for a remote gateway backend speaking ``docs/gateway-openapi.yaml``.

Timeouts, connection failures and 5xx answers are retried with the *same* idempotency key (so
the gateway charges at most once); if the gateway stays unreachable the caller gets
``GatewayUnavailable`` and the payment stays "processing" until a later look-up settles it.

A slow gateway must not take the server down with it: one call (all its tries) ends by its
deadline, and only ``concurrency`` calls run at once per process — more fail fast as
unavailable (the payment stays processing; the worker settles it), so the threads left serve
pages and health checks.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from typing import Any
from urllib.parse import quote

import httpx

from .base import (
    CardDetails,
    CardToken,
    GatewayError,
    GatewayIdempotencyConflict,
    GatewayPayment,
    GatewayUnavailable,
    PaymentRequest,
    RateTable,
)

RETRY_DELAYS = (0.2, 0.6)  # two retries after the first try
IDEMPOTENCY_CODES = frozenset({"idempotency_conflict", "idempotency_key_reused"})


class HttpGateway:
    def __init__(self, base_url: str, secret: str, timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None, deadline: float | None = None,
                 concurrency: int = 8) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.deadline = deadline if deadline is not None else timeout * 1.2
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
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

    def tokenize_card(self, card: CardDetails) -> CardToken:
        data = self._call("POST", "/v1/card_tokens", json={"card": asdict(card)})
        assert data is not None
        return CardToken(**{k: data[k] for k in ("token", "brand", "last4", "exp_month",
                                                 "exp_year")})

    def forget_card(self, token: str) -> None:
        self._call("DELETE", f"/v1/card_tokens/{quote(token, safe='')}", missing_ok=True)

    def simulate(self, payment_id: str, outcome: str) -> GatewayPayment:
        """Test mode only: settle a waiting payment (slip paid, deposit made, expired …)."""
        data = self._call("POST", f"/v1/payments/{payment_id}/simulate", json={"outcome": outcome})
        assert data is not None
        return GatewayPayment.from_json(data)

    def test_controls(self) -> HttpControls:
        """The HTTP contract's ``/simulate`` (a sandbox answers it; a real gateway refuses)."""
        return HttpControls(self)


    def _call(self, method: str, path: str, missing_ok: bool = False,
              **kwargs: Any) -> dict[str, Any] | None:
        if not self._slots.acquire(blocking=False):
            raise GatewayUnavailable("too many gateway calls in flight in this process",
                                     reached=False)
        try:
            return self._call_within_deadline(method, path, missing_ok, **kwargs)
        finally:
            self._slots.release()

    def _call_within_deadline(self, method: str, path: str, missing_ok: bool,
                              headers: dict[str, str] | None = None,
                              **kwargs: Any) -> dict[str, Any] | None:
        last_error = "no attempt"
        reached = False  # whether any try may have got to the gateway (see GatewayUnavailable)
        ends = time.monotonic() + self.deadline
        for attempt in range(len(RETRY_DELAYS) + 1):
            if attempt:
                time.sleep(RETRY_DELAYS[attempt - 1])  # backoff before retrying the same key
            left = ends - time.monotonic()
            if left <= 0:
                break
            try:
                response = self._client.request(method, path,
                                                 timeout=min(self.timeout, left),
                                                 headers=_with_request_id(headers), **kwargs)
            except httpx.TransportError as exc:  # timeouts, refused connections, resets
                last_error = f"{type(exc).__name__}: {exc}"
                # No connection, no request: a refused or timed-out connect sent nothing.
                reached = reached or not isinstance(exc, (httpx.ConnectError,
                                                          httpx.ConnectTimeout))
                continue
            reached = True
            if response.status_code >= 500:
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code == 404 and missing_ok or response.status_code == 204:
                return None
            payload = _json(response)
            if response.status_code >= 400:
                error = payload.get("error", {}) if isinstance(payload, dict) else {}
                code = str(error.get("code", "gateway_error"))
                # Only the gateway's own idempotency error means "this key holds another
                # request"; any other 409 (a conflict about state) is an ordinary refusal.
                if response.status_code == 409 and code in IDEMPOTENCY_CODES:
                    raise GatewayIdempotencyConflict(_message(payload))
                raise GatewayError(_message(payload), code)
            return payload
        raise GatewayUnavailable(f"gateway unreachable within {self.deadline:g}s ({last_error})",
                                 reached=reached)


def _with_request_id(headers: dict[str, str] | None) -> dict[str, str]:
    """The shopper's request id travels with every gateway call (logs.py)."""
    from ..logs import REQUEST_ID_HEADER, request_id

    current = request_id()
    return {**(headers or {}), **({REQUEST_ID_HEADER: current} if current else {})}


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


class HttpControls:
    plays_the_clock = False  # a gateway over HTTP reports its own expiries

    def __init__(self, gateway: HttpGateway) -> None:
        self.gateway = gateway

    def settle(self, payment_id: str, status: str,
               failure_code: str | None = None) -> GatewayPayment | None:
        return self.gateway.simulate(payment_id, status)
