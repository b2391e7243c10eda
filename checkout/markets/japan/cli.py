"""``kessai merchants set-legal`` and ``kessai merchants configure-japan``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .legal import REQUIRED_FIELDS, LegalDisclosureInvalid, validate_disclosure
from .settings import MAX_KONBINI_DAYS, update_japan_settings


def _merchant(merchant_id: str) -> Any:
    from ...db import get_db
    from ...models import Merchant

    merchant = get_db().get(Merchant, merchant_id)
    if merchant is None:
        raise click.ClickException(f"no merchant {merchant_id}")
    return merchant


def _legal_options(command: Any) -> Any:
    for key, _label in reversed(REQUIRED_FIELDS):
        command = click.option(f"--{key.replace('_', '-')}", key, help=f"{key} (Japanese text)")(command)  # noqa: E501
    return command


@click.command("set-legal")
@click.argument("merchant_id")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='JSON: {"seller": "…", "prices": {"ja": "…", "en": "…"}, …}')
@click.option("--clear", is_flag=True, help="Remove the disclosure (konbini is then hidden).")
@_legal_options
def set_legal(merchant_id: str, file: Path | None, clear: bool, **fields: str | None) -> None:
    """Publish a merchant's 特定商取引法に基づく表記 (from a JSON file and/or options)."""
    from ... import create_app
    from ...db import get_db
    from .legal import legal_disclosure

    app = create_app()
    with app.app_context():
        merchant = _merchant(merchant_id)
        if clear:
            update_japan_settings(merchant, legal=None)
            get_db().commit()
            click.echo(f"legal disclosure removed from {merchant_id}")
            return
        data: dict[str, Any] = dict(legal_disclosure(merchant) or {})
        if file is not None:
            try:
                loaded = json.loads(file.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise click.ClickException(f"{file}: not JSON ({exc})") from exc
            if not isinstance(loaded, dict):
                raise click.ClickException(f"{file}: must be a JSON object")
            data.update(loaded)
        data.update({k: v for k, v in fields.items() if v is not None})
        try:
            cleaned = validate_disclosure(data)
        except LegalDisclosureInvalid as exc:
            raise click.ClickException(str(exc)) from exc
        update_japan_settings(merchant, legal=cleaned)
        get_db().commit()
        click.echo(f"legal disclosure saved for {merchant_id} ({len(cleaned)} fields)")


@click.command("configure-japan")
@click.argument("merchant_id")
@click.option("--konbini-days", type=click.IntRange(1, MAX_KONBINI_DAYS),
              help="Days a konbini slip stays payable (default 3).")
@click.option("--instalments-from", type=click.IntRange(1, None),
              help="Smallest yen amount offering card instalments (default 10000).")
@click.option("--digital-goods/--physical-goods", default=None,
              help="Digital goods may be paid by carrier billing.")
def configure_japan(merchant_id: str, konbini_days: int | None, instalments_from: int | None,
                    digital_goods: bool | None) -> None:
    """Japan settings of a merchant."""
    from ... import create_app
    from ...db import get_db

    app = create_app()
    with app.app_context():
        merchant = _merchant(merchant_id)
        changes = {k: v for k, v in {"konbini_days": konbini_days,
                                     "instalments_from": instalments_from,
                                     "digital_goods": digital_goods}.items() if v is not None}
        update_japan_settings(merchant, **changes)
        get_db().commit()
        click.echo(json.dumps((merchant.settings or {}).get("japan", {}), ensure_ascii=False))


def register(merchants: click.Group) -> None:
    merchants.add_command(set_legal)
    merchants.add_command(configure_japan)
