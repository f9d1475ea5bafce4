"""Learning from confirmed matches: a person approves a matches/suggestions file, we remember
which payer account and name paid for which customer (``cash_habits``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from sapbridge.errors import InputError
from sapbridge.reconcile.cash.tables import cash_habits, cash_proposals
from sapbridge.store import Store
from sapbridge.tabular import Column, read_table

__all__ = ["ConfirmResult", "confirm_matches"]

_COLUMNS = (Column("payment_id"), Column("company_code"), Column("fiscal_year"), Column("document"),
            Column("item"))


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    """How many confirmed rows were found in earlier runs and how many habits were learned."""

    rows: int
    found: int
    habits_learned: int


def _proposal(conn: object, system: str, row: dict[str, str]) -> tuple[str, str, str] | None:
    p = cash_proposals.c
    query = (select(p.customer, p.payer_account, p.payer_name)
             .where(and_(p.system == system, p.payment_id == row["payment_id"],
                         p.company_code == row["company_code"], p.fiscal_year == row["fiscal_year"],
                         p.document == row["document"], p.item == row["item"]))
             .order_by(p.created_at.desc()).limit(1))
    found = conn.execute(query).first()  # type: ignore[attr-defined]
    return (found.customer, found.payer_account, found.payer_name) if found else None


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


def confirm_matches(store: Store, *, system: str, matches: Path, actor: str) -> ConfirmResult:
    """Remember payer habits from an approved matches or suggestions CSV of an earlier run."""
    rows = read_table(matches, _COLUMNS)
    learned: set[tuple[str, str, str]] = set()
    found = 0
    with store.engine.begin() as conn:
        for number, row in enumerate(rows, start=2):
            proposal = _proposal(conn, system, row)
            if proposal is None:
                raise InputError(f"payment {row['payment_id']} / item {row['document']} was not proposed "
                                 f"by any cash run of system {system}", path=str(matches), row=number)
            found += 1
            customer, account, name = proposal
            for kind, key in (("account", account), ("name", name)):
                if key and customer and (kind, key, customer) not in learned:
                    _learn(conn, store, system, kind, key, customer, actor)
                    learned.add((kind, key, customer))
    return ConfirmResult(len(rows), found, len(learned))
