"""Reading what the collections sections need: promises, credit segments, collectors, dunning
levels, orders waiting on a credit block and blocked-order releases by approver (plain rows).

Releases come from the push component's tables (batches of kind ``releases``, rows applied,
approvals given); a store without them, or with no such batch, gives no rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection

from sapbridge.kpi.queries import REJECTED
from sapbridge.push.tables import push_approvals, push_batches, push_rows
from sapbridge.store.schema import (
    blocked_orders,
    credit_segments,
    customer_companies,
    open_items,
    promises,
)

__all__ = [
    "PromiseRow",
    "ReleaseRow",
    "SegmentRow",
    "WaitingOrderRow",
    "load_collectors",
    "load_dunning_levels",
    "load_promises",
    "load_releases",
    "load_segments",
    "load_waiting_orders",
]


class PromiseRow(NamedTuple):
    """One promise to pay."""

    company_code: str
    customer: str
    promised: Decimal
    paid: Decimal
    currency: str
    due_on: date | None
    promised_on: date | None
    state: str
    level: str


class SegmentRow(NamedTuple):
    """One customer's credit account in one credit segment."""

    customer: str
    segment: str
    limit: Decimal | None
    currency: str
    valid_to: date | None
    risk_class: str


class WaitingOrderRow(NamedTuple):
    """A sales order on credit block now (credit status B)."""

    sales_order: str
    sold_to: str
    sales_organization: str | None
    net_amount: Decimal
    currency: str
    blocked_since: datetime | None = None


class ReleaseRow(NamedTuple):
    """One blocked order released through a push batch, and who approved it."""

    approver: str
    sales_order: str
    order_value: Decimal
    currency: str


def load_promises(conn: Connection, system: str, company_codes: Sequence[str]) -> list[PromiseRow]:
    """Promises SAP still returns (row status open) in these company codes."""
    t = promises.c
    query = select(t.company_code, t.customer, t.promised_amount, t.paid_amount, t.currency, t.due_date,
                   t.promised_on, t.state, t.level).where(
        t.system == system, t.status == "open", t.company_code.in_(list(company_codes)))
    return [PromiseRow(code, customer, promised or Decimal(0), paid or Decimal(0), currency or "",
                       due, made, state or "", level or "")
            for code, customer, promised, paid, currency, due, made, state, level in conn.execute(query)]


def load_segments(conn: Connection, system: str) -> list[SegmentRow]:
    """Credit accounts SAP still returns."""
    t = credit_segments.c
    query = select(t.customer, t.credit_segment, t.credit_limit, t.currency, t.valid_to,
                   t.risk_class).where(t.system == system, t.status == "open")
    return [SegmentRow(customer, segment, limit, currency or "", valid_to, risk or "")
            for customer, segment, limit, currency, valid_to, risk in conn.execute(query)]


def load_collectors(conn: Connection, system: str) -> dict[tuple[str, str], str]:
    """(company code, customer) -> collector: the accounting clerk (KNB1-BUSAB) of the account."""
    t = customer_companies.c
    query = select(t.company_code, t.customer, t.accounting_clerk).where(
        t.system == system, t.status == "open")
    return {(code, customer): clerk for code, customer, clerk in conn.execute(query) if clerk}


def load_dunning_levels(conn: Connection, system: str, company_codes: Sequence[str]
                        ) -> dict[tuple[str, str], int]:
    """(company code, customer) -> the highest dunning level of its open items."""
    t = open_items.c
    query = (select(t.company_code, t.customer, func.max(t.dunning_level))
             .where(t.system == system, t.status == "open", t.company_code.in_(list(company_codes)))
             .group_by(t.company_code, t.customer))
    return {(code, customer): int(level) for code, customer, level in conn.execute(query)
            if level and str(level).isdigit()}


def load_waiting_orders(conn: Connection, system: str) -> list[WaitingOrderRow]:
    """Orders on credit block now and not rejected: waiting for a credit decision."""
    t = blocked_orders.c
    query = select(t.sales_order, t.sold_to, t.sales_organization, t.net_amount, t.currency,
                   t.blocked_since).where(t.system == system, t.status == "open", t.credit_status == "B",
                                          func.coalesce(t.rejection_status, "") != REJECTED)
    return [WaitingOrderRow(order, sold_to, org, amount or Decimal(0), currency or "", since)
            for order, sold_to, org, amount, currency, since in conn.execute(query)]


def load_releases(conn: Connection, system: str) -> list[ReleaseRow]:
    """Orders released (action ``release``) by applied rows of ``releases`` push batches, once per
    approver who approved the batch."""
    if not inspect(conn).has_table(push_batches.name):
        return []
    b, r, a = push_batches.c, push_rows.c, push_approvals.c
    query = (select(a.user, r.target_json)
             .select_from(push_batches.join(push_rows, r.batch_id == b.batch_id)
                          .join(push_approvals, a.batch_id == b.batch_id))
             .where(b.system == system, b.kind == "releases", r.state == "done", a.decision == "approved"))
    result = []
    for approver, target_json in conn.execute(query):
        target = json.loads(target_json)
        if target.get("action") != "release":
            continue
        result.append(ReleaseRow(approver, str(target.get("sales_order", "")),
                                 Decimal(str(target.get("order_value", "0"))),
                                 str(target.get("currency", ""))))
    return result
