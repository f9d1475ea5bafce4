"""Each rule on small hand-built cases with known answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from sapbridge.reconcile.cash import CashConfig, match_payments
from sapbridge.reconcile.cash.combos import find_combinations
from sapbridge.reconcile.cash.config import load_config
from sapbridge.reconcile.cash.model import CustomerRecord, Habit, OpenItem, Payment

ACME, BOLT = "0000100001", "0000100002"
CUSTOMERS = [CustomerRecord(ACME, "Acme Retail GmbH", ("DE02120300000000202051",)),
             CustomerRecord(BOLT, "Bolt Hardware Inc.", ("GB29NWBK60161331926819",))]


def item(document: str, amount: str, customer: str = ACME, currency: str = "EUR", due: int = 1,
         reference: str = "") -> OpenItem:
    return OpenItem("1000", customer, "2026", document, "001", reference, "", date(2026, 9, due),
                    date(2026, 10, due), Decimal(amount), currency)


def pay(payment_id: str, amount: str, remittance: str = "", *, customer: str = "", account: str = "",
        name: str = "", currency: str = "EUR") -> Payment:
    return Payment(payment_id, date(2026, 11, 21), Decimal(amount), currency, name, account, customer, remittance)


def run(payments, items, habits=(), config=None):
    return match_payments(payments, items, CUSTOMERS, config or CashConfig(), list(habits))


def applied(rows):
    return sorted((r.payment_id, r.document, str(r.applied_amount), r.rule) for r in rows)


def test_reference_with_ocr_noise_and_prefix_clears_the_invoice():
    items = [item("0090012345", "1000.00"), item("0090012346", "1000.00")]
    result = run([pay("P1", "1000.00", "Zahlung RI 9OO1-2346 EUR 1.000,00", account="DE02 1203 0000 0000 2020 51")],
                 items)
    assert applied(result.matches) == [("P1", "0090012346", "1000.00", "reference")]
    assert result.matches[0].confidence == Decimal("0.99")
    assert result.payers["P1"].how == "account"
    assert not result.exceptions
    assert not result.suggestions


def test_exact_amount_for_one_identified_customer():
    items = [item("0090000001", "250.00"), item("0090000002", "99.90"), item("0090000003", "99.90", BOLT)]
    result = run([pay("P1", "99.90", "thanks", customer="100001")], items)
    assert applied(result.matches) == [("P1", "0090000002", "99.90", "exact_amount")]


def test_equal_amounts_of_one_customer_are_only_suggested():
    items = [item("0090000001", "99.90", due=5), item("0090000002", "99.90", due=2)]
    result = run([pay("P1", "99.90", customer=ACME)], items)
    assert not result.matches
    assert applied(result.suggestions) == [("P1", "0090000002", "99.90", "exact_amount")]
    assert [e.category for e in result.exceptions] == ["ambiguous"]


def test_one_payment_for_several_invoices_and_a_credit_memo():
    items = [item("0090000001", "100.00"), item("0090000002", "230.00"), item("0090000003", "-30.00"),
             item("0090000004", "555.55")]
    result = run([pay("P1", "300.00", name="ACME RETAIL GMBH")], items)
    assert applied(result.matches) == [("P1", "0090000001", "100.00", "combination"),
                                       ("P1", "0090000002", "230.00", "combination"),
                                       ("P1", "0090000003", "-30.00", "combination")]


def test_many_payments_for_one_invoice():
    items = [item("0090000001", "1000.00")]
    payments = [pay("P1", "400.00", "INV 90000001 part 1", customer=ACME),
                pay("P2", "600.00", "INV 90000001 rest", customer=ACME)]
    result = run(payments, items)
    assert applied(result.matches) == [("P1", "0090000001", "400.00", "many_to_one"),
                                       ("P2", "0090000001", "600.00", "many_to_one")]
    assert not result.exceptions


def test_short_pay_is_applied_partially_with_a_dispute_proposal():
    items = [item("0090000001", "1000.00")]
    result = run([pay("P1", "850.00", "INV 90000001 damaged", customer=ACME)], items)
    assert applied(result.matches) == [("P1", "0090000001", "850.00", "reference_partial")]
    (exception,) = result.exceptions
    assert exception.category == "short_pay"
    assert exception.difference == Decimal("150.00")
    assert "dispute case" in exception.proposed_action
    assert "1000/0090000001" in exception.proposed_action


def test_difference_within_tolerance_clears_and_is_reported():
    items = [item("0090000001", "1000.00")]
    result = run([pay("P1", "997.50", "INV 90000001", customer=ACME)], items)
    assert applied(result.matches) == [("P1", "0090000001", "1000.00", "reference")]
    assert result.tolerance_differences == {"EUR": Decimal("-2.50")}


def test_tolerance_is_the_smaller_of_amount_and_percent():
    config = load_config({"tolerance": {"percent": "0.1", "default": "5.00"}})
    items = [item("0090000001", "1000.00")]
    result = run([pay("P1", "997.50", "INV 90000001", customer=ACME)], items, config=config)
    assert applied(result.matches) == [("P1", "0090000001", "997.50", "reference_partial")]
    assert result.exceptions[0].category == "short_pay"


def test_over_payment_goes_on_account():
    items = [item("0090000001", "1000.00")]
    result = run([pay("P1", "1100.00", "INV 90000001", customer=ACME)], items)
    assert applied(result.matches) == [("P1", "0090000001", "1000.00", "reference")]
    (exception,) = result.exceptions
    assert (exception.category, exception.difference) == ("over_pay", Decimal("100.00"))
    assert "on account" in exception.proposed_action


def test_never_across_currencies():
    items = [item("0090000001", "1000.00", currency="USD")]
    result = run([pay("P1", "1000.00", "INV 90000001", customer=ACME)], items)
    assert not result.matches
    assert not result.suggestions
    assert [e.category for e in result.exceptions] == ["unapplied"]


def test_duplicate_payment_is_flagged_not_applied_twice():
    items = [item("0090000001", "1000.00")]
    payments = [pay("P1", "1000.00", "INV 90000001", customer=ACME),
                replace(pay("P2", "1000.00", "INV 90000001", customer=ACME), value_date=date(2026, 11, 23))]
    result = run(payments, items)
    assert applied(result.matches) == [("P1", "0090000001", "1000.00", "reference")]
    (exception,) = result.exceptions
    assert exception.payment_id == "P2"
    assert exception.category == "over_pay"
    assert "duplicate" in exception.proposed_action


def test_wrong_reference_but_exact_amount_elsewhere_is_a_question():
    items = [item("0090000001", "1000.00"), item("0090000002", "420.00")]
    result = run([pay("P1", "420.00", "INV 90000001", customer=ACME)], items)
    assert not result.matches
    assert applied(result.suggestions) == [("P1", "0090000002", "420.00", "exact_amount")]
    assert result.exceptions[0].category == "ambiguous"


def test_unknown_payer_without_reference_is_unapplied():
    items = [item("0090000001", "1000.00")]
    result = run([pay("P1", "77.00", "consulting", name="Someone Else Ltd")], items)
    (exception,) = result.exceptions
    assert (exception.category, exception.difference) == ("unapplied", Decimal("77.00"))
    assert "identify the payer" in exception.proposed_action


def test_fuzzy_name_identifies_a_clear_payer_but_not_a_near_tie():
    items = [item("0090000001", "640.00"), item("0090000002", "75.00", BOLT)]
    result = run([pay("P1", "640.00", name="ACME RETAL GMBH")], items)
    assert result.payers["P1"].customer == ACME
    assert result.payers["P1"].how == "fuzzy_name"
    twins = [*CUSTOMERS, CustomerRecord("0000100003", "Bolt Hardware Ltd.")]
    result = match_payments([pay("P2", "75.00", name="BOLT HARDWARE")], items, twins, CashConfig(), [])
    assert "P2" not in result.payers


def test_habit_identifies_a_payer_the_master_data_does_not_know():
    items = [item("0090000001", "640.00"), item("0090000002", "310.00")]
    payment = pay("P1", "310.00", account="NL91ABNA0417164300", name="Holding of Acme")
    before = run([payment], items)
    assert not before.matches
    after = run([payment], items, habits=[Habit("account", "NL91ABNA0417164300", ACME)])
    assert applied(after.matches) == [("P1", "0090000002", "310.00", "exact_amount")]
    assert after.payers["P1"].how == "habit_account"


def test_rules_can_be_reordered_and_left_out():
    items = [item("0090000001", "100.00"), item("0090000002", "200.00")]
    config = load_config({"rules": ["reference"]})
    result = run([pay("P1", "300.00", customer=ACME)], items, config=config)
    assert not result.matches
    assert result.exceptions[0].category == "unapplied"


def test_auto_threshold_moves_matches_to_suggestions():
    items = [item("0090000001", "100.00")]
    config = load_config({"auto_threshold": "1"})
    result = run([pay("P1", "100.00", "INV 90000001", customer=ACME)], items, config=config)
    assert not result.matches
    assert len(result.suggestions) == 1


@pytest.mark.parametrize(
    ("amounts", "target", "tol", "expected"),
    [
        ([100, 230, -30, 555], 300, 0, [(0, 1, 2)]),
        ([5, 7, 11, 13], 31, 0, [(1, 2, 3)]),
        ([50, 60, 70, 80], 260, 0, [(0, 1, 2, 3)]),
        ([50, 60, 70, 80], 131, 1, [(0, 3), (1, 2)]),
        ([10, 20], 99, 0, []),
    ],
)
def test_find_combinations(amounts, target, tol, expected):
    assert find_combinations(amounts, target, tol, 4) == expected
