"""Aging, DSO, best possible DSO, ADD, CEI, past-due % and the bad-debt reserve from AR items.

Pure functions over :class:`~sapbridge.kpi.queries.ItemRow` lists. Figures are per company code
and currency (``Group``); nothing here adds amounts of different currencies.

AR at a day D is every item posted on or before D and not settled by D (settled after D or not at
all). Credit sales of a period are the debit items of the configured invoice document types
posted within it.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sapbridge.kpi.config import KpiConfig
from sapbridge.kpi.formulas import (
    Countback,
    average_days_delinquent,
    bad_debt_reserve,
    best_possible_dso,
    bucket_index,
    collection_effectiveness_index,
    countback_dso,
    past_due_percent,
    simple_dso,
)
from sapbridge.kpi.periods import Period, month_ends, month_periods, shift_months
from sapbridge.kpi.queries import ItemRow
from sapbridge.money import ZERO

__all__ = [
    "AgingRow",
    "DsoRow",
    "Group",
    "ReserveRow",
    "SalesIndex",
    "TrendPoint",
    "aging",
    "dso_figures",
    "open_at",
    "reserves",
    "trend",
]

Group = tuple[str, str]
"""(company code, currency)."""


@dataclass(frozen=True, slots=True)
class AgingRow:
    """Balances by aging bucket of one company code and currency (and customer, when given)."""

    company_code: str
    currency: str
    customer: str | None
    buckets: tuple[Decimal, ...]

    @property
    def total(self) -> Decimal:
        """Total AR."""
        return sum(self.buckets, ZERO)

    @property
    def past_due(self) -> Decimal:
        """AR past its due date (every bucket but current)."""
        return sum(self.buckets[1:], ZERO)

    @property
    def past_due_percent(self) -> Decimal | None:
        """Past-due AR / total AR × 100."""
        return past_due_percent(self.past_due, self.total)


def open_at(items: Iterable[ItemRow], day: date) -> list[ItemRow]:
    """Items that made up AR at the end of ``day``."""
    return [i for i in items if i.posted_on <= day and (i.settled_on is None or i.settled_on > day)]


def _bucket_sums(items: Iterable[ItemRow], day: date, edges: Sequence[int],
                 key: str) -> dict[tuple[str, ...], list[Decimal]]:
    sums: dict[tuple[str, ...], list[Decimal]] = defaultdict(lambda: [ZERO] * (len(edges) + 1))
    for item in items:
        group = (item.company_code, item.currency) if key == "group" else (
            item.company_code, item.currency, item.customer)
        sums[group][bucket_index((day - item.due_on).days, edges)] += item.amount
    return sums


def aging(items: Iterable[ItemRow], day: date, edges: Sequence[int], *,
          by_customer: bool = False) -> list[AgingRow]:
    """AR open at ``day`` by bucket, per company code and currency (or also per customer)."""
    sums = _bucket_sums(open_at(items, day), day, edges, "customer" if by_customer else "group")
    return [AgingRow(key[0], key[1], key[2] if by_customer else None, tuple(values))
            for key, values in sorted(sums.items())]


class SalesIndex:
    """Credit sales per group answered for any period by binary search over posting dates."""

    def __init__(self, items: Iterable[ItemRow], document_types: Sequence[str]) -> None:
        wanted = set(document_types)
        by_group: dict[Group, list[tuple[date, Decimal]]] = defaultdict(list)
        for item in items:
            if item.amount > ZERO and item.document_type in wanted:
                by_group[(item.company_code, item.currency)].append((item.posted_on, item.amount))
        self._dates: dict[Group, list[date]] = {}
        self._cumulative: dict[Group, list[Decimal]] = {}
        for group, sales in by_group.items():
            sales.sort(key=lambda pair: pair[0])
            running = ZERO
            cumulative = []
            for _, amount in sales:
                running += amount
                cumulative.append(running)
            self._dates[group] = [day for day, _ in sales]
            self._cumulative[group] = cumulative

    def _upto(self, group: Group, day: date) -> Decimal:
        dates = self._dates.get(group)
        if not dates:
            return ZERO
        count = bisect.bisect_right(dates, day)
        return self._cumulative[group][count - 1] if count else ZERO

    def sales(self, group: Group, period: Period) -> Decimal:
        """Credit sales of ``group`` posted after ``period.start`` up to ``period.end``."""
        return self._upto(group, period.end) - self._upto(group, period.start)


def _days(period: Period, month_days: int | None) -> int:
    return period.days if month_days is None else month_days


@dataclass(frozen=True, slots=True)
class DsoRow:
    """DSO family and CEI of one company code and currency at the report date."""

    company_code: str
    currency: str
    ar_total: Decimal
    current_ar: Decimal
    credit_sales: Decimal
    period_start: date
    period_days: int
    dso_simple: Decimal | None
    countback: Countback | None
    best_possible_dso: Decimal | None
    average_days_delinquent: Decimal | None
    cei_start: date
    begin_ar: Decimal
    cei_sales: Decimal
    cei_percent: Decimal | None


def _countback(row: AgingRow, end: date, index: SalesIndex, cfg: KpiConfig) -> Countback | None:
    """Countback from the group's AR, or from AR less its reserve with ``countback_net_of_reserve``."""
    group = (row.company_code, row.currency)
    months = [(index.sales(group, p), _days(p, cfg.month_days))
              for p in month_periods(end, cfg.countback_months)]
    ar = row.total
    if cfg.countback_net_of_reserve:
        ar -= bad_debt_reserve(row.buckets, cfg.reserve_rates)
    return countback_dso(ar, months)


