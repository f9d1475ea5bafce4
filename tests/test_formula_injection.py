"""Nothing we write runs as a formula: every CSV and XLSX output, fed the classic payloads.

Each output is read back with csv and openpyxl: no cell is a formula, the payload comes back
with a leading quote, and Decimals and ints are still number cells.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from sapbridge.audit.log import export, record
from sapbridge.config import load_settings
from sapbridge.kpi import run_kpi_report
from sapbridge.reconcile.cash import run_cash
from sapbridge.reconcile.cash.xlsx import write_sheets
from sapbridge.reconcile.recoveries import run_recoveries
from sapbridge.store.schema import disputes, open_items
from sapbridge.tabular import (
    Column,
    csv_fields,
    read_table,
    restore_cell,
    safe_cell,
    write_csv,
    write_xlsx,
    xlsx_value,
)

PAYLOADS = ['=HYPERLINK("http://x")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
"""The OWASP CSV-injection starters: = + - @ tab CR."""
STRIPPED = PAYLOADS[:5]
"""Payloads that survive the readers, which trim surrounding blanks (tab and CR are blanks)."""
_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _xlsx_cells(path: Path) -> list[Any]:
    """Every cell of every sheet (full mode, so data_type is the stored one)."""
    book = load_workbook(path)
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    book.close()
    return cells


def _assert_xlsx_safe(path: Path, payloads: list[str]) -> None:
    cells = _xlsx_cells(path)
    assert cells
    for cell in cells:
        assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
        if isinstance(cell.value, str) and cell.value[:1] in _STARTS:
            assert _NUMBER.fullmatch(cell.value), (path.name, cell.coordinate, cell.value)
    texts = {cell.value for cell in cells if isinstance(cell.value, str)}
    for payload in payloads:
        assert f"'{payload}" in texts, (path.name, payload)


def _csv_fields(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [field for row in csv.reader(handle) for field in row]


def _assert_csv_safe(path: Path, payloads: list[str]) -> list[str]:
    fields = _csv_fields(path)
    for field in fields:
        if field[:1] in _STARTS:
            assert _NUMBER.fullmatch(field), (path.name, field)
    for payload in payloads:
        assert f"'{payload}" in fields, (path.name, payload)
    return fields


# --- the one function ----------------------------------------------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS)
def test_safe_cell_quotes_every_formula_start(payload):
    assert safe_cell(payload) == f"'{payload}"
    assert restore_cell(safe_cell(payload)) == payload


@pytest.mark.parametrize("value", [Decimal("-5.00"), -7, 0, "-12.50", "+3", "plain", "", None,
                                   date(2026, 1, 2), "'quoted"])
def test_safe_cell_keeps_numbers_and_plain_text(value):
    assert safe_cell(value) == value
    assert csv_fields([Decimal("-5.00"), -7, "-12.50"]) == ["-5.00", "-7", "-12.50"]


def test_xlsx_value_refuses_floats():
    with pytest.raises(TypeError, match="float"):
        xlsx_value(1.5)


CONTROL = ["\x0b=1+1", "bell\x07 and \x1f unit separator"]
"""Text from a bank file with control characters XLSX cannot hold (openpyxl raised on them)."""


def test_control_characters_are_dropped_in_every_xlsx_writer(tmp_path, store):
    expected = ["'=1+1", "bell and  unit separator"]
    write_xlsx(tmp_path / "a.xlsx", {"s": (["text"], [[text] for text in CONTROL])})
    write_sheets(tmp_path / "b.xlsx", {"s": (("text",), [[text] for text in CONTROL])})
    with store.engine.begin() as conn:
        for text in CONTROL:
            record(conn, action="approved", actor="bob", run_id="r1", message=text)
    export(store.engine, tmp_path / "c.xlsx", fmt="xlsx")
    for name in ("a.xlsx", "b.xlsx", "c.xlsx"):
        texts = {c.value for c in _xlsx_cells(tmp_path / name) if isinstance(c.value, str)}
        assert set(expected) <= texts, name


def test_write_csv_and_write_xlsx(tmp_path):
    rows = [[payload, Decimal("-5.00"), 3] for payload in PAYLOADS]
    fields = _assert_csv_safe(write_csv(tmp_path / "a.csv", ["text", "amount", "n"], rows), PAYLOADS)
    assert "-5.00" in fields
    path = write_xlsx(tmp_path / "a.xlsx", {"s": (["text", "amount", "n"], rows)})
    _assert_xlsx_safe(path, PAYLOADS)
    numbers = [c for c in _xlsx_cells(path) if c.column > 1 and c.row > 1]
    assert all(c.data_type == "n" for c in numbers)
    assert {c.value for c in numbers} == {Decimal("-5.00"), -5, 3}


def test_streaming_cash_xlsx_writer(tmp_path):
    path = tmp_path / "c.xlsx"
    write_sheets(path, {"s": (("text", "amount"), [[payload, Decimal("-1.50")] for payload in PAYLOADS])})
    _assert_xlsx_safe(path, PAYLOADS)
    assert {c.value for c in _xlsx_cells(path) if c.column == 2 and c.row > 1} == {Decimal("-1.5")}


def test_read_table_reads_our_quoted_text_back_unchanged(tmp_path):
    path = write_csv(tmp_path / "a.csv", ["text"], [[p] for p in STRIPPED])
    assert [r["text"] for r in read_table(path, [Column("text")])] == STRIPPED


# --- every output --------------------------------------------------------------------------------

ITEMS = """company_code,customer,fiscal_year,document,item,reference,assignment,posting_date,due_date,amount,currency
1000,0000100001,2026,0090000001,001,4711,PO1,2026-09-01,2026-10-01,1000.00,EUR
"""
CUSTOMERS = "customer,name,account\n0000100001,Acme Retail GmbH,DE02120300000000202051\n"


def test_cash_outputs(store, tmp_path):
    payments = tmp_path / "bank.csv"
    with payments.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["payment_id", "value_date", "amount", "currency", "payer_name", "payer_account",
                         "customer", "remittance"])
        writer.writerow(["OK1", "2026-11-21", "1000.00", "EUR", "Acme", "", "0000100001", "INV 4711"])
        for payload in STRIPPED:
            writer.writerow([payload, "2026-11-21", "12.34", "EUR", payload, "", payload, payload])
    (tmp_path / "items.csv").write_text(ITEMS)
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    run_cash(store, load_settings(None), system="demo", payments=payments, out=tmp_path / "out",
             open_items=tmp_path / "items.csv", customers=tmp_path / "customers.csv", actor="tester")
    out = tmp_path / "out"
    _assert_csv_safe(out / "exceptions.csv", STRIPPED)
    _assert_csv_safe(out / "matches.csv", [])
    _assert_xlsx_safe(out / "cash.xlsx", STRIPPED)
    amounts = [c for c in _xlsx_cells(out / "cash.xlsx") if c.parent.title == "exceptions" and c.column == 2
               and c.row > 1]
    assert amounts
    assert all(c.data_type == "n" for c in amounts)


def test_recoveries_outputs(store, tmp_path):
    claims, cases = tmp_path / "claims.csv", tmp_path / "disputes.csv"
    with claims.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["claim_id", "customer", "claim_date", "reference", "amount", "currency", "status",
                         "recovered_amount", "recovered_on", "reason"])
        for index, payload in enumerate(STRIPPED):
            customer = payload if payload == "@SUM(A1)" else f"10000{index}"
            writer.writerow([payload, customer, "2026-10-01", payload, "100.00", "EUR", "claimed",
                             "", "", payload])
    with cases.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "company_code", "customer", "status", "reason", "original_amount",
                         "disputed_amount", "paid_amount", "credited_amount", "written_off_amount",
                         "currency", "invoice_reference", "created_on", "closed_on"])
        writer.writerow(["K1", "1000", "100000", "10", "-2+3", "100", "100", "0", "0", "0", "EUR",
                         "x", "2026-09-01", ""])
    out = tmp_path / "rec"
    run_recoveries(store, load_settings(None), system="demo", claims=claims, disputes=cases, out=out,
                   actor="tester")
    fields = [f for path in out.glob("*.csv") for f in _assert_csv_safe(path, [])]
    for payload in STRIPPED:
        assert f"'{payload}" in fields, payload
    _assert_xlsx_safe(out / "recoveries.xlsx", ["@SUM(A1)"])


def test_kpi_workbook(store, tmp_path):
    seen = datetime(2026, 1, 2, tzinfo=UTC)
    tracked = {"system": "T", "status": "open", "cleared_at": None, "first_seen_at": seen,
               "last_seen_at": seen, "last_seen_run": "r1"}
    short = [p[:10] for p in PAYLOADS]  # customer and reason are CHAR 10 in SAP and the store
    with store.engine.begin() as conn:
        conn.execute(open_items.insert(), [
            {**tracked, "company_code": "1000", "fiscal_year": "2026", "document": f"D{i}", "item": "001",
             "customer": payload, "document_type": "RV", "posting_date": date(2026, 3, 1),
             "net_due_date": date(2026, 3, 31), "amount": Decimal("-100.00"), "currency": "EUR",
             "amount_company": Decimal("-100.00"), "company_currency": "EUR"}
            for i, payload in enumerate(short)])
        conn.execute(disputes.insert(), [
            {**tracked, "case_id": f"K{i}", "company_code": "1000", "customer": payload,
             "case_status": "10", "reason": payload, "disputed_amount": Decimal("5.00"), "currency": "EUR",
             "created_on": date(2026, 3, 1), "closed_on": None, "changed_at": seen}
            for i, payload in enumerate(short)])
    config = tmp_path / "sapbridge.toml"
    config.write_text('[systems.T]\nkind = "replay"\nkey_date = "2026-03-31"\ncompany_codes = ["1000"]\n')
    run_kpi_report(store, load_settings(config, store_url="sqlite://"), system="T", out=tmp_path / "kpi")
    path = tmp_path / "kpi" / "kpis.xlsx"
    _assert_xlsx_safe(path, short)
    aging = [c for c in _xlsx_cells(path) if c.parent.title == "aging" and c.row > 1
             and isinstance(c.value, int | float | Decimal)]
    assert aging
    assert any(c.value < 0 for c in aging)


def test_audit_export(store, tmp_path):
    with store.engine.begin() as conn:
        for payload in PAYLOADS:
            record(conn, action="approved", actor="bob", run_id="r1", customer=payload[:10], message=payload,
                   batch_id="W-1", row_no=2)
    export(store.engine, tmp_path / "a.csv", fmt="csv")
    _assert_csv_safe(tmp_path / "a.csv", PAYLOADS)
    export(store.engine, tmp_path / "a.xlsx", fmt="xlsx")
    _assert_xlsx_safe(tmp_path / "a.xlsx", PAYLOADS)
    seq = [c for c in _xlsx_cells(tmp_path / "a.xlsx") if c.column == 1 and c.row > 1]
    assert [c.value for c in seq] == list(range(1, len(PAYLOADS) + 1))
