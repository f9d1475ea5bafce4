"""The demo company's dispute cases (FSCM Dispute Management): deductions on open and paid
invoices, and the chronic disputes of the chronic late payers."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from devtools.demo.history import Habit
from sapbridge.money import quantize

if TYPE_CHECKING:
    from devtools.demo.data import OpenItem

__all__ = ["Dispute", "disputes"]

_REASONS = ["PA1", "PA2", "PRC", "QTY", "DMG", "PRM"]
"""Dispute reasons: PA1/PA2 are post-audit deductions; the rest ordinary deductions."""


@dataclass(frozen=True)
class Dispute:
    case_id: str
    guid: str
    company_code: str
    customer: str
    status: str
    reason: str
    coordinator: str
    original: Decimal
    disputed: Decimal
    paid: Decimal
    credited: Decimal
    written_off: Decimal
    currency: str
    invoice_reference: str
    created_on: date
    closed_on: date | None
    changed_at: datetime


def _dispute(rng: random.Random, index: int, invoice: OpenItem, *, created: date,
             closed: bool, status: str, as_of: date) -> Dispute:
    disputed = quantize(invoice.amount * Decimal(rng.choice(("0.05", "0.1", "0.25", "1"))), invoice.currency)
    credited = disputed if closed and rng.random() < 0.5 else Decimal(0)
    written_off = disputed - credited if closed and not credited else Decimal(0)
    return Dispute(
        case_id=f"{700001 + index:012d}", guid=f"{rng.getrandbits(128):032X}",
        company_code=invoice.company_code, customer=invoice.customer,
        status="30" if closed else status, reason=rng.choice(_REASONS),
        coordinator=rng.choice(("AR_CLERK1", "AR_CLERK2", "AR_LEAD")), original=invoice.amount,
        disputed=disputed, paid=Decimal(0), credited=credited, written_off=written_off,
        currency=invoice.currency, invoice_reference=invoice.reference, created_on=created,
        closed_on=min(created + timedelta(days=rng.randint(5, 40)), as_of) if closed else None,
        changed_at=datetime(created.year, created.month, created.day, 9, tzinfo=UTC),
    )


_CHRONIC_CASES = 3
"""Open disputes of each chronic late payer, on its oldest open invoices, open for months."""


def disputes(rng: random.Random, open_items: list[OpenItem], cleared_items: list[OpenItem],
             habits: dict[str, Habit], count: int, as_of: date) -> list[Dispute]:
    """Deductions on open invoices (most still open) and on paid ones (closed when paid), plus
    the chronic disputes of the chronic late payers."""
    open_invoices = [i for i in open_items if i.amount > 0]
    paid = [i for i in cleared_items if i.amount > 0 and (as_of - i.posting_date).days < 200]
    result: list[Dispute] = []
    chronic = sorted({i.customer for i in open_invoices if habits[i.customer].name == "chronic"})
    for customer in chronic:
        oldest = sorted((i for i in open_invoices if i.customer == customer), key=lambda i: i.posting_date)
        for invoice in oldest[:_CHRONIC_CASES]:
            created = min(invoice.posting_date + timedelta(days=rng.randint(15, 40)), as_of)
            result.append(_dispute(rng, len(result), invoice, created=created, closed=False, status="20",
                                   as_of=as_of))
    while len(result) < count:
        on_open = rng.random() < 0.6
        invoice = rng.choice(open_invoices if on_open else paid)
        created = min(invoice.posting_date + timedelta(days=rng.randint(10, 60)), as_of)
        closed = not on_open or rng.random() < 0.15
        result.append(_dispute(rng, len(result), invoice, created=created, closed=closed,
                               status=rng.choice(("10", "20")), as_of=as_of))
    return result