def dso_figures(items: Sequence[ItemRow], as_of: date, cfg: KpiConfig,
                index: SalesIndex | None = None) -> list[DsoRow]:
    """DSO (simple, countback), best possible DSO, ADD and CEI per group at ``as_of``."""
    index = index or SalesIndex(items, cfg.invoice_document_types)
    months = month_periods(as_of, cfg.dso_months)
    period = Period(months[-1].start, as_of)
    period_days = sum(_days(p, cfg.month_days) for p in months)
    cei_period = Period(shift_months(as_of, -cfg.cei_months), as_of)
    end = {(r.company_code, r.currency): r for r in aging(items, as_of, cfg.aging_edges)}
    begin = {(r.company_code, r.currency): r.total for r in aging(items, cei_period.start, cfg.aging_edges)}
    rows = []
    for group in sorted(set(end) | set(begin)):
        row = end.get(group)
        total = row.total if row else ZERO
        current = row.buckets[0] if row else ZERO
        sales = index.sales(group, period)
        dso = simple_dso(total, sales, period_days)
        best = best_possible_dso(current, sales, period_days)
        rows.append(DsoRow(
            company_code=group[0], currency=group[1], ar_total=total, current_ar=current,
            credit_sales=sales, period_start=period.start, period_days=period_days,
            dso_simple=dso, countback=_countback(row, as_of, index, cfg) if row else None,
            best_possible_dso=best, average_days_delinquent=average_days_delinquent(dso, best),
            cei_start=cei_period.start, begin_ar=begin.get(group, ZERO),
            cei_sales=index.sales(group, cei_period),
            cei_percent=collection_effectiveness_index(
                begin.get(group, ZERO), index.sales(group, cei_period), total, current,
                months=cfg.cei_months, divide_by_months=cfg.cei_divide_by_months),
        ))
    return rows


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """Month-end AR and DSO of one group."""

    company_code: str
    currency: str
    month_end: date
    ar_total: Decimal
    credit_sales: Decimal
    dso_simple: Decimal | None
    dso_countback: Decimal | None


def trend(items: Sequence[ItemRow], as_of: date, cfg: KpiConfig,
          index: SalesIndex | None = None) -> list[TrendPoint]:
    """Month-end AR, credit sales and DSO for the last ``trend_months`` month-ends."""
    index = index or SalesIndex(items, cfg.invoice_document_types)
    points = []
    for month_end in month_ends(as_of, cfg.trend_months):
        months = month_periods(month_end, cfg.dso_months)
        period = Period(shift_months(month_end, -cfg.dso_months), month_end)
        days = sum(_days(p, cfg.month_days) for p in months)
        for row in aging(items, month_end, cfg.aging_edges):
            group = (row.company_code, row.currency)
            sales = index.sales(group, period)
            back = _countback(row, month_end, index, cfg)
            points.append(TrendPoint(row.company_code, row.currency, month_end, row.total, sales,
                                     simple_dso(row.total, sales, days), back.days if back else None))
    return sorted(points, key=lambda p: (p.company_code, p.currency, p.month_end))


@dataclass(frozen=True, slots=True)
class ReserveRow:
    """Bad-debt reserve of one group: bucket balance × rate."""

    company_code: str
    currency: str
    buckets: tuple[Decimal, ...]
    rates: tuple[Decimal, ...]

    @property
    def by_bucket(self) -> tuple[Decimal, ...]:
        """The reserve each bucket contributes (0 for a bucket with a net credit balance)."""
        return tuple(max(amount, ZERO) * rate for amount, rate in zip(self.buckets, self.rates, strict=True))

    @property
    def total(self) -> Decimal:
        """The reserve of the group."""
        return bad_debt_reserve(self.buckets, self.rates)


def reserves(rows: Iterable[AgingRow], rates: Sequence[Decimal]) -> list[ReserveRow]:
    """The reserve per group from its aging."""
    return [ReserveRow(r.company_code, r.currency, r.buckets, tuple(rates)) for r in rows]
