"""Migrations hold when several processes open a new store at the same moment (SQLite, PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from sapbridge.store import open_store
from sapbridge.store.migrations import registered, schema_migrations

PG_URL_ENV = "SAPBRIDGE_TEST_PG_URL"
PROCESSES = 4
ROUNDS = 2

_OPENER = """
import sys, time
from pathlib import Path
from sapbridge.store import open_store
go = Path(sys.argv[2])
Path(sys.argv[3]).touch()
while not go.exists():
    time.sleep(0.001)
open_store(sys.argv[1]).dispose()
"""


def _open_at_once(url: str, tmp_path: Path) -> list[subprocess.CompletedProcess[str]]:
    """Start PROCESSES first opens of ``url``, release them together, wait for all."""
    go = tmp_path / f"go-{uuid.uuid4().hex}"
    ready = [tmp_path / f"ready-{uuid.uuid4().hex}" for _ in range(PROCESSES)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAPBRIDGE_")}
    procs = [subprocess.Popen([sys.executable, "-c", _OPENER, url, str(go), str(flag)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for flag in ready]
    deadline = time.monotonic() + 60
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)  # every interpreter has imported sapbridge and waits at the barrier
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def _assert_migrated_once(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(schema_migrations.c.component, schema_migrations.c.version,
                                   func.count()).group_by(schema_migrations.c.component,
                                                          schema_migrations.c.version)).all()
    engine.dispose()
    assert sorted((c, v) for c, v, _ in rows) == sorted((m.component, m.version) for m in registered())
    assert all(n == 1 for _, _, n in rows)


def test_concurrent_first_opens_of_a_new_sqlite_file(tmp_path):
    open_store("sqlite://").dispose()  # registers every component's migrations in this process
    for round_no in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'new-{round_no}.db'}"
        for done in _open_at_once(url, tmp_path):
            assert done.returncode == 0, done.stderr
        _assert_migrated_once(url)


@pytest.mark.postgres
def test_concurrent_first_opens_of_a_new_postgresql_database(tmp_path):
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} not set")
    open_store("sqlite://").dispose()
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    names = [f"sapbridge_mig_{uuid.uuid4().hex[:10]}" for _ in range(ROUNDS)]
    try:
        for name in names:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = base.rsplit("/", 1)[0] + f"/{name}"
            for done in _open_at_once(url, tmp_path):
                assert done.returncode == 0, done.stderr
            _assert_migrated_once(url)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_an_up_to_date_store_applies_nothing(sqlite_store):
    from sapbridge.store.migrations import migrate

    assert migrate(sqlite_store.engine) == []
