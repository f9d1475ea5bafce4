"""The audit tables: the append-only log and its head (last sequence number and hash)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, insert
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
)
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


@migration("audit", 1, "append-only audit log with hash chain and head")
def _create_audit(conn: Connection) -> None:
    metadata.create_all(conn)
    conn.execute(insert(audit_head).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH))
