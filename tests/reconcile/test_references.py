from __future__ import annotations

import pytest

from sapbridge.reconcile.references import extract_candidates, normalise_reference


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("INV-0090012345", "90012345"),
        ("RI 90012345", "90012345"),
        ("9OO12345", "90012345"),
        ("inv 9001-2345", "90012345"),
        ("ABC12X", "ABC12X"),
        ("", ""),
    ],
)
def test_normalise_reference(written, expected):
    assert normalise_reference(written) == expected


def test_extract_candidates_skips_amounts_with_thousand_separators():
    text = "PAYMENT INV 90012345, RI-90012346 thanks 100 000,00 EUR; 9OO12347"
    assert extract_candidates(text) == ["90012345", "90012346", "90012347"]
