from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from sapbridge.convert import (
    alpha,
    is_set,
    to_bool,
    to_date,
    to_datetime,
    to_decimal,
    unshift_internal_amount,
)


def test_sap_json_dates_are_utc_and_offsets_do_not_shift_the_instant():
    assert to_datetime("/Date(1767225600000)/") == datetime(2026, 1, 1, tzinfo=UTC)
    assert to_datetime("/Date(1767225600000+0060)/") == datetime(2026, 1, 1, tzinfo=UTC)
    assert to_date("/Date(1767225600000)/") == date(2026, 1, 1)


@pytest.mark.parametrize("empty", ["00000000", "", None, "0"])
def test_empty_sap_dates_are_none(empty):
    assert to_date(empty) is None


def test_rfc_dates_and_timestamps():
    assert to_date("20260131") == date(2026, 1, 31)
    assert to_date("2026-01-31") == date(2026, 1, 31)
    assert to_datetime("20260131101500") == datetime(2026, 1, 31, 10, 15, tzinfo=UTC)


def test_bad_date_is_a_value_error():
    with pytest.raises(ValueError, match="not a date"):
        to_date("31/31/2026")


def test_decimals_from_sap_text_and_trailing_minus():
    assert to_decimal("1234.500") == Decimal("1234.500")
    assert to_decimal("12.50-") == Decimal("-12.50")
    for broken in ("NaN", "Infinity", "-inf", "sNaN"):
        with pytest.raises(ValueError, match="not a decimal"):
            to_decimal(broken)
    with pytest.raises(ValueError):
        to_decimal(1.5)


def test_alpha_pads_numeric_keys_only():
    pad = alpha(10)
    assert pad("100001") == pad("0000100001") == "0000100001"
    assert pad("cust-a") == "CUST-A"


def test_internal_curr_storage_is_undone_for_jpy_and_kwd():
    assert unshift_internal_amount(Decimal("1500.00"), "JPY") == Decimal("150000")
    assert unshift_internal_amount(Decimal("12.34"), "KWD") == Decimal("1.234")
    assert unshift_internal_amount(Decimal("12.34"), "EUR") == Decimal("12.34")


def test_flags_and_codes():
    assert to_bool("X")
    assert not to_bool("")
    assert not to_bool(None)
    assert is_set("01")
    assert not is_set("  ")
    assert not is_set(None)
