"""parse_amount: the one rule for every amount a person writes in a file."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from sapbridge.money import parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.56", "1234.56"),
        (" -1234.56 ", "-1234.56"),
        ("1234.56-", "-1234.56"),
        ("+3", "3"),
        ("1,000.00", "1000.00"),
        ("1.000,00", "1000.00"),
        ("1,234,567.89", "1234567.89"),
        ("1.234.567,89", "1234567.89"),
        ("1.234.567", "1234567"),
        ("1,000", "1000"),
        ("1.000", "1.000"),
        ("1234,5", "1234.5"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234.56", "1234.56"),
        (".5", "0.5"),
        ("999999999999999999.999999", "999999999999999999.999999"),
    ],
)
def test_accepted_spellings(text, expected):
    value = parse_amount(text)
    assert value == Decimal(expected)
    assert str(value) == expected


@pytest.mark.parametrize("text", ["-0", "-0.00", "0.00-", "+0"])
def test_negative_zero_is_zero(text):
    value = parse_amount(text)
    assert value == 0
    assert not value.is_signed()
    assert not str(value).startswith("-")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.06e5", "exponent form; write 106000"),
        ("1.06E+5", "exponent form; write 106000"),
        ("-2E3", "exponent form; write -2000"),
        ("1E+400", "exponent form; write plain digits"),
        ("1" * 30, "30 digits before the point"),
        ("1" * 19, "19 digits before the point"),
        ("1.1234567", "7 decimals"),
        ("NaN", "not an amount: 'NaN'"),
        ("sNaN", "not an amount: 'sNaN'"),
        ("Infinity", "not an amount: 'Infinity'"),
        ("-inf", "not an amount: '-inf'"),
        ("1,00.00", "not an amount"),
        ("1.000.00", "not an amount"),
        ("1,000,00", "not an amount"),
        ("--5", "not an amount"),
        ("-2+3", "not an amount"),
        ("12x", "not an amount"),
        ("", "empty amount"),
    ],
)
def test_refused_with_a_reason(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_amount(text)
