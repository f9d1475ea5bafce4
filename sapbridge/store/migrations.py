"""Versioned schema migrations, one ordered list per component (core, audit, push, jobs, ...).

Each component registers its migrations with :func:`migration`; :func:`migrate` applies the ones a
store has not seen yet and records them in ``schema_migrations``. Components own disjoint tables,
so their lists never need to be interleaved.

Two processes may open a new store at the same moment (two first syncs, parallel job steps):
pending migrations run in one transaction that holds the store's migration lock (SQLite
``BEGIN IMMEDIATE``, PostgreSQL ``pg_advisory_xact_lock``), and the versions are read again under
it, so the second process waits and then finds nothing left to do. A store already up to date is
checked without taking the lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from sapbridge.errors import StoreError

__all__ = ["Migration", "applied_versions", "migrate", "migration", "registered"]

MigrationFn = Callable[[Connection], None]

_meta = MetaData()
schema_migrations = Table(
    "schema_migrations",
    _meta,
    Column("component", String(40), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change of one component."""

    component: str
    version: int
    name: str
    apply: MigrationFn


_REGISTRY: dict[tuple[str, int], Migration] = {}

MIGRATION_LOCK_KEY = 0x5AB_0001
"""PostgreSQL advisory lock key held while migrating (any fixed 64-bit number of our own)."""


def migration(component: str, version: int, name: str) -> Callable[[MigrationFn], MigrationFn]:
    """Register ``fn(connection)`` as version ``version`` of ``component``'s schema."""

    def register(fn: MigrationFn) -> MigrationFn:
        key = (component, version)
        existing = _REGISTRY.get(key)
        if existing is not None and existing.apply is not fn:
            msg = f"migration {component} v{version} registered twice"
            raise StoreError(msg)
        _REGISTRY[key] = Migration(component, version, name, fn)
        return fn

    return register


def registered() -> list[Migration]:
    """All registered migrations in the order they are applied."""
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]


def applied_versions(conn: Connection) -> set[tuple[str, int]]:
    """The (component, version) pairs this store has applied."""
    rows = conn.execute(select(schema_migrations.c.component, schema_migrations.c.version))
    return {(component, version) for component, version in rows}


def _pending(conn: Connection) -> list[Migration]:
    if not inspect(conn).has_table(schema_migrations.name):
        return registered()
    done = applied_versions(conn)
    return [step for step in registered() if (step.component, step.version) not in done]


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the store's migration lock; committed if the block succeeds."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            yield conn
        return
    # pysqlite would open a deferred transaction itself; take the write lock up front instead.
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")


def migrate(engine: Engine) -> list[Migration]:
    """Apply every registered migration the store lacks, all in one locked transaction; return
    the ones applied now (none when another process got there first)."""
    with engine.connect() as conn:
        if not _pending(conn):
            return []
    with _migration_lock(engine) as conn:
        _meta.create_all(conn)
        pending = _pending(conn)
        for step in pending:
            step.apply(conn)
            conn.execute(schema_migrations.insert().values(
                component=step.component, version=step.version, name=step.name,
                applied_at=datetime.now(UTC)))
    return pending
