"""Remittance advices that arrive apart from the payment (e-mail, portal export, EDI REMADV / 820).

An advice file (CSV or XLSX) has one row per line of an advice; the advice's own fields repeat
on each of its rows::

    advice_id,payer,payment_reference,payment_amount,currency,payment_date,invoice_reference,paid_amount,deduction,reason
    A-17,0000100001,,1190.00,EUR,2026-11-19,90000011,1000.00,,
    A-17,0000100001,,1190.00,EUR,2026-11-19,90000012,190.00,10.00,DMG

``paid_amount`` is what the payer pays towards the invoice; ``deduction`` what it keeps back
from it, with a ``reason`` code (it becomes a dispute proposal); a line with a deduction and no
invoice is a deduction from the payment as a whole. An advice is refused, naming it and its row,
when its rows disagree on its own fields (mixed currencies, two payers) or its paid amounts do
not add up to the payment amount: nothing of such a file is applied.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sapbridge.bankfiles.payment import check_currency
from sapbridge.errors import InputError
from sapbridge.tabular import Column, read_table

__all__ = ["ADVICE_COLUMNS", "Advice", "AdviceLine", "read_advices"]

ADVICE_COLUMNS = (
    Column("advice_id"),
    Column("payer", required=False),
    Column("payment_reference", required=False),
    Column("payment_amount", "money"),
    Column("currency"),
    Column("payment_date", "date", required=False),
    Column("invoice_reference", required=False),
    Column("paid_amount", "money", required=False),
    Column("deduction", "money", required=False),
    Column("reason", required=False),
)
"""Columns of an advice file; the first six are the advice's, the rest one line's."""

_HEAD = ("payer", "payment_reference", "payment_amount", "currency", "payment_date")


@dataclass(frozen=True, slots=True)
class AdviceLine:
    """One line: ``paid`` towards ``invoice`` (may be empty), ``deduction`` kept back for ``reason``."""

    invoice: str
    paid: Decimal
    deduction: Decimal
    reason: str
    row: int


@dataclass(frozen=True, slots=True)
class Advice:
    """A remittance advice: which payment (by reference, else amount, payer and date) pays what."""

    advice_id: str
    payer: str
    payment_reference: str
    amount: Decimal
    currency: str
    payment_date: date | None
    lines: tuple[AdviceLine, ...]
    row: int


def _customer(value: str | None) -> str:
    text = (value or "").strip()
    return text.zfill(10) if text.isdigit() and len(text) <= 10 else text.upper()


def _line(row: dict[str, Any], path: Path, number: int) -> AdviceLine:
    paid = row["paid_amount"] if row["paid_amount"] is not None else Decimal(0)
    deduction = row["deduction"] if row["deduction"] is not None else Decimal(0)
    invoice, reason = (row["invoice_reference"] or "").strip(), (row["reason"] or "").strip()
    if deduction < 0:
        raise InputError(
            f"advice {row['advice_id']}: a deduction is written as a positive amount, got {deduction}",
            path=str(path),
            row=number,
        )
    if deduction and not reason:
        raise InputError(
            f"advice {row['advice_id']}: deduction {deduction} without a reason code",
            path=str(path),
            row=number,
        )
    if not invoice and paid:
        raise InputError(
            f"advice {row['advice_id']}: paid_amount {paid} names no invoice_reference",
            path=str(path),
            row=number,
        )
    if not invoice and not deduction:
        raise InputError(
            f"advice {row['advice_id']}: a line needs an invoice_reference or a deduction",
            path=str(path),
            row=number,
        )
    return AdviceLine(invoice, paid, deduction, reason, number)


def _advice(rows: list[tuple[int, dict[str, Any]]], path: Path) -> Advice:
    first_number, first = rows[0]
    advice_id = first["advice_id"]
    for number, row in rows[1:]:
        for name in _HEAD:
            if row[name] != first[name]:
                what = "mixed currencies" if name == "currency" else f"rows disagree on {name}"
                raise InputError(
                    f"advice {advice_id}: {what} ({first[name]} on row {first_number}, {row[name]} here)",
                    path=str(path),
                    row=number,
                )
    currency = check_currency(first["currency"], path=str(path), row=first_number)
    lines = tuple(_line(row, path, number) for number, row in rows)
    total = sum((line.paid for line in lines), Decimal(0))
    if total != first["payment_amount"]:
        raise InputError(
            f"advice {advice_id}: paid amounts of its lines add up to {total}, not to the payment "
            f"amount {first['payment_amount']}",
            path=str(path),
            row=first_number,
        )
    if first["payment_amount"] <= 0:
        raise InputError(
            f"advice {advice_id}: payment_amount must be positive", path=str(path), row=first_number
        )
    return Advice(
        advice_id,
        _customer(first["payer"]),
        (first["payment_reference"] or "").strip(),
        first["payment_amount"],
        currency,
        first["payment_date"],
        lines,
        first_number,
    )


def read_advices(path: Path) -> list[Advice]:
    """The advices of a CSV/XLSX file, each checked, in file order; an InputError names the first
    problem (advice, row, what) and nothing of the file is used."""
    grouped: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for number, row in enumerate(read_table(path, ADVICE_COLUMNS), start=2):
        row["currency"] = (row["currency"] or "").strip().upper()
        grouped[row["advice_id"].strip()].append((number, row))
    return [_advice(rows, path) for rows in grouped.values()]
