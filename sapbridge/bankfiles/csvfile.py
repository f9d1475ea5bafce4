"""Payments from CSV or XLSX: ``payment_id,value_date,amount,currency,payer_name,payer_account,
customer,remittance``; ``customer``, ``payer_*`` and ``remittance`` may be empty."""

from __future__ import annotations

import csv
from datetime import date
from operator import itemgetter
from pathlib import Path

from sapbridge.bankfiles.payment import Payment, check_currency
from sapbridge.errors import InputError
from sapbridge.money import ZERO, parse_amount
from sapbridge.tabular import Column, read_table, text_encoding

__all__ = ["COLUMNS", "parse_csv"]

COLUMNS = (
    Column("payment_id"),
    Column("value_date", "date"),
    Column("amount", "money"),
    Column("currency"),
    Column("payer_name", required=False),
    Column("payer_account", required=False),
    Column("customer", required=False),
    Column("remittance", required=False),
)
"""Every column must be present in the header; the last four may hold empty values."""


def _is_xlsx(path: Path) -> bool:
    return path.suffix.lower() in {".xlsx", ".xlsm"}


def _check_header(path: Path, encoding: str) -> None:
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        header = next(csv.reader(handle, delimiter=delimiter), [])
    present = {name.strip().lower() for name in header}
    missing = [c.name for c in COLUMNS if c.name not in present]
    if missing and header:
        raise InputError(f"missing column(s): {', '.join(missing)}", path=str(path), row=1)


def _quick(path: Path, encoding: str = "utf-8-sig") -> list[Payment] | None:
    """A fast read of a plain comma CSV (ISO dates, plain positive amounts, unique ids); None
    otherwise.

    Anything unusual is left to :func:`read_table`, which also names file, row and problem.
    """
    if _is_xlsx(path):
        return None
    names = [c.name for c in COLUMNS]
    payments: list[Payment] = []
    with path.open(encoding=encoding, newline="") as handle:
        rows = csv.reader(handle)
        header = [h.strip().lower() for h in next(rows, [])]
        if any(name not in header for name in names):
            return None
        pick = itemgetter(*(header.index(name) for name in names))
        width = max(header.index(name) for name in names) + 1
        try:
            for raw in rows:
                if len(raw) < width:
                    return None
                payment_id, value_date, amount, currency, name, account, customer, remittance = pick(raw)
                payment_id = payment_id.strip()
                value = parse_amount(amount)
                if not (payment_id and len(currency) == 3 and currency.isupper() and currency.isalpha()
                        and value > ZERO) or "," in amount:
                    return None
                payments.append(Payment(payment_id, date.fromisoformat(value_date), value, currency,
                                        name.strip(), account.strip(), customer.strip(), remittance.strip()))
        except (ValueError, ArithmeticError, csv.Error, UnicodeDecodeError):
            return None
    if not payments or len({p.payment_id for p in payments}) != len(payments):
        return None
    return payments


def parse_csv(path: Path, encoding: str | None = None) -> list[Payment]:
    """Payments of a CSV/XLSX file; one InputError line for a bad header, row or amount.

    Amounts must be positive (payments received), as in camt; the text encoding is UTF-8 or
    Windows-1252 (see :func:`~sapbridge.tabular.text_encoding`) unless ``encoding`` says.
    """
    if not _is_xlsx(path):
        encoding = text_encoding(path, encoding)
        _check_header(path, encoding)
        quick = _quick(path, encoding)
        if quick is not None:
            return quick
    payments: list[Payment] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(read_table(path, COLUMNS, encoding=encoding), start=2):
        payment_id = row["payment_id"]
        if payment_id in seen:
            raise InputError(f"payment_id {payment_id!r} repeats row {seen[payment_id]}",
                             path=str(path), row=number)
        seen[payment_id] = number
        if row["amount"] <= ZERO:
            raise InputError(f"amount must be positive (a payment received), got {row['amount']}",
                             path=str(path), row=number)
        payments.append(Payment(
            payment_id=payment_id, value_date=row["value_date"], amount=row["amount"],
            currency=check_currency(row["currency"], path=str(path), row=number),
            payer_name=row["payer_name"] or "", payer_account=row["payer_account"] or "",
            customer=row["customer"] or "", remittance=row["remittance"] or "",
        ))
    return payments
