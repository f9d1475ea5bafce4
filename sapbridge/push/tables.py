"""Tables of the push component: batches, their rows and their approvals."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.engine import Connection

from sapbridge.store.migrations import migration
from sapbridge.store.types import Money

__all__ = ["metadata", "push_approvals", "push_batches", "push_rows"]

metadata = MetaData()

push_batches = Table(
    "push_batches",
    metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("system", String(20), nullable=False),
    Column("requester", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("source_file", String(500), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("status", String(12), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("currency", String(5), nullable=False),
    Column("total", Money, nullable=False),
    Column("largest", Money, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("lock_run", String(36)),
    Column("lock_host", String(255)),
    Column("lock_pid", Integer),
    Column("lock_until", DateTime(timezone=True)),
)
"""One imported batch. ``status``: requested, approved, rejected, done, partial.
``lock_*``: the apply run holding the batch (a lease, renewed per row)."""

push_rows = Table(
    "push_rows",
    metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("row_no", Integer, primary_key=True),
    Column("customer", String(10), nullable=False),
    Column("target_json", Text, nullable=False),
    Column("seen_json", Text, nullable=False),
    Column("idem_key", String(16), nullable=False, unique=True),
    Column("state", String(10), nullable=False),
    Column("sap_document", String(40)),
    Column("message", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""One change. ``state``: pending, in_flight, done, failed, stale."""
Index("ix_push_rows_state", push_rows.c.batch_id, push_rows.c.state)

push_approvals = Table(
    "push_approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(40), nullable=False),
    Column("user", String(64), nullable=False),
    Column("decision", String(10), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", Text),
)
Index("ix_push_approvals_batch", push_approvals.c.batch_id)


@migration("push", 1, "push batches, rows and approvals")
def _create_push(conn: Connection) -> None:
    metadata.create_all(conn)
