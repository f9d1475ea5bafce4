"""Reference habits: learned at cash-confirm from what a person approved, used by the next run."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sapbridge.cli import cli
from sapbridge.config import load_settings
from sapbridge.reconcile.cash import CashConfig, confirm_matches, match_payments, run_cash
from sapbridge.reconcile.cash.model import CustomerRecord, Habit, OpenItem, Payment
from sapbridge.reconcile.cash.reference_habits import ReferenceHabit, explain
from sapbridge.reconcile.cash.tables import cash_reference_habits

ACME, BOLT = "0000300001", "0000300002"
ACME_ACCOUNT, BOLT_ACCOUNT = "DE02120300000000202051", "GB29NWBK60161331926819"
ITEM_HEADER = ("company_code,customer,fiscal_year,document,item,reference,assignment,posting_date,due_date,"
               "amount,currency\n")
CUSTOMERS = f"customer,name,account\n{ACME},Acme Retail GmbH,{ACME_ACCOUNT}\n{BOLT},Bolt Hardware Inc.,{BOLT_ACCOUNT}\n"
PAYMENT_HEADER = "payment_id,value_date,amount,currency,payer_name,payer_account,customer,remittance\n"


def _line(customer: str, document: str, assignment: str, day: int, amount: str = "100.00",
          reference: str = "") -> str:
    return f"1000,{customer},2026,{document},001,{reference},{assignment},2026-09-{day:02d},2026-10-{day:02d},{amount},EUR\n"


def _pay(payment_id: str, account: str, remittance: str, amount: str = "100.00") -> str:
    return f"{payment_id},2026-11-21,{amount},EUR,,{account},,{remittance}\n"


def _run(store, tmp_path: Path, name: str, items: list[str], payments: list[str]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "items.csv").write_text(ITEM_HEADER + "".join(items))
    (folder / "customers.csv").write_text(CUSTOMERS)
    (folder / "bank.csv").write_text(PAYMENT_HEADER + "".join(payments))
    run_cash(store, load_settings(None), system="demo", payments=folder / "bank.csv", out=folder / "out",
             open_items=folder / "items.csv", customers=folder / "customers.csv", actor="tester")
    return folder / "out"


def _rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(newline="") as handle:
        return [(r["payment_id"], r["document"], r["applied_amount"], r["currency"], r["rule"], r["confidence"])
                for r in csv.DictReader(handle)]


def _habits(store) -> list[tuple[str, str, str, int]]:
    h = cash_reference_habits.c
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(h.customer, h.field, h.pattern, h.confirmations).order_by(h.customer, h.field))]


ACME_POS = [_line(ACME, "0090000011", "PO-4711", 1), _line(ACME, "0090000012", "PO-4712", 2),
            _line(ACME, "0090000013", "PO-4713", 3)]
BOLT_POS = [_line(BOLT, "0090000022", "PO-4722", 1), _line(BOLT, "0090000021", "PO-4712", 2)]


def test_po_habit_is_learned_from_a_confirmed_suggestion_and_auto_matches_the_next_payment(store, tmp_path):
    first = _run(store, tmp_path, "first", ACME_POS, [_pay("P1", ACME_ACCOUNT, "PO 4711")])
    assert _rows(first / "matches.csv") == []
    assert _rows(first / "suggestions.csv") == [("P1", "0090000011", "100.00", "EUR", "exact_amount", "0.50")]

    learned = confirm_matches(store, system="demo", matches=first / "suggestions.csv", actor="lead")
    assert learned.reference_habits_learned == 1
    assert _habits(store) == [(ACME, "assignment", "digits", 1)]

    # 0090000011 is cleared now; 12 and 13 have the same amount, so only the PO tells them apart.
    second = _run(store, tmp_path, "second", ACME_POS[1:] + BOLT_POS,
                  [_pay("P2", ACME_ACCOUNT, "Order PO 4713"), _pay("P3", BOLT_ACCOUNT, "PO 4712")])
    assert _rows(second / "matches.csv") == [("P2", "0090000013", "100.00", "EUR", "reference_habit", "0.92")]
    # Bolt has no habit: Acme's is not used for it, so Bolt's equal amounts stay a suggestion.
    assert _rows(second / "suggestions.csv") == [("P3", "0090000022", "100.00", "EUR", "exact_amount", "0.50")]


def test_each_confirmed_payment_adds_a_confirmation(store, tmp_path):
    first = _run(store, tmp_path, "first", ACME_POS, [_pay("P1", ACME_ACCOUNT, "PO 4711")])
    confirm_matches(store, system="demo", matches=first / "suggestions.csv", actor="lead")
    second = _run(store, tmp_path, "second", ACME_POS[1:], [_pay("P2", ACME_ACCOUNT, "PO 4713")])
    confirm_matches(store, system="demo", matches=second / "matches.csv", actor="lead")
    assert _habits(store) == [(ACME, "assignment", "digits", 2)]
    third = _run(store, tmp_path, "third", [*ACME_POS[1:2], _line(ACME, "0090000014", "PO-4714", 4)],
                 [_pay("P4", ACME_ACCOUNT, "PO 4714")])
    assert _rows(third / "matches.csv") == [("P4", "0090000014", "100.00", "EUR", "reference_habit", "0.94")]


def test_a_match_the_text_does_not_explain_teaches_no_reference_habit(store, tmp_path):
    items = [_line(ACME, "0090000031", "PO-5001", 1, "250.00"), _line(ACME, "0090000032", "PO-5002", 2, "75.00")]
    out = _run(store, tmp_path, "first", items,
               [_pay("P1", ACME_ACCOUNT, "Thank you 4711", "250.00"), _pay("P2", ACME_ACCOUNT, "INV 90000032", "75.00")])
    assert _rows(out / "matches.csv") == [("P2", "0090000032", "75.00", "EUR", "reference", "0.99"),
                                          ("P1", "0090000031", "250.00", "EUR", "exact_amount", "0.97")]
    learned = confirm_matches(store, system="demo", matches=out / "matches.csv", actor="lead")
    assert (learned.found, learned.reference_habits_learned) == (2, 0)
    assert _habits(store) == []


def test_truncated_invoice_number_habit(store, tmp_path):
    items = [_line(ACME, "0090001234", "", 1, reference="R-77"), _line(ACME, "0090005678", "", 2, reference="R-78"),
             _line(ACME, "0090009999", "", 3, reference="R-79")]
    first = _run(store, tmp_path, "first", items, [_pay("P1", ACME_ACCOUNT, "Inv 1234")])
    # Three equal amounts: the trailing digits single one out (a tie-break), and confirming
    # that match teaches the habit, so the next time the habit rule finds it first.
    assert _rows(first / "matches.csv") == [("P1", "0090001234", "100.00", "EUR", "exact_amount_partial_digits",
                                             "0.93")]
    confirm_matches(store, system="demo", matches=first / "matches.csv", actor="lead")
    # The item was also Acme's oldest of three: one confirmation of that payment order too.
    assert sorted(_habits(store)) == [(ACME, "document", "last:4", 1), (ACME, "payment_order", "due_first", 1),
                                      (ACME, "payment_order", "oldest_first", 1)]

    second = _run(store, tmp_path, "second", items[1:] + BOLT_POS,
                  [_pay("P2", ACME_ACCOUNT, "Inv 9999"), _pay("P3", BOLT_ACCOUNT, "Inv 9999")])
    assert _rows(second / "matches.csv") == [("P2", "0090009999", "100.00", "EUR", "reference_habit", "0.92")]
    # Acme's habit and item are not used for Bolt, whose equal amounts stay a suggestion.
    assert _rows(second / "suggestions.csv") == [("P3", "0090000022", "100.00", "EUR", "exact_amount", "0.50")]


def _item(document: str, amount: str, customer: str = ACME, currency: str = "EUR", assignment: str = "",
          due: int = 1) -> OpenItem:
    return OpenItem("1000", customer, "2026", document, "001", "", assignment, date(2026, 9, due),
                    date(2026, 10, due), Decimal(amount), currency)


def _payment(payment_id: str, amount: str, remittance: str, customer: str = ACME, currency: str = "EUR") -> Payment:
    return Payment(payment_id, date(2026, 11, 21), Decimal(amount), currency, "", "", customer, remittance)


def _match(payments, items, habits):
    customers = [CustomerRecord(ACME, "Acme Retail GmbH"), CustomerRecord(BOLT, "Bolt Hardware Inc.")]
    result = match_payments(payments, items, customers, CashConfig(), habits)
    return ([(a.payment_id, a.document, str(a.applied_amount), a.currency, a.rule, str(a.confidence))
             for a in result.matches],
            [(a.payment_id, a.document, a.rule) for a in result.suggestions])


def test_habit_never_crosses_currencies_or_customers():
    habit = ReferenceHabit(ACME, "assignment", "digits", 3)
    items = [_item("0090000041", "100.00", assignment="PO-4711", due=1),
             _item("0090000042", "100.00", assignment="PO-4712", due=2),
             _item("0090000043", "100.00", currency="USD", assignment="PO-4712", due=3),
             _item("0090000044", "100.00", currency="USD", assignment="PO-4713", due=4),
             _item("0090000045", "100.00", BOLT, assignment="PO-4715", due=5),
             _item("0090000046", "100.00", BOLT, assignment="PO-4716", due=6)]
    payments = [_payment("P1", "100.00", "PO 4712", currency="USD"),
                _payment("P2", "100.00", "PO 4716", customer=BOLT)]
    matches, suggestions = _match(payments, items, [habit, Habit("name", "acme retail gmbh", ACME)])
    assert matches == [("P1", "0090000043", "100.00", "USD", "reference_habit", "0.96")]
    assert suggestions == [("P2", "0090000045", "exact_amount")]


def test_habit_settles_several_named_items_and_their_unique_subset():
    habit = ReferenceHabit(ACME, "assignment", "digits", 1)
    items = [_item("0090000051", "100.00", assignment="PO-4711", due=1),
             _item("0090000052", "40.00", assignment="PO-4712", due=2),
             _item("0090000053", "60.00", assignment="PO-4713", due=3),
             _item("0090000054", "100.00", assignment="PO-4714", due=4),
             _item("0090000055", "25.00", assignment="PO-4715", due=5)]
    matches, suggestions = _match([_payment("P1", "100.00", "PO 4712 PO 4713"),
                                   _payment("P2", "25.00", "PO 4714, PO 4715")], items, [habit])
    assert matches == [("P1", "0090000052", "40.00", "EUR", "reference_habit", "0.92"),
                       ("P1", "0090000053", "60.00", "EUR", "reference_habit", "0.92"),
                       ("P2", "0090000055", "25.00", "EUR", "reference_habit", "0.92")]
    assert suggestions == []


def test_habit_short_and_over_payments_are_applied_like_a_reference():
    habit = ReferenceHabit(ACME, "assignment", "digits", 1)
    items = [_item("0090000061", "100.00", assignment="PO-4761", due=1),
             _item("0090000062", "100.00", assignment="PO-4762", due=2),
             _item("0090000063", "100.00", assignment="PO-4763", due=3)]
    customers = [CustomerRecord(ACME, "Acme Retail GmbH")]
    result = match_payments([_payment("P1", "70.00", "PO 4762"), _payment("P2", "130.00", "PO 4763")],
                            items, customers, CashConfig(), [habit])
    assert [(a.payment_id, a.document, str(a.applied_amount), a.rule, str(a.confidence))
            for a in result.matches] == [("P1", "0090000062", "70.00", "reference_habit", "0.92"),
                                         ("P2", "0090000063", "100.00", "reference_habit", "0.92")]
    assert [(e.payment_id, e.category, str(e.difference)) for e in result.exceptions] == [
        ("P1", "short_pay", "30.00"), ("P2", "over_pay", "30.00")]


def test_own_prefix_habit_is_learned_and_applied():
    learned_from = _item("0090001234", "100.00")
    assert explain("Payment 2026-90001234", learned_from, 6) == ("document", "affix:2026|")
    habit = ReferenceHabit(ACME, "document", "affix:2026|", 1)
    items = [_item("0090004321", "100.00", due=1), _item("0090005555", "100.00", due=2)]
    matches, _ = _match([_payment("P1", "100.00", "Payment 2026/90005555")], items, [habit])
    assert matches == [("P1", "0090005555", "100.00", "EUR", "reference_habit", "0.92")]


@pytest.mark.parametrize(("remittance", "expected"), [
    ("PO 4711", ("assignment", "digits")),
    ("Inv 1234", ("document", "last:4")),
    ("KD90001234X", ("document", "digits")),
    ("INV 90001234", None),           # the reference rule reads it already
    ("ACME-INV/90001234-X", None),    # so does this
    ("PO 4711/2", None),              # another number: explains nothing
    ("Zahlung 1.234,00", None),       # an amount is not a reference
    ("Inv 234", None),                # three digits are too few to learn from
])
def test_explain_finds_the_field_and_pattern(remittance, expected):
    item = OpenItem("1000", ACME, "2026", "0090001234", "001", "R-77", "PO-4711", None, None,
                    Decimal("1.00"), "EUR")
    assert explain(remittance, item, 6) == expected


def test_cash_confirm_cli_reports_reference_habits(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "items.csv").write_text(ITEM_HEADER + "".join(ACME_POS))
    (folder / "customers.csv").write_text(CUSTOMERS)
    (folder / "bank.csv").write_text(PAYMENT_HEADER + _pay("P1", ACME_ACCOUNT, "PO 4711"))
    db = ["--db", f"sqlite:///{tmp_path / 'cli.db'}", "reconcile"]
    ran = CliRunner().invoke(cli, [*db, "cash", "--payments", str(folder / "bank.csv"), "--open-items",
                                   str(folder / "items.csv"), "--customers", str(folder / "customers.csv"),
                                   "--out", str(tmp_path / "out")], catch_exceptions=False)
    assert ran.exit_code == 0, ran.output
    confirmed = CliRunner().invoke(cli, [*db, "cash-confirm", "--matches", str(tmp_path / "out" / "suggestions.csv"),
                                         "--json"], catch_exceptions=False)
    assert confirmed.exit_code == 0, confirmed.output
    assert json.loads(confirmed.output) == {"rows": 1, "found": 1, "habits_learned": 1,  # account; no name
                                            "reference_habits_learned": 1}
