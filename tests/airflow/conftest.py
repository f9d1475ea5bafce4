"""Fixtures of the Airflow tests: one Airflow home per session, fresh PostgreSQL stores."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from airflow_harness import AirflowHome, airflow_installed, make_home
from sqlalchemy import create_engine, text

from sapbridge.store import open_store


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> AirflowHome:
    """A migrated Airflow home shared by the session's tests (each writes its own DAG file)."""
    if not airflow_installed():
        pytest.skip("Apache Airflow is not installed")
    return make_home(tmp_path_factory.mktemp("airflow"))


@pytest.fixture
def pg_url() -> Iterator[Callable[[], str]]:
    """Makes fresh, migrated PostgreSQL stores (skips without SAPBRIDGE_TEST_PG_URL); drops them after."""
    base = os.environ.get("SAPBRIDGE_TEST_PG_URL")
    if not base:
        pytest.skip("SAPBRIDGE_TEST_PG_URL not set")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def fresh() -> str:
        name = f"sapbridge_af_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        url = base.rsplit("/", 1)[0] + f"/{name}"
        open_store(url).dispose()  # migrated once, before parallel tasks open it
        return url

    yield fresh
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
