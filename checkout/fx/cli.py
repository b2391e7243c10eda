"""``kessai merchants configure-fx``: a merchant's mark-up, rate lock and presentment currencies
(``merchants.settings["fx"]``, docs/fx.md)."""

from __future__ import annotations

from typing import Any

import click

from ..money import CURRENCIES
from .settings import MAX_LOCK_MINUTES, MAX_MARKUP_BPS, MIN_LOCK_MINUTES


@click.command("configure-fx")
@click.argument("merchant_id")
@click.option("--markup-bps", type=click.IntRange(0, MAX_MARKUP_BPS),
              help="Mark-up over the reference rate in basis points (150 = 1.50%).")
@click.option("--lock-minutes", type=click.IntRange(MIN_LOCK_MINUTES, MAX_LOCK_MINUTES),
              help="How long a quoted amount stays locked (default 15).")
@click.option("--currencies", help="Presentment currencies, comma-separated (e.g. JPY,KRW); "
                                   "'market' for Kessai's default, 'none' to turn FX off.")
def configure_fx(merchant_id: str, markup_bps: int | None, lock_minutes: int | None,
                 currencies: str | None) -> None:
    """Set a merchant's FX settings; prints the result."""
    from .. import create_app
    from ..db import get_db
    from ..models import Merchant

    app = create_app()
    with app.app_context():
        merchant = get_db().get(Merchant, merchant_id)
        if merchant is None:
            raise click.ClickException(f"no merchant {merchant_id}")
        fx: dict[str, Any] = dict((merchant.settings or {}).get("fx") or {})
        if markup_bps is not None:
            fx["markup_bps"] = markup_bps
        if lock_minutes is not None:
            fx["lock_minutes"] = lock_minutes
        if currencies is not None:
            fx.pop("presentment_currencies", None)
            if currencies.strip().lower() == "none":
                fx["presentment_currencies"] = []
            elif currencies.strip().lower() != "market":
                codes = [c.strip().upper() for c in currencies.split(",") if c.strip()]
                unknown = [c for c in codes if c not in CURRENCIES]
                if unknown:
                    raise click.BadParameter(f"not supported: {', '.join(unknown)}",
                                             param_hint="--currencies")
                fx["presentment_currencies"] = codes
        # A new dict, so SQLAlchemy sees the JSON column change.
        merchant.settings = {**(merchant.settings or {}), "fx": fx}
        get_db().commit()
        click.echo(f"{merchant_id} fx: {fx}")


def register(group: click.Group) -> None:
    group.add_command(configure_fx)
