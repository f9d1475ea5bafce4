"""Reading and writing the CSV and XLSX files users bring and get back.

Reading validates columns and types row by row and fails with one line naming file, row and
problem. Writing goes to a temporary file renamed into place, so a half-written report never
looks complete. Money stays ``Decimal`` on both ways.

Nothing we write runs as a formula: every CSV field and spreadsheet cell passes through
:func:`safe_cell` (via :func:`csv_fields` or :func:`xlsx_value`), which puts a single quote before
text that starts with ``=``, ``+``, ``-``, ``@``, tab or CR (OWASP's CSV injection advice).
Numbers stay numbers: Decimals and ints are not text, and neither is text like ``-12.50``.
:func:`read_table` removes that quote again, so our own files read back unchanged.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from sapbridge.errors import InputError
from sapbridge.logs import get_logger
from sapbridge.money import parse_amount

__all__ = ["Column", "atomic_path", "csv_fields", "read_table", "restore_cell", "safe_cell", "text_encoding",
           "write_csv", "write_xlsx", "xlsx_value"]

Kind = Literal["str", "money", "date", "int"]
MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a text cell as a formula (OWASP)."""
_NUMBER_TEXT = re.compile(r"[+-]?\d+(?:\.\d+)?")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Control characters XML 1.0 (so XLSX) cannot hold; openpyxl raises IllegalCharacterError."""
_FLOAT_REFUSED = "refusing to write a float; money and figures must be Decimal"


def safe_cell(value: Any) -> Any:
    """``value`` as it may be written to a CSV field or spreadsheet cell, never a formula.

    Text starting with one of :data:`FORMULA_STARTS` gets a leading ``'``, unless it is a plain
    signed number (``-12.50``); every other value is returned unchanged.
    """
    if value.__class__ is str and value[:1] in FORMULA_STARTS and not _NUMBER_TEXT.fullmatch(value):
        return f"'{value}"
    return value


def restore_cell(text: str) -> str:
    """Undo :func:`safe_cell` on text read back from a file we wrote."""
    if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
        return text[1:]
    return text


@dataclass(frozen=True, slots=True)
class Column:
    """An expected input column: its name, type, and whether a value is required."""

    name: str
    kind: Kind = "str"
    required: bool = True


def _parse_money(text: str) -> Decimal:
    """An amount from a user file, by the one rule of :func:`sapbridge.money.parse_amount`."""
    return parse_amount(text)


def _float_text(value: float) -> str:
    """A spreadsheet number as plain digits (openpyxl gives floats; ``1e+16`` is a display form)."""
    return f"{Decimal(repr(value)):f}"


def _parse_date(text: str) -> date:
    value = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%Y%m%d", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    msg = f"not a date: {text!r} (use YYYY-MM-DD)"
    raise ValueError(msg)


def _convert(kind: Kind, value: Any) -> Any:
    if kind == "money":
        if isinstance(value, float):
            return _parse_money(_float_text(value))
        return _parse_money(str(value))
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else _parse_date(str(value))
    if kind == "int":
        return int(str(value).strip())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return restore_cell(str(value).strip())


def _first_non_utf8(path: Path) -> int | None:
    """Offset of the first byte that is not UTF-8, or None for a UTF-8 file (read in chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            pending = len(decoder.getstate()[0])  # bytes of a character split across chunks
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset - pending + exc.start
            offset += len(chunk)
    pending = len(decoder.getstate()[0])
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset - pending
    return None


def text_encoding(path: str | Path, encoding: str | None = None) -> str:
    """The encoding to read a user's text file with: ``encoding`` if given (checked), else UTF-8
    (with or without BOM), else Windows-1252 (what Excel writes on Western Windows), with a
    warning naming the file and the first non-UTF-8 byte. A file that is neither is refused."""
    source = Path(path)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
            source.read_bytes().decode(encoding)
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r}", path=str(source)) from None
        except UnicodeDecodeError as exc:
            raise InputError(f"not {encoding} text (byte {exc.start})", path=str(source)) from None
        return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    bad = _first_non_utf8(source)
    if bad is None:
        return "utf-8-sig"
    try:
        source.read_bytes().decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputError(f"neither UTF-8 nor Windows-1252 text (byte {exc.start}); save it as UTF-8",
                         path=str(source)) from None
    get_logger(__name__).warning("not UTF-8 text, read as Windows-1252 (cp1252)", path=str(source),
                                 first_non_utf8_byte=bad)
    return "cp1252"


