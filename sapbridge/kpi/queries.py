"""Reading what the KPIs need from the store, as plain rows (no arithmetic here).

Amounts: an open item's company-code amount (``amount_company`` in ``company_currency``) when
sync stored both, else its document amount and currency. Grouping is always by company code and
that currency, so no sum ever mixes currencies.

Settlement date of an item: ``clearing_date`` when SAP sent one, else the day sync first saw it
gone (``cleared_at``), else (a cleared row with neither) the day sync last saw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from sapbridge.kpi.tables import kpi_snapshots
from sapbridge.reconcile.tables import reconcile_runs, recovery_claims
from sapbridge.store.schema import blocked_orders, cleared_items, customers, disputes, open_items

__all__ = [
    "REJECTED",
    "DisputeRow",
    "ItemRow",
    "OrderRow",
    "RecoveryClaimRow",
    "RecoveryRun",
    "SnapshotRow",
    "first_sync_date",
    "known_company_codes",
    "load_customer_names",
    "load_disputes",
    "load_items",
    "load_orders",
    "load_recovery_claims",
    "load_snapshots",
]


REJECTED = "C"
"""``rejection_status`` (OverallSDDocumentRejectionSts) of an order whose every item is rejected."""


class ItemRow(NamedTuple):
    """One AR line item, reduced to what aging, DSO and CEI need."""

    company_code: str
    customer: str
    document_type: str
    posted_on: date
    due_on: date
    amount: Decimal
    currency: str
    settled_on: date | None


class OrderRow(NamedTuple):
    """One credit-checked sales order with its block timeline."""

    sales_order: str
    sales_organization: str | None
    credit_status: str | None
    net_amount: Decimal
    currency: str
    blocked_since: datetime | None
    released_at: datetime | None
    gone_at: datetime | None
    """When sync saw the order leave the blocked/released set (row status 'cleared')."""
    rejected_at: datetime | None = None
    """Last change of an order SAP shows fully rejected (OverallSDDocumentRejectionSts C): the
    store keeps no rejection time, so the last change stands in for it."""


class DisputeRow(NamedTuple):
    """One dispute case."""

    case_id: str
    company_code: str | None
    case_status: str | None
    reason: str
    disputed_amount: Decimal
    currency: str
    created_on: date | None
    closed_on: date | None
    changed_on: date | None
    """Last change; with a closed status and no ``closed_on`` it stands in for the closing day."""


class RecoveryRun(NamedTuple):
    """The recoveries reconciliation run the recovery rate comes from."""

    run_id: str
    finished_at: datetime


class RecoveryClaimRow(NamedTuple):
    """One claim of that run."""

    currency: str
    claim_amount: Decimal
    recovered_amount: Decimal
    claim_status: str


class SnapshotRow(NamedTuple):
    """Headline figures of one earlier report run for one company code and currency."""

    run_at: datetime
    as_of: date
    company_code: str
    currency: str
    ar_total: Decimal
    past_due_percent: Decimal | None
    dso_simple: Decimal | None
    dso_countback: Decimal | None


def known_company_codes(conn: Connection, system: str) -> set[str]:
    """Company codes the store holds open items for in this system."""
    query = select(open_items.c.company_code).where(open_items.c.system == system).distinct()
    return {row[0] for row in conn.execute(query)}


def first_sync_date(conn: Connection, system: str) -> date | None:
    """Where the store's history starts: the day sync first saw any open item of the system, or
    the oldest clearing date of the cleared items it holds, whichever is earlier."""
    first = conn.execute(select(func.min(open_items.c.first_seen_at))
                         .where(open_items.c.system == system)).scalar_one_or_none()
    oldest = conn.execute(select(func.min(cleared_items.c.clearing_date))
                          .where(cleared_items.c.system == system)).scalar_one_or_none()
    seen = None
    if first is not None:
        seen = (first if isinstance(first, datetime) else datetime.fromisoformat(str(first))).date()
    known = [day for day in (seen, oldest) if day is not None]
    return min(known) if known else None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _item_row(code: str, customer: str, doc_type: str | None, posted_on: date | None, due: date | None,
              baseline: date | None, amount: Decimal, currency: str, amount_cc: Decimal | None,
              cc_currency: str | None, settled: date | None) -> ItemRow:
    use_company = amount_cc is not None and bool(cc_currency)
    posted_day = posted_on or date.min
    return ItemRow(company_code=code, customer=customer, document_type=doc_type or "",
                   posted_on=posted_day, due_on=due or baseline or posted_day,
                   amount=amount_cc if use_company and amount_cc is not None else amount,
                   currency=cc_currency if use_company and cc_currency else currency, settled_on=settled)


def _cleared_items(conn: Connection, system: str, company_codes: Sequence[str], *, as_of: date,
                   since: date) -> dict[tuple[str, str, str, str], ItemRow]:
    """Items SAP reported cleared after ``since`` (payment history), by key; one without a
    clearing date counts as cleared on the day sync first saw it."""
    t = cleared_items.c
    posted = func.coalesce(t.posting_date, t.document_date, t.baseline_date)
    query = (
        select(t.company_code, t.fiscal_year, t.document, t.item, t.customer, t.document_type, posted,
               t.net_due_date, t.baseline_date, t.amount, t.currency, t.amount_company,
               t.company_currency, t.clearing_date, t.first_seen_at)
        .where(t.system == system, t.company_code.in_(list(company_codes)),
               or_(posted.is_(None), posted <= as_of),
               or_(t.clearing_date > since,
                   and_(t.clearing_date.is_(None), t.first_seen_at >= _day_start(since))))
    )
    return {(code, year, document, item): _item_row(code, customer, doc_type, posted_on, due, baseline,
                                                    amount, currency, amount_cc, cc_currency,
                                                    cleared_on or first_seen.date())
            for (code, year, document, item, customer, doc_type, posted_on, due, baseline, amount, currency,
                 amount_cc, cc_currency, cleared_on, first_seen) in conn.execute(query)}


def load_items(conn: Connection, system: str, company_codes: Sequence[str], *, as_of: date,
               since: date) -> list[ItemRow]:
    """Items posted by ``as_of`` that were still open at some point after ``since``: open items,
    and cleared items with SAP's clearing date (which wins over the day sync saw an item go)."""
    paid = _cleared_items(conn, system, company_codes, as_of=as_of, since=since)
    t = open_items.c
    posted = func.coalesce(t.posting_date, t.document_date, t.baseline_date)
    query = (
        select(t.company_code, t.fiscal_year, t.document, t.item, t.customer, t.document_type, posted,
               t.net_due_date, t.baseline_date, t.amount, t.currency, t.amount_company, t.company_currency,
               t.status, t.clearing_date, t.cleared_at, t.last_seen_at)
        .where(t.system == system, t.company_code.in_(list(company_codes)),
               or_(posted.is_(None), posted <= as_of),
               or_(t.status == "open", posted > since, t.clearing_date > since,
                   t.cleared_at >= _day_start(since)))
    )
    rows = list(paid.values())
    for (code, year, document, item, customer, doc_type, posted_on, due, baseline, amount, currency,
         amount_cc, cc_currency, status, clearing_date, cleared_at, last_seen) in conn.execute(query):
        if (code, year, document, item) in paid:
            continue
        settled = None
        if status != "open":
            settled = clearing_date or (cleared_at or last_seen).date()
        rows.append(_item_row(code, customer, doc_type, posted_on, due, baseline, amount, currency,
                              amount_cc, cc_currency, settled))
    return rows


