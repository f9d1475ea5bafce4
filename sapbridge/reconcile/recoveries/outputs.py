"""What a recoveries run writes: a CSV per category, ``recoveries.xlsx`` with totals, a summary.

Files are built in a temporary folder beside ``--out`` and moved into place only when the run
succeeds, so a failed run never leaves a folder that looks complete.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sapbridge.errors import ReconciliationError
from sapbridge.money import ZERO
from sapbridge.reconcile.recoveries.classify import OWNERS
from sapbridge.reconcile.recoveries.model import CATEGORIES, NEEDS_REVIEW, RecoveriesResult, ResultRow
from sapbridge.tabular import SheetSpec, write_csv, write_xlsx

__all__ = ["ROW_COLUMNS", "WORKBOOK", "build_outputs", "publish", "row_values", "summarise"]

ROW_COLUMNS = (
    "category", "owner", "proposed_action", "claim_id", "customer", "currency", "claim_amount",
    "recovered_amount", "claim_status", "claim_date", "recovered_on", "reference", "case_id",
    "case_status", "case_reason", "disputed_amount", "paid_amount", "credited_amount",
    "written_off_amount", "difference_amount", "note",
)
"""Columns of every per-category CSV."""

WORKBOOK = "recoveries.xlsx"
"""The totals workbook: by category, by customer, by owner."""


def row_values(row: ResultRow) -> list[Any]:
    """One output row in :data:`ROW_COLUMNS` order (Decimals exact, dates ISO)."""
    claim, case = row.claim, row.dispute
    difference = claim.amount - case.disputed_amount if claim is not None and case is not None else None
    return [
        row.category, row.owner, row.proposed_action,
        claim.claim_id if claim else None, row.customer, row.currency,
        claim.amount if claim else None, claim.recovered_amount if claim else None,
        claim.status if claim else None, claim.claim_date if claim else None,
        claim.recovered_on if claim else None, claim.reference_text if claim else None,
        case.case_id if case else None, case.case_status if case else None,
        case.reason if case else None, case.disputed_amount if case else None,
        case.paid_amount if case else None, case.credited_amount if case else None,
        case.written_off_amount if case else None, difference, row.note,
    ]


@dataclass(slots=True)
class _Totals:
    rows: int = 0
    needs_review: int = 0
    claim_amount: Decimal = ZERO
    recovered_amount: Decimal = ZERO
    disputed_amount: Decimal = ZERO

    def add(self, row: ResultRow) -> None:
        self.rows += 1
        self.needs_review += row.needs_review
        self.claim_amount += row.claim_amount
        self.recovered_amount += row.recovered_amount
        self.disputed_amount += row.disputed_amount

    def amounts(self) -> list[Any]:
        return [self.rows, self.needs_review, self.claim_amount, self.recovered_amount,
                self.disputed_amount]


_TOTAL_COLUMNS = ["rows", "needs_review", "claim_amount", "recovered_amount", "disputed_amount"]


def _totals(rows: Iterable[ResultRow], key: Callable[[ResultRow], Hashable]) -> dict[Any, _Totals]:
    result: dict[Any, _Totals] = {}
    for row in rows:
        group = key(row)
        totals = result.get(group)
        if totals is None:
            totals = result[group] = _Totals()
        totals.add(row)
    return result


def summarise(result: RecoveriesResult) -> dict[str, Any]:
    """JSON-safe counts and amounts (per currency) for every category; money as strings."""
    by_category = _totals(result.rows, lambda row: (row.category, row.currency))
    categories: dict[str, Any] = {}
    for category in CATEGORIES:
        currencies = {currency: {"rows": totals.rows, "claim_amount": str(totals.claim_amount),
                                 "recovered_amount": str(totals.recovered_amount),
                                 "disputed_amount": str(totals.disputed_amount)}
                      for (name, currency), totals in sorted(by_category.items()) if name == category}
        categories[category] = {
            "rows": sum(item["rows"] for item in currencies.values()),
            "needs_review": category in NEEDS_REVIEW,
            "owner": result.owners.get(category, OWNERS[category]),
            "currencies": currencies,
        }
    return {
        "as_of": result.as_of.isoformat(),
        "claims": result.claim_count,
        "disputes": result.dispute_count,
        "rows": len(result.rows),
        "needs_review": result.needs_review,
        "categories": categories,
    }


def _workbook_sheets(result: RecoveriesResult) -> dict[str, SheetSpec]:
    rows = result.rows
    by_category = _totals(rows, lambda row: (CATEGORIES.index(row.category), row.owner, row.currency))
    by_customer = _totals(rows, lambda row: (row.customer, row.currency))
    by_owner = _totals(rows, lambda row: (row.owner, CATEGORIES.index(row.category), row.currency))
    return {
        "By category": (["category", "owner", "currency", *_TOTAL_COLUMNS],
                        [[CATEGORIES[index], owner, currency, *totals.amounts()]
                         for (index, owner, currency), totals in sorted(by_category.items())]),
        "By customer": (["customer", "currency", *_TOTAL_COLUMNS],
                        [[customer, currency, *totals.amounts()]
                         for (customer, currency), totals in sorted(by_customer.items())]),
        "By owner": (["owner", "category", "currency", *_TOTAL_COLUMNS],
                     [[owner, CATEGORIES[index], currency, *totals.amounts()]
                      for (owner, index, currency), totals in sorted(by_owner.items())]),
    }


def build_outputs(result: RecoveriesResult, out: Path) -> Path:
    """Write every file into a fresh temporary folder beside ``out``; returns that folder."""
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise ReconciliationError(f"--out {target} exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        groups = result.by_category()
        for category, rows in groups.items():
            write_csv(staging / f"{category}.csv", ROW_COLUMNS, (row_values(row) for row in rows))
        write_xlsx(staging / WORKBOOK, _workbook_sheets(result),
                   money_columns=lambda name: name.endswith("_amount"))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def publish(staging: Path, out: Path) -> None:
    """Move a finished staging folder to ``out``, replacing what was there only at the end."""
    target = Path(out)
    previous = None
    if target.exists():
        previous = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        previous.rmdir()
        target.rename(previous)
    try:
        staging.rename(target)
    except OSError:
        if previous is not None:
            previous.rename(target)
        raise
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
