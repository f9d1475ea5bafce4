"""The local store: SQLite by default, PostgreSQL for a team, always behind SQLAlchemy."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from sapbridge.errors import StoreError
from sapbridge.store.migrations import migrate

__all__ = ["COMPONENT_MODULES", "DEFAULT_URL", "EngineBinding", "Store", "open_store", "redact_url"]

DEFAULT_URL = "sqlite:///sapbridge.db"
"""The embedded default: a SQLite file in the working directory."""

COMPONENT_MODULES = [
    "sapbridge.store.schema",
    "sapbridge.audit.tables",
    "sapbridge.push.tables",
    "sapbridge.reconcile.tables",
    "sapbridge.kpi.tables",
    "sapbridge.jobs.tables",
    "sapbridge.reconcile.cash.tables",
]
"""Modules that register tables and migrations; each component appends its own."""


def redact_url(url: str) -> str:
    """The store URL with any password masked, for messages and logs."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable store url>"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Only settings under which a committed transaction survives a crash of the process:
    WAL with synchronous=NORMAL (a power loss may lose the last commits, never corrupts), a
    64 MiB page cache and in-memory temporary tables (both memory only). Never synchronous=OFF,
    journal_mode=OFF/MEMORY or locking_mode=EXCLUSIVE: each trades the store's safety or its
    readers for speed."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class EngineBinding(Protocol):
    """What rides on every connection of a store: the audit log (:class:`sapbridge.audit.AuditLog`)."""

    def bind(self, engine: Engine) -> Engine:
        """An engine (same pool) whose connections carry this binding."""
        ...


@dataclass(slots=True)
class Store:
    """An opened, migrated store; its engine's connections carry ``audit`` when one was given."""

    engine: Engine
    url: str
    audit: EngineBinding | None = None

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_store(url: str = DEFAULT_URL, *, echo: bool = False,
               audit: EngineBinding | None = None) -> Store:
    """Open the store at ``url`` and bring its schema up to date.

    ``audit`` is how entries are written (key, anchors): the Bridge passes the audit log of
    the settings; without it the audit log reads its key from ``SAPBRIDGE_AUDIT_KEY``.
    """
    for module in COMPONENT_MODULES:
        importlib.import_module(module)
    try:
        engine = create_engine(url, echo=echo, future=True)
    except (ArgumentError, ImportError, ValueError) as exc:
        msg = f"cannot open store {redact_url(url)}: {exc}"
        raise StoreError(msg) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        orig = getattr(exc, "orig", None)
        reason = str(orig).strip().splitlines()[0] if orig else type(exc).__name__
        msg = f"cannot open store {redact_url(url)}: {reason}"
        raise StoreError(msg) from exc
    return Store(engine=audit.bind(engine) if audit is not None else engine, url=url, audit=audit)
