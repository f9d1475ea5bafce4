"""Month arithmetic for the KPI periods: months ending at a date, and month-ends before it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["Period", "month_ends", "month_periods", "shift_months"]


@dataclass(frozen=True, slots=True)
class Period:
    """The days after ``start`` up to and including ``end``."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """Actual calendar days in the period."""
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        """True for ``start < day <= end``."""
        return self.start < day <= self.end


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def shift_months(day: date, months: int) -> date:
    """The same day ``months`` months away; a month-end stays a month-end (31 Oct → 30 Sep)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = _last_day(year, month)
    if day.day == _last_day(day.year, day.month):
        return date(year, month, last)
    return date(year, month, min(day.day, last))


def month_periods(end: date, count: int) -> list[Period]:
    """``count`` consecutive one-month periods ending at ``end``, newest first.

    Ending 20 Nov: (20 Oct, 20 Nov], (20 Sep, 20 Oct], ...; ending at a month-end they are the
    calendar months.
    """
    return [Period(shift_months(end, -(k + 1)), shift_months(end, -k)) for k in range(count)]


def month_ends(as_of: date, count: int) -> list[date]:
    """The last ``count`` month-ends on or before ``as_of``, oldest first."""
    is_month_end = as_of.day == _last_day(as_of.year, as_of.month)
    last = as_of if is_month_end else as_of.replace(day=1) - timedelta(days=1)
    return [shift_months(last, -k) for k in reversed(range(count))]
