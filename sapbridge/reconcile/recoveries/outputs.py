"""What a recoveries run writes: a CSV per category, ``recoveries.xlsx`` with totals, a summary.

Files are built in a temporary folder beside ``--out`` and moved into place only when the run
succeeds, so a failed run never leaves a folder that looks complete.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sapbridge.errors import ReconciliationError
from sapbridge.money import ZERO
from sapbridge.permissions import apply_umask
from sapbridge.reconcile.recoveries.classify import OWNERS
from sapbridge.reconcile.recoveries.model import (
    CATEGORIES,
    NEEDS_REVIEW,
    Category,
    RecoveriesResult,
    ResultRow,
)
from sapbridge.sheetstyle import write_table_workbook
from sapbridge.tabular import SheetSpec, atomic_path, csv_fields

__all__ = ["ROW_COLUMNS", "WORKBOOK", "Totals", "build_outputs", "publish", "row_values", "summarise",
           "totals"]

ROW_COLUMNS = (
    "category", "owner", "proposed_action", "claim_id", "customer", "currency", "claim_amount",
    "recovered_amount", "claim_status", "claim_date", "recovered_on", "reference", "case_id",
    "case_status", "case_reason", "disputed_amount", "paid_amount", "credited_amount",
    "written_off_amount", "difference_amount", "note",
)
"""Columns of every per-category CSV."""

WORKBOOK = "recoveries.xlsx"
"""The totals workbook: by category, by customer, by owner."""


K = TypeVar("K")

_NO_CLAIM = ("",) * 7
_NO_CASE = ("",) * 7


def row_values(row: ResultRow) -> list[str]:
    """One output row in :data:`ROW_COLUMNS` order, as text (Decimals exact, dates ISO)."""
    claim, case = row.claim, row.dispute
    claim_part = _NO_CLAIM if claim is None else (
        claim.claim_id, str(claim.amount), str(claim.recovered_amount), claim.status,
        claim.claim_date.isoformat(), claim.recovered_on.isoformat() if claim.recovered_on else "",
        claim.reference_text)
    case_part = _NO_CASE if case is None else (
        case.case_id, case.case_status, case.reason, str(case.disputed_amount), str(case.paid_amount),
        str(case.credited_amount), str(case.written_off_amount))
    difference = str(claim.amount - case.disputed_amount) if claim is not None and case is not None else ""
    return [row.category, row.owner, row.proposed_action, claim_part[0], row.customer, row.currency,
            *claim_part[1:], *case_part, difference, row.note]


@dataclass(slots=True)
class _Totals:
    rows: int = 0
    needs_review: int = 0
    claim_amount: Decimal = ZERO
    recovered_amount: Decimal = ZERO
    disputed_amount: Decimal = ZERO

    def amounts(self) -> list[Any]:
        return [self.rows, self.needs_review, self.claim_amount, self.recovered_amount,
                self.disputed_amount]


_TOTAL_COLUMNS = ["rows", "needs_review", "claim_amount", "recovered_amount", "disputed_amount"]


@dataclass(frozen=True, slots=True)
class Totals:
    """Row counts and amounts per (category, currency) and per (customer, currency)."""

    by_category: dict[tuple[Category, str], _Totals]
    by_customer: dict[tuple[str, str], _Totals]


def _group(groups: dict[K, _Totals], key: K) -> _Totals:
    group = groups.get(key)
    if group is None:
        group = groups[key] = _Totals()
    return group


def totals(result: RecoveriesResult) -> Totals:
    """Every total the summary and the workbook show, in one pass over the rows."""
    by_category: dict[tuple[Category, str], _Totals] = {}
    by_customer: dict[tuple[str, str], _Totals] = {}
    for row in result.rows:
        claim, case = row.claim, row.dispute
        if claim is not None:
            customer, currency = claim.customer, claim.currency
            claimed, recovered = claim.amount, claim.recovered_amount
        else:
            assert case is not None
            customer, currency, claimed, recovered = case.customer, case.currency, ZERO, ZERO
        disputed = case.disputed_amount if case is not None else ZERO
        review = row.category in NEEDS_REVIEW
        for group in (_group(by_category, (row.category, currency)),
                      _group(by_customer, (customer, currency))):
            group.rows += 1
            group.needs_review += review
            group.claim_amount += claimed
            group.recovered_amount += recovered
            group.disputed_amount += disputed
    return Totals(by_category, by_customer)


def summarise(result: RecoveriesResult, sums: Totals | None = None) -> dict[str, Any]:
    """JSON-safe counts and amounts (per currency) for every category; money as strings."""
    sums = sums or totals(result)
    categories: dict[str, Any] = {}
    for category in CATEGORIES:
        currencies = {currency: {"rows": group.rows, "claim_amount": str(group.claim_amount),
                                 "recovered_amount": str(group.recovered_amount),
                                 "disputed_amount": str(group.disputed_amount)}
                      for (name, currency), group in sorted(sums.by_category.items()) if name == category}
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


def _words(category: str) -> str:
    """``recovered_open_dispute`` as ``Recovered open dispute`` for people reading the workbook."""
    return category.replace("_", " ").capitalize()


def _workbook_sheets(result: RecoveriesResult, sums: Totals,
                     names: Mapping[str, str]) -> dict[str, SheetSpec]:
    def owner(category: Category) -> str:
        return result.owners.get(category, OWNERS[category])

    order = {name: index for index, name in enumerate(CATEGORIES)}
    by_category = sorted(sums.by_category.items(), key=lambda item: (order[item[0][0]], item[0][1]))
    by_owner = sorted(by_category, key=lambda item: owner(item[0][0]))
    return {
        "By category": (["category", "owner", "currency", *_TOTAL_COLUMNS],
                        [[_words(category), owner(category), currency, *group.amounts()]
                         for (category, currency), group in by_category]),
        "By customer": (["customer", "name", "currency", *_TOTAL_COLUMNS],
                        [[customer, names.get(customer, ""), currency, *group.amounts()]
                         for (customer, currency), group in sorted(sums.by_customer.items())]),
        "By owner": (["owner", "category", "currency", *_TOTAL_COLUMNS],
                     [[owner(category), _words(category), currency, *group.amounts()]
                      for (category, currency), group in by_owner]),
    }


def _write_rows(target: Path, rows: list[ResultRow]) -> None:
    with atomic_path(target) as temp, temp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROW_COLUMNS)
        writer.writerows(csv_fields(row_values(row)) for row in rows)


def build_outputs(result: RecoveriesResult, out: Path, sums: Totals | None = None,
                  names: Mapping[str, str] | None = None) -> Path:
    """Write every file into a fresh temporary folder beside ``out``; returns that folder.

    ``names`` gives the workbook's customer names (customer number -> name); a customer
    without one gets an empty name.
    """
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise ReconciliationError(f"--out {target} exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for category, rows in result.by_category().items():
            _write_rows(staging / f"{category}.csv", rows)
        sheets = _workbook_sheets(result, sums or totals(result), names or {})
        write_table_workbook(staging / WORKBOOK, sheets,
                             money_columns=lambda name: name.endswith("_amount"))
        apply_umask(staging)
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
