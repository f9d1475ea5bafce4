"""The committed demo fixtures, replayed: every object over both routes, then a week later."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from devtools.demo.data import generate
from devtools.demo.record import later_system
from sapbridge.cli import cli
from sapbridge.config import load_settings, project_root
from sapbridge.store.schema import OBJECT_TABLES, blocked_orders, credit_segments, open_items
from sapbridge.sync.service import sync_system

FIXTURES = project_root() / "fixtures"


def run(store, *, route=None, settings=None):
    settings = settings or load_settings(None)
    return sync_system(settings, store, system="demo", objects=["all"], route=route, run_id=str(uuid.uuid4()),
                       actor="tester")


def rows(store, table, *columns):
    with store.engine.connect() as conn:
        return {tuple(r) for r in conn.execute(select(*(table.c[c] for c in columns)).where(table.c.status == "open"))}


def test_odata_replay_fills_every_dataset_with_the_demo_company(sqlite_store):
    summary = run(sqlite_store)
    read = {d.dataset: d.read for d in summary.datasets}
    company = generate(1)
    assert read["open_items"] == len(company.open_items)
    assert read["cleared_items"] == len(company.cleared_items)
    assert read["credit_segments"] == len(company.segments)
    assert read["blocked_orders"] == sum(o.credit_status in "BD" for o in company.orders)
    assert read["disputes"] == len(company.disputes)
    assert read["customers"] == len(company.customers)
    assert read["customer_bank_accounts"] == sum(len(c.ibans) for c in company.customers)
    with sqlite_store.engine.connect() as conn:
        currencies = {r[0] for r in conn.execute(select(open_items.c.currency).distinct())}
        total = conn.execute(select(func.count()).select_from(open_items)).scalar_one()
    assert currencies == {"EUR", "USD", "JPY"}
    assert total == len(company.open_items)


@pytest.mark.parametrize(
    ("dataset", "columns"),
    [
        ("open_items", ("company_code", "fiscal_year", "document", "item", "customer", "amount", "currency", "net_due_date")),
        ("cleared_items", ("company_code", "fiscal_year", "document", "item", "customer", "amount", "net_due_date",
                           "clearing_date", "clearing_document")),
        ("credit_segments", ("customer", "credit_segment", "credit_limit", "currency", "blocked", "risk_class")),
        ("blocked_orders", ("sales_order", "sold_to", "credit_status", "net_amount", "currency", "rejection_status")),
        ("disputes", ("case_id", "customer", "company_code", "disputed_amount", "credited_amount", "currency")),
        ("customers", ("customer", "name", "country")),
        ("customer_companies", ("customer", "company_code", "payment_terms")),
    ],
)
def test_rfc_route_gives_the_same_canonical_rows_as_odata(tmp_path, dataset, columns):
    from sapbridge.store import open_store

    odata_store = open_store(f"sqlite:///{tmp_path / 'o.db'}")
    rfc_store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    run(odata_store)
    run(rfc_store, route="rfc")
    table = OBJECT_TABLES[dataset]
    via_odata, via_rfc = rows(odata_store, table, *columns), rows(rfc_store, table, *columns)
    assert via_odata
    assert via_odata == via_rfc


def test_jpy_amounts_are_whole_yen_over_both_routes(sqlite_store):
    run(sqlite_store)
    with sqlite_store.engine.connect() as conn:
        limits = [r[0] for r in conn.execute(select(credit_segments.c.credit_limit).where(credit_segments.c.currency == "JPY"))]
    assert limits
    assert all(limit == limit.to_integral_value() for limit in limits)
    assert min(limits) >= Decimal(1000000)


def test_a_week_later_items_clear_and_orders_sync_incrementally(sqlite_store):
    run(sqlite_store)
    settings = load_settings(None)
    later = later_system(settings.system("demo"), FIXTURES / "demo-later")
    settings = replace(settings, systems={**settings.systems, "demo": later})
    summary = {d.dataset: d for d in run(sqlite_store, settings=settings).datasets}
    first, second = generate(1), generate(2)
    gone = {(i.company_code, i.document) for i in first.open_items} - {(i.company_code, i.document) for i in second.open_items}
    assert summary["open_items"].cleared == len(gone)
    assert summary["open_items"].inserted == len(second.open_items) - (len(first.open_items) - len(gone))
    assert summary["blocked_orders"].mode == "incremental"
    assert summary["disputes"].mode == "incremental"
    released = {o.number for o, n in zip(first.orders, second.orders, strict=True) if o.credit_status == "B" and n.credit_status != "B"}
    with sqlite_store.engine.connect() as conn:
        stored = {r.sales_order: r for r in conn.execute(select(blocked_orders))}
        cleared = conn.execute(select(func.count()).select_from(open_items).where(open_items.c.status == "cleared")).scalar_one()
    assert released
    assert all(stored[number].released_at is not None for number in released)
    assert cleared == len(gone)


def test_cli_sync_json_summary(tmp_path):
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'cli.db'}", "sync", "open_items", "customers", "--json"])
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["status"] == "ok"
    assert [d["dataset"] for d in summary["datasets"]] == ["customers", "customer_companies", "customer_bank_accounts", "open_items"]
