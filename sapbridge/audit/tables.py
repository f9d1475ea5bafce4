"""The audit tables: the append-only log and its head (last sequence number and hash)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    inspect,
    text,
)
from sqlalchemy.engine import Connection

from sapbridge.audit.chain import GENESIS_HASH
from sapbridge.store.migrations import migration

__all__ = ["HEAD_ID", "audit_head", "audit_log", "metadata"]

metadata = MetaData()

HEAD_ID = 1
"""The single row of ``audit_head``."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(20), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("run_id", String(36), nullable=False),
    Column("batch_id", String(40)),
    Column("row_no", Integer),
    Column("customer", String(10)),
    Column("before_json", Text),
    Column("after_json", Text),
    Column("sap_document", String(40)),
    Column("message", Text),
    Column("detail_json", Text),
    Column("alg", String(16), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("os_login", String(64)),
    Column("host", String(255)),
    Column("form", Integer),
)
"""``os_login``, ``host`` and ``form`` are empty on entries written before migration 2 (form 1)."""
Index("ix_audit_batch", audit_log.c.batch_id, audit_log.c.row_no)
Index("ix_audit_at", audit_log.c.at)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)
"""One row: the sequence number and hash of the last entry. Appends lock it, so two writers
never fork the chain, and ``verify`` compares it with the last entry to detect truncation."""


_ADDED_IN_2 = {"os_login": "VARCHAR(64)", "host": "VARCHAR(255)", "form": "INTEGER"}


@migration("audit", 1, "append-only audit log with hash chain and head")
def _create_audit(conn: Connection) -> None:
    metadata.create_all(conn)
    conn.execute(insert(audit_head).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH))


@migration("audit", 2, "entries record the OS login and host; canonical form version")
def _add_origin(conn: Connection) -> None:
    present = {c["name"] for c in inspect(conn).get_columns("audit_log")}
    for name, sql_type in _ADDED_IN_2.items():
        if name not in present:  # a store created by migration 1 of this version has them
            conn.execute(text(f"ALTER TABLE audit_log ADD COLUMN {name} {sql_type}"))
