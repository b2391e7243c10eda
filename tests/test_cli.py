"""The ``kessai`` command: migrations on a fresh database, merchants, the worker."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select

from checkout import create_app
from checkout.cli import main
from checkout.models import Base, Merchant

from support import TEST_CONFIG

KESSAI = Path(sys.executable).with_name("kessai")


@pytest.fixture
def fresh_url(tmp_path: Path) -> str:
    """A database URL where nothing exists yet (not even the file or its folder)."""
    return f"sqlite:///{tmp_path / 'new' / 'kessai.db'}"


def run(url: str, *args: str) -> Any:
    result = CliRunner().invoke(main, list(args), env={"KESSAI_DATABASE_URL": url},
                                catch_exceptions=False)
    return result


def test_db_upgrade_as_a_real_command(fresh_url: str) -> None:
    completed = subprocess.run(
        [str(KESSAI), "db", "upgrade"], capture_output=True, text=True, timeout=120,
        env={**os.environ, "KESSAI_DATABASE_URL": fresh_url}, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "database at head" in completed.stdout
    engine = create_engine(fresh_url)
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {
        "alembic_version"}
    engine.dispose()


def test_db_upgrade_twice_is_harmless(fresh_url: str) -> None:
    assert run(fresh_url, "db", "upgrade").exit_code == 0
    assert run(fresh_url, "db", "upgrade").exit_code == 0


def stored_merchant(url: str, merchant_id: str) -> tuple[Merchant, str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        row = connection.execute(select(Merchant.__table__).where(
            Merchant.__table__.c.id == merchant_id)).one()
        everything = "\n".join(str(tuple(r)) for table in Base.metadata.sorted_tables
                               for r in connection.execute(select(table)))
    engine.dispose()
    return Merchant(**row._mapping), everything


def test_merchants_create_prints_the_key_once_and_stores_its_hash(fresh_url: str) -> None:
    assert run(fresh_url, "db", "upgrade").exit_code == 0
    result = run(fresh_url, "merchants", "create", "--name", "Sakura Tea", "--origin",
                 "https://a.example", "--origin", "https://b.example/shop/",
                 "--webhook-url", "https://a.example/hooks/kessai", "--locale", "ja-JP", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert set(printed) == {"id", "secret_key", "webhook_secret"}
    assert printed["secret_key"].startswith("sk_test_") and len(printed["secret_key"]) > 40
    assert printed["webhook_secret"].startswith("whsec_")

    merchant, everything = stored_merchant(fresh_url, printed["id"])
    assert merchant.name == "Sakura Tea"
    assert merchant.secret_key_hash == hashlib.sha256(printed["secret_key"].encode()).hexdigest()
    assert printed["secret_key"] not in everything
    assert printed["secret_key"][len("sk_test_"):] not in everything
    assert merchant.allowed_origins == ["https://a.example", "https://b.example"]
    assert merchant.webhook_url == "https://a.example/hooks/kessai"
    assert merchant.default_locale == "ja"

    # The printed key is the one the API accepts.
    app = create_app({**TEST_CONFIG, "DATABASE_URL": fresh_url})
    response = app.test_client().post(
        "/v1/checkout/sessions", headers={"Authorization": f"Bearer {printed['secret_key']}"},
        json={"amount": 500, "currency": "JPY", "success_url": "https://a.example/ok"})
    assert response.status_code == 200
    app.extensions["kessai.engine"].dispose()


def test_merchants_create_without_json_prints_lines(fresh_url: str) -> None:
    run(fresh_url, "db", "upgrade")
    result = run(fresh_url, "merchants", "create", "--name", "Plain")
    assert result.exit_code == 0
    lines = dict(line.split(": ", 1) for line in result.output.strip().splitlines())
    assert set(lines) == {"id", "secret_key", "webhook_secret"}


@pytest.mark.parametrize(("args", "hint"), [
    (["--origin", "ftp://a.example"], "--origin"),
    (["--origin", "not a url"], "--origin"),
    (["--webhook-url", "a.example/hooks"], "--webhook-url"),
    (["--webhook-url", "javascript:alert(1)"], "--webhook-url"),
    (["--webhook-url", "http://[::1"], "--webhook-url"),
    (["--theme", "../themes/default"], "--theme"),
    (["--theme", "no-such-theme"], "--theme"),
    (["--locale", "fr"], "--locale"),
])
def test_merchants_create_refuses_bad_options(fresh_url: str, args: list[str], hint: str) -> None:
    run(fresh_url, "db", "upgrade")
    result = CliRunner().invoke(main, ["merchants", "create", "--name", "X", *args, "--json"],
                                env={"KESSAI_DATABASE_URL": fresh_url})
    assert result.exit_code == 2, result.output
    assert hint in result.output
    engine = create_engine(fresh_url)
    with engine.connect() as connection:
        assert connection.execute(select(Merchant.__table__)).all() == []
    engine.dispose()


def test_worker_once_reports_what_it_did(fresh_url: str) -> None:
    run(fresh_url, "db", "upgrade")
    result = run(fresh_url, "worker", "--once")
    assert result.exit_code == 0
    assert json.loads(result.output.strip().splitlines()[-1]) == {"settled": 0, "expired": 0,
                                                                  "webhooks": 0}
