"""Tables of cash application: learned payer habits and the proposals of each run.

``cash_proposals`` keeps, per run, which payer (account, name) each proposed item application
came from, so ``cash-confirm`` can turn an approved matches file into ``cash_habits``.
``cash_proposal_texts`` (version 2) keeps the remittance text and the item's reference fields of
each proposal, so ``cash-confirm`` can also learn ``cash_reference_habits``. Version 3 adds who
pays an account's items (head office, alternative payer) to ``customer_companies``; version 4
``cash_proposal_orders``, the payment order each amount match followed.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, inspect, text
from sqlalchemy.engine import Connection

from sapbridge.store.migrations import migration
from sapbridge.store.schema import customer_companies
from sapbridge.store.types import UtcDateTime

__all__ = ["PAYER_COLUMNS", "cash_habits", "cash_proposal_orders", "cash_proposal_texts", "cash_proposals",
           "cash_reference_habits", "metadata", "metadata_v2", "metadata_v4"]

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


PAYER_COLUMNS = ("head_office", "alternative_payer")
"""Columns of ``customer_companies`` that say who pays an account's items (version 3)."""


@migration("cash", 3, "head office and alternative payer of customers' company data")
def _add_payer_columns(conn: Connection) -> None:
    """Add the payer columns to a ``customer_companies`` created before they were defined (a
    store created since has them from the core tables already, and components migrate in name
    order, so on a new store the table does not exist yet here)."""
    inspector = inspect(conn)
    if not inspector.has_table(customer_companies.name):
        return
    present = {c["name"] for c in inspector.get_columns(customer_companies.name)}
    for name in PAYER_COLUMNS:
        if name not in present:
            conn.execute(text(f"ALTER TABLE {customer_companies.name} ADD COLUMN {name} VARCHAR(10)"))


metadata_v4 = MetaData()
"""Tables added by version 4 of the cash component (payment orders of proposals)."""

cash_proposal_orders = Table(
    "cash_proposal_orders",
    metadata_v4,
    Column("run_id", String(36), primary_key=True),
    Column("payment_id", String(80), primary_key=True),
    Column("customer", String(10), nullable=False),
    Column("orders", String(40), nullable=False),
)
"""Per payment a run matched by amount: the payer and the payment orders (``oldest_first``,
``due_first``, comma-separated) its items followed, which ``cash-confirm`` learns as a habit."""


@migration("cash", 4, "payment orders of cash proposals")
def _add_proposal_orders(conn: Connection) -> None:
    metadata_v4.create_all(conn)
