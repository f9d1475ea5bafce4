"""run_cash and the CLI: files in, four outputs, the run recorded, habits learned, bad input refused."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from sapbridge.audit import log as audit_log
from sapbridge.cli import cli, main
from sapbridge.config import load_settings
from sapbridge.errors import ConfigError, InputError
from sapbridge.reconcile.cash import confirm_matches, run_cash
from sapbridge.reconcile.cash.tables import cash_habits
from sapbridge.reconcile.tables import reconcile_runs

ITEMS = """company_code,customer,fiscal_year,document,item,reference,assignment,posting_date,due_date,amount,currency
1000,0000100001,2026,0090000001,001,4711,PO1,2026-09-01,2026-10-01,1000.00,EUR
1000,0000100001,2026,0090000002,001,4712,PO2,2026-09-02,2026-10-02,310.00,EUR
1000,0000100001,2026,0090000003,001,4713,PO3,2026-09-03,2026-10-03,-50.00,EUR
1000,0000100002,2026,0090000004,001,4714,PO4,2026-09-04,2026-10-04,777.00,EUR
"""
CUSTOMERS = """customer,name,account
0000100001,Acme Retail GmbH,DE02120300000000202051
0000100002,Bolt Hardware Inc.,GB29NWBK60161331926819
"""
HEADER = "payment_id,value_date,amount,currency,payer_name,payer_account,customer,remittance\n"


def _files(tmp_path: Path, payments: str) -> dict[str, Path]:
    paths = {"items": tmp_path / "items.csv", "customers": tmp_path / "customers.csv",
             "payments": tmp_path / "bank.csv"}
    paths["items"].write_text(ITEMS)
    paths["customers"].write_text(CUSTOMERS)
    paths["payments"].write_text(HEADER + payments)
    return paths


def _run(store, tmp_path, payments: str, out: str = "out", settings=None):
    paths = _files(tmp_path, payments)
    return run_cash(store, settings or load_settings(None), system="demo", payments=paths["payments"],
                    out=tmp_path / out, open_items=paths["items"], customers=paths["customers"], actor="tester")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_run_writes_four_files_and_records_the_run(store, tmp_path):
    result = _run(store, tmp_path, "P1,2026-11-21,1000.00,EUR,Acme,,0000100001,INV 90000001\n"
                                   "P2,2026-11-21,12.34,EUR,Nobody Ltd,NL91ABNA0417164300,,\n")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["cash.xlsx", "exceptions.csv", "matches.csv",
                                                     "suggestions.csv"]
    matches = _rows(out / "matches.csv")
    assert [(m["payment_id"], m["document"], m["applied_amount"], m["rule"]) for m in matches] == [
        ("P1", "0090000001", "1000.00", "reference")]
    exceptions = _rows(out / "exceptions.csv")
    assert [(e["payment_id"], e["category"], e["difference"]) for e in exceptions] == [("P2", "unapplied", "12.34")]
    assert result.summary["auto_match_rate"] == "0.5000"
    assert result.summary["amounts"]["auto_applied"] == {"EUR": "1000.00"}
    assert result.needs_review == 1
    json.dumps(result.summary)
    workbook = load_workbook(out / "cash.xlsx")
    assert workbook.sheetnames == ["summary", "matches", "suggestions", "exceptions"]
    cell = workbook["matches"]["F2"]
    assert cell.value == Decimal("1000.00") or cell.value == 1000
    assert cell.number_format.startswith("#,##0.00")
    with store.engine.connect() as conn:
        run = conn.execute(select(reconcile_runs)).one()
    assert (run.kind, run.system, run.actor) == ("cash", "demo", "tester")
    assert json.loads(run.summary)["payments"] == 2
    assert run.finished_at is not None
    entries = list(audit_log.query(store.engine, action="reconcile_cash"))
    assert [(e.actor, e.run_id) for e in entries] == [("tester", run.run_id)]
    assert entries[0].detail["payments"] == 2


def test_confirmed_payer_is_known_in_the_next_run(store, tmp_path):
    first = _run(store, tmp_path, "P1,2026-11-21,1000.00,EUR,Acme Holding BV,NL91ABNA0417164300,,INV 9000-0001\n"
                                  "P2,2026-11-21,310.00,EUR,Acme Holding BV,NL91ABNA0417164300,,\n")
    assert first.result is not None
    assert [m.payment_id for m in first.result.matches] == ["P1"]
    assert "P2" not in {m.payment_id for m in first.result.matches}
    learned = confirm_matches(store, system="demo", matches=tmp_path / "out" / "matches.csv", actor="lead")
    assert (learned.rows, learned.found, learned.habits_learned) == (1, 1, 2)
    with store.engine.connect() as conn:
        habits = {(h.kind, h.key, h.customer) for h in conn.execute(select(cash_habits))}
    assert ("account", "NL91ABNA0417164300", "0000100001") in habits
    again = _run(store, tmp_path, "P3,2026-11-22,310.00,EUR,Acme Holding BV,NL91ABNA0417164300,,\n", out="out2")
    assert again.result is not None
    assert [(m.payment_id, m.document, m.rule) for m in again.result.matches] == [
        ("P3", "0090000002", "exact_amount")]
    assert again.result.payers["P3"].how == "habit_account"


def test_confirming_an_unknown_row_is_refused(store, tmp_path):
    bogus = tmp_path / "approved.csv"
    bogus.write_text("payment_id,company_code,fiscal_year,document,item\nX9,1000,2026,0090000001,001\n")
    with pytest.raises(InputError, match=r"approved\.csv, row 2: payment X9"):
        confirm_matches(store, system="demo", matches=bogus, actor="lead")


def test_bad_amount_leaves_no_output_behind(sqlite_store, tmp_path):
    with pytest.raises(InputError, match=r"bank\.csv, row 2: amount"):
        _run(sqlite_store, tmp_path, "P1,2026-11-21,ten euros,EUR,,,,\n")
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_missing_open_item_column_names_file_and_row(sqlite_store, tmp_path):
    paths = _files(tmp_path, "P1,2026-11-21,1.00,EUR,,,,\n")
    paths["items"].write_text(ITEMS.replace(",assignment", ""))
    with pytest.raises(InputError, match=r"items\.csv, row 1: missing column\(s\): assignment"):
        run_cash(sqlite_store, load_settings(None), system="demo", payments=paths["payments"],
                 out=tmp_path / "out", open_items=paths["items"], customers=paths["customers"])


def test_earlier_output_is_replaced_whole(sqlite_store, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    _run(sqlite_store, tmp_path, "P1,2026-11-21,1000.00,EUR,,,0000100001,INV 90000001\n")
    assert not (out / "stale.txt").exists()
    assert (out / "matches.csv").exists()


def test_cash_section_is_validated(sqlite_store, tmp_path):
    config = tmp_path / "sapbridge.toml"
    config.write_text('[cash]\nrules = ["reference", "telepathy"]\n')
    with pytest.raises(ConfigError, match="telepathy"):
        _run(sqlite_store, tmp_path, "P1,2026-11-21,1.00,EUR,,,,\n", settings=load_settings(config))
    config.write_text("[cash.tolerance]\npercent = 0.5\n")
    with pytest.raises(ConfigError, match="strings"):
        _run(sqlite_store, tmp_path, "P1,2026-11-21,1.00,EUR,,,,\n", settings=load_settings(config))


def test_cli_json_summary_and_one_line_errors(tmp_path, capsys, monkeypatch):
    paths = _files(tmp_path, "P1,2026-11-21,1000.00,EUR,,,0000100001,INV 90000001\n")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["--db", db, "reconcile", "cash", "--payments", str(paths["payments"]), "--open-items",
            str(paths["items"]), "--customers", str(paths["customers"]), "--out", str(tmp_path / "o"), "--json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["auto_matched_payments"] == 1
    paths["payments"].write_text("")
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {paths['payments']}: empty file"


def test_quick_and_general_open_item_readers_agree(tmp_path):
    from sapbridge.reconcile.cash.inputs import _fast_open_items, load_open_items

    plain = tmp_path / "items.csv"
    plain.write_text(ITEMS)
    quick = _fast_open_items(plain)
    assert quick is not None
    assert quick[2].amount == Decimal("-50.00")
    european = tmp_path / "items-eu.csv"
    european.write_text(ITEMS.replace(",-50.00,", ',"-50,00",').replace("2026-09-01", "01.09.2026"))
    assert _fast_open_items(european) is None
    assert load_open_items(None, "demo", european) == quick
