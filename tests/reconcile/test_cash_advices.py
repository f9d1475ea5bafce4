"""Remittance advices apart from the payment: read and checked, linked, applied by their lines."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sapbridge.cli import main
from sapbridge.config import load_settings
from sapbridge.errors import InputError
from sapbridge.reconcile.cash import CashConfig, match_payments, run_cash
from sapbridge.reconcile.cash.advices import read_advices
from sapbridge.reconcile.cash.model import CustomerRecord, OpenItem, Payment
from sapbridge.reconcile.tables import reconcile_runs

ACME, BOLT, HQ = "0000100001", "0000100002", "0000100009"
ACME_IBAN, BOLT_IBAN, HQ_IBAN = "DE02120300000000202051", "GB29NWBK60161331926819", "DE44500105175407324931"
CUSTOMERS = [
    CustomerRecord(ACME, "Acme Retail GmbH", (ACME_IBAN,)),
    CustomerRecord(BOLT, "Bolt Hardware Inc.", (BOLT_IBAN,)),
    CustomerRecord(HQ, "Acme Holding AG", (HQ_IBAN,), (ACME,)),
]
HEADER = (
    "advice_id,payer,payment_reference,payment_amount,currency,payment_date,invoice_reference,paid_amount,"
    "deduction,reason\n"
)


def _item(document: str, amount: str, customer: str = ACME, day: int = 1) -> OpenItem:
    return OpenItem(
        "1000",
        customer,
        "2026",
        document,
        "001",
        "",
        "",
        date(2026, 9, day),
        date(2026, 10, day),
        Decimal(amount),
        "EUR",
    )


ITEMS = [
    _item("0090000011", "1000.00"),
    _item("0090000012", "200.00", day=2),
    _item("0090000013", "200.00", day=3),
    _item("0090000021", "1190.00", BOLT),
]


def _pay(
    payment_id: str,
    amount: str,
    account: str = ACME_IBAN,
    remittance: str = "Payment",
    day: int = 21,
) -> Payment:
    return Payment(payment_id, date(2026, 11, day), Decimal(amount), "EUR", "", account, "", remittance)


def _advices(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "advices.csv"
    path.write_text(HEADER + rows)
    return path


def _match(payments, path: Path, config: CashConfig | None = None):
    return match_payments(payments, ITEMS, CUSTOMERS, config or CashConfig(), [], read_advices(path))


def _applied(rows):
    return sorted((r.payment_id, r.document, str(r.applied_amount), r.rule) for r in rows)


def test_advice_named_by_payment_reference_applies_its_lines_and_turns_deductions_into_short_pays(tmp_path):
    path = _advices(
        tmp_path,
        f"A1,{ACME},BANK-77,1190.00,EUR,2026-11-18,90000011,1000.00,,\n"
        f"A1,{ACME},BANK-77,1190.00,EUR,2026-11-18,90000012,190.00,10.00,DMG\n",
    )
    result = _match([_pay("BANK-77", "1190.00")], path)
    assert _applied(result.matches) == [
        ("BANK-77", "0090000011", "1000.00", "advice"),
        ("BANK-77", "0090000012", "190.00", "advice"),
    ]
    [short] = result.exceptions
    assert (short.category, short.difference) == ("short_pay", Decimal("10.00"))
    assert "reason: DMG" in short.proposed_action
    assert "1000/0090000012" in short.proposed_action
    assert [(a.advice_id, a.payment_id, a.linked_by) for a in result.advices] == [
        ("A1", "BANK-77", "payment_reference")
    ]


def test_without_the_advice_the_same_payment_is_not_split(tmp_path):
    result = match_payments([_pay("BANK-77", "1190.00")], ITEMS, CUSTOMERS, CashConfig(), [])
    assert not [m for m in result.matches if m.document == "0090000012"]


def test_advice_linked_by_amount_payer_and_date_window(tmp_path):
    path = _advices(
        tmp_path,
        f"A1,{ACME},,1200.00,EUR,2026-11-15,90000011,1000.00,,\n"
        f"A1,{ACME},,1200.00,EUR,2026-11-15,90000013,200.00,,\n",
    )
    result = _match([_pay("P1", "1200.00", day=21)], path)
    assert _applied(result.matches) == [
        ("P1", "0090000011", "1000.00", "advice"),
        ("P1", "0090000013", "200.00", "advice"),
    ]
    assert result.advices[0].linked_by == "amount_payer_date"
    late = _match([_pay("P1", "1200.00", day=30)], path)  # 15 days after the advice: outside the window
    assert late.advices[0].payment_id == ""
    assert "within the date window" in late.advices[0].detail
    assert not [m for m in late.matches if m.rule == "advice"]


def test_an_advice_from_another_payer_is_not_linked_by_amount(tmp_path):
    path = _advices(tmp_path, f"A1,{BOLT},,1200.00,EUR,2026-11-20,90000011,1200.00,,\n")
    result = _match([_pay("P1", "1200.00")], path)
    assert result.advices[0].payment_id == ""
    assert not [m for m in result.matches if m.rule == "advice"]


def test_two_payments_fitting_one_advice_link_neither(tmp_path):
    path = _advices(tmp_path, f"A1,{ACME},,200.00,EUR,2026-11-20,90000012,200.00,,\n")
    result = _match([_pay("P1", "200.00"), _pay("P2", "200.00", day=22)], path)
    assert (result.advices[0].payment_id, result.advices[0].detail) == ("", "several payments fit")
    assert not [m for m in result.matches if m.rule == "advice"]


def test_unknown_invoice_reference_is_an_exception_and_the_rest_applies(tmp_path):
    path = _advices(
        tmp_path,
        f"A1,{ACME},P1,1300.00,EUR,,90000011,1000.00,,\nA1,{ACME},P1,1300.00,EUR,,90000099,300.00,,\n",
    )
    result = _match([_pay("P1", "1300.00")], path)
    assert _applied(result.matches) == [("P1", "0090000011", "1000.00", "advice")]
    [unknown] = result.exceptions
    assert unknown.category == "unapplied"
    assert unknown.difference == Decimal("300.00")
    assert "90000099" in unknown.detail


def test_an_advice_line_naming_an_item_of_a_customer_the_payer_does_not_pay_for(tmp_path):
    path = _advices(tmp_path, f"A1,{ACME},P1,1190.00,EUR,,90000021,1190.00,,\n")
    result = _match([_pay("P1", "1190.00")], path)
    assert not [m for m in result.matches if m.document == "0090000021"]
    assert [e.category for e in result.exceptions] == ["unapplied"]


def test_head_office_advice_for_its_branch(tmp_path):
    path = _advices(tmp_path, f"A1,{HQ},,1000.00,EUR,2026-11-20,90000011,1000.00,,\n")
    result = _match([_pay("P1", "1000.00", account=HQ_IBAN)], path)
    assert _applied(result.matches) == [("P1", "0090000011", "1000.00", "advice")]


def test_advice_whose_payer_contradicts_the_bank_is_only_suggested(tmp_path):
    path = _advices(tmp_path, f"A1,{BOLT},P1,1000.00,EUR,,90000021,1000.00,,\n")
    result = _match([_pay("P1", "1000.00", account=ACME_IBAN)], path)
    assert not result.matches
    assert _applied(result.suggestions) == [("P1", "0090000021", "1000.00", "advice")]
    assert "ambiguous" in [e.category for e in result.exceptions]


def test_payment_named_by_the_advice_with_another_amount_is_not_linked(tmp_path):
    path = _advices(tmp_path, f"A1,{ACME},P1,1200.00,EUR,,90000011,1200.00,,\n")
    result = _match([_pay("P1", "1000.00")], path)
    assert result.advices[0].payment_id == ""
    assert "differs" in result.advices[0].detail


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            f"A1,{ACME},P1,1200.00,EUR,,90000011,1000.00,,\nA1,{ACME},P1,1200.00,EUR,,90000012,100.00,,\n",
            "row 2: advice A1: paid amounts of its lines add up to 1100.00, not to the payment amount 1200.00",
        ),
        (
            f"A1,{ACME},P1,1200.00,EUR,,90000011,1000.00,,\nA1,{ACME},P1,1200.00,USD,,90000012,200.00,,\n",
            "row 3: advice A1: mixed currencies (EUR on row 2, USD here)",
        ),
        (
            f"A1,{ACME},P1,200.00,EUR,,90000012,190.00,10.00,\n",
            "row 2: advice A1: deduction 10.00 without a reason code",
        ),
        (
            f"A1,{ACME},P1,200.00,EUR,,90000012,210.00,-10.00,DMG\n",
            "a deduction is written as a positive amount",
        ),
        (f"A1,{ACME},P1,200.00,EUR,,,200.00,,\n", "paid_amount 200.00 names no invoice_reference"),
    ],
)
def test_bad_advice_files_are_refused_naming_advice_and_row(tmp_path, rows, message):
    path = _advices(tmp_path, rows)
    with pytest.raises(InputError) as error:
        read_advices(path)
    assert message in str(error.value)


BANK = "payment_id,value_date,amount,currency,payer_name,payer_account,customer,remittance\n"
ITEMS_CSV = (
    "company_code,customer,fiscal_year,document,item,reference,assignment,posting_date,due_date,amount,currency\n"
    f"1000,{ACME},2026,0090000011,001,,,2026-09-01,2026-10-01,1000.00,EUR\n"
    f"1000,{ACME},2026,0090000012,001,,,2026-09-02,2026-10-02,200.00,EUR\n"
)
CUSTOMERS_CSV = f"customer,name,account\n{ACME},Acme Retail GmbH,{ACME_IBAN}\n"


def _inputs(tmp_path: Path, advices: str) -> dict[str, Path]:
    paths = {
        "payments": tmp_path / "bank.csv",
        "items": tmp_path / "items.csv",
        "customers": tmp_path / "customers.csv",
        "advices": _advices(tmp_path, advices),
    }
    paths["payments"].write_text(
        BANK + f"P1,2026-11-21,1190.00,EUR,,{ACME_IBAN},,thanks\nP2,2026-11-21,55.00,EUR,,{ACME_IBAN},,\n"
    )
    paths["items"].write_text(ITEMS_CSV)
    paths["customers"].write_text(CUSTOMERS_CSV)
    return paths


def test_run_cash_with_advices_writes_advices_csv(store, tmp_path):
    paths = _inputs(
        tmp_path,
        f"A1,{ACME},P1,1190.00,EUR,,90000011,1000.00,,\n"
        f"A1,{ACME},P1,1190.00,EUR,,90000012,190.00,10.00,PRC\n"
        f"A2,{ACME},P9,500.00,EUR,2026-11-01,90000012,500.00,,\n",
    )
    result = run_cash(
        store,
        load_settings(None),
        system="demo",
        payments=paths["payments"],
        out=tmp_path / "out",
        open_items=paths["items"],
        customers=paths["customers"],
        advices=paths["advices"],
    )
    assert result.summary["advices"] == {"given": 2, "linked": 1, "unlinked": 1}
    with (tmp_path / "out" / "advices.csv").open(newline="") as handle:
        rows = [(r["advice_id"], r["payment_id"], r["linked_by"]) for r in csv.DictReader(handle)]
    assert rows == [("A1", "P1", "payment_reference"), ("A2", "", "")]
    assert result.summary["exceptions"]["short_pay"] == 1


def test_cli_refuses_a_bad_advice_file_in_one_line_and_records_no_run(tmp_path, capsys):
    paths = _inputs(
        tmp_path,
        f"A1,{ACME},P1,1190.00,EUR,,90000011,1000.00,,\nA1,{ACME},P1,1190.00,USD,,90000012,190.00,,\n",
    )
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    args = [
        "--db",
        db,
        "reconcile",
        "cash",
        "--payments",
        str(paths["payments"]),
        "--open-items",
        str(paths["items"]),
        "--customers",
        str(paths["customers"]),
        "--advices",
        str(paths["advices"]),
        "--out",
        str(tmp_path / "o"),
    ]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {paths['advices']}, row 3: advice A1: mixed currencies (EUR on row 2, USD here)"
    assert not (tmp_path / "o").exists()
    from sapbridge.store import open_store

    store = open_store(db)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reconcile_runs)).scalar_one() == 0
    store.dispose()


def test_two_advices_naming_one_payment_link_only_the_first(tmp_path):
    path = _advices(tmp_path, f"A1,{ACME},P1,200.00,EUR,,90000012,200.00,,\nA2,{ACME},P1,200.00,EUR,,90000013,200.00,,\n")
    result = _match([_pay("P1", "200.00")], path)
    assert [(a.advice_id, a.payment_id) for a in result.advices] == [("A1", "P1"), ("A2", "")]
    assert "named by another advice" in result.advices[1].detail
    assert _applied(result.matches) == [("P1", "0090000012", "200.00", "advice")]


def test_the_cash_job_step_takes_advices(sqlite_store, tmp_path):
    from datetime import date as day

    from sapbridge.app import Bridge
    from sapbridge.jobs.steps import STEP_KINDS, StepContext

    paths = _inputs(tmp_path, f"A1,{ACME},P1,1190.00,EUR,,90000011,1000.00,,\nA1,{ACME},P1,1190.00,EUR,,90000012,190.00,10.00,PRC\n")
    bridge = Bridge.over(sqlite_store, load_settings(None), actor="ops", run_id="r-1")
    ctx = StepContext(bridge=bridge, job="nightly", system="demo", company_codes=(),
                      run_id="r-1", run_date=day(2026, 11, 23), actor="ops", root=tmp_path, position=1)
    options = {"payments": str(paths["payments"]), "open_items": str(paths["items"]),
               "customers": str(paths["customers"]), "advices": str(paths["advices"]), "out": "out/{run_id}"}
    kind = STEP_KINDS["reconcile_cash"]
    assert kind.problems(options) == []
    outcome = kind.run(ctx, options)
    assert outcome.counts["advices"] == {"given": 1, "linked": 1, "unlinked": 0}
    assert (tmp_path / "out" / "r-1" / "advices.csv").is_file()


def test_advices_from_xlsx_read_like_csv(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["A1", ACME, "BANK-77", "1190.00", "EUR", "2026-11-18", "90000011", "1000.00", None, None])
    sheet.append(["A1", ACME, "BANK-77", "1190.00", "EUR", "2026-11-18", "90000012", "190.00", "10.00", "DMG"])
    path = tmp_path / "advices.xlsx"
    book.save(path)
    result = _match([_pay("BANK-77", "1190.00")], path)
    assert _applied(result.matches) == [("BANK-77", "0090000011", "1000.00", "advice"),
                                        ("BANK-77", "0090000012", "190.00", "advice")]
    assert [e.category for e in result.exceptions] == ["short_pay"]
