"""Shared fixtures: a fresh SQLite store, optional PostgreSQL, and a clean environment."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from sapbridge.store import Store, open_store

PG_URL_ENV = "SAPBRIDGE_TEST_PG_URL"


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own SAPBRIDGE_* settings out of the tests."""
    for key in list(os.environ):
        if key.startswith("SAPBRIDGE_") and key not in {PG_URL_ENV}:
            monkeypatch.delenv(key, raising=False)


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[Store]:
    """A migrated SQLite store in a temporary file."""
    store = open_store(f"sqlite:///{tmp_path / 'test.db'}")
    yield store
    store.dispose()


@pytest.fixture
def pg_store() -> Iterator[Store]:
    """A migrated store in a fresh schema-isolated PostgreSQL database (skips if none is set)."""
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} not set")
    name = f"sapbridge_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + f"/{name}"
    store = open_store(url)
    yield store
    store.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request) -> Store:
    """Each test using this runs on SQLite and on PostgreSQL."""
    name = "sqlite_store" if request.param == "sqlite" else "pg_store"
    return request.getfixturevalue(name)
