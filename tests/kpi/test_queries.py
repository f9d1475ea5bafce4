"""Aging, DSO, CEI, blocked orders, disputes and recoveries on a small store with known rows.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sapbridge.kpi.activity import (
    blocked_orders_summary,
    disputes_by_age,
    disputes_by_reason,
    open_disputes,
    recovery_rates,
)
from sapbridge.kpi.config import KpiConfig
from sapbridge.kpi.queries import load_disputes, load_items, load_orders, load_recovery_claims
from sapbridge.kpi.receivables import aging, dso_figures, reserves, trend

from .conftest import AS_OF, SYSTEM, seed_recoveries

D = Decimal
SINCE = date(2025, 1, 1)


def _items(store, codes=("1000", "2000")):
    with store.engine.connect() as conn:
        return load_items(conn, SYSTEM, list(codes), as_of=AS_OF, since=SINCE)


def test_aging_by_bucket_per_company_code_and_currency(seeded):
    rows = aging(_items(seeded), AS_OF, (0, 30, 60, 90))
    eur, usd = rows
    assert (eur.company_code, eur.currency) == ("1000", "EUR")
    assert eur.buckets == (D(1790), D(1500), D(3000), D(4000), D(5000))
    assert eur.total == D(15290)
    assert eur.past_due == D(13500)
    assert round(eur.past_due_percent, 2) == D("88.29")
    assert (usd.company_code, usd.currency, usd.buckets) == ("2000", "USD", (D(500), 0, 0, 0, 0))


def test_aging_by_customer(seeded):
    rows = aging(_items(seeded, ["1000"]), AS_OF, (0, 30, 60, 90), by_customer=True)
    by_customer = {r.customer: r.buckets for r in rows}
    assert by_customer["C2"] == (0, D(1500), 0, 0, 0)  # 2000 invoice less the 500 credit memo
    assert by_customer["C1"] == (D(1790), 0, D(3000), D(4000), D(5000))


def test_ar_at_an_earlier_date_includes_items_cleared_later(seeded):
    feb = aging(_items(seeded, ["1000"]), date(2026, 2, 28), (0, 30, 60, 90))[0]
    # B, C, D, E and F (cleared 15 March) were open on 28 February
    assert feb.total == D(20000)


def test_dso_family_and_cei(seeded):
    cfg = KpiConfig(trend_months=2)
    row = dso_figures(_items(seeded, ["1000"]), AS_OF, cfg)[0]
    sales = D(3000) + D(8000) + D(1790)  # January, February (B + F), March (A + G + H)
    assert row.credit_sales == sales
    assert row.period_days == 31 + 28 + 31
    assert row.dso_simple == D(15290) / sales * 90
    assert row.best_possible_dso == D(1790) / sales * 90
    assert row.average_days_delinquent == row.dso_simple - row.best_possible_dso
    # countback: March 1790 (31 d), February 8000 (28 d), January 3000 (31 d), December 2500/4000 × 31
    assert row.countback.days == D(31 + 28 + 31) + D(2500) / D(4000) * 31
    assert row.countback.exhausted
    # CEI of March: (begin 20000 + sales 1790 − end 15290) / (20000 + 1790 − current 1790)
    assert row.begin_ar == D(20000)
    assert row.cei_percent == D("32.5")


def test_dso_with_30_day_months(seeded):
    row = dso_figures(_items(seeded, ["1000"]), AS_OF, KpiConfig(month_days=30))[0]
    assert row.period_days == 90
    assert row.countback.days == D(90) + D(2500) / D(4000) * 30


def test_credit_sales_follow_the_configured_document_types(seeded):
    row = dso_figures(_items(seeded, ["1000"]), AS_OF, KpiConfig(invoice_document_types=("RV",)))[0]
    assert row.credit_sales == D(3000) + D(8000) + D(1000) + D(90)  # G is a DR


def test_month_end_trend(seeded):
    points = trend(_items(seeded, ["1000"]), AS_OF, KpiConfig(trend_months=2))
    assert [(p.month_end, p.ar_total) for p in points] == [(date(2026, 2, 28), D(20000)),
                                                           (date(2026, 3, 31), D(15290))]
    feb = points[0]
    assert feb.credit_sales == D(4000) + D(3000) + D(8000)  # December, January, February
    assert feb.dso_simple == D(20000) / feb.credit_sales * (31 + 31 + 28)


def test_reserve_per_group(seeded):
    rows = reserves(aging(_items(seeded, ["1000"]), AS_OF, (0, 30, 60, 90)),
                    [D("0.01"), D("0.05"), D("0.10"), D("0.25"), D("0.50")])
    assert rows[0].total == D("17.90") + D(75) + D(300) + D(1000) + D(2500)


def test_blocked_orders(seeded):
    with seeded.engine.connect() as conn:
        orders = load_orders(conn, SYSTEM)
    eur, = blocked_orders_summary(orders, AS_OF, KpiConfig(), ["1000"])
    assert (eur.blocked_count, eur.blocked_value) == (2, D(1800))  # O1 and the re-blocked O8
    assert round(eur.blocked_days_max, 2) == D("11.67")            # O1 since 20 March 08:00
    assert (eur.overrides_count, eur.overrides_value) == (1, D(2000))
    assert (eur.other_releases_count, eur.other_releases_value) == (2, D(1100))  # O3, O8
    assert eur.days_to_release_average == D("3.25")
    assert eur.days_to_release_max == D(4)
    both = blocked_orders_summary(orders, AS_OF, KpiConfig(), ["1000", "2000"])
    assert [(r.company_code, r.currency, r.blocked_count) for r in both] == [("1000", "EUR", 2),
                                                                           ("2000", "USD", 1)]


def test_blocked_orders_of_a_mapped_sales_org(seeded):
    with seeded.engine.connect() as conn:
        orders = load_orders(conn, SYSTEM)
    rows = blocked_orders_summary(orders, AS_OF, KpiConfig(sales_org_company_codes={"2000": "1000"}),
                                  ["1000"])
    assert [(r.currency, r.blocked_count) for r in rows] == [("EUR", 2), ("USD", 1)]


def test_open_disputes_by_age_and_reason(seeded):
    with seeded.engine.connect() as conn:
        cases = load_disputes(conn, SYSTEM, ["1000"])
    still_open = open_disputes(cases, AS_OF, KpiConfig())
    assert sorted(c.case_id for c in still_open) == ["K1", "K2", "K4", "K8"]
    by_age = [(r.label, r.count, r.amount) for r in disputes_by_age(still_open, AS_OF, (0, 30, 60, 90))]
    assert by_age == [("0-30", 1, D(100)), ("31-60", 1, D(300)), ("61-90", 1, D(200)),
                      ("over 90", 1, D(50))]
    by_reason = [(r.label, r.count, r.amount) for r in disputes_by_reason(still_open)]
    assert by_reason == [("DMG", 1, D(200)), ("PRC", 3, D(450))]


def test_recovery_rate_from_the_latest_finished_run(seeded):
    seed_recoveries(seeded)
    with seeded.engine.connect() as conn:
        run, claims = load_recovery_claims(conn, SYSTEM)
    assert run.run_id == "new"
    eur, usd = recovery_rates(claims)
    assert (eur.claims, eur.claimed, eur.recovered, eur.rejected_claims) == (2, D(1500), D(800), 1)
    assert round(eur.rate_percent, 2) == D("53.33")
    assert usd.rate_percent == D(100)


def test_no_recoveries_run(seeded):
    with seeded.engine.connect() as conn:
        assert load_recovery_claims(conn, SYSTEM) == (None, [])


def test_countback_net_of_reserve(seeded):
    row = dso_figures(_items(seeded, ["1000"]), AS_OF, KpiConfig(countback_net_of_reserve=True))[0]
    # AR 15290 less reserve 3892.90 = 11397.10: March 1790, February 8000, then 1607.10 of January's 3000
    assert row.countback.days == D(31 + 28) + D("1607.10") / D(3000) * 31
    assert row.dso_simple == D(15290) / D(12790) * 90  # simple DSO keeps the gross AR
