"""The one shape every bank file becomes: an incoming payment with Decimal amount."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sapbridge.errors import InputError

__all__ = ["Payment", "check_currency", "normalise_account"]

_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class Payment:
    """An incoming payment (a credit on our bank account).

    ``customer`` is the SAP customer number when the bank or lockbox already knows it, else "".
    ``remittance`` is the free text the payer sent (invoice numbers, notes).
    """

    payment_id: str
    value_date: date | None
    amount: Decimal
    currency: str
    payer_name: str = ""
    payer_account: str = ""
    customer: str = ""
    remittance: str = ""


def check_currency(value: str, *, path: str, row: int | None = None) -> str:
    """An ISO 4217 code in upper case, or an InputError naming where it was found."""
    code = (value or "").strip().upper()
    if not _CURRENCY.match(code):
        raise InputError(f"not a currency code: {value!r}", path=path, row=row)
    return code


def normalise_account(value: str | None) -> str:
    """An IBAN or account number without spaces or separators, upper case."""
    return re.sub(r"[\s\-./]", "", value or "").upper()
