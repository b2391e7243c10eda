"""``kessai merchants configure-korea``: 무이자 months, consent items, 가상계좌 days."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .cards import CARD_COMPANIES, parse_months
from .consent import validate_settings
from .settings import korea_settings, update_korea_settings
from .virtual_account import MAX_DAYS


def _interest_free(values: tuple[str, ...]) -> dict[str, list[int]]:
    """``("shinhan=2-6", "kb=2,3")`` → ``{"shinhan": [2, 3, 4, 5, 6], "kb": [2, 3]}``."""
    plan: dict[str, list[int]] = {}
    for value in values:
        company, sep, months = value.partition("=")
        if not sep or company not in CARD_COMPANIES or company == "other":
            known = ", ".join(c for c in CARD_COMPANIES if c != "other")
            raise click.BadParameter(f"{value!r}: use COMPANY=MONTHS with COMPANY one of {known}",
                                     param_hint="--interest-free")
        try:
            plan[company] = parse_months(months)
        except ValueError as exc:
            raise click.BadParameter(f"{value!r}: {exc}", param_hint="--interest-free") from exc
    return plan


@click.command("configure-korea")
@click.argument("merchant_id")
@click.option("--interest-free", "interest_free", multiple=True, metavar="COMPANY=MONTHS",
              help="무이자 months for a card company, e.g. shinhan=2-6 or kb=2,3 (repeatable).")
@click.option("--clear-interest-free", is_flag=True, help="No interest-free months at all.")
@click.option("--consents", "consents_file",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='JSON list of consent items: [{"id": "terms", "required": true, "title": '
                   '{"ko": "…"}, "text": {"ko": "…"}, "url": "https://…"}, …]')
@click.option("--default-consents", is_flag=True, help="Back to the built-in consent items.")
@click.option("--virtual-account-days", type=click.IntRange(1, MAX_DAYS),
              help="Days a 가상계좌 stays open for deposit (default 3).")
def configure_korea(merchant_id: str, interest_free: tuple[str, ...], clear_interest_free: bool,
                    consents_file: Path | None, default_consents: bool,
                    virtual_account_days: int | None) -> None:
    """Korea settings of a merchant; prints them as JSON."""
    from ... import create_app
    from ...db import get_db
    from ...models import Merchant

    changes: dict[str, Any] = {}
    if clear_interest_free:
        changes["interest_free"] = None
    if virtual_account_days is not None:
        changes["virtual_account_days"] = virtual_account_days
    if default_consents:
        changes["consents"] = None
    if consents_file is not None:
        try:
            changes["consents"] = validate_settings(
                json.loads(consents_file.read_text(encoding="utf-8")))
        except ValueError as exc:  # JSON errors are ValueErrors too
            raise click.ClickException(f"{consents_file}: {exc}") from exc
    plan = _interest_free(interest_free)
    app = create_app()
    with app.app_context():
        merchant = get_db().get(Merchant, merchant_id)
        if merchant is None:
            raise click.ClickException(f"no merchant {merchant_id}")
        if plan:
            current = {} if clear_interest_free else dict(
                korea_settings(merchant).get("interest_free") or {})
            changes["interest_free"] = {**current, **plan}
        update_korea_settings(merchant, **changes)
        get_db().commit()
        click.echo(json.dumps(korea_settings(merchant), ensure_ascii=False))


def register(merchants: click.Group) -> None:
    merchants.add_command(configure_korea)
