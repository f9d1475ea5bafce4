"""How a table looks in a spreadsheet, shared by every workbook sapbridge writes.

Headers a person reads (``Net due date``, not ``net_due_date``), money formats with the
currency's decimals (JPY none), one look for percentages, and column widths to content.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sapbridge.money import currency_decimals
from sapbridge.tabular import xlsx_value
from sapbridge.transport.keys import write_atomic

__all__ = ["DATE_FORMAT", "NUMBER_FORMAT", "PERCENT_FORMAT", "column_widths", "human_header", "money_format",
           "print_to_page_width", "write_table_workbook"]

DATE_FORMAT = "yyyy-mm-dd"
NUMBER_FORMAT = "0.00"
"""Scores and ratios that are not money (a match confidence)."""
PERCENT_FORMAT = "0.0%"
"""Fractions (0.905) shown as percentages (90.5%)."""

_WORDS = {"ar": "AR", "dso": "DSO", "cei": "CEI", "id": "ID", "percent": "%", "iban": "IBAN"}
_TITLES = {
    "average_days_delinquent": "Average days delinquent (ADD)",
    "dso_simple": "DSO, simple (days)",
    "dso_countback": "DSO, countback (days)",
    "best_possible_dso": "Best possible DSO (days)",
    "cei_percent": "Collection effectiveness index (CEI) %",
    "past_due_percent": "Past due %",
    "rate": "Reserve rate",
}


def human_header(name: str) -> str:
    """``net_due_date`` -> ``Net due date``; KPI abbreviations spelled as people write them."""
    if name in _TITLES:
        return _TITLES[name]
    words = [_WORDS.get(w, w) for w in name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else text


def money_format(currency: str | None) -> str:
    """The money number format with the currency's decimals (JPY: none), negatives in red."""
    decimals = currency_decimals(currency) if currency else 2
    digits = "#,##0" + ("." + "0" * decimals if decimals else "")
    return f"{digits};[Red]-{digits}"


def _shown_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return len(f"{value:,}") + 2
    if isinstance(value, datetime | date):
        return 11
    return len(str(value))


def column_widths(header: Sequence[str], rows: Iterable[Sequence[Any]], *, most: int = 60) -> list[int]:
    """Widths (in characters) that show every header and value of ``rows`` without ``#####``."""
    widths = [len(human_header(h)) + 3 for h in header]  # room for the filter button
    for row in rows:
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], _shown_width(getattr(value, "value", value)) + 1)
    return [min(max(w, 6), most) for w in widths]


def print_to_page_width(sheet: Any) -> None:
    """Printed (or converted to PDF) landscape, every column on the page, as many pages down as needed."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def write_table_workbook(target: Path, sheets: dict[str, tuple[Sequence[str], Iterable[Sequence[Any]]]], *,
                         money_columns: Callable[[str], bool] = lambda name: "amount" in name) -> Path:
    """An XLSX workbook of small tables, written atomically, each sheet readable as it opens:
    human headers in bold, frozen and filtered, widths to content, money in the row's currency
    decimals (from a ``currency`` column), dates as dates. Floats are refused (money is Decimal).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    for title, (header, listed) in sheets.items():
        rows = [list(r) for r in listed]
        if any(isinstance(v, float) for r in rows for v in r):
            msg = "refusing to write a float; money and figures must be Decimal"
            raise TypeError(msg)
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([xlsx_value(human_header(h)) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        money = [i for i, name in enumerate(header) if money_columns(name)]
        where = list(header).index("currency") if "currency" in header else None
        for number, row in enumerate(rows, start=2):
            sheet.append([xlsx_value(value) for value in row])
            shown = money_format(str(row[where]) if where is not None and row[where] else None)
            for i in money:
                sheet.cell(row=number, column=i + 1).number_format = shown
            for i, value in enumerate(row):
                if isinstance(value, date):
                    sheet.cell(row=number, column=i + 1).number_format = DATE_FORMAT
        for index, width in enumerate(column_widths(header, rows), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{len(rows) + 1}"
        print_to_page_width(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_atomic(Path(target), buffer.getvalue())
    return Path(target)
