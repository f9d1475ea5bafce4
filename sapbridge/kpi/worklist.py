"""The collections worklist on its own, for the daily run: ``worklist.xlsx`` and ``worklist.csv``
(``worklist-<collector>.*`` for one collector), ranked as in the KPI report."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sapbridge.config import Settings
from sapbridge.errors import InputError
from sapbridge.kpi.report import KpiReport, worklist_rows
from sapbridge.kpi.run import compute_report
from sapbridge.kpi.xlsx import worklist_sheet, write_sheets
from sapbridge.store import Store
from sapbridge.tabular import atomic_path, write_csv

__all__ = ["WorklistResult", "run_worklist", "worklist_files"]

_COLLECTOR = re.compile(r"[A-Za-z0-9_.-]{1,40}")


@dataclass(frozen=True, slots=True)
class WorklistResult:
    """What a worklist run wrote."""

    report: KpiReport
    collector: str | None
    files: list[Path]
    rows: list[dict[str, Any]] = field(default_factory=list)


def worklist_files(out: Path, collector: str | None) -> tuple[Path, Path]:
    """The workbook and CSV a worklist run writes into ``out``."""
    stem = "worklist" if collector is None else f"worklist-{collector}"
    return out / f"{stem}.xlsx", out / f"{stem}.csv"


def _check_collector(report: KpiReport, collector: str | None) -> None:
    if collector is None:
        return
    if not _COLLECTOR.fullmatch(collector):
        raise InputError(f"--collector {collector!r}: letters, digits, '.', '_' and '-' only (up to 40)")
    known = sorted({w.collector for w in report.collections.worklist if w.collector})
    if collector not in known:
        raise InputError(f"--collector {collector}: no customer with overdue items has this collector "
                         f"(known: {', '.join(known) or 'none'})")


def run_worklist(store: Store, settings: Settings, *, system: str, out: Path, collector: str | None = None,
                 as_of: date | None = None, company_codes: Sequence[str] | None = None) -> WorklistResult:
    """Write the worklist (one collector's, when given) into ``out``; both files or neither."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("--out must be a directory, and this is a file", path=str(out))
    report = compute_report(store, settings, system=system, as_of=as_of, company_codes=company_codes)
    _check_collector(report, collector)
    header, rows = worklist_sheet(report, collector)
    listed = list(rows)
    workbook, table = worklist_files(out, collector)
    with atomic_path(table) as temp_csv:
        write_csv(temp_csv, header, listed)
        write_sheets({"worklist": (header, listed)}, report.bucket_labels, workbook)
    return WorklistResult(report=report, collector=collector, files=[workbook, table],
                          rows=worklist_rows(report, collector))
