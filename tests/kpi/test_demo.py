"""The report on the demo store, checked against the demo company the fixtures were recorded from."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from devtools.demo.data import AS_OF, generate
from sapbridge.config import load_settings
from sapbridge.kpi import run_kpi_report
from sapbridge.store.schema import promises
from sapbridge.sync.service import sync_system


def test_demo_report_matches_the_demo_company(sqlite_store, tmp_path):
    settings = load_settings(None)
    sync_system(settings, sqlite_store, system="demo", objects=["all"], run_id=str(uuid.uuid4()),
                actor="tester")
    result = run_kpi_report(sqlite_store, settings, system="demo", out=tmp_path / "kpis")
    company = generate(1)
    assert result.report.as_of == AS_OF

    expected_ar: dict[str, Decimal] = {}
    for item in company.open_items:
        expected_ar[item.company_code] = expected_ar.get(item.company_code, Decimal(0)) + item.amount
    assert {(r.company_code, r.currency): r.total for r in result.report.aging} == {
        ("1000", "EUR"): expected_ar["1000"], ("2000", "USD"): expected_ar["2000"],
        ("3000", "JPY"): expected_ar["3000"]}

    blocked = Counter(o.sales_org for o in company.orders if o.credit_status == "B" and not o.rejection_status)
    assert any(o.rejection_status == "C" and o.credit_status == "B" for o in company.orders)
    assert {r.company_code: r.blocked_count for r in result.report.blocked} == dict(blocked)

    still_open = Counter(c.currency for c in company.disputes if c.closed_on is None or c.closed_on > AS_OF)
    counted = Counter()
    for row in result.report.disputes_by_age:
        counted[row.currency] += row.count
    assert counted == still_open
    assert any("first sync" in note for note in result.report.notes)
    assert result.summary["recoveries"] == {"status": "no recoveries run yet"}


def test_demo_collections_sections_match_the_demo_company(sqlite_store, tmp_path):
    settings = load_settings(None)
    sync_system(settings, sqlite_store, system="demo", objects=["all"], run_id=str(uuid.uuid4()),
                actor="tester")
    result = run_kpi_report(sqlite_store, settings, system="demo", out=tmp_path / "kpis")
    company = generate(1)
    c = result.report.collections

    broken = [p for p in company.promises if p.state == "broken"]
    assert sorted(b.shortfall for b in c.broken) == sorted(p.promised - p.paid for p in broken)
    assert {b.collector for b in c.broken} <= {"01", "02", "03"}
    due = Counter(p.currency for p in company.promises
                  if p.state in ("kept", "partially_kept", "broken") and p.due_on <= AS_OF)
    kept = Counter(p.currency for p in company.promises if p.state == "kept" and p.due_on <= AS_OF)
    assert {(k.currency, k.due, k.kept) for k in c.kept_rates} == {(cur, due[cur], kept[cur]) for cur in due}

    assert c.worklist
    assert all(w.overdue > 0 for w in c.worklist)
    for code in ("1000", "2000", "3000"):
        ranked = [w for w in c.worklist if w.company_code == code]
        assert [w.rank for w in ranked] == list(range(1, len(ranked) + 1))
        assert [w.score for w in ranked] == sorted((w.score for w in ranked), reverse=True)
    overdue: Counter[str] = Counter()
    for item in company.open_items:
        if item.company_code == "1000" and item.baseline_date + timedelta(days=item.net_days) < AS_OF:
            overdue[item.customer] += item.amount
    debtors = [t for t in c.top_debtors if t.company_code == "1000"]
    assert len(debtors) == min(20, sum(1 for amount in overdue.values() if amount > 0))
    assert {t.customer for t in debtors} <= set(overdue)

    expiring = {(s.customer, s.segment) for s in company.segments
                if s.valid_to is not None and 0 <= (s.valid_to - AS_OF).days <= 30}
    assert expiring
    assert {(e.customer, e.segment) for e in c.expiring} == expiring
    assert c.over_limit
    assert c.overrides == []

    sheets = {"broken_promises", "worklist", "credit_exposure", "over_limit", "limits_expiring", "top_debtors",
              "overrides_by_approver"}
    from openpyxl import load_workbook

    assert sheets <= set(load_workbook(tmp_path / "kpis" / "kpis.xlsx", read_only=True).sheetnames)
    page = (tmp_path / "kpis" / "kpis.html").read_text(encoding="utf-8")
    for anchor in ("broken-promises", "worklist", "exposure", "debtors"):
        assert f'<section id="{anchor}">' in page
    assert {"broken_promises", "worklist", "credit_exposure", "top_debtors", "overrides_by_approver"} <= set(
        result.summary)


def test_the_demo_reads_like_a_healthy_book_a_credit_manager_recognises(store, tmp_path):
    """Past due 15-35 %, DSO 35-70 days in every company code, customers over their limit,
    promises in every state (some broken): on both stores, from the synced payment history."""
    settings = load_settings(None)
    sync_system(settings, store, system="demo", objects=["all"], run_id=str(uuid.uuid4()), actor="tester")
    result = run_kpi_report(store, settings, system="demo", out=tmp_path / "kpis")
    report = result.report

    assert {r.company_code for r in report.aging} == {"1000", "2000", "3000"}
    for row in report.aging:
        assert row.past_due_percent is not None
        assert Decimal(15) <= row.past_due_percent <= Decimal(35), (row.company_code, row.past_due_percent)
    assert {r.company_code for r in report.dso} == {"1000", "2000", "3000"}
    for row in report.dso:
        assert row.dso_simple is not None
        assert row.countback is not None
        assert Decimal(35) <= row.dso_simple <= Decimal(70), (row.company_code, row.dso_simple)
        assert Decimal(35) <= row.countback.days <= Decimal(70), (row.company_code, row.countback.days)
        assert row.best_possible_dso is not None
        assert row.best_possible_dso < row.dso_simple
        assert row.cei_percent is not None
        assert Decimal(50) <= row.cei_percent <= Decimal(100)
    for point in report.trend:
        assert point.dso_simple is not None
        assert Decimal(30) <= point.dso_simple <= Decimal(75)

    collections = report.collections
    assert collections.over_limit
    assert all(o.exposure > o.limit for o in collections.over_limit)
    assert collections.broken
    with store.engine.connect() as conn:
        states = {row[0] for row in conn.execute(select(promises.c.state).where(promises.c.system == "demo"))}
    assert states == {"open", "kept", "partially_kept", "broken", "withdrawn"}


def test_chronic_disputes_stay_open_for_months(sqlite_store, tmp_path):
    settings = load_settings(None)
    sync_system(settings, sqlite_store, system="demo", objects=["all"], run_id=str(uuid.uuid4()),
                actor="tester")
    result = run_kpi_report(sqlite_store, settings, system="demo", out=tmp_path / "kpis")
    old = [row for row in result.report.disputes_by_age if row.label == "over 90" and row.count]
    assert old
    company = generate(1)
    long_open = Counter(d.customer for d in company.disputes
                        if d.closed_on is None and (AS_OF - d.created_on).days > 90)
    assert any(count >= 2 for count in long_open.values())
