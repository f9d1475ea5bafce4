"""Several sets of items fit the amount: the documented tie-breaks, and the payment-order habit
learned at confirm (and forgotten again)."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sapbridge.audit.tables import audit_log
from sapbridge.cli import cli
from sapbridge.config import load_settings
from sapbridge.errors import InputError
from sapbridge.reconcile.cash import CashConfig, confirm_matches, match_payments, run_cash
from sapbridge.reconcile.cash.habit_admin import forget_habits, list_habits
from sapbridge.reconcile.cash.model import CustomerRecord, OpenItem, Payment
from sapbridge.reconcile.cash.reference_habits import ReferenceHabit

ACME = "0000100001"
CUSTOMERS = [CustomerRecord(ACME, "Acme Retail GmbH")]


def _item(document: str, amount: str, posted: int, due: int, reference: str = "") -> OpenItem:
    return OpenItem(
        "1000",
        ACME,
        "2026",
        document,
        "001",
        reference,
        "",
        date(2026, 9, posted),
        date(2026, 10, due),
        Decimal(amount),
        "EUR",
    )


def _result(items, remittance: str = "", amount: str = "200.00", habits=()):
    payment = Payment("P1", date(2026, 11, 21), Decimal(amount), "EUR", "", "", ACME, remittance)
    return match_payments([payment], items, CUSTOMERS, CashConfig(), list(habits))


def _match(items, remittance: str = "", amount: str = "200.00", habits=()):
    result = _result(items, remittance, amount, habits)
    return (sorted((m.document, m.rule) for m in result.matches), [e.category for e in result.exceptions])


def _suggested(items):
    """A shared due date or billing run makes one suggestion: no auto-match, no question."""
    result = _result(items)
    assert result.matches == []
    assert result.exceptions == []
    return sorted((s.document, s.rule, str(s.confidence)) for s in result.suggestions)


def test_one_set_sharing_a_due_date():
    items = [
        _item("0090000001", "100.00", 1, 5),
        _item("0090000002", "100.00", 2, 5),
        _item("0090000003", "100.00", 3, 9),
    ]
    assert _suggested(items) == [
        ("0090000001", "combination_due_date", "0.85"),
        ("0090000002", "combination_due_date", "0.85"),
    ]


def test_one_set_from_one_billing_run():
    items = [
        _item("0090000001", "100.00", 4, 5),
        _item("0090000002", "100.00", 4, 8),
        _item("0090000003", "100.00", 3, 9),
    ]
    assert _suggested(items) == [
        ("0090000001", "combination_billing_run", "0.85"),
        ("0090000002", "combination_billing_run", "0.85"),
    ]


def test_the_remittance_partial_digits_name_the_set():
    items = [
        _item("0090007316", "100.00", 1, 5),
        _item("0090007317", "100.00", 2, 5),
        _item("0090007318", "100.00", 3, 9),
    ]
    assert _match(items, "inv ...316 and ...318") == (
        [("0090007316", "combination_partial_digits"), ("0090007318", "combination_partial_digits")],
        [],
    )


def test_partial_digits_pick_one_of_equal_single_items():
    items = [_item("0090007316", "200.00", 1, 5), _item("0090007317", "200.00", 2, 6)]
    assert _match(items, "our ref 7317") == ([("0090007317", "exact_amount_partial_digits")], [])


def test_no_tie_break_deciding_stays_ambiguous():
    items = [
        _item("0090000001", "100.00", 1, 5),
        _item("0090000002", "100.00", 2, 6),
        _item("0090000003", "100.00", 3, 7),
    ]
    assert _match(items) == ([], ["ambiguous"])
    # partial digits that fit two sets decide nothing either
    assert _match(items, "1 2 3 0001 0002 0003") == ([], ["ambiguous"])


def test_a_confirmed_payment_order_decides_once_confirmed_twice():
    items = [
        _item("0090000001", "100.00", 1, 5),
        _item("0090000002", "100.00", 2, 6),
        _item("0090000003", "100.00", 3, 7),
    ]
    once = [ReferenceHabit(ACME, "payment_order", "oldest_first", 1)]
    assert _match(items, habits=once) == ([], ["ambiguous"])
    twice = [ReferenceHabit(ACME, "payment_order", "oldest_first", 2)]
    assert _match(items, habits=twice) == (
        [("0090000001", "combination_habit"), ("0090000002", "combination_habit")],
        [],
    )


def test_payment_order_habit_of_another_customer_is_not_used():
    items = [
        _item("0090000001", "100.00", 1, 5),
        _item("0090000002", "100.00", 2, 6),
        _item("0090000003", "100.00", 3, 7),
    ]
    assert _match(items, habits=[ReferenceHabit("0000100002", "payment_order", "oldest_first", 5)]) == (
        [],
        ["ambiguous"],
    )


HEADER = "company_code,customer,fiscal_year,document,item,reference,assignment,posting_date,due_date,amount,currency\n"


def _line(document: str, amount: str, day: int) -> str:
    return f"1000,{ACME},2026,{document},001,,,2026-09-{day:02d},2026-10-{day:02d},{amount},EUR\n"


def _run(store, tmp_path: Path, name: str, items: list[str], amount: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "items.csv").write_text(HEADER + "".join(items))
    (folder / "customers.csv").write_text(f"customer,name,account\n{ACME},Acme Retail GmbH,\n")
    (folder / "bank.csv").write_text(
        "payment_id,value_date,amount,currency,payer_name,payer_account,customer,"
        f"remittance\n{name}-P,2026-11-21,{amount},EUR,,,{ACME},\n"
    )
    run_cash(
        store,
        load_settings(None),
        system="demo",
        payments=folder / "bank.csv",
        out=folder / "out",
        open_items=folder / "items.csv",
        customers=folder / "customers.csv",
        actor="clerk",
    )
    return folder / "out"


def _rules(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="") as handle:
        return [(r["document"], r["rule"]) for r in csv.DictReader(handle)]


EQUAL = [_line("0090000051", "100.00", 1), _line("0090000052", "100.00", 2), _line("0090000053", "100.00", 3)]


def _learn_oldest_first(store, tmp_path: Path) -> None:
    first = _run(
        store,
        tmp_path,
        "m1",
        [_line("0090000011", "80.00", 1), _line("0090000012", "250.00", 2), _line("0090000013", "300.00", 3)],
        "80.00",
    )
    confirm_matches(store, system="demo", matches=first / "matches.csv", actor="lead")
    second = _run(
        store,
        tmp_path,
        "m2",
        [_line("0090000012", "250.00", 2), _line("0090000013", "300.00", 3), _line("0090000014", "90.00", 4)],
        "250.00",
    )
    confirm_matches(store, system="demo", matches=second / "matches.csv", actor="lead")


def test_payment_order_learned_at_confirm_decides_the_next_tie(store, tmp_path):
    before = _run(store, tmp_path, "m0", EQUAL, "200.00")
    assert _rules(before / "matches.csv") == []
    _learn_oldest_first(store, tmp_path)
    orders = [(h.field, h.pattern, h.confirmations) for h in list_habits(store, "demo", ACME)]
    assert orders == [("payment_order", "due_first", 2), ("payment_order", "oldest_first", 2)]
    after = _run(store, tmp_path, "m3", EQUAL, "200.00")
    assert _rules(after / "matches.csv") == [
        ("0090000051", "combination_habit"),
        ("0090000052", "combination_habit"),
    ]


def test_a_payment_that_was_not_the_oldest_teaches_no_order(store, tmp_path):
    out = _run(
        store, tmp_path, "m1", [_line("0090000011", "80.00", 1), _line("0090000012", "250.00", 2)], "250.00"
    )
    assert _rules(out / "matches.csv") == [("0090000012", "exact_amount")]
    confirm_matches(store, system="demo", matches=out / "matches.csv", actor="lead")
    assert list_habits(store, "demo", ACME) == []


def test_forgetting_the_habit_brings_the_question_back_and_is_audited(store, tmp_path):
    _learn_oldest_first(store, tmp_path)
    gone = forget_habits(store, system="demo", customer="100001", actor="lead", field="payment_order")
    assert sorted(h.pattern for h in gone) == ["due_first", "oldest_first"]
    assert list_habits(store, "demo", ACME) == []
    again = _run(store, tmp_path, "m3", EQUAL, "200.00")
    assert _rules(again / "matches.csv") == []
    with store.engine.connect() as conn:
        actions = [
            r.action
            for r in conn.execute(
                select(audit_log.c.action, audit_log.c.customer).where(
                    audit_log.c.action == "cash_habit_forget"
                )
            )
        ]
    assert actions == ["cash_habit_forget"]
    with pytest.raises(InputError, match="no such habit"):
        forget_habits(store, system="demo", customer=ACME, actor="lead", field="payment_order")
    with pytest.raises(InputError, match="say which habit"):
        forget_habits(store, system="demo", customer=ACME, actor="lead")


def test_habits_cli_lists_and_forgets(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    from sapbridge.store import open_store

    store = open_store(db)
    _learn_oldest_first(store, tmp_path)
    store.dispose()
    runner = CliRunner()
    listed = runner.invoke(cli, ["--db", db, "reconcile", "habits", "list", "--json"], catch_exceptions=False)
    assert listed.exit_code == 0, listed.output
    assert '"pattern": "oldest_first"' in listed.output
    forgot = runner.invoke(
        cli,
        [
            "--db",
            db,
            "reconcile",
            "habits",
            "forget",
            "--customer",
            ACME,
            "--field",
            "payment_order",
            "--pattern",
            "oldest_first",
        ],
        catch_exceptions=False,
    )
    assert forgot.exit_code == 0, forgot.output
    left = runner.invoke(cli, ["--db", db, "reconcile", "habits", "list", "--json"], catch_exceptions=False)
    assert "oldest_first" not in left.output
    assert "due_first" in left.output
