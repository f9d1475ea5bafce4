"""Querying and exporting the audit log: filters, exact amounts, atomic files."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from sapbridge.audit.log import export, get_entry, query, record
from sapbridge.errors import AuditError, InputError


@pytest.fixture
def engine(store):
    with store.engine.begin() as conn:
        record(conn, action="approved", actor="bob", run_id="r1", batch_id="W-1",
               customer="0010000001", after={"write_off": Decimal("0.10")})
        record(conn, action="applied", actor="bob", run_id="r2", batch_id="W-1", row_no=2,
               customer="0010000002", before={"open_amount": Decimal("1234567890.123456")},
               sap_document="1000/1400000001/2026", message="posted")
        record(conn, action="sync_run", actor="scheduler", run_id="r3",
               detail={"rows": 12, "dataset": "open_items"})
    return store.engine


def test_filters(engine):
    assert [e.seq for e in query(engine, actor="bob")] == [1, 2]
    assert [e.seq for e in query(engine, action="sync_run")] == [3]
    assert [e.seq for e in query(engine, batch_id="W-1", customer="0010000002")] == [2]
    now = datetime.now(UTC)
    assert len(list(query(engine, since=now - timedelta(minutes=5), until=now
                          + timedelta(minutes=5)))) == 3
    assert list(query(engine, since=now + timedelta(minutes=5))) == []
    assert [e.seq for e in query(engine, limit=1)] == [1]
    assert get_entry(engine, 2).before == {"open_amount": "1234567890.123456"}
    with pytest.raises(AuditError):
        get_entry(engine, 99)


def test_export_csv_jsonl_xlsx_keep_amounts_exact(engine, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    assert export(engine, tmp_path / "a.csv", fmt="csv") == 3
    with (tmp_path / "a.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert json.loads(rows[1]["before"]) == {"open_amount": "1234567890.123456"}
    assert rows[1]["sap_document"] == "1000/1400000001/2026"

    assert export(engine, tmp_path / "a.jsonl", fmt="jsonl", actor="bob") == 2
    lines = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["after"] == {"write_off": "0.10"}

    assert export(engine, tmp_path / "a.xlsx", fmt="xlsx") == 3
    book = load_workbook(tmp_path / "a.xlsx")
    values = list(book.active.iter_rows(values_only=True))
    book.close()
    assert values[0][0] == "seq"
    assert json.loads(values[2][8]) == {"open_amount": "1234567890.123456"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.jsonl", "a.xlsx"]


def test_xlsx_export_has_times_as_dates_and_a_frozen_filtered_header(engine, tmp_path):
    assert export(engine, tmp_path / "a.xlsx", fmt="xlsx") == 3
    book = load_workbook(tmp_path / "a.xlsx")
    sheet = book.active
    at = [c.value for c in sheet[1]].index("at (UTC)") + 1
    stamp = sheet.cell(row=2, column=at)
    assert isinstance(stamp.value, datetime)  # a date-time cell, not ISO text
    assert stamp.number_format == "yyyy-mm-dd hh:mm:ss"
    first = next(iter(query(engine)))
    exact = first.at.astimezone(UTC).replace(tzinfo=None)
    assert stamp.value == exact.replace(microsecond=exact.microsecond // 1000 * 1000)  # Excel keeps ms
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(row=1, column=sheet.max_column).column_letter}4"
    book.close()


def test_unknown_format_leaves_no_file(engine, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    with pytest.raises(InputError, match="unknown export format"):
        export(engine, tmp_path / "a.pdf", fmt="pdf")
    assert list(tmp_path.iterdir()) == []
