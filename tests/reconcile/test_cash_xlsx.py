from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from sapbridge.reconcile.cash.xlsx import write_sheets


def test_sheets_read_back_with_values_formats_and_frozen_bold_header(tmp_path):
    path = tmp_path / "out.xlsx"
    rows = [("P<1> & \"co\"", Decimal("-1234.56"), 3, date(2026, 11, 21), None),
            ("P2", Decimal("0.10"), 0, date(2026, 11, 22), "x")]
    write_sheets(path, {"summary": (("figure", "value"), [("payments", 2)]),
                        "matches": (("payment_id", "amount", "count", "day", "note"), rows)})
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["summary", "matches"]
    sheet = workbook["matches"]
    assert [c.value for c in sheet[1]] == ["Payment ID", "Amount", "Count", "Day", "Note"]
    assert sheet["A1"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet["A2"].value == 'P<1> & "co"'
    assert Decimal(str(sheet["B2"].value)) == Decimal("-1234.56")
    assert sheet["B2"].number_format == "#,##0.00;[Red]-#,##0.00"
    assert sheet["C2"].value == 3
    assert sheet["D3"].value.date() == date(2026, 11, 22)  # a date, not text
    assert sheet["D3"].number_format == "yyyy-mm-dd"
    assert sheet["E2"].value is None
    assert sheet["E3"].value == "x"
    assert sheet.max_row == 3


def test_floats_are_refused(tmp_path):
    with pytest.raises(TypeError, match="float"):
        write_sheets(tmp_path / "f.xlsx", {"s": (("a",), [(1.5,)])})


def test_every_sheet_is_filtered_sized_and_money_follows_the_row_currency(tmp_path):
    from sapbridge.reconcile.cash.xlsx import Styled

    path = tmp_path / "out.xlsx"
    rows = [("P1", Decimal("1234567.89"), "EUR", Decimal("0.97")),
            ("P2", Decimal("980037"), "JPY", Decimal("0.99"))]
    write_sheets(path, {"matches": (("payment_id", "applied_amount", "currency", "confidence"), rows),
                        "summary": (("figure", "currency", "value"),
                                    [("Auto-match rate", "", Styled(Decimal("0.9048"), "percent"))])})
    book = load_workbook(path)
    sheet = book["matches"]
    assert sheet.auto_filter.ref == "A1:D3"
    assert sheet["B2"].number_format == "#,##0.00;[Red]-#,##0.00"
    assert sheet["B3"].number_format == "#,##0;[Red]-#,##0"  # JPY has no decimals
    assert sheet["D2"].number_format == "0.00"  # a confidence is not money
    assert sheet.column_dimensions["B"].width >= len("1,234,567.89")
    assert sheet.column_dimensions["A"].width >= len("Payment ID")
    assert book["summary"]["C2"].number_format == "0.00%"
