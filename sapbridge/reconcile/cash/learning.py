"""Learning from confirmed matches: a person approves a matches/suggestions file, we remember
which payer account and name paid for which customer (``cash_habits``) and how the customer wrote
the reference of the item it paid, when the reference rule could not read it
(``cash_reference_habits``, see :mod:`reference_habits`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from sapbridge.errors import InputError
from sapbridge.reconcile.cash.config import CashConfig
from sapbridge.reconcile.cash.model import OpenItem
from sapbridge.reconcile.cash.reference_habits import ORDER_FIELD, explain
from sapbridge.reconcile.cash.tables import (
    cash_habits,
    cash_proposal_orders,
    cash_proposal_texts,
    cash_proposals,
    cash_reference_habits,
)
from sapbridge.store import Store
from sapbridge.tabular import Column, read_table

__all__ = ["ConfirmResult", "confirm_matches"]

_COLUMNS = (Column("payment_id"), Column("company_code"), Column("fiscal_year"), Column("document"),
            Column("item"))


_DEFAULT_MIN_LENGTH = CashConfig().reference_min_length


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    """How many confirmed rows were found in earlier runs and how many habits were learned
    (payer habits; reference habits)."""

    rows: int
    found: int
    habits_learned: int
    reference_habits_learned: int = 0


def _proposal(conn: object, system: str, row: dict[str, str]) -> tuple[str, str, str, str] | None:
    p = cash_proposals.c
    query = (select(p.customer, p.payer_account, p.payer_name, p.run_id)
             .where(and_(p.system == system, p.payment_id == row["payment_id"],
                         p.company_code == row["company_code"], p.fiscal_year == row["fiscal_year"],
                         p.document == row["document"], p.item == row["item"]))
             .order_by(p.created_at.desc()).limit(1))
    found = conn.execute(query).first()  # type: ignore[attr-defined]
    return (found.customer, found.payer_account, found.payer_name, found.run_id) if found else None


def _proposal_text(conn: object, run_id: str, row: dict[str, str]) -> tuple[str, OpenItem] | None:
    """The remittance text and the item (reference fields only) a run proposed, if recorded."""
    t = cash_proposal_texts.c
    found = conn.execute(select(cash_proposal_texts).where(and_(  # type: ignore[attr-defined]
        t.run_id == run_id, t.payment_id == row["payment_id"], t.company_code == row["company_code"],
        t.fiscal_year == row["fiscal_year"], t.document == row["document"], t.item == row["item"]))).first()
    if found is None:
        return None
    item = OpenItem(found.company_code, found.item_customer, found.fiscal_year, found.document, found.item,
                    found.reference, found.assignment, None, None, Decimal(0), "",
                    found.billing_document)
    return found.remittance, item


def _orders(conn: object, run_id: str, payment_id: str, confirmed: int) -> list[tuple[str, str]]:
    """(payer, order) pairs a confirmed payment teaches: the payment orders its proposal followed,
    when every item proposed for it was confirmed (a partly confirmed set shows no order)."""
    o, p = cash_proposal_orders.c, cash_proposals.c
    found = conn.execute(select(o.customer, o.orders).where(  # type: ignore[attr-defined]
        o.run_id == run_id, o.payment_id == payment_id)).first()
    if found is None:
        return []
    proposed = conn.execute(select(func.count()).select_from(cash_proposals).where(  # type: ignore[attr-defined]
        p.run_id == run_id, p.payment_id == payment_id)).scalar_one()
    if proposed != confirmed:
        return []
    return [(found.customer, order) for order in found.orders.split(",") if order]


def _learn_reference(conn: object, store: Store, system: str, customer: str, habit: tuple[str, str],
                     actor: str) -> None:
    now = datetime.now(UTC)
    h = cash_reference_habits.c
    field, pattern = habit
    where = and_(h.system == system, h.customer == customer, h.field == field, h.pattern == pattern)
    changed = conn.execute(update(cash_reference_habits).where(where).values(  # type: ignore[attr-defined]
        confirmations=h.confirmations + 1, last_confirmed_at=now, last_confirmed_by=actor))
    if changed.rowcount == 0:
        dialect = postgresql if store.dialect == "postgresql" else sqlite
        conn.execute(dialect.insert(cash_reference_habits).values(  # type: ignore[attr-defined]
            system=system, customer=customer, field=field, pattern=pattern, confirmations=1,
            last_confirmed_at=now, last_confirmed_by=actor).on_conflict_do_nothing())


def _learn(conn: object, store: Store, system: str, kind: str, key: str, customer: str, actor: str) -> None:
    now = datetime.now(UTC)
    h = cash_habits.c
    where = and_(h.system == system, h.kind == kind, h.key == key, h.customer == customer)
    changed = conn.execute(update(cash_habits).where(where).values(  # type: ignore[attr-defined]
        confirmations=h.confirmations + 1, last_confirmed_at=now, last_confirmed_by=actor))
    if changed.rowcount == 0:
        dialect = postgresql if store.dialect == "postgresql" else sqlite
        conn.execute(dialect.insert(cash_habits).values(  # type: ignore[attr-defined]
            system=system, kind=kind, key=key, customer=customer, confirmations=1,
            last_confirmed_at=now, last_confirmed_by=actor).on_conflict_do_nothing())


def confirm_matches(store: Store, *, system: str, matches: Path, actor: str,
                    min_length: int = _DEFAULT_MIN_LENGTH) -> ConfirmResult:
    """Remember payer and reference habits from an approved matches or suggestions CSV of an
    earlier run. ``min_length``: the ``[cash] reference_min_length`` the reference rule uses (a
    match that rule can read teaches no reference habit).

    A payer habit counts once per file; a reference habit once per confirmed payment. A payment
    matched by amount whose items were the payer's oldest (or earliest due) open ones teaches that
    payment order (a ``payment_order`` reference habit), if all its proposed items are confirmed.
    """
    rows = read_table(matches, _COLUMNS)
    learned: set[tuple[str, str, str]] = set()
    references: set[tuple[str, str, str, str]] = set()
    confirmed: dict[tuple[str, str], int] = {}
    found = 0
    with store.engine.begin() as conn:
        for number, row in enumerate(rows, start=2):
            proposal = _proposal(conn, system, row)
            if proposal is None:
                raise InputError(f"payment {row['payment_id']} / item {row['document']} was not proposed "
                                 f"by any cash run of system {system}", path=str(matches), row=number)
            found += 1
            customer, account, name, run_id = proposal
            confirmed[(run_id, row["payment_id"])] = confirmed.get((run_id, row["payment_id"]), 0) + 1
            for kind, key in (("account", account), ("name", name)):
                if key and customer and (kind, key, customer) not in learned:
                    _learn(conn, store, system, kind, key, customer, actor)
                    learned.add((kind, key, customer))
            text = _proposal_text(conn, run_id, row)
            habit = explain(text[0], text[1], min_length) if text else None
            if text and habit and (row["payment_id"], text[1].customer, *habit) not in references:
                _learn_reference(conn, store, system, text[1].customer, habit, actor)
                references.add((row["payment_id"], text[1].customer, *habit))
        for (run_id, payment_id), count in confirmed.items():
            for customer, order in _orders(conn, run_id, payment_id, count):
                if (payment_id, customer, ORDER_FIELD, order) not in references:
                    _learn_reference(conn, store, system, customer, (ORDER_FIELD, order), actor)
                    references.add((payment_id, customer, ORDER_FIELD, order))
    return ConfirmResult(len(rows), found, len(learned), len({r[1:] for r in references}))