def load_customer_names(conn: Connection, system: str) -> dict[str, str]:
    """Customer number -> name, for the rows people read (``aging_by_customer``)."""
    t = customers.c
    return {customer: name for customer, name in conn.execute(
        select(t.customer, t.name).where(t.system == system)) if name}


def load_orders(conn: Connection, system: str) -> list[OrderRow]:
    """Every order of the system that was ever credit-blocked or released."""
    t = blocked_orders.c
    query = select(t.sales_order, t.sales_organization, t.credit_status, t.net_amount, t.currency,
                   t.blocked_since, t.released_at, t.status, t.cleared_at, t.rejection_status,
                   t.changed_at).where(t.system == system)
    return [
        OrderRow(order, org, credit, amount if amount is not None else Decimal(0), currency or "",
                 since, released, cleared_at if status != "open" else None,
                 (changed or since) if (rejection or "").strip() == REJECTED else None)
        for order, org, credit, amount, currency, since, released, status, cleared_at, rejection, changed
        in conn.execute(query)
    ]


def load_disputes(conn: Connection, system: str, company_codes: Sequence[str]) -> list[DisputeRow]:
    """Dispute cases of the system in these company codes.

    A case sync no longer returns (row status 'cleared') without a ``closed_on`` counts as closed
    on the day sync saw it gone.
    """
    t = disputes.c
    query = select(t.case_id, t.company_code, t.case_status, t.reason, t.disputed_amount, t.currency,
                   t.created_on, t.closed_on, t.changed_at, t.status, t.cleared_at).where(
        t.system == system, t.company_code.in_(list(company_codes)))
    result = []
    for (case, code, status, reason, amount, currency, created, closed, changed, row_status,
         cleared_at) in conn.execute(query):
        if closed is None and row_status != "open" and cleared_at is not None:
            closed = cleared_at.date()
        result.append(DisputeRow(case, code, status, reason or "(none)",
                                 amount if amount is not None else Decimal(0), currency or "",
                                 created, closed, changed.date() if changed else None))
    return result


def load_recovery_claims(conn: Connection, system: str) -> tuple[RecoveryRun | None, list[RecoveryClaimRow]]:
    """The latest finished recoveries run of the system and its claims (None, [] if none ran)."""
    r = reconcile_runs.c
    run = conn.execute(
        select(r.run_id, r.finished_at)
        .where(r.system == system, r.kind == "recoveries", r.finished_at.is_not(None))
        .order_by(r.finished_at.desc(), r.run_id.desc()).limit(1)
    ).first()
    if run is None:
        return None, []
    c = recovery_claims.c
    claims = conn.execute(select(c.currency, c.claim_amount, c.recovered_amount, c.claim_status)
                          .where(c.run_id == run.run_id))
    return RecoveryRun(run.run_id, run.finished_at), [RecoveryClaimRow(*row) for row in claims]


def load_snapshots(conn: Connection, system: str, company_codes: Sequence[str]) -> list[SnapshotRow]:
    """Headline figures of earlier report runs, oldest first."""
    s = kpi_snapshots.c
    query = (select(s.run_at, s.as_of, s.company_code, s.currency, s.ar_total, s.past_due_percent,
                    s.dso_simple, s.dso_countback)
             .where(and_(s.system == system, s.company_code.in_(list(company_codes))))
             .order_by(s.run_at, s.company_code, s.currency))
    return [SnapshotRow(*row) for row in conn.execute(query)]
