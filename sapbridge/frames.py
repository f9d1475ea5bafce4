"""pandas DataFrames for notebook users: the synced tables and every report.

Money stays exact: amounts are :class:`~decimal.Decimal` objects (``object`` columns) unless a
float view is asked for (``floats=True``, or :func:`as_floats`) for plotting. Keys SAP pads with
zeros (customers, documents) stay text.

    >>> from sapbridge import frames
    >>> items = frames.synced(store, "open_items", system="demo")
    >>> items.groupby("currency")["amount"].sum()          # exact Decimal sums
    >>> sheets = frames.kpis(result.report)                 # one DataFrame per KPI sheet
    >>> frames.report_folder("out/cash")["matches"]         # CSVs of a cash or recoveries run
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
from sqlalchemy import select

from sapbridge.errors import InputError
from sapbridge.kpi.report import KpiReport
from sapbridge.kpi.xlsx import workbook_sheets
from sapbridge.store import Store
from sapbridge.store.schema import OBJECT_TABLES

__all__ = ["as_floats", "kpis", "report_folder", "synced"]

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_NUMERIC_COLUMN = re.compile(r"amount|difference|claimed|recovered|balance|confidence|limit|reserve")


def as_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every Decimal column as float (for plotting; never for sums you report)."""
    copy = frame.copy()
    for column in copy.columns:
        values = copy[column].dropna()
        if len(values) and all(isinstance(v, Decimal) for v in values):
            copy[column] = copy[column].map(lambda v: float(v) if isinstance(v, Decimal) else v).astype(float)
    return copy


def _frame(header: Sequence[str], rows: Iterable[Sequence[Any]], floats: bool) -> pd.DataFrame:
    frame = pd.DataFrame([list(r) for r in rows], columns=list(header))
    return as_floats(frame) if floats else frame


def synced(store: Store, dataset: str, *, system: str | None = None, floats: bool = False) -> pd.DataFrame:
    """One synced table (``open_items``, ``credit_segments``, ``customers``...), optionally of one system."""
    table = OBJECT_TABLES.get(dataset)
    if table is None:
        msg = f"unknown dataset {dataset!r} (known: {', '.join(sorted(OBJECT_TABLES))})"
        raise InputError(msg)
    query = select(table)
    if system is not None:
        query = query.where(table.c.system == system)
    with store.engine.connect() as conn:
        result = conn.execute(query)
        return _frame(list(result.keys()), [tuple(r) for r in result], floats)


def kpis(report: KpiReport, *, floats: bool = False) -> dict[str, pd.DataFrame]:
    """Every sheet of the KPI workbook as a DataFrame, by sheet name (``summary``, ``aging``...)."""
    return {name: _frame(header, rows, floats) for name, (header, rows) in workbook_sheets(report).items()}


def _exact(column: str, values: list[str]) -> list[Any]:
    if not _NUMERIC_COLUMN.search(column) or not all(_NUMBER.match(v) for v in values if v):
        return values
    try:
        return [Decimal(v) if v else None for v in values]
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return values


def _read_csv(path: Path, floats: bool) -> pd.DataFrame:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return pd.DataFrame()
    header, body = rows[0], rows[1:]
    columns: Mapping[str, list[Any]] = {
        name: _exact(name, [r[i] if i < len(r) else "" for r in body]) for i, name in enumerate(header)}
    frame = pd.DataFrame(dict(columns), columns=header)
    return as_floats(frame) if floats else frame


def report_folder(folder: str | Path, *, floats: bool = False) -> dict[str, pd.DataFrame]:
    """Every CSV of a report folder (``reconcile cash`` or ``recoveries`` ``--out``) by file stem.

    Amount-like columns whose values are all decimals become Decimal; everything else stays text.
    """
    path = Path(folder)
    files = sorted(path.glob("*.csv"))
    if not files:
        msg = f"no CSV files in {path} (give the --out folder of a cash or recoveries run)"
        raise InputError(msg)
    return {file.stem: _read_csv(file, floats) for file in files}
