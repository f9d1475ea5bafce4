"""One rule for SAP decimals and one for SQLite storage forms, whoever converts the value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Date
from sqlalchemy.dialects import sqlite

from sapbridge import convert
from sapbridge.money import D, sap_decimal
from sapbridge.store.types import Money, UtcDateTime, sqlite_storage_form


@pytest.mark.parametrize("value", ["12.50", "12.50-", " 7 ", 3, Decimal("1.000"), "0"])
def test_the_sap_decimal_rule_is_the_same_for_d_and_convert(value: Any) -> None:
    assert D(value) == convert.to_decimal(value) == sap_decimal(value)


@pytest.mark.parametrize("value", ["", "   ", None])
def test_a_blank_is_no_value_and_d_refuses_it(value: Any) -> None:
    assert convert.to_decimal(value) is None
    with pytest.raises(ValueError, match="no value"):
        D(value)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "abc", 1.5, True])
def test_broken_decimals_are_refused_by_every_reader(value: Any) -> None:
    with pytest.raises(ValueError):
        D(value)
    with pytest.raises(ValueError):
        convert.to_decimal(value)


def _bound(column_type: Any, value: Any) -> Any:
    dialect = sqlite.dialect()
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process else value


@pytest.mark.parametrize(("column_type", "value"), [
    (UtcDateTime(), datetime(2026, 3, 1, 23, 30, 5, 12, tzinfo=UTC)),
    (UtcDateTime(), datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=2)))),
    (Date(), date(2026, 2, 28)),
    (Money(), Decimal("-1234.500")),
])
def test_the_bulk_storage_form_is_what_the_column_types_store(column_type: Any, value: Any) -> None:
    assert sqlite_storage_form(value) == _bound(column_type, value)


def test_a_timestamp_with_an_offset_is_stored_as_utc() -> None:
    stamp = datetime(2026, 3, 2, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert sqlite_storage_form(stamp) == "2026-03-01 23:00:00.000000"


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(TypeError, match="timezone-aware"):
        sqlite_storage_form(datetime(2026, 3, 1))  # noqa: DTZ001 - the point of the test
