"""SWIFT MT940 statements, parsed with the maintained ``mt-940`` package (Decimal amounts).

Credits (``C``) are payments to us. The structured German ``:86:`` field (``?20``..``?33``, SEPA
``SVWZ+``/``IBAN+``) gives remittance text, payer name and IBAN; an unstructured ``:86:`` is taken
whole as remittance text.

mt-940 skips what it cannot read and does not reconcile balances, so each statement (from one
``:20:`` to the next) is checked here: every ``:61:`` line was read, the statement has an opening
(``:60F:``/``:60M:``) and a closing balance (``:62F:``/``:62M:``), and opening balance plus entries
equals the closing balance (a truncated or edited file does not). The library's own error logging
(twenty lines of regex debugging for one bad line) is silenced; we say one line instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import mt940
from mt940.options import Options

from sapbridge.bankfiles.payment import Payment, check_currency
from sapbridge.errors import InputError
from sapbridge.tabular import text_encoding

__all__ = ["parse_mt940"]

_LINE_61 = re.compile(r"^:61:", re.MULTILINE)
_STATEMENT_START = re.compile(r"^:20:", re.MULTILINE)
_SUBFIELDS_APART: dict[str, list[Any]] = {
    "post_transaction_details": [mt940.processors.transaction_details_post_processor_with_space]}
"""``?20``-``?29`` joined with a space, not glued: a subfield may end a word (``RE 90017316`` +
``BESTELLUNG``) or split a number (``9001`` + ``7316``), which cash application joins back only
where the joined form is an open item."""


@dataclass(frozen=True, slots=True)
class _Statement:
    """One statement's text and where it starts in the file (1-based line)."""

    number: int
    first_line: int
    text: str

    def line_of(self, offset: int) -> int:
        return self.first_line + self.text.count("\n", 0, offset)


def _statements(text: str) -> list[_Statement]:
    starts = [m.start() for m in _STATEMENT_START.finditer(text)] or [0]
    starts[0] = 0  # SWIFT block headers before the first :20: belong to it
    return [_Statement(number, text.count("\n", 0, start) + 1, text[start:end])
            for number, (start, end) in enumerate(pairwise([*starts, len(text)]), start=1)]


@contextmanager
def _library_quiet() -> Iterator[None]:
    """No log output from mt-940 while it parses (its loggers are children of ``mt940``)."""
    library = logging.getLogger("mt940")
    previous = library.level
    library.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        library.setLevel(previous)


def _unreadable(path: Path, statement: _Statement, exc: Exception) -> InputError:
    args = exc.args
    tag, value = (args[1], args[2]) if len(args) >= 3 and isinstance(args[2], str) else (None, None)
    if tag is not None and value is not None:
        tag_id = getattr(tag, "id", "?")
        first = value.splitlines()[0] if value.strip() else value
        offset = statement.text.find(f":{tag_id}:{first}")
        row = statement.line_of(offset) if offset >= 0 else statement.first_line
        return InputError(f"MT940 statement {statement.number}: :{tag_id}: line not readable: {first[:60]!r}",
                          path=str(path), row=row)
    return InputError(f"MT940 statement {statement.number}: not readable ({type(exc).__name__}: "
                      f"{str(exc).splitlines()[0][:120] if str(exc) else ''})",
                      path=str(path), row=statement.first_line)


def _parse_statement(path: Path, statement: _Statement) -> Any:
    options = Options(applicant_iban=True, merge_keeps_values=True, unbounded_details=True)
    transactions = mt940.models.Transactions(processors=_SUBFIELDS_APART, options=options)
    try:
        with _library_quiet():
            transactions.parse(statement.text)
    except Exception as exc:  # noqa: BLE001 - mt-940 raises many kinds for a bad file
        raise _unreadable(path, statement, exc) from None
    expected = len(_LINE_61.findall(statement.text))
    if len(transactions) != expected:
        raise InputError(f"MT940 statement {statement.number}: {expected} :61: lines but "
                         f"{len(transactions)} readable", path=str(path), row=statement.first_line)
    _check_balances(path, statement, transactions)
    return transactions


def _balance(data: dict[str, Any], *names: str) -> Any:
    return next((data[name] for name in names if data.get(name) is not None), None)


def _check_balances(path: Path, statement: _Statement, transactions: Any) -> None:
    data = transactions.data
    def refuse(problem: str) -> InputError:
        return InputError(f"MT940 statement {statement.number}{problem}", path=str(path),
                          row=statement.first_line)

    opening = _balance(data, "final_opening_balance", "intermediate_opening_balance")
    closing = _balance(data, "final_closing_balance", "intermediate_closing_balance")
    if opening is None:
        raise refuse(" has no opening balance (:60F:)")
    if closing is None:
        raise refuse(" has no closing balance (:62F:); the file may be cut off")
    entries = sum((t.data["amount"].amount for t in transactions), Decimal(0))
    start, end = opening.amount.amount, closing.amount.amount
    if start + entries != end:
        raise refuse(f": opening balance {start} plus entries {entries} is {start + entries}, "
                     f"but the closing balance (:62F:) is {end}")


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


def _statement_payments(path: Path, statement: _Statement, transactions: Any, serial: int) -> list[Payment]:
    """Credits of one statement; ``serial`` counts the file's :61: lines before it (for ids)."""
    reference = str(transactions.data.get("transaction_reference") or "MT940")
    lines = [statement.line_of(m.start()) for m in _LINE_61.finditer(statement.text)]
    payments = []
    for index, transaction in enumerate(transactions):
        data = transaction.data
        amount = data["amount"].amount
        if amount <= 0:
            continue
        currency = check_currency(str(data["amount"].currency or ""), path=str(path), row=lines[index])
        remittance, name, account = _details(data)
        booked = data.get("date")
        value_date = date(booked.year, booked.month, booked.day) if booked else None
        payments.append(Payment(_payment_id(data, f"{reference}-{serial + index + 1}"), value_date,
                                amount, currency, name, account, "", remittance))
    return payments


def parse_mt940(path: Path, encoding: str | None = None) -> list[Payment]:
    """Credit lines of an MT940 file as payments; one InputError line naming statement and line."""
    text = path.read_text(encoding=text_encoding(path, encoding))
    payments: list[Payment] = []
    serial = 0
    for statement in _statements(text):
        transactions = _parse_statement(path, statement)
        payments += _statement_payments(path, statement, transactions, serial)
        serial += len(transactions)
    return payments
