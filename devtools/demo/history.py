"""A year of the demo company's invoicing and payments: who pays when, and what is still open.

Each customer has a payment habit (:data:`HABITS`): how many days after the net due date it pays,
and, for the chronic late payers, a share of invoices it does not pay at all. Every invoice and
credit memo of the last :data:`HISTORY_DAYS` days gets the day it is paid; an item is open at a
date when it was posted by then and not paid by then, and cleared on its payment day otherwise.
So the demo has payment history (DSO, CEI and the month-end trend mean something) and one
universe serves both recording moments.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from sapbridge.money import quantize

__all__ = ["HABITS", "HISTORY_DAYS", "Habit", "Invoice", "demo_amount", "habit_of", "invoices", "numbered",
           "open_on", "paid_by"]

HISTORY_DAYS = 330
"""How far back the demo company's invoicing goes (eleven months: the six month-ends of the trend
each look three months back)."""


@dataclass(frozen=True)
class Habit:
    """Days paid after the net due date (uniform between the bounds) and the share never paid."""

    name: str
    early: int
    late: int
    unpaid: float
    risk_classes: str


HABITS = (
    Habit("prompt", -6, 3, 0.0, "AB"),
    Habit("average", -3, 18, 0.004, "BC"),
    Habit("slow", 3, 40, 0.01, "CD"),
    Habit("chronic", 20, 110, 0.1, "D"),
)
HABIT_WEIGHTS = (45, 35, 15, 5)


@dataclass(frozen=True)
class Invoice:
    """One AR item and the day it is paid (None: never)."""

    company_code: str
    customer: str
    doc_type: str
    posting_date: date
    net_days: int
    amount: Decimal
    currency: str
    terms: str
    paid_on: date | None
    document: str = ""
    clearing_document: str = ""

    @property
    def due_on(self) -> date:
        """Net due date (baseline = posting date)."""
        return self.posting_date + timedelta(days=self.net_days)


def habit_of(rng: random.Random) -> Habit:
    """A customer's payment habit."""
    return rng.choices(HABITS, weights=HABIT_WEIGHTS)[0]


def demo_amount(rng: random.Random, currency: str, low: int, high: int) -> Decimal:
    """A lognormal amount between ``low`` and ``high`` (×150 in JPY), in the currency's decimals."""
    value = Decimal(str(round(rng.lognormvariate(0, 0.8) * (low + high) / 4, 2)))
    value = min(max(value, Decimal(low)), Decimal(high))
    if currency == "JPY":
        value *= 150
    return quantize(value, currency)


def _paid_on(rng: random.Random, habit: Habit, posted: date, net_days: int) -> date | None:
    if rng.random() < habit.unpaid:
        return None
    late = rng.randint(habit.early, habit.late)
    return max(posted + timedelta(days=1), posted + timedelta(days=net_days + late))


def invoices(rng: random.Random, *, customer: str, company_code: str, currency: str, terms: str,
             net_days: int, habit: Habit, per_month: int, until: date) -> list[Invoice]:
    """The customer's items in one company code, posted over the history up to ``until``."""
    start = until - timedelta(days=HISTORY_DAYS)
    count = max(1, round(per_month * HISTORY_DAYS / 30 * rng.uniform(0.8, 1.2)))
    result = []
    for _ in range(count):
        posted = start + timedelta(days=rng.randint(1, HISTORY_DAYS))
        is_credit = rng.random() < 0.06
        amount = demo_amount(rng, currency, 50, 25000)
        result.append(Invoice(
            company_code=company_code, customer=customer, doc_type="DG" if is_credit else "RV",
            posting_date=posted, net_days=net_days, amount=-amount if is_credit else amount,
            currency=currency, terms=terms, paid_on=_paid_on(rng, habit, posted, net_days),
        ))
    return result


def numbered(items: list[Invoice], first_document: int) -> list[Invoice]:
    """Document numbers in posting order per company code, and a clearing document per payment."""
    ordered = sorted(items, key=lambda i: (i.posting_date, i.company_code, i.customer, i.amount))
    serial: dict[str, int] = {}
    result = []
    for item in ordered:
        serial[item.company_code] = serial.get(item.company_code, first_document) + 1
        number = serial[item.company_code]
        clearing = f"{number + 50000000:010d}" if item.paid_on else ""
        result.append(replace(item, document=f"{number:010d}", clearing_document=clearing))
    return result


def open_on(items: list[Invoice], day: date) -> list[Invoice]:
    """Items posted by ``day`` and not paid by then."""
    return [i for i in items if i.posting_date <= day and (i.paid_on is None or i.paid_on > day)]


def paid_by(items: list[Invoice], day: date) -> list[Invoice]:
    """Items posted and paid by ``day``."""
    return [i for i in items if i.posting_date <= day and i.paid_on is not None and i.paid_on <= day]
