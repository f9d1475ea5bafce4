"""A small store with known AR items, orders, disputes and recoveries (as of 31 March 2026)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from sapbridge.reconcile.tables import reconcile_runs, recovery_claims
from sapbridge.store import Store
from sapbridge.store.schema import blocked_orders, disputes, open_items

AS_OF = date(2026, 3, 31)
SYSTEM = "T"
SEEN = datetime(2026, 1, 2, 6, tzinfo=UTC)
D = Decimal


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _tracked(row: dict[str, Any]) -> dict[str, Any]:
    return {"system": SYSTEM, "status": "open", "cleared_at": None, "first_seen_at": SEEN,
            "last_seen_at": SEEN, "last_seen_run": "r1", **row}


def item(document: str, doc_type: str, posted: str, due: str, amount: str, **extra: Any) -> dict[str, Any]:
    row = {"company_code": "1000", "fiscal_year": posted[:4], "document": document, "item": "001",
           "customer": "C1", "document_type": doc_type, "posting_date": date.fromisoformat(posted),
           "net_due_date": date.fromisoformat(due), "amount": D(amount), "currency": "EUR",
           "amount_company": D(amount), "company_currency": "EUR"}
    row.update(extra)
    return _tracked(row)


ITEMS = [
    item("A", "RV", "2026-03-10", "2026-04-09", "1000"),                  # current
    item("B", "RV", "2026-02-15", "2026-03-17", "2000", customer="C2"),   # 14 days: 1-30
    item("C", "RV", "2026-01-05", "2026-02-04", "3000"),                  # 55 days: 31-60
    item("D", "RV", "2025-12-01", "2025-12-31", "4000"),                  # 90 days: 61-90
    item("E", "RV", "2025-10-01", "2025-10-31", "5000"),                  # 151 days: over 90
    item("CM", "DG", "2026-03-20", "2026-03-20", "-500", customer="C2"),  # credit memo: 1-30
    item("F", "RV", "2026-02-01", "2026-03-03", "6000", status="cleared",  # paid 15 March
         clearing_date=date(2026, 3, 15), cleared_at=stamp("2026-03-16 06:00")),
    item("G", "DR", "2026-03-25", "2026-04-24", "700", status="cleared",   # paid after the date
         cleared_at=stamp("2026-04-02 06:00")),
    item("H", "RV", "2026-03-01", "2026-03-31", "100", currency="USD",     # EUR 90 in company currency
         amount_company=D("90")),
    item("LATE", "RV", "2026-04-05", "2026-05-05", "999"),                # after the report date
    item("U1", "RV", "2026-03-01", "2026-03-31", "500", company_code="2000", currency="USD",
         company_currency="USD"),
    {**item("X", "RV", "2026-03-01", "2026-03-31", "777"), "system": "OTHER"},
]
"""EUR 1000 at 31 March: current 1790 (A, G, H), 1-30 1500, 31-60 3000, 61-90 4000, >90 5000."""


def order(number: str, credit: str, since: str | None, released: str | None, amount: str,
          **extra: Any) -> dict[str, Any]:
    row = {"sales_order": number, "sold_to": "C1", "sales_organization": "1000", "credit_status": credit,
           "net_amount": D(amount), "currency": "EUR",
           "blocked_since": stamp(since) if since else None,
           "released_at": stamp(released) if released else None}
    row.update(extra)
    return _tracked(row)


ORDERS = [
    order("O1", "B", "2026-03-20 08:00", None, "1000"),                      # blocked 11.67 days
    order("O2", "D", "2026-03-10 00:00", "2026-03-12 12:00", "2000"),        # override after 2.5 days
    order("O3", "A", "2026-03-01 00:00", "2026-03-05 00:00", "300"),         # released by re-check
    order("O4", "B", "2026-03-01 00:00", None, "400", status="cleared",
          cleared_at=stamp("2026-03-25 06:00")),                            # gone before the date
    order("O5", "B", "2026-04-02 00:00", None, "500"),                       # blocked after the date
    order("O6", "D", "2026-01-05 00:00", "2026-01-10 00:00", "600"),         # released long before
    order("O7", "B", "2026-03-30 00:00", None, "700", sales_organization="2000", currency="USD"),
    order("O8", "B", "2026-03-28 00:00", "2026-03-15 00:00", "800"),         # released, then re-blocked
]


def case(case_id: str, created: str, amount: str, reason: str, status: str = "10",
         closed: str | None = None, **extra: Any) -> dict[str, Any]:
    row = {"case_id": case_id, "company_code": "1000", "customer": "C1", "case_status": status,
           "reason": reason, "disputed_amount": D(amount), "currency": "EUR",
           "created_on": date.fromisoformat(created),
           "closed_on": date.fromisoformat(closed) if closed else None,
           "changed_at": stamp(f"{closed or created} 09:00")}
    row.update(extra)
    return _tracked(row)


DISPUTES = [
    case("K1", "2026-03-20", "100", "PRC"),                           # 11 days open
    case("K2", "2026-01-15", "200", "DMG", status="20"),              # 75 days
    case("K3", "2026-02-01", "250", "PRC", status="30", closed="2026-03-25"),
    case("K4", "2026-02-01", "300", "PRC", status="30", closed="2026-04-05"),  # 58 days at the date
    case("K5", "2026-02-01", "350", "QTY", status="30", changed_at=stamp("2026-03-10 09:00")),
    case("K6", "2026-04-02", "400", "PRC"),                           # after the date
    case("K7", "2026-03-01", "450", "PRC", company_code="2000", currency="USD"),
    case("K8", "2025-11-01", "50", "PRC"),                            # 150 days
]


def seed(store: Store) -> None:
    """Fill the store with the rows above."""
    with store.engine.begin() as conn:
        conn.execute(open_items.insert(), ITEMS)
        conn.execute(blocked_orders.insert(), ORDERS)
        conn.execute(disputes.insert(), DISPUTES)


def seed_recoveries(store: Store) -> None:
    """Three recoveries runs (the newest unfinished) and a cash run; claims of each."""
    runs = [("old", "recoveries", stamp("2026-03-01 10:00")), ("new", "recoveries", stamp("2026-03-30 10:00")),
            ("running", "recoveries", None), ("cash", "cash", stamp("2026-03-31 10:00"))]
    with store.engine.begin() as conn:
        conn.execute(reconcile_runs.insert(), [
            {"run_id": run_id, "kind": kind, "system": SYSTEM, "actor": "alice",
             "started_at": stamp("2026-03-01 09:00"), "finished_at": finished, "inputs": "{}"}
            for run_id, kind, finished in runs])
        claims = [("old", "c1", "EUR", "100", "0", "rejected"), ("new", "c1", "EUR", "1000", "800", "matched"),
                  ("new", "c2", "EUR", "500", "0", "rejected"), ("new", "c3", "USD", "200", "200", "matched"),
                  ("running", "c1", "EUR", "999", "999", "matched"), ("cash", "c1", "EUR", "5", "5", "matched")]
        conn.execute(recovery_claims.insert(), [
            {"run_id": run_id, "claim_id": claim, "system": SYSTEM, "currency": currency,
             "claim_amount": D(claimed), "recovered_amount": D(recovered), "claim_status": status,
             "category": "test"} for run_id, claim, currency, claimed, recovered, status in claims])


@pytest.fixture
def seeded(store: Store) -> Store:
    seed(store)
    return store