def _csv_rows(path: Path, encoding: str) -> Iterator[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        yield from csv.reader(handle, delimiter=delimiter)


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise InputError(f"not a readable XLSX workbook ({type(exc).__name__})", path=str(path)) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield ["" if cell is None else cell for cell in row]
    finally:
        workbook.close()


def _raw_rows(path: Path, encoding: str | None = None) -> Iterator[list[Any]]:
    if not path.is_file():
        raise InputError("file not found", path=str(path))
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _xlsx_rows(path)
    return _csv_rows(path, text_encoding(path, encoding))


def read_table(path: str | Path, columns: Sequence[Column], *,
               encoding: str | None = None) -> list[dict[str, Any]]:
    """Rows of a CSV (``,`` or ``;``) or XLSX file as dicts of typed values.

    Header names are matched case-insensitively; extra columns are ignored, and an optional
    column may be absent (its values are ``None``). Row numbers in
    errors count the header as row 1, as a spreadsheet shows them. A CSV is read as
    :func:`text_encoding` says (``encoding`` forces one).
    """
    source = Path(path)
    rows = _raw_rows(source, encoding)
    try:
        header = next(rows)
    except StopIteration:
        raise InputError("empty file (no header row)", path=str(source)) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"unreadable: {exc}", path=str(source)) from exc
    positions = {str(name).strip().lower(): i for i, name in enumerate(header)}
    missing = [c.name for c in columns if c.required and c.name.lower() not in positions]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)}", path=str(source), row=1)
    result: list[dict[str, Any]] = []
    try:
        for number, raw in enumerate(rows, start=2):
            if not any(str(cell).strip() for cell in raw):
                continue
            result.append(_typed_row(raw, columns, positions, source, number))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"unreadable: {exc}", path=str(source)) from exc
    if not result:
        raise InputError("no data rows", path=str(source))
    return result


def _typed_row(raw: Sequence[Any], columns: Sequence[Column], positions: dict[str, int],
               source: Path, number: int) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in columns:
        index = positions.get(column.name.lower(), len(raw))
        value = raw[index] if index < len(raw) else ""
        if value is None or (isinstance(value, str) and not value.strip()):
            if column.required:
                raise InputError(f"{column.name} is empty", path=str(source), row=number)
            row[column.name] = None
            continue
        try:
            row[column.name] = _convert(column.kind, value)
        except (ValueError, ArithmeticError) as exc:
            raise InputError(f"{column.name}: {exc}", path=str(source), row=number) from None
    return row


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path beside ``target`` that replaces it only if the block succeeds."""
    final = Path(target)
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        temp.replace(final)
    finally:
        temp.unlink(missing_ok=True)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        raise TypeError(_FLOAT_REFUSED)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(safe_cell(value))


def csv_fields(row: Iterable[Any]) -> list[str]:
    """One CSV row's fields: text made safe (:func:`safe_cell`), Decimals exact, dates ISO."""
    return [_cell_text(v) for v in row]


def write_csv(target: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a CSV atomically; Decimals keep every digit, dates are ISO, no field is a formula."""
    with atomic_path(target) as temp, temp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(csv_fields(row) for row in rows)
    return Path(target)


SheetSpec = tuple[Sequence[str], Iterable[Sequence[Any]]]


def write_xlsx(target: str | Path, sheets: dict[str, SheetSpec], *,
               money_columns: Callable[[str], bool] = lambda name: "amount" in name) -> Path:
    """Write an XLSX workbook atomically: one sheet per entry, numbers as numbers.

    Decimals are written as numeric cells with a money format (openpyxl stores them exactly as
    their decimal text); header row frozen and bold.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    for title, (header, rows) in sheets.items():
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        money = [i for i, name in enumerate(header) if money_columns(name)]
        for number, row in enumerate(rows, start=2):
            sheet.append([xlsx_value(v) for v in row])
            for i in money:
                sheet.cell(row=number, column=i + 1).number_format = MONEY_FORMAT
    with atomic_path(target) as temp:
        buffer = io.BytesIO()
        workbook.save(buffer)
        temp.write_bytes(buffer.getvalue())
    return Path(target)


def xlsx_value(value: Any) -> Any:
    """A value for a spreadsheet cell: text without the control characters XLSX cannot hold and
    made safe (:func:`safe_cell`), floats refused.

    openpyxl stores a string starting with ``=`` as a formula; after :func:`safe_cell` none does,
    so every text cell has data type ``s``.
    """
    if isinstance(value, float):
        raise TypeError(_FLOAT_REFUSED)
    if value.__class__ is str:
        return safe_cell(_XML_ILLEGAL.sub("", value))
    return value
