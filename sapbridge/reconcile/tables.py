"""Tables the reconciliations keep: runs, and per-claim outcomes of the recoveries reconciliation.

The KPI report reads ``recovery_claims`` of a system's latest finished recoveries run for the
recovery rate, so its columns are a contract between the two.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, MetaData, String, Table, Text
from sqlalchemy.engine import Connection

from sapbridge.store.migrations import migration
from sapbridge.store.types import Money, UtcDateTime

__all__ = ["metadata", "reconcile_runs", "recovery_claims"]

metadata = MetaData()

reconcile_runs = Table(
    "reconcile_runs",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("kind", String(12), nullable=False),
    Column("system", String(20), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("inputs", Text, nullable=False),
    Column("summary", Text),
)
"""One reconciliation run. ``kind``: cash or recoveries. ``inputs`` and ``summary``: JSON."""
Index("ix_reconcile_runs_kind", reconcile_runs.c.system, reconcile_runs.c.kind, reconcile_runs.c.finished_at)

recovery_claims = Table(
    "recovery_claims",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("claim_id", String(40), primary_key=True),
    Column("system", String(20), nullable=False),
    Column("customer", String(10)),
    Column("currency", String(5), nullable=False),
    Column("claim_amount", Money, nullable=False),
    Column("recovered_amount", Money, nullable=False),
    Column("claim_status", String(10), nullable=False),
    Column("category", String(30), nullable=False),
    Column("case_id", String(12)),
    Column("owner", String(20)),
)
"""Each claim of a recoveries run with its category and the dispute case it matched, if any."""


@migration("reconcile", 1, "reconciliation runs and recovery claim outcomes")
def _create_reconcile(conn: Connection) -> None:
    metadata.create_all(conn)
