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
    assert [c.value for c in sheet[1]] == ["payment_id", "amount", "count", "day", "note"]
    assert sheet["A1"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet["A2"].value == 'P<1> & "co"'
    assert Decimal(str(sheet["B2"].value)) == Decimal("-1234.56")
    assert sheet["B2"].number_format == "#,##0.00;[Red]-#,##0.00"
    assert sheet["C2"].value == 3
    assert sheet["D3"].value == "2026-11-22"
    assert sheet["E2"].value is None
    assert sheet["E3"].value == "x"
    assert sheet.max_row == 3


def test_floats_are_refused(tmp_path):
    with pytest.raises(TypeError, match="float"):
        write_sheets(tmp_path / "f.xlsx", {"s": (("a",), [(1.5,)])})
