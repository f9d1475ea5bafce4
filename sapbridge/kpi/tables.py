"""The KPI component's table: headline figures of every report run, so later runs show a trend."""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, MetaData, String, Table
from sqlalchemy.engine import Connection

from sapbridge.store.migrations import migration
from sapbridge.store.types import Money, UtcDateTime

__all__ = ["kpi_snapshots", "metadata"]

metadata = MetaData()

kpi_snapshots = Table(
    "kpi_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_at", UtcDateTime, nullable=False),
    Column("system", String(20), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("company_code", String(4), nullable=False),
    Column("currency", String(5), nullable=False),
    Column("ar_total", Money, nullable=False),
    Column("past_due", Money, nullable=False),
    Column("past_due_percent", Money),
    Column("dso_simple", Money),
    Column("dso_countback", Money),
    Column("best_possible_dso", Money),
    Column("average_days_delinquent", Money),
    Column("cei_percent", Money),
    Column("reserve", Money, nullable=False),
)
"""One row per report run, company code and currency. Ratios are exact decimals (Money columns)."""
Index("ix_kpi_snapshots_system", kpi_snapshots.c.system, kpi_snapshots.c.run_at)


@migration("kpi", 1, "kpi report snapshots")
def _create_kpi(conn: Connection) -> None:
    metadata.create_all(conn)
