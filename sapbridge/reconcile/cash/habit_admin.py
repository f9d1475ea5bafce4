"""Listing and forgetting learned habits: a habit learned from a wrong confirmation must go.

Two kinds are kept per system: payer habits (``cash_habits``: this account or name paid for this
customer) and reference habits (``cash_reference_habits``: how the customer writes the items it
pays, and its confirmed payment order). Forgetting deletes the chosen rows and records what was
deleted in the audit log, in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, select

from sapbridge.audit import log as audit
from sapbridge.errors import InputError
from sapbridge.reconcile.cash.tables import cash_habits, cash_reference_habits
from sapbridge.store import Store

__all__ = ["HABIT_COLUMNS", "HabitRow", "forget_habits", "list_habits"]

HABIT_COLUMNS = (
    "kind",
    "customer",
    "field",
    "pattern",
    "confirmations",
    "last_confirmed_at",
    "last_confirmed_by",
)
"""What ``habits list`` shows; for a payer habit ``field`` is account or name and ``pattern`` its key."""


@dataclass(frozen=True, slots=True)
class HabitRow:
    """One learned habit as listed."""

    kind: str
    customer: str
    field: str
    pattern: str
    confirmations: int
    last_confirmed_at: datetime
    last_confirmed_by: str

    def row(self) -> tuple[object, ...]:
        """Values in :data:`HABIT_COLUMNS` order."""
        return (
            self.kind,
            self.customer,
            self.field,
            self.pattern,
            self.confirmations,
            self.last_confirmed_at,
            self.last_confirmed_by,
        )


def _customer(value: str) -> str:
    text = value.strip()
    return text.zfill(10) if text.isdigit() and len(text) <= 10 else text.upper()


def list_habits(store: Store, system: str, customer: str | None = None) -> list[HabitRow]:
    """Every habit of ``system`` (of one customer if given): reference habits, then payer habits."""
    r, p = cash_reference_habits.c, cash_habits.c
    wanted = _customer(customer) if customer else None
    with store.engine.connect() as conn:
        query = select(cash_reference_habits).where(r.system == system)
        if wanted:
            query = query.where(r.customer == wanted)
        rows = [
            HabitRow(
                "reference",
                h.customer,
                h.field,
                h.pattern,
                h.confirmations,
                h.last_confirmed_at,
                h.last_confirmed_by,
            )
            for h in conn.execute(query.order_by(r.customer, r.field, r.pattern))
        ]
        query = select(cash_habits).where(p.system == system)
        if wanted:
            query = query.where(p.customer == wanted)
        rows += [
            HabitRow(
                "payer", h.customer, h.kind, h.key, h.confirmations, h.last_confirmed_at, h.last_confirmed_by
            )
            for h in conn.execute(query.order_by(p.customer, p.kind, p.key))
        ]
    return rows


def _reference_where(
    system: str, customer: str, field: str | None, pattern: str | None
) -> ColumnElement[bool]:
    r = cash_reference_habits.c
    clauses = [r.system == system, r.customer == customer]
    if field:
        clauses.append(r.field == field)
    if pattern:
        clauses.append(r.pattern == pattern)
    return and_(*clauses)


def _payer_where(system: str, customer: str, key: str | None) -> ColumnElement[bool]:
    p = cash_habits.c
    clauses = [p.system == system, p.customer == customer]
    if key:
        clauses.append(p.key == key)
    return and_(*clauses)


def forget_habits(
    store: Store,
    *,
    system: str,
    customer: str,
    actor: str,
    field: str | None = None,
    pattern: str | None = None,
    payer_key: str | None = None,
    everything: bool = False,
) -> list[HabitRow]:
    """Delete a customer's habits and return them: one reference habit (``field`` and/or
    ``pattern``), the payer habits with ``payer_key``, or ``everything`` of the customer.

    Nothing chosen, or nothing matching, is an InputError; the deletion is audited
    (``cash_habit_forget``) in the same transaction.
    """
    number = _customer(customer)
    if not (field or pattern or payer_key or everything):
        raise InputError("say which habit to forget (--field/--pattern, --payer-key) or --all")
    gone = [
        h
        for h in list_habits(store, system, number)
        if everything
        or (
            h.kind == "reference"
            and (field or pattern)
            and (not field or h.field == field)
            and (not pattern or h.pattern == pattern)
        )
        or (h.kind == "payer" and payer_key and h.pattern == payer_key)
    ]
    if not gone:
        raise InputError(f"no such habit of customer {number} in system {system}")
    with store.engine.begin() as conn:
        if everything or field or pattern:
            conn.execute(
                delete(cash_reference_habits).where(
                    _reference_where(
                        system, number, None if everything else field, None if everything else pattern
                    )
                )
            )
        if everything or payer_key:
            conn.execute(
                delete(cash_habits).where(_payer_where(system, number, None if everything else payer_key))
            )
        audit.record(
            conn,
            action="cash_habit_forget",
            actor=actor,
            run_id=str(uuid.uuid4()),
            customer=number,
            detail={
                "system": system,
                "forgotten": [
                    {"kind": h.kind, "field": h.field, "pattern": h.pattern, "confirmations": h.confirmations}
                    for h in gone
                ],
            },
        )
    return gone
