"""The payment gateway backend, behind one interface (``Gateway``).

``get_gateway()`` returns the embedded sandbox by default, or the HTTP client when
``KESSAI_GATEWAY_URL`` is set; ``get_gateway(name)`` one of the other gateways configured in
``KESSAI_GATEWAYS`` (checkout/routing.py chooses). Every payment path in Kessai goes through
this.
"""

from __future__ import annotations

import time
from typing import Any

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
    "MeteredGateway",
    "PaymentRequest",
    "get_gateway",
]


def get_gateway(name: str | None = None) -> Gateway:
    """The gateway called ``name`` (checkout/routing.py), by default the default one: the
    embedded sandbox, or the HTTP client when ``KESSAI_GATEWAY_URL`` is set."""
    default = current_app.config.get("GATEWAY_NAME") or "sandbox"
    if name is None or name == default:
        gateway = current_app.extensions.get("kessai.gateway")
        if gateway is None:
            gateway = MeteredGateway(_build(current_app.config.get("GATEWAY_URL"), None),
                                     default)
            current_app.extensions["kessai.gateway"] = gateway
        return gateway
    named = current_app.extensions.setdefault("kessai.gateways", {})
    if name not in named:
        spec = (current_app.config.get("GATEWAYS") or {}).get(name)
        if spec is None:
            raise GatewayError(f"no gateway is configured under the name {name!r}",
                               "unknown_gateway")
        named[name] = MeteredGateway(_build_named(spec), name)
    return named[name]


def _build_named(spec: dict[str, Any]) -> Gateway:
    if spec.get("type") == "stripe":
        from .stripe_adapter import StripeGateway

        return StripeGateway(  # type: ignore[return-value]
            spec["api_key"], api_base=spec.get("api_base"),
            timeout=current_app.config["GATEWAY_TIMEOUT_SECONDS"], emulator=spec.get("emulator"))
    return _build(spec.get("url"), spec.get("secret"))


def _build(url: str | None, secret: str | None) -> Gateway:
    if url:
        from .http import HttpGateway

        return HttpGateway(
            url,
            secret or current_app.config["GATEWAY_SECRET"],
            timeout=current_app.config["GATEWAY_TIMEOUT_SECONDS"],
            deadline=current_app.config.get("GATEWAY_DEADLINE_SECONDS"),
            concurrency=current_app.config.get("GATEWAY_CONCURRENCY", 8),
        )
    from .sandbox import EmbeddedSandboxGateway

    return EmbeddedSandboxGateway()


class MeteredGateway:
    """A gateway whose every contract call is timed for ``kessai_gateway_request_seconds``
    (checkout/metrics.py), with its result: answered, refused, or unreachable. Anything
    else (the sandbox's test controls) passes straight through."""

    OPERATIONS = ("get_rates", "create_payment", "get_payment", "find_payment",
                  "cancel_payment", "tokenize_card", "forget_card")

    def __init__(self, inner: Gateway, name: str) -> None:
        self.inner = inner
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        target = getattr(self.inner, attribute)
        if attribute not in self.OPERATIONS:
            return target
        from .. import metrics

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            result = "ok"
            try:
                return target(*args, **kwargs)
            except GatewayUnavailable:
                result = "unavailable"
                raise
            except GatewayError:
                result = "error"
                raise
            finally:
                metrics.gateway_call(self.name, attribute, result,
                                     time.perf_counter() - started)

        return timed
