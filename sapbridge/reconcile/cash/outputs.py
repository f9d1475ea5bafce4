"""Writing a run's files: matches.csv, suggestions.csv, exceptions.csv and cash.xlsx (and
advices.csv when advices were given), all or nothing.

Everything is written into a temporary folder beside ``--out`` and renamed into place at the
end, so a failed run leaves no folder that looks complete.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from sapbridge.permissions import apply_umask
from sapbridge.reconcile.cash.model import (
    ADVICE_COLUMNS_OUT,
    APPLICATION_COLUMNS,
    EXCEPTION_COLUMNS,
    CashResult,
    Payment,
)
from sapbridge.reconcile.cash.xlsx import Styled, write_sheets
from sapbridge.tabular import write_csv

__all__ = ["ADVICES_FILE", "summarise", "write_outputs"]

ADVICES_FILE = "advices.csv"
"""Written beside the four files when the run was given advices: how each was linked."""


def _sum_by_currency(pairs: list[tuple[str, Decimal]]) -> dict[str, str]:
    totals: dict[str, Decimal] = {}
    for currency, amount in pairs:
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    return {c: str(v) for c, v in sorted(totals.items())}


def _rate(part: int, whole: int) -> str:
    return str((Decimal(part) / whole).quantize(Decimal("0.0001"))) if whole else "0"


def summarise(payments: list[Payment], result: CashResult) -> dict[str, Any]:
    """JSON-safe summary: counts, amounts per currency (strings), auto-match rate."""
    auto_ids = {m.payment_id for m in result.matches}
    review_ids = {s.payment_id for s in result.suggestions} | {e.payment_id for e in result.exceptions}
    categories = Counter(e.category for e in result.exceptions)
    count = len(payments)
    return {
        "payments": count,
        "auto_matched_payments": len(auto_ids),
        "suggested_payments": len({s.payment_id for s in result.suggestions}),
        "exception_payments": len({e.payment_id for e in result.exceptions}),
        "needs_review": len(review_ids),
        "matches": len(result.matches),
        "suggestions": len(result.suggestions),
        "exceptions": dict(sorted(categories.items())),
        "auto_match_rate": _rate(len(auto_ids), count),
        "amounts": {
            "payments": _sum_by_currency([(p.currency, p.amount) for p in payments]),
            "auto_applied": _sum_by_currency([(m.currency, m.applied_amount) for m in result.matches]),
            "suggested": _sum_by_currency([(s.currency, s.applied_amount) for s in result.suggestions]),
            "tolerance_differences": {c: str(v) for c, v in sorted(result.tolerance_differences.items())},
        },
        "payers": dict(sorted(Counter(p.how for p in result.payers.values()).items())),
        **_advice_summary(result),
    }


def _advice_summary(result: CashResult) -> dict[str, Any]:
    """Advice counts, only for a run given advices (so other runs' summaries stay as they were)."""
    if not result.advices:
        return {}
    linked = sum(1 for link in result.advices if link.payment_id)
    return {"advices": {"given": len(result.advices), "linked": linked,
                        "unlinked": len(result.advices) - linked}}


_FIGURES = {
    "run_id": "Run", "system": "System", "payments": "Payments",
    "auto_matched_payments": "Payments auto-matched",
    "suggested_payments": "Payments with a suggestion", "exception_payments": "Payments with an exception",
    "needs_review": "Payments to review", "matches": "Matches (item applications)",
    "suggestions": "Suggestions", "auto_match_rate": "Auto-match rate",
}
_AMOUNTS = {"payments": "Amount paid", "auto_applied": "Amount auto-applied", "suggested": "Amount suggested",
            "tolerance_differences": "Tolerance differences written off"}


def _summary_rows(summary: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """The summary as a table a person reads: figure, currency (for amounts), value."""
    rows: list[tuple[str, str, Any]] = []
    for key, value in summary.items():
        if key == "amounts":
            for kind, by_currency in value.items():
                rows += [(_AMOUNTS.get(kind, kind), c, Decimal(v)) for c, v in by_currency.items()]
        elif key == "exceptions":
            rows += [(f"Exceptions: {category.replace('_', ' ')}", "", count)
                     for category, count in value.items()]
        elif key == "advices":
            rows += [(f"Remittance advices {state}", "", count) for state, count in value.items()]
        elif key == "payers":
            rows += [(f"Payers identified by {how.replace('_', ' ')}", "", count)
                     for how, count in value.items()]
        elif key == "auto_match_rate":
            rows.append((_FIGURES[key], "", Styled(Decimal(value), "percent")))
        else:
            rows.append((_FIGURES.get(key, key.replace("_", " ")), "", value))
    return rows


def _write_all(folder: Path, result: CashResult, summary: dict[str, Any]) -> None:
    matches = [m.row() for m in result.matches]
    suggestions = [s.row() for s in result.suggestions]
    exceptions = [e.row() for e in result.exceptions]
    write_csv(folder / "matches.csv", APPLICATION_COLUMNS, matches)
    write_csv(folder / "suggestions.csv", APPLICATION_COLUMNS, suggestions)
    write_csv(folder / "exceptions.csv", EXCEPTION_COLUMNS, exceptions)
    if result.advices:
        write_csv(folder / ADVICES_FILE, ADVICE_COLUMNS_OUT, [link.row() for link in result.advices])
    write_sheets(folder / "cash.xlsx", {
        "summary": (("figure", "currency", "value"), _summary_rows(summary)),
        "matches": (APPLICATION_COLUMNS, matches),
        "suggestions": (APPLICATION_COLUMNS, suggestions),
        "exceptions": (EXCEPTION_COLUMNS, exceptions),
    })


def write_outputs(out: Path, result: CashResult, summary: dict[str, Any]) -> list[Path]:
    """Write the four files into ``out`` (replacing an earlier run's) atomically."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    old: Path | None = None
    try:
        _write_all(staging, result, summary)
        apply_umask(staging)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{staging.name[-8:]}")
            out.rename(old)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if old is not None and old.exists():
            shutil.rmtree(old, ignore_errors=True)
    names = ["matches.csv", "suggestions.csv", "exceptions.csv", "cash.xlsx"]
    return [out / n for n in names + ([ADVICES_FILE] if result.advices else [])]
