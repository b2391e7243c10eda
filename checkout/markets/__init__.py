"""Market packs: payment methods, form parsers, sandbox behaviours and next-action handlers for
one market each. Importing a module registers its pieces with the shared registries
(``methods.CATALOG``, ``method_forms.FORM_PARSERS``, ``pay.NEXT_ACTION_HANDLERS``); the
sandbox gateway plays every market's methods on its own (``checkout/gateway/sandbox/``)."""

from __future__ import annotations

from types import ModuleType

from flask import Flask


def import_markets() -> list[ModuleType]:
    """Each market pack (each imports the flows its methods use). Add a market here."""
    from . import japan, korea

    return [korea, japan]


def load_markets(app: Flask) -> None:
    """Import each market module; register the blueprints it lists in ``BLUEPRINTS`` and
    those of every flow its methods use (once, however many methods share a flow)."""
    from ..methods import CATALOG

    blueprints = [blueprint for module in import_markets()
                  for blueprint in getattr(module, "BLUEPRINTS", ())]
    blueprints += [blueprint for method in CATALOG.values()
                   for blueprint in method.flow.blueprints]
    for blueprint in blueprints:
        if app.blueprints.get(blueprint.name) is not blueprint:
            app.register_blueprint(blueprint)
