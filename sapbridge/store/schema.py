"""Tables of the canonical model: what sync writes and reconcile, push and reports read.

Column names are the canonical field names used by ``mappings/*.toml``. Every SAP object row
carries the ``system`` it came from, so one store can hold DEV, QAS and PRD side by side.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    text,
)
from sqlalchemy.engine import Connection

from sapbridge.store.migrations import migration
from sapbridge.store.types import Money, UtcDateTime

__all__ = [
    "OBJECT_TABLES",
    "blocked_orders",
    "cleared_items",
    "credit_segments",
    "customer_bank_accounts",
    "customer_companies",
    "customers",
    "disputes",
    "metadata",
    "open_items",
    "promises",
    "sync_bookmarks",
    "sync_runs",
]

metadata = MetaData()


def _tracking() -> list[Column[object]]:
    """Columns every synced row carries: when sync first saw it and last wrote it, in which run,
    and the 128-bit digest of its SAP content as two halves (a sync rewrites a row only when
    the digest changes)."""
    return [
        Column("first_seen_at", UtcDateTime, nullable=False),
        Column("last_seen_at", UtcDateTime, nullable=False),
        Column("last_seen_run", String(36), nullable=False),
        Column("row_digest", BigInteger),
        Column("row_check", BigInteger),
    ]


def _customer_item() -> list[Column[object]]:
    """The columns an FI customer line item has whether open or cleared: its key (system,
    company code, fiscal year, document, item), customer, dates and amounts."""
    return [
        Column("system", String(20), primary_key=True),
        Column("company_code", String(4), primary_key=True),
        Column("fiscal_year", String(4), primary_key=True),
        Column("document", String(10), primary_key=True),
        Column("item", String(3), primary_key=True),
        Column("customer", String(10), nullable=False),
        Column("document_type", String(2)),
        Column("posting_date", Date),
        Column("document_date", Date),
        Column("baseline_date", Date),
        Column("net_due_date", Date),
        Column("amount", Money, nullable=False),
        Column("currency", String(5), nullable=False),
        Column("amount_company", Money),
        Column("company_currency", String(5)),
    ]


open_items = Table(
    "open_items",
    metadata,
    *_customer_item(),
    Column("reference", String(16)),
    Column("assignment", String(18)),
    Column("billing_document", String(10)),
    Column("invoice_reference", String(10)),
    Column("payment_reference", String(30)),
    Column("header_text", String(25)),
    Column("payment_terms", String(4)),
    Column("dunning_level", String(1)),
    Column("payment_block", String(1)),
    Column("special_gl", String(1)),
    Column("credit_control_area", String(4)),
    Column("status", String(8), nullable=False),
    Column("cleared_at", UtcDateTime),
    Column("clearing_date", Date),
    Column("clearing_document", String(10)),
    *_tracking(),
)
Index("ix_open_items_customer", open_items.c.system, open_items.c.customer, open_items.c.status)

cleared_items = Table(
    "cleared_items",
    metadata,
    *_customer_item(),
    Column("reference", String(16)),
    Column("billing_document", String(10)),
    Column("payment_terms", String(4)),
    Column("clearing_date", Date),
    Column("clearing_document", String(10)),
    Column("status", String(8), nullable=False),
    Column("cleared_at", UtcDateTime),
    *_tracking(),
)
"""Customer items SAP shows as cleared (paid or netted), with their clearing date: the payment
history DSO, CEI and the trend need. ``status``/``cleared_at`` are sync's bookkeeping (a row SAP
stopped returning, e.g. archived), not the clearing."""

credit_segments = Table(
    "credit_segments",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("customer", String(10), primary_key=True),
    Column("credit_segment", String(10), primary_key=True),
    Column("credit_limit", Money),
    Column("currency", String(5)),
    Column("valid_to", Date),
    Column("limit_changed_on", Date),
    Column("blocked", Boolean, nullable=False),
    Column("block_reason", String(2)),
    Column("is_critical", Boolean, nullable=False),
    Column("risk_class", String(3)),
    Column("check_rule", String(10)),
    Column("score", String(10)),
    Column("status", String(8), nullable=False),
    Column("cleared_at", UtcDateTime),
    *_tracking(),
)

blocked_orders = Table(
    "blocked_orders",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("sales_order", String(10), primary_key=True),
    Column("sold_to", String(10), nullable=False),
    Column("sales_organization", String(4)),
    Column("order_type", String(4)),
    Column("credit_status", String(1)),
    Column("block_status", String(1)),
    Column("net_amount", Money),
    Column("currency", String(5)),
    Column("created_on", Date),
    Column("order_date", Date),
    Column("changed_at", UtcDateTime),
    Column("delivery_block", String(2)),
    Column("billing_block", String(2)),
    Column("rejection_status", String(1)),
    Column("blocked_since", UtcDateTime),
    Column("released_at", UtcDateTime),
    Column("status", String(8), nullable=False),
    Column("cleared_at", UtcDateTime),
    *_tracking(),
)
Index("ix_blocked_orders_status", blocked_orders.c.system, blocked_orders.c.credit_status)

disputes = Table(
    "disputes",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("case_id", String(12), primary_key=True),
    Column("case_guid", String(32)),
    Column("company_code", String(4)),
    Column("customer", String(10)),
    Column("case_status", String(20)),
    Column("reason", String(10)),
    Column("coordinator", String(12)),
    Column("original_amount", Money),
    Column("disputed_amount", Money),
    Column("paid_amount", Money),
    Column("credited_amount", Money),
    Column("written_off_amount", Money),
    Column("currency", String(5)),
    Column("invoice_reference", String(30)),
    Column("created_on", Date),
    Column("closed_on", Date),
    Column("changed_at", UtcDateTime),
    Column("status", String(8), nullable=False),
    Column("cleared_at", UtcDateTime),
    *_tracking(),
)
Index("ix_disputes_customer", disputes.c.system, disputes.c.customer)

customers = Table(
    "customers",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("customer", String(10), primary_key=True),
    Column("name", String(80)),
    Column("country", String(3)),
    Column("posting_blocked", Boolean),
    Column("order_blocked", Boolean),
    Column("status", String(8), nullable=False),
    Column("cleared_at", UtcDateTime),
    *_tracking(),
)

customer_companies = Table(
    "customer_companies",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("customer", String(10), primary_key=True),
    Column("company_code", String(4), primary_key=True),
    Column("payment_terms", String(4)),
    Column("tolerance_group", String(4)),
    Column("accounting_clerk", String(2)),
    Column("payment_block", String(1)),
    Column("status", String(8), nullable=False),
    Column("cleared_at", UtcDateTime),
    *_tracking(),
    Column("head_office", String(10)),
    Column("alternative_payer", String(10)),
)
"""``head_office`` and ``alternative_payer`` (who pays this account's items) came with cash
version 3, which adds them to stores created before."""

customer_bank_accounts = Table(
    "customer_bank_accounts",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("customer", String(10), primary_key=True),
    Column("bank_id", String(4), primary_key=True),
    Column("iban", String(34)),
    Column("bank_account", String(18)),
    Column("bank_number", String(15)),
    Column("bank_country", String(3)),
    Column("swift", String(11)),
    Column("holder", String(60)),
    Column("status", String(8), nullable=False),
    Column("cleared_at", UtcDateTime),
    *_tracking(),
)
Index("ix_bank_accounts_iban", customer_bank_accounts.c.iban)

promises = Table(
    "promises",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("case_guid", String(32), primary_key=True),
    Column("company_code", String(4)),
    Column("customer", String(10)),
    Column("promised_amount", Money),
    Column("paid_amount", Money),
    Column("currency", String(5)),
    Column("due_date", Date),
    Column("promised_on", Date),
    Column("state", String(16)),
    Column("level", String(2)),
    Column("status", String(8), nullable=False),
    Column("cleared_at", UtcDateTime),
    *_tracking(),
)
"""Promises to pay of FSCM Collections Management (UDM_P2P_ATTR); ``state`` is canonical
(open, kept, partially_kept, broken, withdrawn), translated from SAP's codes by the mapping."""
Index("ix_promises_customer", promises.c.system, promises.c.customer)

sync_bookmarks = Table(
    "sync_bookmarks",
    metadata,
    Column("system", String(20), primary_key=True),
    Column("dataset", String(40), primary_key=True),
    Column("partition", String(20), primary_key=True),
    Column("value", String(40), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("system", String(20), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("status", String(12), nullable=False),
    Column("summary", Text),
    Column("error", Text),
    Column("rows", Integer),
    Column("host", String(255)),
    Column("pid", Integer),
)

OBJECT_TABLES: dict[str, Table] = {
    "open_items": open_items,
    "cleared_items": cleared_items,
    "credit_segments": credit_segments,
    "blocked_orders": blocked_orders,
    "disputes": disputes,
    "customers": customers,
    "customer_companies": customer_companies,
    "customer_bank_accounts": customer_bank_accounts,
    "promises": promises,
}
"""Datasets sync writes, by name; each mapping file targets one of them."""


@migration("core", 1, "canonical SAP object tables, bookmarks and sync runs")
def _create_core(conn: Connection) -> None:
    metadata.create_all(conn)


@migration("core", 2, "row digests on synced rows, sync run process, drop the unused run index")
def _row_digests(conn: Connection) -> None:
    """Stores made by version 1 gain the columns; ``ix_open_items_run`` goes (the clearing query
    uses the primary key prefix, never this index)."""
    known = inspect(conn)
    added = [(t, "row_digest") for t in OBJECT_TABLES.values()] + [(sync_runs, "host"), (sync_runs, "pid")]
    for table, name in added:
        if not known.has_table(table.name):
            continue  # a table newer than the store (promises): its version creates it whole
        if name not in {c["name"] for c in known.get_columns(table.name)}:
            kind = table.c[name].type.compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))
    conn.execute(text("DROP INDEX IF EXISTS ix_open_items_run"))


@migration("core", 3, "promises to pay")
def _add_promises(conn: Connection) -> None:
    """Create ``promises`` in a store made before it existed (a new store has it from version 1)."""
    if not inspect(conn).has_table(promises.name):
        promises.create(conn)


@migration("core", 4, "cleared items (payment history), rejection status of blocked orders")
def _add_cleared_items(conn: Connection) -> None:
    """Create ``cleared_items`` and add ``blocked_orders.rejection_status`` in an older store."""
    known = inspect(conn)
    if not known.has_table(cleared_items.name):
        cleared_items.create(conn)
    if "rejection_status" not in {c["name"] for c in known.get_columns(blocked_orders.name)}:
        kind = blocked_orders.c.rejection_status.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE {blocked_orders.name} ADD COLUMN rejection_status {kind}"))


@migration("core", 5, "the second half of each synced row's digest (row_check)")
def _row_checks(conn: Connection) -> None:
    """Rows stored before it have no ``row_check``: the next resync rewrites each of them once."""
    known = inspect(conn)
    for table in OBJECT_TABLES.values():
        if "row_check" not in {c["name"] for c in known.get_columns(table.name)}:
            kind = table.c.row_check.type.compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN row_check {kind}"))
