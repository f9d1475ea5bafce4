"""Reading dispute cases from the store's ``disputes`` table, as sync wrote them."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select

from sapbridge.errors import ReconciliationError
from sapbridge.money import ZERO
from sapbridge.reconcile.recoveries.config import RecoveriesConfig
from sapbridge.reconcile.recoveries.inputs import case_closed, known_statuses
from sapbridge.reconcile.recoveries.model import Dispute
from sapbridge.store import Store
from sapbridge.store.schema import disputes as disputes_table

__all__ = ["load_store_disputes"]

T = TypeVar("T")


def _once(seen: dict[object, object], value: T) -> T:
    """The first equal value read, so codes, statuses and dates repeated over a million cases
    are one object each rather than one per case."""
    return seen.setdefault(value, value)  # type: ignore[return-value]


def load_store_disputes(store: Store, system: str, config: RecoveriesConfig) -> list[Dispute]:
    """The dispute cases sync wrote for ``system``; a case SAP no longer returns counts as closed."""
    table = disputes_table
    query = select(
        table.c.case_id, table.c.company_code, table.c.customer, table.c.case_status, table.c.reason,
        table.c.original_amount, table.c.disputed_amount, table.c.paid_amount, table.c.credited_amount,
        table.c.written_off_amount, table.c.currency, table.c.invoice_reference, table.c.created_on,
        table.c.closed_on, table.c.status,
    ).where(table.c.system == system).order_by(table.c.case_id)
    result: list[Dispute] = []
    seen: dict[object, object] = {}
    with store.engine.connect() as conn:
        for row in conn.execution_options(yield_per=10_000).execute(query):
            status = _once(seen, row.case_status or "")
            closed = case_closed(status, config)
            if closed is None:
                raise ReconciliationError(
                    f"store table disputes, system {system}, case {row.case_id}: unknown case status "
                    f"{status!r} (known: {known_statuses(config)}; set [recoveries] open_statuses "
                    f"and closed_statuses)")
            result.append(Dispute(
                case_id=row.case_id, company_code=_once(seen, row.company_code or ""),
                customer=_once(seen, row.customer or ""),
                closed=closed or row.status == "cleared", case_status=status,
                reason=_once(seen, row.reason or ""),
                original_amount=row.original_amount or ZERO, disputed_amount=row.disputed_amount or ZERO,
                paid_amount=row.paid_amount or ZERO, credited_amount=row.credited_amount or ZERO,
                written_off_amount=row.written_off_amount or ZERO,
                currency=_once(seen, row.currency or ""),
                invoice_reference=row.invoice_reference or "", created_on=_once(seen, row.created_on),
                closed_on=_once(seen, row.closed_on),
            ))
    if not result:
        raise ReconciliationError(f"no dispute cases for system {system} in the store; run "
                                  f"'sapbridge sync disputes --system {system}' first")
    return result
