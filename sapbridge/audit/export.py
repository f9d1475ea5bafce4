"""Auditors' evidence: the audit log as CSV, XLSX or JSON lines, written atomically."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sapbridge.audit.chain import canonical_json
from sapbridge.audit.entry import AuditEntry
from sapbridge.errors import InputError
from sapbridge.tabular import csv_fields, xlsx_value

__all__ = ["FORMATS", "format_for", "write_entries"]

FORMATS = ("csv", "xlsx", "jsonl")
"""Export formats ``audit export --format`` accepts."""

_COLUMNS = (
    "seq", "at", "action", "actor", "run_id", "batch_id", "row_no", "customer", "before",
    "after", "sap_document", "message", "detail", "alg", "prev_hash", "hash", "os_login",
    "host", "form",
)


def format_for(path: Path) -> str:
    """The export format a file name asks for (``.csv``, ``.xlsx``, ``.jsonl``)."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        msg = f"cannot tell the export format from the name; use --format ({', '.join(FORMATS)})"
        raise InputError(msg, path=str(path))
    return suffix


def _flat(entry: AuditEntry) -> list[Any]:
    """One row of cells; JSON fields stay canonical JSON text so amounts keep every digit."""
    data = entry.as_dict()
    cells: list[Any] = []
    for name in _COLUMNS:
        value = data[name]
        if isinstance(value, dict):
            value = canonical_json(value)
        cells.append("" if value is None else value)
    return cells


def _write_csv(entries: Iterable[AuditEntry], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(_COLUMNS)
        for entry in entries:
            writer.writerow(csv_fields(_flat(entry)))
            count += 1
    return count


def _write_jsonl(entries: Iterable[AuditEntry], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps(entry.as_dict(), sort_keys=True, ensure_ascii=False) + "\n")
            count += 1
    return count


_XLSX_WIDTHS = {"seq": 8, "at": 20, "action": 14, "actor": 14, "run_id": 38, "batch_id": 22,
                "row_no": 8, "customer": 12, "detail": 60, "message": 40, "prev_hash": 66,
                "hash": 66, "os_login": 14, "host": 20, "form": 6}
_STAMP_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _excel_time(at: datetime) -> datetime:
    """UTC without a zone (Excel has none), to the millisecond Excel keeps; CSV/JSONL keep it all."""
    utc = at.astimezone(UTC)
    return utc.replace(tzinfo=None, microsecond=utc.microsecond // 1000 * 1000)


def _xlsx_header(name: str) -> str:
    return "at (UTC)" if name == "at" else name


def _write_xlsx(entries: Iterable[AuditEntry], path: Path) -> int:
    """One sheet: frozen, filtered header, the time as a date-time cell (UTC), text never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("audit_log")
    sheet.freeze_panes = "A2"
    for index, name in enumerate(_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _XLSX_WIDTHS.get(name, 24)
    sheet.append([_xlsx_header(name) for name in _COLUMNS])
    at = _COLUMNS.index("at")
    count = 0
    for entry in entries:
        cells = [xlsx_value(v) for v in _flat(entry)]
        stamp = WriteOnlyCell(sheet, value=_excel_time(entry.at))
        stamp.number_format = _STAMP_FORMAT
        cells[at] = stamp
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(_COLUMNS))}{count + 1}"
    workbook.save(path)
    return count


def write_entries(entries: Iterable[AuditEntry], path: str | Path, *, fmt: str) -> int:
    """Write entries to ``path`` (temp file, then rename); return how many were written."""
    writers = {"csv": _write_csv, "xlsx": _write_xlsx, "jsonl": _write_jsonl}
    if fmt not in writers:
        msg = f"unknown export format {fmt!r} (use {', '.join(FORMATS)})"
        raise InputError(msg, path=str(path))
    target = Path(path)
    if not target.parent.is_dir():
        msg = f"folder {target.parent} does not exist; create it or choose another --output"
        raise InputError(msg, path=str(target))
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        count = writers[fmt](entries, temp)
        temp.replace(target)
    except OSError as exc:
        msg = f"cannot write the export: {exc.strerror or exc}"
        raise InputError(msg, path=str(target)) from exc
    finally:
        temp.unlink(missing_ok=True)
    return count
