"""The report on the demo store, checked against the demo company the fixtures were recorded from."""

from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal

from devtools.demo.data import AS_OF, generate
from sapbridge.config import load_settings
from sapbridge.kpi import run_kpi_report
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

    blocked = Counter(o.sales_org for o in company.orders if o.credit_status == "B")
    assert {r.company_code: r.blocked_count for r in result.report.blocked} == dict(blocked)

    still_open = Counter(c.currency for c in company.disputes if c.closed_on is None or c.closed_on > AS_OF)
    counted = Counter()
    for row in result.report.disputes_by_age:
        counted[row.currency] += row.count
    assert counted == still_open
    assert any("first sync" in note for note in result.report.notes)
    assert result.summary["recoveries"] == {"status": "no recoveries run yet"}
