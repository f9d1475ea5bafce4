"""Month arithmetic and the [kpi] config section."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sapbridge.errors import ConfigError
from sapbridge.kpi.config import KpiConfig, bucket_labels, parse_kpi_config
from sapbridge.kpi.periods import month_ends, month_periods, shift_months


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 11, 20), -1, date(2026, 10, 20)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 2, 28), -1, date(2026, 1, 31)),
    (date(2026, 1, 30), 1, date(2026, 2, 28)),
    (date(2026, 1, 15), -13, date(2024, 12, 15)),
])
def test_shift_months(day, months, expected):
    assert shift_months(day, months) == expected


def test_month_periods_at_a_month_end_are_calendar_months():
    periods = month_periods(date(2026, 3, 31), 3)
    assert [(p.start, p.end, p.days) for p in periods] == [
        (date(2026, 2, 28), date(2026, 3, 31), 31),
        (date(2026, 1, 31), date(2026, 2, 28), 28),
        (date(2025, 12, 31), date(2026, 1, 31), 31),
    ]


def test_month_ends_before_a_mid_month_date():
    assert month_ends(date(2026, 11, 20), 3) == [date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31)]
    assert month_ends(date(2026, 10, 31), 2) == [date(2026, 9, 30), date(2026, 10, 31)]


def test_defaults():
    cfg = parse_kpi_config({})
    assert cfg == KpiConfig()
    assert cfg.reserve_rates == tuple(Decimal(r) for r in ("0.01", "0.05", "0.10", "0.25", "0.50"))
    assert bucket_labels(cfg.aging_edges) == ["current", "1-30", "31-60", "61-90", "over 90"]


def test_custom_section():
    cfg = parse_kpi_config({"aging_edges": [0, 45, 90], "reserve_rates": ["0.02", 0.1, "0.5", 1],
                            "cei_divide_by_months": False, "month_days": 30,
                            "invoice_document_types": ["RV"]})
    assert cfg.aging_edges == (0, 45, 90)
    assert cfg.reserve_rates == (Decimal("0.02"), Decimal("0.1"), Decimal("0.5"), Decimal(1))
    assert cfg.month_days == 30
    assert not cfg.cei_divide_by_months
    assert bucket_labels(cfg.aging_edges) == ["current", "1-45", "46-90", "over 90"]


@pytest.mark.parametrize(("raw", "message"), [
    ({"aging_edges": [30, 10]}, "aging_edges: must start at 0 or more and rise strictly"),
    ({"aging_edges": [0, 45, 90]}, "reserve_rates: needed: one rate for each of the 4"),
    ({"reserve_rates": ["0.1"]}, "reserve_rates: must list one rate per aging bucket (5)"),
    ({"reserve_rates": ["0.1", "0.2", "0.3", "0.4", "1.5"]}, "'1.5' is not a rate between 0 and 1"),
    ({"month_days": 45}, "month_days: must be \"actual\""),
    ({"dso_months": 0}, "dso_months: must be a whole number of at least 1"),
    ({"cei_divide_by_months": "yes"}, "cei_divide_by_months: must be true or false"),
    ({"dso_period": 3}, "has unknown key(s): dso_period"),
])
def test_bad_section_is_one_line(raw, message):
    with pytest.raises(ConfigError) as caught:
        parse_kpi_config(raw)
    assert message in str(caught.value)
    assert str(caught.value).startswith("config [kpi] ")
    assert "\n" not in str(caught.value)
