"""Payment history: the demo's cleared items synced with their clearing dates, on SQLite and
PostgreSQL, and what the KPI report reads from them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import create_engine, inspect, select, text

from devtools.demo.data import AS_OF, generate
from sapbridge.config import load_settings
from sapbridge.kpi.queries import first_sync_date, load_items
from sapbridge.store import open_store
from sapbridge.store.schema import blocked_orders, cleared_items, open_items
from sapbridge.sync.service import sync_system


def sync(store, *objects: str, route: str | None = None):
    return sync_system(load_settings(None), store, system="demo", objects=list(objects) or ["all"], route=route,
                       run_id=str(uuid.uuid4()), actor="tester")


def test_sync_brings_the_cleared_items_with_their_clearing_dates(store):
    summary = sync(store, "customers", "open_items", "cleared_items")
    assert [d.dataset for d in summary.datasets][-2:] == ["open_items", "cleared_items"]
    company = generate(1)
    expected = {(i.company_code, i.document): (i.clearing_date, i.clearing_document, i.amount)
                for i in company.cleared_items}
    with store.engine.connect() as conn:
        stored = {(r.company_code, r.document): (r.clearing_date, r.clearing_document, r.amount)
                  for r in conn.execute(select(cleared_items))}
        still_open = {(r.company_code, r.document) for r in conn.execute(select(open_items))}
    assert stored == expected
    assert not set(stored) & still_open
    assert all(cleared_on <= AS_OF for cleared_on, _, _ in stored.values())


def test_the_kpi_items_settle_on_the_clearing_date_sap_gave(store):
    sync(store, "customers", "open_items", "cleared_items")
    company = generate(1)
    since = AS_OF - timedelta(days=400)
    with store.engine.connect() as conn:
        items = load_items(conn, "demo", ["1000", "2000", "3000"], as_of=AS_OF, since=since)
        history_starts = first_sync_date(conn, "demo")
    assert len(items) == len(company.open_items) + len(company.cleared_items)
    settled = sorted(i.settled_on for i in items if i.settled_on is not None)
    assert settled == sorted(i.clearing_date for i in company.cleared_items)
    assert history_starts == min(i.clearing_date for i in company.cleared_items)


def test_a_clearing_date_wins_over_the_day_sync_saw_the_item_go(sqlite_store):
    """An item both in open_items (gone, cleared_at = the sync's day) and in cleared_items is read
    once, settled on SAP's clearing date."""
    sync(sqlite_store, "customers", "open_items", "cleared_items")
    paid = generate(1).cleared_items[0]
    with sqlite_store.engine.begin() as conn:
        row = conn.execute(select(cleared_items).where(
            cleared_items.c.company_code == paid.company_code,
            cleared_items.c.document == paid.document)).mappings().one()
        columns = {c.name for c in open_items.columns}
        conn.execute(open_items.insert().values(
            **{k: v for k, v in row.items() if k in columns and k not in ("clearing_date", "status", "cleared_at")},
            status="cleared", cleared_at=row["first_seen_at"]))
        items = load_items(conn, "demo", [paid.company_code], as_of=AS_OF, since=AS_OF - timedelta(days=400))
    mine = [i for i in items if i.posted_on == paid.posting_date and i.amount == paid.amount
            and i.customer == paid.customer]
    assert [i.settled_on for i in mine] == [paid.clearing_date]


def test_a_store_made_before_cleared_items_gets_the_table_and_rejection_status(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    open_store(url).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE cleared_items"))
        conn.execute(text("ALTER TABLE blocked_orders DROP COLUMN rejection_status"))
        conn.execute(text("DELETE FROM schema_migrations WHERE component = 'core' AND version = 4"))
    engine.dispose()
    store = open_store(url)
    found = inspect(store.engine)
    assert found.has_table("cleared_items")
    assert "rejection_status" in {c["name"] for c in found.get_columns("blocked_orders")}
    sync(store, "customers", "cleared_items", "blocked_orders")
    with store.engine.connect() as conn:
        rejected = conn.execute(select(blocked_orders.c.sales_order)
                                .where(blocked_orders.c.rejection_status == "C")).scalars().all()
    assert rejected == [o.number for o in generate(1).orders if o.rejection_status == "C"]
    store.dispose()
