"""Japan: konbini slips, card instalments, the 特定商取引法 disclosure, Japanese forms and the
jp-red theme's market. Importing this package registers its methods (with their flows), form
parsers and voucher kinds; ``BLUEPRINTS`` adds its own pages."""

from __future__ import annotations

from typing import Any

from flask import Flask

from . import bank, forms, instalments, konbini, legal, preview_states, views, wallets
from .forms import collects_japanese_address, contact_values
from .instalments import instalment_options, offers_instalments, plan_label
from .konbini import CHAINS
from .legal import has_legal_disclosure
from .postal import PREFECTURES


def _template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        jp_contact_values=contact_values, jp_collects_address=collects_japanese_address,
        jp_instalment_options=instalment_options, jp_offers_instalments=offers_instalments,
        jp_instalment_label=plan_label, jp_konbini_chains=CHAINS, jp_prefectures=PREFECTURES,
        jp_has_legal=has_legal_disclosure,
    )


views.bp.record_once(lambda state: _template_helpers(state.app))  # type: ignore[arg-type]

BLUEPRINTS: tuple[Any, ...] = (views.bp, legal.bp)
__all__ = ["BLUEPRINTS", "bank", "forms", "instalments", "konbini", "legal", "preview_states",
           "wallets"]
