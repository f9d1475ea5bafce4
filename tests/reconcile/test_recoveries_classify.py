"""The pure classifier: every category on hand-built cases, matching rules, and synthetic truth."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from devtools.recoveries.synthetic import generate
from sapbridge.reconcile.recoveries import CATEGORIES, Claim, Dispute, RecoveriesConfig, classify
from sapbridge.reconcile.recoveries.inputs import claim_references

AS_OF = date(2026, 11, 20)
CONFIG = RecoveriesConfig()


def case(case_id="000000000001", *, customer="0000100001", reference="0090012345", amount="1000.00",
         currency="EUR", closed=False, reason="PA1", created=date(2026, 3, 1), paid="0", credited="0",
         written_off="0"):
    return Dispute(case_id=case_id, company_code="1000", customer=customer, closed=closed,
                   case_status="30" if closed else "10", reason=reason,
                   original_amount=Decimal(amount), disputed_amount=Decimal(amount),
                   paid_amount=Decimal(paid), credited_amount=Decimal(credited),
                   written_off_amount=Decimal(written_off), currency=currency,
                   invoice_reference=reference, created_on=created, closed_on=None)


def claim(claim_id="C1", *, customer="0000100001", reference="INV-0090012345", amount="1000.00",
          currency="EUR", status="claimed", recovered="0", claimed_on=date(2026, 6, 1)):
    return Claim(claim_id=claim_id, customer=customer, claim_date=claimed_on,
                 references=claim_references(reference), reference_text=reference,
                 amount=Decimal(amount), currency=currency, status=status,
                 recovered_amount=Decimal(recovered), recovered_on=None, reason="")


def classified(claims, disputes, config=CONFIG):
    result = classify(claims, disputes, config, AS_OF)
    return {(row.claim.claim_id if row.claim else row.dispute.case_id): row for row in result.rows}


@pytest.mark.parametrize(
    ("the_case", "status", "expected", "owner"),
    [
        (case(closed=True, paid="1000.00"), "recovered", "recovered_closed", "Recovery provider"),
        (case(), "recovered", "recovered_open_dispute", "Dispute team"),
        (case(closed=True, written_off="1000.00"), "recovered", "recovered_after_writeoff",
         "Dispute team"),
        (case(closed=True, credited="1000.00"), "recovered", "duplicate_claim", "Recovery provider"),
        (case(closed=True, credited="1000.00"), "claimed", "duplicate_claim", "Recovery provider"),
        (case(closed=True, paid="1000.00"), "claimed", "duplicate_claim", "Recovery provider"),
        (case(), "claimed", "open_claim", "Recovery provider"),
        (case(closed=True, written_off="1000.00"), "claimed", "open_claim", "Recovery provider"),
        (case(), "rejected", "rejected_claim", "Dispute team"),
    ],
)
def test_a_matched_claim_lands_in_the_category_of_its_case_and_status(the_case, status, expected, owner):
    recovered = "1000.00" if status == "recovered" else "0"
    rows = classified([claim(status=status, recovered=recovered)], [the_case])
    row = rows["C1"]
    assert row.category == expected
    assert row.owner == owner
    assert row.dispute.case_id == the_case.case_id
    assert row.proposed_action


def test_recovered_on_an_open_case_proposes_closing_that_case_with_the_amount():
    row = classified([claim(status="recovered", recovered="1000.00")], [case()])["C1"]
    assert row.proposed_action == "Close case 000000000001 with the recovered 1000.00 EUR"


def test_recovery_of_a_written_off_case_proposes_booking_it():
    row = classified([claim(status="recovered", recovered="400.00")],
                     [case(closed=True, written_off="1000.00")])["C1"]
    assert row.proposed_action == ("Book the recovery of 400.00 EUR against the write-off of 1000.00 "
                                   "on case 000000000001")


def test_recovered_claim_on_a_credited_case_asks_for_a_refund():
    row = classified([claim(status="recovered", recovered="1000.00")],
                     [case(closed=True, credited="1000.00")])["C1"]
    assert "already credited 1000.00 EUR" in row.proposed_action
    assert row.proposed_action.endswith("refund the 1000.00 EUR recovered")


@pytest.mark.parametrize(
    ("claimed", "disputed", "expected"),
    [
        ("101.00", "100.00", "open_claim"),          # 1.00 off: absolute tolerance
        ("101.01", "100.00", "amount_mismatch"),     # just beyond it
        ("1005.00", "1000.00", "open_claim"),        # 0.5 % beats 1.00 on larger cases
        ("100450.00", "100000.00", "open_claim"),    # 0.45 % of the case: percent tolerance
        ("100500.00", "100000.00", "open_claim"),    # exactly 0.5 %
        ("100500.01", "100000.00", "amount_mismatch"),
        ("900.00", "1000.00", "amount_mismatch"),
    ],
)
def test_amount_tolerance_is_the_larger_of_absolute_and_percent(claimed, disputed, expected):
    rows = classified([claim(amount=claimed)], [case(amount=disputed)])
    assert rows["C1"].category == expected


def test_amount_mismatch_names_both_amounts_and_the_difference():
    row = classified([claim(amount="1200.00")], [case(amount="1000.00")])["C1"]
    assert row.category == "amount_mismatch"
    assert row.owner == "Recovery provider"
    assert "1200.00 EUR" in row.proposed_action
    assert "(difference 200.00)" in row.proposed_action


def test_the_later_of_two_claims_on_one_case_is_the_duplicate():
    first = claim("C-B", claimed_on=date(2026, 5, 1))
    second = claim("C-A", claimed_on=date(2026, 7, 1), status="recovered", recovered="1000.00")
    rows = classified([second, first], [case()])
    assert rows["C-B"].category == "open_claim"
    assert rows["C-A"].category == "duplicate_claim"
    assert "already claimed by claim C-B" in rows["C-A"].proposed_action
    assert "refund the 1000.00 EUR" in rows["C-A"].proposed_action


def test_two_cases_on_one_invoice_take_one_claim_each_before_any_duplicate():
    cases = [case("000000000001", amount="300.00"), case("000000000002", amount="700.00")]
    claims = [claim("C1", amount="700.00"), claim("C2", amount="300.00", claimed_on=date(2026, 6, 2)),
              claim("C3", amount="300.00", claimed_on=date(2026, 6, 3))]
    rows = classified(claims, cases)
    assert (rows["C1"].dispute.case_id, rows["C1"].category) == ("000000000002", "open_claim")
    assert (rows["C2"].dispute.case_id, rows["C2"].category) == ("000000000001", "open_claim")
    assert rows["C3"].category == "duplicate_claim"


def test_references_match_however_they_are_written():
    for written in ("RI 90012345", "9OO12345", "inv 9001-2345", "0090012345", "REF#900.12345"):
        rows = classified([claim(reference=written)], [case()])
        assert rows["C1"].category == "open_claim", written


def test_reference_of_another_customer_or_currency_does_not_match():
    cases = [case(customer="0000100002"), case("000000000002", currency="USD")]
    rows = classified([claim(amount="55.00")], cases)
    assert rows["C1"].category == "claim_without_dispute"
    assert rows["C1"].dispute is None


def test_without_a_usable_reference_the_one_case_with_the_amount_matches():
    cases = [case("000000000001", amount="1000.00"), case("000000000002", amount="2500.00",
                                                          reference="0090099999")]
    row = classified([claim(reference="see attached", amount="2500.40")], cases)["C1"]
    assert row.dispute.case_id == "000000000002"
    assert row.note == "matched by customer and amount (no reference matched)"


def test_two_cases_with_the_claimed_amount_and_no_reference_is_no_match():
    cases = [case("000000000001", reference="0090000001"), case("000000000002", reference="0090000002")]
    row = classified([claim(reference="", amount="1000.00")], cases)["C1"]
    assert row.category == "claim_without_dispute"
    assert row.note.startswith("2 cases of this customer agree in amount")


def test_two_claims_for_one_unknown_deduction_are_an_orphan_and_a_duplicate():
    claims = [claim("C1", reference="INV 5550001", customer="0000900001"),
              claim("C2", reference="5550001", customer="0000900001", claimed_on=date(2026, 8, 1)),
              claim("C3", reference="5550002", customer="0000900001", claimed_on=date(2026, 8, 2))]
    rows = classified(claims, [case()])
    assert rows["C1"].category == "claim_without_dispute"
    assert rows["C1"].owner == "Dispute team"
    assert rows["C2"].category == "duplicate_claim"
    assert "same deduction as claim C1" in rows["C2"].proposed_action
    assert rows["C3"].category == "claim_without_dispute"


@pytest.mark.parametrize(
    ("kwargs", "reported"),
    [
        ({"created": date(2026, 8, 21)}, True),    # 91 days: older than the 90-day window
        ({"created": date(2026, 8, 20)}, True),
        ({"created": date(2026, 8, 22)}, False),   # 90 days: not older than the window
        ({"created": date(2026, 1, 1), "reason": "QTY"}, False),
        ({"created": date(2026, 1, 1), "closed": True}, False),
        ({"created": None}, False),
    ],
)
def test_old_open_post_audit_cases_nobody_claimed_are_reported(kwargs, reported):
    rows = classified([], [case(**kwargs)])
    assert ("000000000001" in rows) is reported
    if reported:
        row = rows["000000000001"]
        assert row.category == "dispute_without_claim"
        assert row.owner == "Recovery provider"
        assert row.claim is None


def test_a_claimed_post_audit_case_is_not_reported_as_unclaimed():
    rows = classified([claim()], [case(created=date(2025, 1, 1))])
    assert set(rows) == {"C1"}


def test_reason_codes_window_tolerance_and_owner_names_come_from_the_config():
    config = RecoveriesConfig.from_section({
        "post_audit_reasons": ["qty"], "window_days": 10, "tolerance_amount": "50",
        "tolerance_percent": "0", "dispute_team": "DM Team", "recovery_provider": "PRGX"})
    cases = [case("000000000001", reason="QTY", created=date(2026, 11, 1)),
             case("000000000002", reason="PA1", created=date(2026, 1, 1), reference="0090000002"),
             case("000000000003", reference="0090000003", amount="1000.00")]
    rows = classified([claim("C1", reference="90000003", amount="1049.00", status="recovered",
                             recovered="1049.00")], cases, config)
    assert rows["000000000001"].category == "dispute_without_claim"
    assert rows["000000000001"].owner == "PRGX"
    assert "000000000002" not in rows
    assert rows["C1"].category == "recovered_open_dispute"
    assert rows["C1"].owner == "DM Team"


def test_needs_review_counts_rows_a_person_must_act_on():
    cases = [case("000000000001", reference="0090000001"), case("000000000002", reference="0090000002")]
    claims = [claim("C1", reference="90000001"), claim("C2", reference="90000002", status="recovered",
                                                       recovered="1000.00")]
    result = classify(claims, cases, CONFIG, AS_OF)
    assert [row.category for row in result.rows] == ["open_claim", "recovered_open_dispute"]
    assert result.needs_review == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_synthetic_data_is_classified_exactly_as_planted(seed):
    data = generate(disputes=6000, claims=1500, seed=seed)
    result = classify(data.claims, data.disputes, CONFIG, data.as_of)
    by_claim = {row.claim.claim_id: row.category for row in result.rows if row.claim is not None}
    unclaimed = {row.dispute.case_id: row.category for row in result.rows if row.claim is None}
    assert by_claim == data.claim_truth
    assert unclaimed == data.case_truth
    planted = Counter(data.claim_truth.values()) + Counter(data.case_truth.values())
    assert set(planted) == set(CATEGORIES)
    assert len({c.currency for c in data.claims}) == 4


def test_synthetic_generator_is_seeded():
    one = generate(disputes=500, claims=100, seed=9)
    two = generate(disputes=500, claims=100, seed=9)
    assert one.claims == two.claims
    assert one.disputes == two.disputes
    assert generate(disputes=500, claims=100, seed=10).claims != one.claims


@pytest.mark.parametrize("reference", ["0090012345", "90012345", "0000", "0", "", "INV-0090012345",
                                       "9OO12345", "12 34", "ABC123", "\u00b2\u00b3\u00b9\u2074",
                                       "٠١٢٣٤"])
def test_the_index_normalises_references_exactly_as_references_module(reference):
    from sapbridge.reconcile.recoveries.classify import fast_normalise
    from sapbridge.reconcile.references import normalise_reference

    assert fast_normalise(reference) == normalise_reference(reference)


def test_classify_leaves_garbage_collection_as_it_found_it():
    import gc

    assert gc.isenabled()
    classify([claim()], [case()], CONFIG, AS_OF)
    assert gc.isenabled()
    gc.disable()
    try:
        classify([claim()], [case()], CONFIG, AS_OF)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_amount_match_uses_the_tolerance_of_the_case_not_of_the_claim():
    # 0.5 % of the case (5.0251) accepts 5.02; 0.5 % of the claim (5.00) would not.
    row = classified([claim(reference="", amount="1000.00")], [case(amount="1005.02")])["C1"]
    assert row.category == "open_claim"
    assert row.note == "matched by customer and amount (no reference matched)"
