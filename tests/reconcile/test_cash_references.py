from __future__ import annotations

import pytest

from sapbridge.reconcile.cash.index import index_key
from sapbridge.reconcile.references import extract_candidates, normalise_reference, strip_amounts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INV 90012345 EUR 1.234,56", ["90012345"]),
        ("paid 100 000,00 for RI-90012346", ["90012346"]),
        ("$100 000 inv 9OO12347", ["90012347"]),
        ("90012345 1234.56 / 90012346 99,50", ["90012345", "90012346"]),
        ("Zahlung 123.456,78 Rechnung 4711-0815", ["47110815"]),
    ],
)
def test_amounts_with_thousand_separators_are_not_references(text, expected):
    assert extract_candidates(text, min_length=6, skip_amounts=True) == expected


def test_without_skip_amounts_an_amount_can_pose_as_a_reference():
    assert extract_candidates("123.456,78", min_length=6) == ["123456"]
    assert strip_amounts("total 123.456,78").strip() == "total"


@pytest.mark.parametrize("value", ["0090012345", "PO123456", "INV123456", "AB12", "REF0001234", "X9Y8Z7", "S5B8", "IO1234",
                                   "OO012345", "NO12345", "RENO1234", "Q1234567", "ABCD1"])
def test_index_key_fast_paths_agree_with_normalise_reference(value):
    assert index_key(value) == normalise_reference(value)
