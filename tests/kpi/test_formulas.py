"""The KPI formulas against the worked examples of DOMAIN.md section 3."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sapbridge.kpi.formulas import (
    average_days_delinquent,
    bad_debt_reserve,
    best_possible_dso,
    bucket_index,
    collection_effectiveness_index,
    countback_dso,
    past_due_percent,
    simple_dso,
)

D = Decimal


def test_simple_dso_worked_example():
    assert round(simple_dso(D(150000), D(1800000), 365), 1) == D("30.4")


def test_simple_dso_jde_days_credit_granted_example():
    # (10869 × 90) / (5538 + 4566 + 7570) = 55.35
    assert round(simple_dso(D(10869), D(5538) + D(4566) + D(7570), 90), 2) == D("55.35")


def test_simple_dso_without_sales_is_none():
    assert simple_dso(D(100), D(0), 30) is None


def test_countback_with_30_day_months():
    result = countback_dso(D(212000), [(D(100000), 30), (D(80000), 30), (D(70000), 30)])
    assert round(result.days, 1) == D("73.7")
    assert result.exhausted
    assert result.months_used == 3


def test_countback_with_actual_calendar_days():
    # Newest first: March 31, February 28, January 31 -> 31 + 28 + 32/70 × 31 = 73.17
    result = countback_dso(D(212000), [(D(100000), 31), (D(80000), 28), (D(70000), 31)])
    assert round(result.days, 1) == D("73.2")


def test_countback_within_first_month_is_prorated():
    result = countback_dso(D(50000), [(D(100000), 30)])
    assert result.days == D(15)


def test_countback_stops_at_a_month_without_sales():
    result = countback_dso(D(212000), [(D(100000), 30), (D(0), 30), (D(200000), 30)])
    assert result.days == D(30)
    assert not result.exhausted


def test_countback_beyond_all_months_is_a_lower_bound():
    result = countback_dso(D(500), [(D(100), 30), (D(100), 31)])
    assert result.days == D(61)
    assert not result.exhausted


def test_countback_without_ar_is_none():
    assert countback_dso(D(0), [(D(100), 30)]) is None


def test_best_possible_dso_uses_current_ar():
    # current AR 30,000 of 1,800,000 sales over 365 days
    assert round(best_possible_dso(D(30000), D(1800000), 365), 2) == D("6.08")


def test_average_days_delinquent():
    assert average_days_delinquent(D(7), D(3)) == D(4)
    assert average_days_delinquent(None, D(3)) is None


def test_cei_divided_by_months():
    cei = collection_effectiveness_index(D(6200), D(10890), D(6340), D(3590), months=3,
                                         divide_by_months=True)
    assert round(cei, 1) == D("55.9")


def test_cei_with_undivided_sales():
    cei = collection_effectiveness_index(D(6200), D(10890), D(6340), D(3590), months=3,
                                         divide_by_months=False)
    assert round(cei, 2) == D("79.63")


def test_cei_gaviti_example():
    cei = collection_effectiveness_index(D(100000), D(1000000), D(120000), D(100000), months=1,
                                         divide_by_months=True)
    assert cei == D(98)


def test_past_due_percent():
    assert round(past_due_percent(D(12312), D(123423))) == D(10)
    assert past_due_percent(D(5), D(0)) is None


@pytest.mark.parametrize(("days", "bucket"), [(-5, 0), (0, 0), (1, 1), (30, 1), (31, 2), (60, 2),
                                              (61, 3), (90, 3), (91, 4), (400, 4)])
def test_bucket_index(days, bucket):
    assert bucket_index(days, (0, 30, 60, 90)) == bucket


def test_bad_debt_reserve_worked_example():
    buckets = [D(76000), D(14000), D(6000), D(3000), D(1000)]
    rates = [D("0.01"), D("0.05"), D("0.10"), D("0.25"), D("0.50")]
    assert bad_debt_reserve(buckets, rates) == D(3310)


def test_bad_debt_reserve_ignores_credit_buckets():
    assert bad_debt_reserve([D(-1000), D(2000)], [D("0.5"), D("0.1")]) == D(200)


def test_bad_debt_reserve_needs_one_rate_per_bucket():
    with pytest.raises(ValueError, match="2 buckets but 1"):
        bad_debt_reserve([D(1), D(2)], [D("0.1")])
