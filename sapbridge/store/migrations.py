"""Versioned schema migrations, one ordered list per component (core, audit, push, jobs, ...).

Each component registers its migrations with :func:`migration`; :func:`migrate` applies the ones a
store has not seen yet, each in its own transaction, and records them in ``schema_migrations``.
Components own disjoint tables, so their lists never need to be interleaved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select
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


def migrate(engine: Engine) -> list[Migration]:
    """Apply every registered migration the store lacks; return the ones applied now."""
    _meta.create_all(engine)
    with engine.connect() as conn:
        done = applied_versions(conn)
    applied: list[Migration] = []
    for step in registered():
        if (step.component, step.version) in done:
            continue
        with engine.begin() as conn:
            step.apply(conn)
            conn.execute(
                schema_migrations.insert().values(
                    component=step.component,
                    version=step.version,
                    name=step.name,
                    applied_at=datetime.now(UTC),
                )
            )
        applied.append(step)
    return applied
