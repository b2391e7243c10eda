"""The sandbox gateway, in one place: a ledger of its own (``ledger``), each market's
behaviours registered the same way with ``@sandbox_method`` (cards in ``ledger``, ``japan``,
``korea``, ``wallets``), its own pages (``pages``: 3-D Secure challenge, wallet approval), its
intraday rates (``rates``) and its HTTP server (``server``, ``kessai sandbox-gateway``).

It plays a separate system: it knows the gateway contract (``checkout.gateway.base``) and the
house's foundations (database, pages), never Kessai's sessions or payments. The embedded
sandbox tells Kessai of a payment it settles through the event sink ``create_app`` hands it,
as the HTTP sandbox posts the same event to ``/gateway/events``.
"""

from __future__ import annotations

from . import japan, korea, wallets  # noqa: F401 - each registers its methods' behaviours
from .ledger import (
    BEHAVIOURS,
    EmbeddedControls,
    EmbeddedSandboxGateway,
    Outcome,
    SandboxLedger,
    SandboxLinks,
    sandbox_method,
    to_gateway_payment,
)

__all__ = ["BEHAVIOURS", "EmbeddedControls", "EmbeddedSandboxGateway", "Outcome", "SandboxLedger",
           "SandboxLinks", "sandbox_method", "to_gateway_payment"]
