"""A small streaming XLSX writer for large result sheets (strings, ints, exact Decimals, dates).

openpyxl needs about 10 microseconds per cell (its write-only mode included), which makes a
100,000-payment run spend most of its time on ``cash.xlsx``. This writes the few SpreadsheetML
parts directly: inline strings, Decimals as their exact text, dates as dates, and what a person
needs to read the table: human headers in bold, frozen and filtered, columns as wide as their
content (measured on the first rows), money in its row's currency decimals (JPY none), scores
(``confidence``) as plain numbers, and :class:`Styled` values for a cell's own look (a rate as
a percentage). Files open in Excel and LibreOffice and read back with openpyxl.
"""

from __future__ import annotations

import itertools
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sapbridge.money import currency_decimals
from sapbridge.sheetstyle import column_widths, human_header
from sapbridge.tabular import xlsx_value

__all__ = ["NUMBER_COLUMNS", "Styled", "write_sheets"]

NUMBER_COLUMNS = frozenset({"confidence", "score"})
"""Decimal columns that are not money."""

_MONEY, _HEADER, _MONEY_WHOLE, _NUMBER, _PERCENT, _DATE = 1, 2, 3, 4, 5, 6
_STYLE_OF_KIND = {"money": _MONEY, "number": _NUMBER, "percent": _PERCENT}
_MEASURED_ROWS = 1000


@dataclass(frozen=True, slots=True)
class Styled:
    """A value with its own look: ``kind`` is ``money``, ``number`` or ``percent``."""

    value: Decimal | int
    kind: str


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="4"><numFmt numFmtId="164" formatCode="#,##0.00;[Red]-#,##0.00"/>'
    '<numFmt numFmtId="165" formatCode="#,##0;[Red]-#,##0"/>'
    '<numFmt numFmtId="166" formatCode="0.00"/><numFmt numFmtId="167" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>'
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _text(value: str) -> str:
    return escape(value.replace("\x00", ""), {'"': "&quot;", "\r": "&#13;"})


_EPOCH = date(1899, 12, 30)


def _money_style(currency: Any) -> int:
    return _MONEY_WHOLE if isinstance(currency, str) and currency and currency_decimals(currency) == 0 \
        else _MONEY


def _cell(ref: str, value: Any, style: int = 0) -> str:
    if isinstance(value, Styled):
        return _cell(ref, value.value, _STYLE_OF_KIND.get(value.kind, 0))
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, Decimal):
        return f'<c r="{ref}" s="{style or _MONEY}"><v>{value}</v></c>'
    if isinstance(value, int):
        style_attr = f' s="{style}"' if style in (_NUMBER, _PERCENT) else ""
        return f'<c r="{ref}"{style_attr}><v>{value}</v></c>'
    if isinstance(value, float):
        msg = "refusing to write a float; money and figures must be Decimal"
        raise TypeError(msg)
    if isinstance(value, date) and not isinstance(value, datetime):
        return f'<c r="{ref}" s="{_DATE}"><v>{(value - _EPOCH).days}</v></c>'
    text = value.isoformat() if isinstance(value, datetime) else str(xlsx_value(value))
    style_attr = f' s="{style}"' if style == _HEADER else ""
    return f'<c r="{ref}" t="inlineStr"{style_attr}><is><t xml:space="preserve">{_text(text)}</t></is></c>'


def _row_styles(header: Sequence[str], row: Sequence[Any]) -> list[int]:
    currency = row[header.index("currency")] if "currency" in header and len(row) > header.index("currency") \
        else None
    money = _money_style(currency)
    return [_NUMBER if name in NUMBER_COLUMNS else money for name in header]


def _sheet_xml(header: Sequence[str], rows: Iterable[Sequence[Any]], counted: list[int]) -> Iterable[str]:
    """The worksheet part; ``counted`` receives the number of data rows (for the filter range)."""
    columns = [_column(i) for i in range(len(header))]
    iterator = iter(rows)
    first = list(itertools.islice(iterator, _MEASURED_ROWS))
    widths = column_widths(header, first)
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate(widths, start=1))
    yield (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}">'
           '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
           '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
           f'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><cols>{cols}</cols><sheetData>')
    names = list(header)
    heading = "".join(_cell(f"{c}1", human_header(h), _HEADER) for c, h in zip(columns, header, strict=True))
    yield f'<row r="1">{heading}</row>'
    number = 1
    for number, row in enumerate(itertools.chain(first, iterator), start=2):
        styles = _row_styles(names, row)
        cells = "".join(_cell(f"{c}{number}", v, st) for c, v, st in zip(columns, row, styles, strict=False))
        yield f'<row r="{number}">{cells}</row>'
    counted.append(number - 1)
    yield (f'</sheetData><autoFilter ref="A1:{columns[-1]}{max(number, 1)}"/>'
           '<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
           '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>')


def write_sheets(path: Path, sheets: dict[str, tuple[Sequence[str], Iterable[Sequence[Any]]]]) -> None:
    """Write ``sheets`` (title -> (header, rows)) as an XLSX workbook at ``path``."""
    titles = list(sheets)
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEET_TYPE}"/>'
                        for i in range(1, len(titles) + 1))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"))
        links = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" '
                        f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(titles) + 1))
        archive.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{links}<Relationship Id="rId{len(titles) + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
            "</Relationships>"))
        archive.writestr("xl/styles.xml", _STYLES)
        filters = []
        for index, title in enumerate(titles, start=1):
            header, rows = sheets[title]
            counted: list[int] = []
            with archive.open(f"xl/worksheets/sheet{index}.xml", "w") as part:
                for chunk in _sheet_xml(header, rows, counted):
                    part.write(chunk.encode("utf-8"))
            last = _column(len(header) - 1)
            quoted = title[:31].replace("'", "''")
            filters.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index - 1}" hidden="1">'
                           f"{_text(chr(39) + quoted + chr(39))}!$A$1:${last}${counted[0] + 1}</definedName>")
        sheet_list = "".join(f'<sheet name="{_text(t[:31])}" sheetId="{i}" r:id="rId{i}"/>'
                             for i, t in enumerate(titles, start=1))
        archive.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_MAIN}" '
            f'xmlns:r="{_REL}"><sheets>{sheet_list}</sheets>'
            f'<definedNames>{"".join(filters)}</definedNames></workbook>'))
