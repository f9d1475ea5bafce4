"""Tables of the push component: batches, their rows, their approvals and open-item claims."""

from __future__ import annotations

import json

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection

from sapbridge.store.migrations import migration
from sapbridge.store.types import Money

__all__ = ["LIVE_STATUSES", "metadata", "push_approvals", "push_batches", "push_claims",
           "push_rows"]

metadata = MetaData()

LIVE_STATUSES = ("requested", "approved", "partial")
"""Batch statuses that hold claims on the open items they write off."""

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
    Column("signature", Text),
    UniqueConstraint("batch_id", "user", name="uq_push_approvals_batch_user"),
)
"""One decision per user and batch (the constraint makes two concurrent runs of the same user
record one). ``signature``: the approver's SSH signature (``ssh-keygen -Y sign``), if any."""
Index("ix_push_approvals_batch", push_approvals.c.batch_id)

push_claims = Table(
    "push_claims",
    metadata,
    Column("system", String(20), nullable=False),
    Column("item", String(60), nullable=False),
    Column("batch_id", String(40), nullable=False),
    Column("row_no", Integer, nullable=False),
    PrimaryKeyConstraint("system", "item", name="pk_push_claims"),
)
"""The open item each row of a live write-off batch writes off (company/document/year/item).
The primary key lets one live batch per item exist, however many processes request at once."""
Index("ix_push_claims_batch", push_claims.c.batch_id)


@migration("push", 1, "push batches, rows and approvals")
def _create_push(conn: Connection) -> None:
    metadata.create_all(conn)


def _claims_of_live_batches(conn: Connection) -> list[dict[str, object]]:
    rows = conn.execute(
        select(push_batches.c.system, push_rows.c.batch_id, push_rows.c.row_no,
               push_rows.c.target_json)
        .join(push_batches, push_batches.c.batch_id == push_rows.c.batch_id)
        .where(push_batches.c.kind == "write-offs", push_batches.c.status.in_(LIVE_STATUSES),
               push_rows.c.state != "stale")
        .order_by(push_batches.c.created_at, push_rows.c.row_no)
    ).all()
    claims: dict[tuple[str, str], dict[str, object]] = {}
    for system, batch_id, row_no, target_json in rows:
        t = json.loads(target_json)
        item = f"{t['company_code']}/{t['document']}/{t['fiscal_year']}/{t['item']}"
        claims.setdefault((system, item), {"system": system, "item": item,
                                           "batch_id": batch_id, "row_no": row_no})
    return list(claims.values())


def _drop_duplicate_decisions(conn: Connection) -> None:
    # Duplicate decisions of one user on one batch are the race this version closes; the audit
    # log keeps every one of them, the table keeps the first.
    seen: set[tuple[str, str]] = set()
    duplicates: list[int] = []
    for approval_id, batch_id, user in conn.execute(
            select(push_approvals.c.id, push_approvals.c.batch_id, push_approvals.c.user)
            .order_by(push_approvals.c.id)).all():
        if (batch_id, user) in seen:
            duplicates.append(approval_id)
        seen.add((batch_id, user))
    if duplicates:
        conn.execute(delete(push_approvals).where(push_approvals.c.id.in_(duplicates)))


@migration("push", 2, "one decision per user and batch, signatures, open-item claims")
def _approvals_unique_and_claims(conn: Connection) -> None:
    """Bring a version-1 store to the current tables (a new store has them already)."""
    found = inspect(conn)
    if "signature" not in {c["name"] for c in found.get_columns("push_approvals")}:
        conn.exec_driver_sql("ALTER TABLE push_approvals ADD COLUMN signature TEXT")
    unique = {u["name"] for u in found.get_unique_constraints("push_approvals")}
    unique |= {i["name"] for i in found.get_indexes("push_approvals") if i.get("unique")}
    if "uq_push_approvals_batch_user" not in unique:
        _drop_duplicate_decisions(conn)
        conn.exec_driver_sql('CREATE UNIQUE INDEX uq_push_approvals_batch_user '
                             'ON push_approvals (batch_id, "user")')
    if not found.has_table("push_claims"):
        metadata.create_all(conn, tables=[push_claims])
        claims = _claims_of_live_batches(conn)
        if claims:
            conn.execute(insert(push_claims), claims)
