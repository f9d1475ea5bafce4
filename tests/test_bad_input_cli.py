"""Bad input files, met where a user meets them (the CLI): exit 1, one line on stderr naming file,
line and value, no traceback, and nothing recorded in the store or written to --out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, func, select

from sapbridge.audit.tables import audit_log
from sapbridge.bankfiles import read_payments
from sapbridge.cli import main
from sapbridge.reconcile.tables import reconcile_runs

HEADER = ["payment_id", "value_date", "amount", "currency", "payer_name", "payer_account", "customer",
          "remittance"]
GOOD = ["P1", "2026-11-21", "1000.00", "EUR", "Acme", "", "0000100001", "INV 4711"]
ITEMS = """company_code,customer,fiscal_year,document,item,reference,assignment,posting_date,due_date,amount,currency
1000,0000100001,2026,0090000001,001,4711,PO1,2026-09-01,2026-10-01,1000.00,EUR
"""
CUSTOMERS = "customer,name,account\n0000100001,Acme Retail GmbH,DE02120300000000202051\n"

MT940 = """:20:STARTUMSE
:25:10020030/1234567
:28C:00001/001
:60F:C261120EUR1000,00
:61:2611211121C1234,56NTRFNONREF//BANKREF1
:86:166?00SEPA-GUTSCHRIFT?20EREF+E2E-1?21SVWZ+INV 90012345?32NORDIC FOODS GMBH
:61:2611211121D50,00NTRFNONREF
:86:Bank fee
:62F:C261121EUR2184,56
"""

CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <Stmt><Id>STMT-1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><ValDt><Dt>2026-11-21</Dt></ValDt>
    <AcctSvcrRef>BANK-1</AcctSvcrRef></Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def _cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(["--db", f"sqlite:///{tmp_path / 's.db'}", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _cash(tmp_path: Path, capsys: pytest.CaptureFixture[str], payments: Path) -> tuple[int, str, str]:
    (tmp_path / "items.csv").write_text(ITEMS)
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    return _cli(tmp_path, capsys, "reconcile", "cash", "--payments", str(payments), "--out",
                str(tmp_path / "out"), "--open-items", str(tmp_path / "items.csv"),
                "--customers", str(tmp_path / "customers.csv"), "--json")


def _payments_csv(tmp_path: Path, *rows: list[str], name: str = "bank.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _one_error_line(code: int, err: str) -> str:
    assert code == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def _nothing_recorded(tmp_path: Path) -> None:
    assert not (tmp_path / "out").exists()
    engine = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reconcile_runs)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar() == 0
    engine.dispose()


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("-5.00", "amount must be positive (a payment received), got -5.00"),
        ("0", "amount must be positive (a payment received), got 0"),
        ("0.00", "amount must be positive (a payment received), got 0.00"),
        ("-0", "amount must be positive (a payment received), got 0"),
        ("1.06e5", "amount: not an amount: '1.06e5' is in exponent form; write 106000"),
        ("1" * 30, f"amount: not an amount: '{'1' * 30}' has 30 digits before the point (at most 18)"),
        ("Infinity", "amount: not an amount: 'Infinity'"),
        ("NaN", "amount: not an amount: 'NaN'"),
        ("1E+400", "amount: not an amount: '1E+400' is in exponent form; write plain digits"),
    ],
)
def test_payments_csv_with_a_bad_amount(tmp_path, capsys, amount, problem):
    path = _payments_csv(tmp_path, GOOD, ["P2", "2026-11-21", amount, "EUR", "", "", "", ""])
    line = _one_error_line(*_cash(tmp_path, capsys, path)[::2])
    assert line == f"error: {path}, row 3: {problem}"
    _nothing_recorded(tmp_path)


@pytest.mark.parametrize(("cell", "problem"), [(-5, "got -5"), ("1.06e5", "write 106000"), (0, "got 0")])
def test_payments_xlsx_with_a_bad_amount(tmp_path, capsys, cell, problem):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(GOOD)
    sheet.append(["P2", "2026-11-21", cell, "EUR", "", "", "", ""])
    path = tmp_path / "bank.xlsx"
    book.save(path)
    line = _one_error_line(*_cash(tmp_path, capsys, path)[::2])
    assert line.startswith(f"error: {path}, row 3: ")
    assert problem in line
    _nothing_recorded(tmp_path)


def test_thousands_separators_of_both_conventions_mean_the_same(tmp_path, capsys):
    path = _payments_csv(tmp_path, ["P1", "2026-11-21", "1,000.00", "EUR", "", "", "", ""],
                         ["P2", "2026-11-21", "1.000,00", "EUR", "", "", "", ""])
    code, out, err = _cash(tmp_path, capsys, path)
    assert code in (0, 3), err
    assert json.loads(out)["amounts"]["payments"] == {"EUR": "2000.00"}


@pytest.mark.parametrize(("amount", "problem"), [
    ("1E+5", "Amt: not an amount: '1E+5' is in exponent form; write 100000"),
    ("NaN", "Amt: not an amount: 'NaN'"),
    ("0.00", "Amt must be positive, got '0.00'"),
])
def test_camt_with_a_bad_amount(tmp_path, capsys, amount, problem):
    path = tmp_path / "stmt.xml"
    path.write_text(CAMT.format(amount=amount), encoding="utf-8")
    line = _one_error_line(*_cash(tmp_path, capsys, path)[::2])
    assert line == f"error: {path}, row 5: {problem}"
    _nothing_recorded(tmp_path)


def test_mt940_without_closing_balance(tmp_path, capsys):
    path = tmp_path / "s.sta"
    path.write_text(MT940.replace(":62F:C261121EUR2184,56\n", ""), encoding="utf-8")
    line = _one_error_line(*_cash(tmp_path, capsys, path)[::2])
    assert line == (f"error: {path}, row 1: MT940 statement 1 has no closing balance (:62F:); "
                    "the file may be cut off")
    _nothing_recorded(tmp_path)


def test_mt940_whose_balances_do_not_add_up(tmp_path, capsys):
    path = tmp_path / "s.sta"
    path.write_text(MT940.replace("2184,56", "2234,56"), encoding="utf-8")
    line = _one_error_line(*_cash(tmp_path, capsys, path)[::2])
    assert "opening balance 1000.00 plus entries 1184.56 is 2184.56, but the closing balance" in line


def test_mt940_bad_61_line_is_one_line_not_the_parsers_debug_output(tmp_path, capsys):
    path = tmp_path / "s.sta"
    path.write_text(MT940.replace(":61:2611211121D50,00NTRFNONREF", ":61:garbage"), encoding="utf-8")
    line = _one_error_line(*_cash(tmp_path, capsys, path)[::2])
    assert line == f"error: {path}, row 7: MT940 statement 1: :61: line not readable: 'garbage'"
    _nothing_recorded(tmp_path)


def test_mt940_second_statement_is_checked_and_named(tmp_path, capsys):
    second = MT940.replace("STARTUMSE", "SECOND").replace(":62F:C261121EUR2184,56\n", "")
    path = tmp_path / "s.sta"
    path.write_text(MT940 + second, encoding="utf-8")
    line = _one_error_line(*_cash(tmp_path, capsys, path)[::2])
    assert line.startswith(f"error: {path}, row 10: MT940 statement 2 has no closing balance")


def test_latin1_csv_is_read_as_windows_1252_with_a_warning(tmp_path, capsys):
    path = _payments_csv(tmp_path, GOOD, ["P2", "2026-11-21", "12.00", "EUR", "Société Générale", "", "",
                                          "Facture n° 12"], encoding="cp1252")
    assert [p.payer_name for p in read_payments(path)] == ["Acme", "Société Générale"]
    capsys.readouterr()
    code, _, err = _cash(tmp_path, capsys, path)
    assert code in (0, 3), err
    assert "not UTF-8 text, read as Windows-1252" in err
    assert str(path) in err


def test_text_that_is_neither_utf8_nor_cp1252_is_one_line_naming_file_and_byte(tmp_path, capsys):
    path = tmp_path / "bank.csv"
    body = (",".join(HEADER) + "\n").encode() + b"P1,2026-11-21,10.00,EUR,\x81\x8d,,,\n"
    path.write_bytes(body)
    bad = body.index(0x81)
    line = _one_error_line(*_cash(tmp_path, capsys, path)[::2])
    assert line == f"error: {path}: neither UTF-8 nor Windows-1252 text (byte {bad}); save it as UTF-8"
    _nothing_recorded(tmp_path)


CLAIMS_HEADER = "claim_id,customer,claim_date,reference,amount,currency,status,recovered_amount,recovered_on,reason"


@pytest.mark.parametrize(("amount", "problem"), [
    ("NaN", "amount: not an amount: 'NaN'"),
    ("1E+400", "amount: not an amount: '1E+400' is in exponent form; write plain digits"),
    ("1" * 30, "has 30 digits before the point"),
    ("2.5e3", "write 2500"),
])
def test_recoveries_claims_with_a_bad_amount(tmp_path, capsys, amount, problem):
    path = tmp_path / "claims.csv"
    path.write_text(f"{CLAIMS_HEADER}\nPA-1,100001,2026-10-01,INV-1,10.00,EUR,claimed,,,\n"
                    f"PA-2,100001,2026-10-01,INV-2,{amount},EUR,claimed,,,\n")
    disputes = tmp_path / "disputes.csv"
    disputes.write_text("case_id,customer,status,disputed_amount,currency\nK1,100001,10,10.00,EUR\n")
    code, _, err = _cli(tmp_path, capsys, "reconcile", "recoveries", "--claims", str(path), "--disputes",
                        str(disputes), "--out", str(tmp_path / "out"))
    line = _one_error_line(code, err)
    assert line.startswith(f"error: {path}, row 3: ")
    assert problem in line
    _nothing_recorded(tmp_path)


SECRET = "S3cret-Pa55"


@pytest.mark.parametrize("url", [f"https://OTC_BATCH:{SECRET}@s4.example.com",
                                 f"https://:{SECRET}@s4.example.com:44300/",
                                 f"https://s4.example.com/?sap-password={SECRET}"])
def test_odata_url_with_a_logon_is_refused_without_echoing_it(tmp_path, capsys, url):
    config = tmp_path / "sapbridge.toml"
    config.write_text(f'[systems.QAS]\nodata_url = "{url}"\nuser = "OTC_BATCH"\npassword_env = "QAS_PW"\n')
    code, out, err = _cli(tmp_path, capsys, "--config", str(config), "systems", "list", "--json")
    line = _one_error_line(code, err)
    assert "[systems.QAS]" in line
    assert "must not hold" in line
    assert SECRET not in out + err
    assert out == ""
