"""Tables of cash application: learned payer habits and the proposals of each run.

``cash_proposals`` keeps, per run, which payer (account, name) each proposed item application
came from, so ``cash-confirm`` can turn an approved matches file into ``cash_habits``.
``cash_proposal_texts`` (version 2) keeps the remittance text and the item's reference fields of
each proposal, so ``cash-confirm`` can also learn ``cash_reference_habits``.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.engine import Connection

from sapbridge.store.migrations import migration
from sapbridge.store.types import UtcDateTime

__all__ = ["cash_habits", "cash_proposal_texts", "cash_proposals", "cash_reference_habits", "metadata",
           "metadata_v2"]

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


metadata_v2 = MetaData()
"""Tables added by version 2 of the cash component (reference habits)."""

cash_reference_habits = Table(
    "cash_reference_habits",
    metadata_v2,
    Column("system", String(20), primary_key=True),
    Column("customer", String(10), primary_key=True),
    Column("field", String(20), primary_key=True),
    Column("pattern", String(60), primary_key=True),
    Column("confirmations", Integer, nullable=False),
    Column("last_confirmed_at", UtcDateTime, nullable=False),
    Column("last_confirmed_by", String(64), nullable=False),
)
"""A confirmed reference habit: ``customer`` quotes open-item ``field`` written as ``pattern``
(``digits``, ``last:N`` or ``affix:PREFIX|SUFFIX``, see ``reference_habits.py``)."""

cash_proposal_texts = Table(
    "cash_proposal_texts",
    metadata_v2,
    Column("run_id", String(36), primary_key=True),
    Column("payment_id", String(80), primary_key=True),
    Column("company_code", String(4), primary_key=True),
    Column("fiscal_year", String(4), primary_key=True),
    Column("document", String(10), primary_key=True),
    Column("item", String(3), primary_key=True),
    Column("item_customer", String(10), nullable=False),
    Column("remittance", Text, nullable=False),
    Column("reference", String(40), nullable=False),
    Column("assignment", String(40), nullable=False),
    Column("billing_document", String(40), nullable=False),
)
"""Per proposal (same key as ``cash_proposals``): the remittance text and the item's customer and
reference fields, which is what a reference habit is learned from."""


@migration("cash", 2, "cash reference habits and proposal texts")
def _add_reference_habits(conn: Connection) -> None:
    metadata_v2.create_all(conn)
