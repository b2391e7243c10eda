"""The payment gateway backend, behind one interface (``Gateway``).

``get_gateway()`` returns the embedded sandbox by default, or the HTTP client when
``KESSAI_GATEWAY_URL`` is set. Every payment path in Kessai goes through this.
"""

from __future__ import annotations

from flask import current_app

from .base import (
    CardDetails,
    Gateway,
    GatewayError,
    GatewayIdempotencyConflict,
    GatewayPayment,
    GatewayUnavailable,
    PaymentRequest,
)

__all__ = [
    "CardDetails",
    "Gateway",
    "GatewayError",
    "GatewayIdempotencyConflict",
    "GatewayPayment",
    "GatewayUnavailable",
    "PaymentRequest",
    "get_gateway",
]


def get_gateway() -> Gateway:
    gateway = current_app.extensions.get("kessai.gateway")
    if gateway is None:
        url = current_app.config.get("GATEWAY_URL")
        if url:
            from .http import HttpGateway

            gateway = HttpGateway(
                url,
                current_app.config["GATEWAY_SECRET"],
                timeout=current_app.config["GATEWAY_TIMEOUT_SECONDS"],
                deadline=current_app.config.get("GATEWAY_DEADLINE_SECONDS"),
                concurrency=current_app.config.get("GATEWAY_CONCURRENCY", 8),
            )
        else:
            from .sandbox import EmbeddedSandboxGateway

            gateway = EmbeddedSandboxGateway()
        current_app.extensions["kessai.gateway"] = gateway
    return gateway
