"""SWIFT MT940 statements, parsed with the maintained ``mt-940`` package (Decimal amounts).

Credits (``C``) are payments to us. The structured German ``:86:`` field (``?20``..``?33``, SEPA
``SVWZ+``/``IBAN+``) gives remittance text, payer name and IBAN; an unstructured ``:86:`` is taken
whole as remittance text. mt-940 skips what it cannot read, so the number of ``:61:`` lines is
checked against what it returned.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import mt940
from mt940.options import Options

from sapbridge.bankfiles.payment import Payment, check_currency
from sapbridge.errors import InputError

__all__ = ["parse_mt940"]

_LINE_61 = re.compile(r"^:61:", re.MULTILINE)
_SUBFIELDS_APART: dict[str, list[Any]] = {
    "post_transaction_details": [mt940.processors.transaction_details_post_processor_with_space]}
"""``?20``-``?29`` joined with a space, not glued: a subfield may end a word (``RE 90017316`` +
``BESTELLUNG``) or split a number (``9001`` + ``7316``), which cash application joins back only
where the joined form is an open item."""


def _line_of(text: str, index: int) -> int:
    """Line number (1-based) of the ``index``-th ``:61:`` tag."""
    match = list(_LINE_61.finditer(text))[index]
    return text.count("\n", 0, match.start()) + 1


def _details(data: dict[str, Any]) -> tuple[str, str, str]:
    remittance = data.get("purpose") or data.get("transaction_details") or ""
    name = data.get("applicant_name") or ""
    account = data.get("gvc_applicant_iban") or data.get("applicant_iban") or ""
    return " ".join(str(remittance).split()), str(name).strip(), str(account).strip()


def _payment_id(data: dict[str, Any], fallback: str) -> str:
    for key in ("bank_reference", "end_to_end_reference", "customer_reference"):
        value = str(data.get(key) or "").strip()
        if value and value.upper() not in {"NONREF", "NOTPROVIDED"}:
            return value
    return fallback


def parse_mt940(path: Path) -> list[Payment]:
    """Credit lines of an MT940 file as payments."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        options = Options(applicant_iban=True, merge_keeps_values=True, unbounded_details=True)
        transactions = mt940.models.Transactions(processors=_SUBFIELDS_APART, options=options)
        transactions.parse(text)
    except Exception as exc:  # noqa: BLE001 - mt-940 raises many kinds for a bad file
        raise InputError(f"not a readable MT940 statement ({type(exc).__name__}: {exc})",
                         path=str(path)) from None
    expected = len(_LINE_61.findall(text))
    if expected == 0 or len(transactions) != expected:
        raise InputError(f"malformed MT940: {expected} :61: lines but {len(transactions)} readable",
                         path=str(path))
    statement = str(transactions.data.get("transaction_reference") or "MT940")
    payments = []
    for index, transaction in enumerate(transactions):
        data = transaction.data
        amount = data["amount"].amount
        if amount <= 0:
            continue
        currency = check_currency(str(data["amount"].currency or ""), path=str(path),
                                  row=_line_of(text, index))
        remittance, name, account = _details(data)
        booked = data.get("date")
        value_date = date(booked.year, booked.month, booked.day) if booked else None
        payments.append(Payment(_payment_id(data, f"{statement}-{index + 1}"), value_date,
                                amount, currency, name, account, "", remittance))
    return payments
