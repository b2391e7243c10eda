"""Market packs: payment methods, form parsers, sandbox behaviours and next-action handlers for
one market each. Importing a module registers its pieces with the shared registries
(``methods.CATALOG``, ``method_forms.FORM_PARSERS``, ``gateway.sandbox.BEHAVIOURS``,
``pay.NEXT_ACTION_HANDLERS``)."""

from __future__ import annotations

import importlib

from flask import Flask

# Add a market module here (one line each).
MARKET_MODULES: tuple[str, ...] = ()


def load_markets(app: Flask) -> None:
    """Import each market module; register the blueprints it lists in ``BLUEPRINTS``."""
    for name in MARKET_MODULES:
        module = importlib.import_module(name)
        for blueprint in getattr(module, "BLUEPRINTS", ()):
            app.register_blueprint(blueprint)
