"""Money helpers: every amount is a ``Decimal``, made by :func:`D` and rounded per currency."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["ZERO", "D", "currency_decimals", "quantize", "to_minor_units"]

ZERO = Decimal(0)
"""The zero amount; compare against it instead of the int 0 to keep types obvious."""

_CURRENCY_DECIMALS: dict[str, int] = {
    "BHD": 3, "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0,
    "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "UGX": 0,
    "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}
"""ISO 4217 minor units that differ from the usual two (SAP table TCURX holds the same facts)."""


def D(value: object) -> Decimal:
    """Make a Decimal from a str, int or Decimal; floats are refused, empty strings are zero.

    SAP sends amounts as strings; some exports put the minus sign last (``"100.00-"``).
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        msg = f"refusing to make money from {type(value).__name__} {value!r}"
        raise TypeError(msg)
    if isinstance(value, int):
        return Decimal(value)
    text = str(value).strip()
    if not text:
        return ZERO
    if text.endswith("-"):
        text = "-" + text[:-1].strip()
    try:
        return Decimal(text)
    except InvalidOperation:
        msg = f"not an amount: {value!r}"
        raise ValueError(msg) from None


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
