"""Money helpers: every amount is a ``Decimal``, made by :func:`D` and rounded per currency."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["MAX_DECIMALS", "MAX_INTEGER_DIGITS", "ZERO", "D", "currency_decimals", "parse_amount",
           "quantize", "sap_decimal", "to_minor_units"]

ZERO = Decimal(0)
"""The zero amount; compare against it instead of the int 0 to keep types obvious."""

_CURRENCY_DECIMALS: dict[str, int] = {
    "BHD": 3, "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0,
    "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "UGX": 0,
    "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}
"""ISO 4217 minor units that differ from the usual two (SAP table TCURX holds the same facts)."""


def sap_decimal(value: object) -> Decimal | None:
    """The one rule for a decimal as SAP sends it and the store keeps it: text (OData's
    Edm.Decimal, RFC's packed numbers with the minus sign last: ``"100.00-"``), int or Decimal.

    ``None`` and blank text are no value (None). Floats and bools are refused (SAP amounts arrive
    as text), and so are NaN and infinities (SAP's decimal types cannot hold them). Amounts in a
    person's files follow :func:`parse_amount` instead (thousands separators, decimal commas).
    """
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        msg = f"refusing to make money from {type(value).__name__} {value!r}; SAP amounts arrive as text"
        raise ValueError(msg)
    if isinstance(value, int):
        return Decimal(value)
    text = str(value).strip()
    if not text:
        return None
    if text.endswith("-"):
        text = "-" + text[:-1].strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        msg = f"not a decimal: {value!r}"
        raise ValueError(msg) from None
    return amount


def D(value: object) -> Decimal:
    """A Decimal that must be there, by the rule of :func:`sap_decimal`: a blank is refused."""
    amount = sap_decimal(value)
    if amount is None:
        msg = f"not a decimal: {value!r} (no value)"
        raise ValueError(msg)
    return amount


MAX_INTEGER_DIGITS = 18
"""Digits before the decimal point an amount from a user file may have (SAP's widest, DEC 23,4,
holds 19; the store holds 22)."""

MAX_DECIMALS = 6
"""Decimals an amount from a user file may have (the store's scale)."""

_SIMPLE = re.compile(r"-?\d{1,18}(?:\.\d{1,6})?")
"""The common spelling, taken without further checks."""
_PLAIN = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)")
_EXPONENT = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)[eE][+-]?\d+")
_GROUPED = (
    (re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"), ",", "."),   # 1,234,567.89 and 1,000
    (re.compile(r"\d{1,3}(?:\.\d{3})+,\d+"), ".", ","),        # 1.234.567,89
    (re.compile(r"\d{1,3}(?:\.\d{3}){2,}"), ".", ","),          # 1.234.567
    (re.compile(r"\d+,(?:\d{1,2}|\d{4,})"), "", ","),           # 1234,5 and 1234,56
)
"""Accepted spellings with separators: (pattern, grouping mark, decimal mark). ``1.000`` is a
plain decimal (one dot, no comma); ``1,000`` is a thousand."""
_BLANKS = str.maketrans("", "", " \u00a0\u202f")
_NOT_FINITE = {"nan", "snan", "inf", "infinity"}


def _plain_text(text: str) -> str:
    """``text`` without blanks, sign first, separators removed; raises ValueError if malformed."""
    body = text.translate(_BLANKS)
    sign = ""
    if body.endswith("-"):
        sign, body = "-", body[:-1]
    elif body[:1] in {"+", "-"}:
        sign, body = body[:1].replace("+", ""), body[1:]
    if body.lower().lstrip("+-") in _NOT_FINITE:
        msg = f"not an amount: {text!r}"
        raise ValueError(msg)
    if _EXPONENT.fullmatch(body):
        raise ValueError(_exponent_message(text, sign + body))
    if _PLAIN.fullmatch(body):
        return sign + body
    for pattern, group, point in _GROUPED:
        if pattern.fullmatch(body):
            return sign + (body.replace(group, "") if group else body).replace(point, ".")
    msg = f"not an amount: {text!r}"
    raise ValueError(msg)


def _exponent_message(text: str, cleaned: str) -> str:
    plain = ""
    try:
        value = Decimal(cleaned)
        if abs(value.adjusted()) <= MAX_INTEGER_DIGITS:
            plain = f"{value:f}"
            parse_amount(plain)
    except (InvalidOperation, ValueError):
        plain = ""
    if plain:
        return f"not an amount: {text!r} is in exponent form; write {plain}"
    return f"not an amount: {text!r} is in exponent form; write plain digits"


def parse_amount(text: str) -> Decimal:
    """An amount a person wrote in a file (CSV, XLSX, camt): the one rule for every user amount.

    Accepts ``1234.56``, ``-1234.56``, ``1234.56-`` (sign last, as SAP exports), ``1,234.56``,
    ``1.234,56``, ``1234,56`` and blanks between digit groups. Refuses, with a ValueError saying
    why: exponent form (``1.06e5``: "write 106000"), NaN and Infinity, more than
    :data:`MAX_INTEGER_DIGITS` digits before the point or :data:`MAX_DECIMALS` after it. ``-0``
    becomes ``0``; an empty text is a ValueError (the caller decides whether a value is required).
    """
    stripped = str(text).strip()
    if _SIMPLE.fullmatch(stripped):
        value = Decimal(stripped)
        return value.copy_abs() if value.is_zero() else value
    if not stripped:
        msg = "empty amount"
        raise ValueError(msg)
    value = Decimal(_plain_text(stripped))
    exponent = int(value.as_tuple().exponent)
    whole = len(value.as_tuple().digits) + exponent
    if whole > MAX_INTEGER_DIGITS:
        msg = f"not an amount: {text!r} has {whole} digits before the point (at most {MAX_INTEGER_DIGITS})"
        raise ValueError(msg)
    if -exponent > MAX_DECIMALS:
        msg = f"not an amount: {text!r} has {-exponent} decimals (at most {MAX_DECIMALS})"
        raise ValueError(msg)
    return value.copy_abs() if value.is_zero() else value


def currency_decimals(currency: str) -> int:
    """Number of decimals of a currency (2 unless ISO 4217 says otherwise)."""
    return _CURRENCY_DECIMALS.get(currency.upper(), 2)


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round an amount to its currency's decimals, half up as SAP does."""
    exponent = Decimal(1).scaleb(-currency_decimals(currency))
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Amount in the smallest unit of its currency (cents, yen), for exact integer arithmetic."""
    return int(quantize(amount, currency).scaleb(currency_decimals(currency)))
