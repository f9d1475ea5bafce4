"""The credit and collections KPIs as pure functions on Decimals (DOMAIN.md section 3).

Every function returns the unrounded figure; reports round for display. A KPI that cannot be
computed (no credit sales, no AR) is ``None`` rather than a division error or a made-up zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sapbridge.money import ZERO

__all__ = [
    "HUNDRED",
    "Countback",
    "average_days_delinquent",
    "bad_debt_reserve",
    "best_possible_dso",
    "bucket_index",
    "collection_effectiveness_index",
    "countback_dso",
    "past_due_percent",
    "simple_dso",
]

HUNDRED = Decimal(100)


def simple_dso(ar_end: Decimal, credit_sales: Decimal, days: int | Decimal) -> Decimal | None:
    """Simple DSO = AR at period end / credit sales of the period × days in the period.

    >>> round(simple_dso(Decimal(150000), Decimal(1800000), 365), 1)
    Decimal('30.4')
    """
    if credit_sales <= ZERO:
        return None
    return ar_end / credit_sales * Decimal(days)


def best_possible_dso(current_ar: Decimal, credit_sales: Decimal, days: int | Decimal) -> Decimal | None:
    """Best possible DSO: the simple DSO formula with only current (not yet due) AR on top."""
    return simple_dso(current_ar, credit_sales, days)


def average_days_delinquent(dso: Decimal | None, best_dso: Decimal | None) -> Decimal | None:
    """ADD = DSO − best possible DSO (e.g. 7 − 3 = 4)."""
    if dso is None or best_dso is None:
        return None
    return dso - best_dso


@dataclass(frozen=True, slots=True)
class Countback:
    """A countback DSO and whether the AR was used up within the months given.

    ``exhausted`` is False when the AR exceeds every month's sales (or a month with no sales
    stopped the count, the Oracle HFM rule): ``days`` is then a lower bound.
    """

    days: Decimal
    exhausted: bool
    months_used: int


def countback_dso(ar_end: Decimal, months: Sequence[tuple[Decimal, int | Decimal]]) -> Countback | None:
    """Countback (exhaustion) DSO: walk back newest month first, taking whole months of sales.

    ``months`` holds ``(credit_sales, days)`` newest first. Each month whose sales the remaining
    AR covers adds its days; the month that exhausts the AR adds remaining / sales × days.
    A month with sales ≤ 0 stops the count. ``None`` when there is no AR to explain.
    """
    if ar_end <= ZERO:
        return None
    remaining = ar_end
    total = ZERO
    for used, (sales, days) in enumerate(months, start=1):
        if sales <= ZERO:
            return Countback(total, exhausted=False, months_used=used - 1)
        if remaining <= sales:
            return Countback(total + remaining / sales * Decimal(days), exhausted=True, months_used=used)
        remaining -= sales
        total += Decimal(days)
    return Countback(total, exhausted=False, months_used=len(months))


def collection_effectiveness_index(begin_ar: Decimal, credit_sales: Decimal, end_total_ar: Decimal,
                                   end_current_ar: Decimal, *, months: int,
                                   divide_by_months: bool) -> Decimal | None:
    """CEI % = (begin AR + sales/N − end total AR) / (begin AR + sales/N − end current AR) × 100.

    ``divide_by_months`` chooses the convention: sales/N with N the months of the period (the
    CreditGuru form, 55.9% in the worked example) or the period's undivided sales (79.63%).
    """
    sales = credit_sales / Decimal(months) if divide_by_months else credit_sales
    collectible = begin_ar + sales - end_current_ar
    if collectible <= ZERO:
        return None
    return (begin_ar + sales - end_total_ar) / collectible * HUNDRED


def past_due_percent(past_due: Decimal, total_ar: Decimal) -> Decimal | None:
    """Past-due AR as a percentage of total AR (e.g. 12,312 / 123,423 = 10%)."""
    if total_ar <= ZERO:
        return None
    return past_due / total_ar * HUNDRED


def bucket_index(days_past_due: int, edges: Sequence[int]) -> int:
    """Which aging bucket a number of days past due falls in.

    ``edges`` are the upper bounds of every bucket but the last, ascending; with the default
    ``(0, 30, 60, 90)``: 0 = current (not yet due), 1 = 1–30, 2 = 31–60, 3 = 61–90, 4 = over 90.
    """
    for index, edge in enumerate(edges):
        if days_past_due <= edge:
            return index
    return len(edges)


def bad_debt_reserve(buckets: Sequence[Decimal], rates: Sequence[Decimal]) -> Decimal:
    """Aging-method reserve: Σ bucket balance × rate; a bucket whose net balance is a credit adds 0."""
    if len(buckets) != len(rates):
        msg = f"{len(buckets)} buckets but {len(rates)} reserve rates"
        raise ValueError(msg)
    return sum((max(amount, ZERO) * rate for amount, rate in zip(buckets, rates, strict=True)), ZERO)
