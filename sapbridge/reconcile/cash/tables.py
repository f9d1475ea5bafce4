"""Tables of cash application: learned payer habits and the proposals of each run.

``cash_proposals`` keeps, per run, which payer (account, name) each proposed item application
came from, so ``cash-confirm`` can turn an approved matches file into ``cash_habits``.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table
from sqlalchemy.engine import Connection

from sapbridge.store.migrations import migration
from sapbridge.store.types import UtcDateTime

__all__ = ["cash_habits", "cash_proposals", "metadata"]

metadata = MetaData()

cash_habits = Table(
    "cash_habits",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("key", String(120), primary_key=True),
    Column("customer", String(10), primary_key=True),
    Column("confirmations", Integer, nullable=False),
    Column("last_confirmed_at", UtcDateTime, nullable=False),
    Column("last_confirmed_by", String(64), nullable=False),
)
"""A confirmed payer habit. ``kind``: account (normalised IBAN/account) or name (normalised)."""

cash_proposals = Table(
    "cash_proposals",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("payment_id", String(80), primary_key=True),
    Column("company_code", String(4), primary_key=True),
    Column("fiscal_year", String(4), primary_key=True),
    Column("document", String(10), primary_key=True),
    Column("item", String(3), primary_key=True),
    Column("system", String(20), nullable=False),
    Column("customer", String(10), nullable=False),
    Column("payer_account", String(40), nullable=False),
    Column("payer_name", String(120), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
"""Each item a run proposed for a payment (match or suggestion), with the payer it came from."""
Index("ix_cash_proposals_payment", cash_proposals.c.system, cash_proposals.c.payment_id)


@migration("cash", 1, "cash application habits and proposals")
def _create_cash(conn: Connection) -> None:
    metadata.create_all(conn)
