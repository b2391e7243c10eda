"""Shared fixtures.

* ``app`` / ``client`` — a Kessai app on a fresh database. Modules that set
  ``BACKENDS = ("sqlite", "postgresql")`` run every test on both; PostgreSQL comes from
  ``KESSAI_TEST_POSTGRES_URL`` (CI: the local server) in a schema of its own per test run.
* ``merchant`` — a merchant with its one-time secret key (``merchant.secret_key``).
* ``api`` — calls the merchant API as that merchant.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from checkout import create_app
from checkout.db import get_db
from checkout.merchants import create_merchant
from checkout.migrate import upgrade
from checkout.models import Base

from support import POSTGRES_URL, TEST_CONFIG, Api, MerchantInfo, csrf_from


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = getattr(metafunc.module, "BACKENDS", ("sqlite",))
        metafunc.parametrize("backend", backends, scope="session")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (fast, and proves migrations run)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    schema = f"kessai_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no PostgreSQL here"
        admin.dispose()
        if os.environ.get("KESSAI_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL required but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({type(exc).__name__})")
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    upgrade(url)
    yield url
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def backend() -> str:  # overridden by pytest_generate_tests when a module asks for both
    return "sqlite"


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
        engine = create_engine(url)
        with engine.begin() as connection:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} CASCADE"))
        engine.dispose()
        yield url
    else:
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "kessai.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url: str, app_config: dict[str, Any]) -> Iterator[Flask]:
    application = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, **app_config})
    yield application
    application.extensions["kessai.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def merchant(app: Flask) -> MerchantInfo:
    with app.app_context():
        record, secret = create_merchant(
            get_db(), "Sakura Tea", ["https://shop.example"], None, default_locale=None
        )
        get_db().commit()
        return MerchantInfo(record.id, secret, record.webhook_secret)


@pytest.fixture
def api(client: FlaskClient, merchant: MerchantInfo) -> Api:
    return Api(client, merchant.secret_key)


@pytest.fixture
def pay(client: FlaskClient) -> Any:
    """Submit the card form of a session like a browser without JavaScript would."""

    def submit(session_id: str, number: str = "4242 4242 4242 4242", expiry: str = "12/34",
               cvc: str = "123", name: str = "Hanako Yamada", **extra: str) -> Any:
        page = client.get(f"/pay/{session_id}")
        html = page.get_data(as_text=True)
        attempt = re.search(r'name="attempt" value="(\d+)"', html)
        data = {"csrf_token": csrf_from(html), "method": "card",
                "attempt": attempt.group(1) if attempt else "1", "card_number": number,
                "card_expiry": expiry, "card_cvc": cvc, "card_name": name, **extra}
        return client.post(f"/pay/{session_id}", data=data)

    return submit
