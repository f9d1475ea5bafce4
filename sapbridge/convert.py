"""Conversions from SAP's wire formats to canonical values (pure, cached where values repeat).

Each converter takes the raw value (``None`` when SAP sent null or the field is absent) and
returns the canonical value. :data:`CONVERTERS` names them for ``mappings/*.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sapbridge.money import currency_decimals, sap_decimal

__all__ = [
    "CONVERTERS",
    "alpha",
    "is_set",
    "to_bool",
    "to_date",
    "to_datetime",
    "to_decimal",
    "to_str",
    "unshift_internal_amount",
]

Converter = Callable[[Any], Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SAP_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EMPTY_DATES = {"", "00000000", "0000-00-00", "99991231"}


def to_str(value: Any) -> str | None:
    """Text with surrounding blanks removed; empty text becomes ``None``."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def alpha(width: int) -> Converter:
    """SAP's ALPHA conversion to the internal form: purely numeric keys are zero-padded.

    ``"100001"`` and ``"0000100001"`` both become ``"0000100001"`` (width 10), so keys from
    OData (external form) and RFC (internal form) compare equal; ``"CUST-A"`` stays as it is.
    """

    def convert(value: Any) -> str | None:
        text = to_str(value)
        if text is None:
            return None
        return text.zfill(width) if text.isdigit() and len(text) <= width else text.upper()

    return convert


@lru_cache(maxsize=65536)
def _parse_sap_timestamp(text: str) -> datetime | None:
    match = _SAP_DATE.match(text)
    if match:
        return _EPOCH + timedelta(milliseconds=int(match.group(1)))
    if text in _EMPTY_DATES or set(text) <= {"0", " "}:
        return None
    if text.isdigit() and len(text) in (8, 14):
        fmt = "%Y%m%d" if len(text) == 8 else "%Y%m%d%H%M%S"
        return datetime.strptime(text, fmt).replace(tzinfo=UTC)
    if text.isdigit() and len(text) == 15:  # SAP DEC15 timestamp with a leading zero
        return datetime.strptime(text[1:], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def to_datetime(value: Any) -> datetime | None:
    """A tz-aware UTC datetime from ``/Date(ms)/``, ``/Date(ms+0060)/``, ISO or ``YYYYMMDDhhmmss``.

    The ``ms`` of ``/Date(ms±hhmm)/`` is UTC already; the offset only says where it was written,
    so it does not shift the instant. Zero dates (``00000000``) become ``None``.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = str(value).strip()
    if not text:
        return None
    try:
        return _parse_sap_timestamp(text)
    except ValueError:
        msg = f"not a date/time: {value!r}"
        raise ValueError(msg) from None


@lru_cache(maxsize=65536)
def _parse_date(text: str) -> date | None:
    stamp = _parse_sap_timestamp(text)
    return None if stamp is None else stamp.date()


def to_date(value: Any) -> date | None:
    """A calendar date from ``/Date(ms)/`` (Edm.DateTime at midnight UTC), ``YYYYMMDD`` or ISO."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return _parse_date(text)
    except ValueError:
        msg = f"not a date: {value!r}"
        raise ValueError(msg) from None


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal from SAP's decimal strings, by the one rule of :func:`sapbridge.money.sap_decimal`."""
    return sap_decimal(value)


def unshift_internal_amount(amount: Decimal, currency: str) -> Decimal:
    """Undo SAP's internal CURR storage for currencies without two decimals.

    SAP tables keep every amount with two decimals: JPY 1000 is stored as ``10.00`` and
    KWD 1.234 as ``12.34``. Table reads (RFC_READ_TABLE) return that internal form; BAPIs and
    OData return the external one and need no shift.
    """
    shift = 2 - currency_decimals(currency)
    return amount.scaleb(shift) if shift else amount


def to_bool(value: Any) -> bool:
    """SAP flags: ``True``/``"X"``/``"true"`` are true; blank, ``False`` and null are false."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().upper() in {"X", "TRUE", "1", "Y"}


def is_set(value: Any) -> bool:
    """True when a code field holds any value (a block reason "01" means blocked)."""
    return value is not None and bool(str(value).strip())


CONVERTERS: dict[str, Converter] = {
    "str": to_str,
    "date": to_date,
    "datetime": to_datetime,
    "decimal": to_decimal,
    "bool": to_bool,
    "nonblank": is_set,
}
"""Converters a mapping may name directly; ``alpha:N`` and ``amount`` are built per field."""
