"""Market packs: payment methods, form parsers, sandbox behaviours and next-action handlers for
one market each. Importing a module registers its pieces with the shared registries
(``methods.CATALOG``, ``method_forms.FORM_PARSERS``, ``gateway.sandbox.BEHAVIOURS``,
``pay.NEXT_ACTION_HANDLERS``)."""

from __future__ import annotations

import importlib

from flask import Flask

# Add a market module here (one line each).
MARKET_MODULES: tuple[str, ...] = (
    "checkout.wallets",  # the generic redirect/QR wallet flow (used by both markets)
    "checkout.markets.korea",
    "checkout.vouchers",  # the generic voucher/slip flow (konbini, virtual accounts …)
    "checkout.markets.japan",
)


def import_markets() -> list[object]:
    """Import each market module (registers its methods and sandbox behaviours). The sandbox
    gateway's own server calls this too, so it knows every market's methods."""
    return [importlib.import_module(name) for name in MARKET_MODULES]


def load_markets(app: Flask) -> None:
    """Import each market module; register the blueprints it lists in ``BLUEPRINTS``."""
    for module in import_markets():
        for blueprint in getattr(module, "BLUEPRINTS", ()):
            # Markets share some machinery (the vouchers blueprint): register it once.
            if app.blueprints.get(blueprint.name) is not blueprint:
                app.register_blueprint(blueprint)
