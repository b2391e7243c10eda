"""Migrations build exactly the models' schema, on SQLite and PostgreSQL, and unwind to nothing.

Everyone adding tables adds them twice (a model and a migration); this is what keeps the two
the same: types, nullability, indexes, unique constraints and foreign keys.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from checkout.migrate import MIGRATIONS, alembic_config, downgrade, upgrade
from checkout.models import Base

from support import POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it (a fresh file, or a fresh PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = f"kessai_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no PostgreSQL"
        admin.dispose()
        if os.environ.get("KESSAI_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def schema_differences(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True, "compare_server_default": False,
                "target_metadata": Base.metadata})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_builds_exactly_the_models_schema(empty_database: str) -> None:
    upgrade(empty_database)
    assert tables(empty_database) == set(Base.metadata.tables) | {"alembic_version"}
    differences = schema_differences(empty_database)
    assert differences == [], "models and migrations disagree:\n" + "\n".join(
        map(str, differences))


def test_the_comparison_would_notice_a_difference(empty_database: str) -> None:
    """The check above is not vacuous: a missing index or a missing table shows up."""
    upgrade(empty_database)
    engine = create_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_payments_session_id"))
        connection.execute(text("DROP TABLE gateway_event_receipts"))
    engine.dispose()
    found = {str(d) for d in schema_differences(empty_database)}
    assert any("ix_payments_session_id" in d for d in found)
    assert any("gateway_event_receipts" in d for d in found)


def test_downgrade_to_base_leaves_nothing(empty_database: str) -> None:
    upgrade(empty_database)
    downgrade(empty_database, "base")
    assert tables(empty_database) <= {"alembic_version"}
    upgrade(empty_database)  # and back up again, cleanly
    assert schema_differences(empty_database) == []


def test_the_chain_is_linear_and_every_step_unwinds(empty_database: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(empty_database))
    heads = script.get_heads()
    assert len(heads) == 1, f"more than one head: {heads}"
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert revisions[0] == "0001_foundation"
    for revision in revisions:  # up one step at a time, then all the way down
        upgrade(empty_database, revision)
    for revision in reversed(["base", *revisions[:-1]]):
        downgrade(empty_database, revision)
    assert tables(empty_database) <= {"alembic_version"}


def test_migrations_live_in_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert {p.name for p in (MIGRATIONS / "versions").glob("000*.py")} >= {
        "0001_foundation.py", "0002_japan.py", "0003_korea.py", "0004_fx.py"}
