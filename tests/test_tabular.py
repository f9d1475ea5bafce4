from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from sapbridge.errors import InputError
from sapbridge.tabular import Column, read_table, text_encoding, write_csv, write_xlsx

COLUMNS = [Column("id"), Column("amount", "money"), Column("on", "date"), Column("note", required=False)]


def test_reads_csv_with_semicolons_and_european_amounts(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("ID;Amount;On;Note\nA1;1.234,56;31.01.2026;\nA2;-7,5;2026-02-01;x\n", encoding="utf-8")
    rows = read_table(path, COLUMNS)
    assert rows == [
        {"id": "A1", "amount": Decimal("1234.56"), "on": date(2026, 1, 31), "note": None},
        {"id": "A2", "amount": Decimal("-7.5"), "on": date(2026, 2, 1), "note": "x"},
    ]


def test_bad_amount_names_file_row_and_column(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,amount,on\nA1,12.00,2026-01-01\nA2,twelve,2026-01-01\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"in.csv, row 3: amount: not an amount: 'twelve'"):
        read_table(path, COLUMNS)


def test_missing_column_and_empty_file(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,on\nA1,2026-01-01\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        read_table(path, COLUMNS)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty file"):
        read_table(empty, COLUMNS)


def test_xlsx_roundtrip_keeps_money_exact(tmp_path):
    target = tmp_path / "out.xlsx"
    write_xlsx(target, {"s": (["id", "amount", "on"], [["A1", Decimal("1234.56"), date(2026, 1, 31)]])})
    sheet = load_workbook(target).worksheets[0]
    assert sheet["B2"].number_format.startswith("#,##0.00")
    rows = read_table(target, COLUMNS[:3])
    assert rows[0]["amount"] == Decimal("1234.56")


def test_writers_refuse_floats_and_leave_nothing_behind(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(TypeError):
        write_csv(target, ["a"], [[1.5]])
    assert list(tmp_path.iterdir()) == []


def test_text_encoding_utf8_bom_cp1252_and_a_forced_one(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffname\nZoë\n".encode())
    assert text_encoding(path) == "utf-8-sig"
    assert text_encoding(path, "UTF-8") == "utf-8-sig"
    path.write_bytes("name\nZoë\n".encode("cp1252"))
    assert text_encoding(path) == "cp1252"
    assert read_table(path, [Column("name")]) == [{"name": "Zoë"}]
    assert read_table(path, [Column("name")], encoding="latin-1") == [{"name": "Zoë"}]
    with pytest.raises(InputError, match=r"t\.csv: unknown encoding 'klingon'"):
        text_encoding(path, "klingon")
    with pytest.raises(InputError, match=r"t\.csv: not utf-8 text \(byte 7\)"):
        text_encoding(path, "utf-8")
