"""Reading claims and dispute cases from CSV or XLSX files.

Every problem is one :class:`~sapbridge.errors.InputError` line naming file, row and problem.
Rows of the claims file that share a ``claim_id`` are lines of one claim: their amounts add up,
and they must agree on customer and currency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sapbridge.money import ZERO
from sapbridge.reconcile.recoveries.config import RecoveriesConfig
from sapbridge.reconcile.recoveries.model import CLAIM_STATUSES, Claim, ClaimStatus, Dispute
from sapbridge.reconcile.recoveries.rows import Chunk, FileRows
from sapbridge.reconcile.references import extract_candidates, normalise_reference
from sapbridge.tabular import _parse_date, _parse_money

__all__ = [
    "CLAIM_COLUMNS",
    "DISPUTE_COLUMNS",
    "case_closed",
    "claim_references",
    "known_statuses",
    "normalise_customer",
    "read_claims",
    "read_disputes",
]

CLAIM_COLUMNS = ("claim_id", "customer", "claim_date", "reference", "amount", "currency", "status",
                 "recovered_amount", "recovered_on", "reason")
"""Columns of a claims file; reference, recovered_amount, recovered_on and reason may be empty."""
_CLAIM_REQUIRED = ("claim_id", "customer", "claim_date", "amount", "currency", "status")

DISPUTE_COLUMNS = ("case_id", "company_code", "customer", "status", "reason", "original_amount",
                   "disputed_amount", "paid_amount", "credited_amount", "written_off_amount",
                   "currency", "invoice_reference", "created_on", "closed_on")
"""Columns of a disputes file (the store's ``disputes`` table, ``status`` being the case status)."""
_DISPUTE_REQUIRED = ("case_id", "customer", "status", "disputed_amount", "currency")

_CLAIM_ID_MAX = 40
_CUSTOMER_MAX = 10
_CASE_ID_MAX = 12


def normalise_customer(text: str) -> str:
    """SAP's ALPHA form of a customer number (``100001`` -> ``0000100001``); names stay as written."""
    value = text.strip().upper()
    return value.zfill(_CUSTOMER_MAX) if value.isdigit() else value


def claim_references(text: str) -> tuple[str, ...]:
    """The normalised reference of a claim field, then any other reference found in its text.

    One or two words (``INV-0090012345``, ``RI 90012345``) are one reference; longer text, or
    text with ``,;|``, is searched for more.
    """
    seen: dict[str, None] = {}
    first = normalise_reference(text)
    if first:
        seen[first] = None
    if len(text.split(None, 2)) <= 2 and not any(mark in text for mark in ",;|"):
        return tuple(seen)
    for candidate in extract_candidates(text):
        seen.setdefault(candidate, None)
    return tuple(seen)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _money(rows: FileRows, row: int, column: str, value: Any, *, required: bool = False) -> Decimal:
    text = f"{Decimal(repr(value)):f}" if isinstance(value, float) else _text(value)
    if not text:
        if required:
            raise rows.fail(f"{column} is empty", row)
        return ZERO
    try:
        return _parse_money(text)
    except ValueError as exc:
        raise rows.fail(f"{column}: {exc}", row) from None


def _date(rows: FileRows, row: int, column: str, value: Any, *, required: bool = False) -> date | None:
    if value.__class__ is str and len(value) == 10:
        try:  # the common case, ISO "2026-11-20"
            return date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text or text.strip("0") == "":
        if required:
            raise rows.fail(f"{column} is empty", row)
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return _parse_date(text)
    except ValueError as exc:
        raise rows.fail(f"{column}: {exc}", row) from None


def _required_text(rows: FileRows, row: int, column: str, value: Any, limit: int) -> str:
    text = _text(value)
    if not text:
        raise rows.fail(f"{column} is empty", row)
    if len(text) > limit:
        raise rows.fail(f"{column} {text!r} is longer than {limit} characters", row)
    return text


def _currency(rows: FileRows, row: int, value: Any) -> str:
    text = _text(value).upper()
    if len(text) != 3 or not text.isalpha():
        raise rows.fail(f"currency: not an ISO currency code: {text!r}", row)
    return text


@dataclass
class _ClaimLines:
    first_row: int
    claim_id: str
    customer: str
    currency: str
    claim_date: date
    references: dict[str, None] = field(default_factory=dict)
    reference_text: list[str] = field(default_factory=list)
    amount: Decimal = ZERO
    recovered_amount: Decimal = ZERO
    recovered_on: date | None = None
    statuses: set[str] = field(default_factory=set)
    reason: str = ""

    def claim(self) -> Claim:
        status: ClaimStatus = "claimed"
        if "recovered" in self.statuses:
            status = "recovered"
        elif self.statuses == {"rejected"}:
            status = "rejected"
        return Claim(self.claim_id, self.customer, self.claim_date, tuple(self.references),
                     " | ".join(self.reference_text), self.amount, self.currency, status,
                     self.recovered_amount, self.recovered_on, self.reason)


def read_claims(path: str | Path) -> list[Claim]:
    """Claims of a CSV or XLSX file, lines with one ``claim_id`` summed into one claim."""
    rows = FileRows(Path(path), CLAIM_COLUMNS, _CLAIM_REQUIRED)
    fast = _plain_file(rows, _plain_claims) if rows.text_only else None
    if fast is not None:
        return fast
    claims: dict[str, _ClaimLines] = {}
    for numbers, table in rows.chunks():
        for position, number in enumerate(numbers):
            raw = {name: values[position] for name, values in table.items()}
            _add_claim_line(rows, number, raw, claims)
    for lines in claims.values():
        if lines.amount <= ZERO:
            raise rows.fail(f"claim {lines.claim_id}: amount must be positive, not {lines.amount}",
                            lines.first_row)
    return [lines.claim() for lines in claims.values()]


def _plain_claims(table: dict[str, list[Any]]) -> list[Claim] | None:
    """The claims of a CSV, a column at a time, when each has one line and every value is plain.

    Anything else (a claim on several lines, an empty required value, a number or date that
    needs care, an unknown status, a non-positive amount) returns None and the row-by-row reader
    takes over, with the same values and its one-line errors.
    """
    try:
        claim_ids = _plain_texts(table["claim_id"], limit=_CLAIM_ID_MAX)
        if len(set(claim_ids)) != len(claim_ids):
            return None
        customers = _plain_lookup(_plain_texts(table["customer"], limit=80), _plain_customer)
        currencies = _plain_lookup(table["currency"], _plain_currency)
        statuses = _plain_lookup(table["status"], _plain_status)
        amounts = _plain_amounts(table["amount"], required=True, summed=True)
        recovered_text = table["recovered_amount"]
        if any(status == "recovered" and not text.strip()
               for status, text in zip(statuses, recovered_text, strict=True)):
            return None
        recovered = _plain_amounts(recovered_text, required=False, summed=True)
        claim_dates = _plain_dates(table["claim_date"])
        recovered_on = _plain_dates(table["recovered_on"])
    except _NotPlain:
        return None
    if not all(claim_dates) or min(amounts) <= ZERO:
        return None
    references = [value.strip() for value in table["reference"]]
    return list(map(Claim, claim_ids, customers, claim_dates,
                    [claim_references(text) if text else () for text in references], references,
                    amounts, currencies, statuses, recovered, recovered_on,
                    _shared(table["reason"], str.strip)))


def _plain_customer(value: str) -> str | None:
    customer = normalise_customer(value)
    return customer if len(customer) <= _CUSTOMER_MAX else None


def _plain_status(value: str) -> str | None:
    status = value.strip().lower()
    return status if status in CLAIM_STATUSES else None


def _add_claim_line(rows: FileRows, number: int, raw: dict[str, Any],
                    claims: dict[str, _ClaimLines]) -> None:
    claim_id = _required_text(rows, number, "claim_id", raw["claim_id"], _CLAIM_ID_MAX)
    customer = normalise_customer(_required_text(rows, number, "customer", raw["customer"], 80))
    if len(customer) > _CUSTOMER_MAX:
        raise rows.fail(f"customer {customer!r} is longer than {_CUSTOMER_MAX} characters", number)
    currency = _currency(rows, number, raw["currency"])
    status = _text(raw["status"]).lower()
    if status not in CLAIM_STATUSES:
        raise rows.fail(f"unknown status {status!r} (use {', '.join(CLAIM_STATUSES)})", number)
    amount = _money(rows, number, "amount", raw["amount"], required=True)
    recovered_text = raw.get("recovered_amount", "")
    if status == "recovered" and not _text(recovered_text):
        raise rows.fail("recovered_amount is empty for a recovered claim", number)
    recovered = _money(rows, number, "recovered_amount", recovered_text)
    recovered_on = _date(rows, number, "recovered_on", raw.get("recovered_on", ""))
    claim_date = _date(rows, number, "claim_date", raw["claim_date"], required=True)
    assert claim_date is not None
    lines = claims.get(claim_id)
    if lines is None:
        lines = claims[claim_id] = _ClaimLines(number, claim_id, customer, currency, claim_date)
    elif lines.currency != currency:
        raise rows.fail(f"claim {claim_id} mixes currencies: {lines.currency} on row "
                        f"{lines.first_row}, {currency} here", number)
    elif lines.customer != customer:
        raise rows.fail(f"claim {claim_id} mixes customers: {lines.customer} on row "
                        f"{lines.first_row}, {customer} here", number)
    reference = _text(raw.get("reference", ""))
    if reference:
        lines.reference_text.append(reference)
        lines.references.update(dict.fromkeys(claim_references(reference)))
    lines.amount += amount
    lines.recovered_amount += recovered
    lines.claim_date = min(lines.claim_date, claim_date)
    if recovered_on is not None:
        lines.recovered_on = max(lines.recovered_on or recovered_on, recovered_on)
    lines.statuses.add(status)
    lines.reason = lines.reason or _text(raw.get("reason", ""))


def case_closed(status: str, config: RecoveriesConfig) -> bool | None:
    """True for a closed status, False for an open one, None for one the config does not know."""
    code = status.strip().upper()
    if code in config.closed_statuses:
        return True
    if code in config.open_statuses:
        return False
    return None


def known_statuses(config: RecoveriesConfig) -> str:
    """The configured case statuses, for error messages."""
    return ", ".join(sorted(config.open_statuses | config.closed_statuses))


def read_disputes(path: str | Path, config: RecoveriesConfig) -> list[Dispute]:
    """Dispute cases of a CSV or XLSX file with :data:`DISPUTE_COLUMNS`."""
    rows = FileRows(Path(path), DISPUTE_COLUMNS, _DISPUTE_REQUIRED)
    fast = _plain_file(rows, lambda table: _plain_disputes(table, config)) if rows.text_only else None
    if fast is not None:
        return fast
    seen: dict[str, int] = {}
    result: list[Dispute] = []
    for numbers, table in rows.chunks():
        for position, number in enumerate(numbers):
            raw = {name: values[position] for name, values in table.items()}
            case_id = _required_text(rows, number, "case_id", raw["case_id"], _CASE_ID_MAX)
            if case_id in seen:
                raise rows.fail(f"case {case_id} appears twice (first on row {seen[case_id]})", number)
            seen[case_id] = number
            result.append(_dispute(rows, number, raw, case_id, config))
    return result


Record = TypeVar("Record", Claim, Dispute)


def _plain_file(rows: FileRows, read_chunk: Callable[[dict[str, list[Any]]], list[Record] | None],
                ) -> list[Record] | None:
    """Every record of a plain file, read a chunk at a time; None as soon as one chunk is not
    plain or an id (the records' first field) repeats, and the row-by-row reader reads the file."""
    records: list[Record] = []
    ids: set[str] = set()
    chunk: Chunk
    for chunk in rows.chunks():
        found = read_chunk(chunk[1])
        if found is None:
            return None
        ids.update(record[0] for record in found)
        records += found
        if len(ids) != len(records):
            return None
    return records


class _NotPlain(Exception):
    """A value the column-wise fast path leaves to the row-by-row reader (and its errors)."""


def _plain_disputes(table: dict[str, list[Any]], config: RecoveriesConfig) -> list[Dispute] | None:
    """The cases of a CSV, read a column at a time, if every value is plain and needs no care.

    A CSV export of a million cases reads about twice as fast this way. Anything unusual (an
    empty required value, ``1.234,50``, a date not in ISO form, an unknown status, a duplicate
    case) returns None, and the row-by-row reader, which gives the same values and names the
    row of any error, reads the file instead.
    """
    try:
        case_ids = _plain_texts(table["case_id"], limit=_CASE_ID_MAX)
        if len(set(case_ids)) != len(case_ids):
            return None
        statuses = _shared(table["status"], str.strip)
        closed = _plain_lookup(statuses, lambda status: case_closed(status, config))
        customers = _plain_lookup(_plain_texts(table["customer"], limit=80), normalise_customer)
        currencies = _plain_lookup(table["currency"], _plain_currency)
        money = {name: _plain_amounts(table[name], required=name == "disputed_amount")
                 for name in ("original_amount", "disputed_amount", "paid_amount", "credited_amount",
                              "written_off_amount")}
        dates = {name: _plain_dates(table[name]) for name in ("created_on", "closed_on")}
    except _NotPlain:
        return None
    texts = {name: _shared(table[name], str.strip) for name in ("company_code", "reason")}
    texts["invoice_reference"] = [value.strip() for value in table["invoice_reference"]]
    return list(map(Dispute, case_ids, texts["company_code"], customers, closed, statuses,
                    texts["reason"], money["original_amount"], money["disputed_amount"],
                    money["paid_amount"], money["credited_amount"], money["written_off_amount"],
                    currencies, texts["invoice_reference"], dates["created_on"], dates["closed_on"]))


def _plain_texts(values: list[str], *, limit: int) -> list[str]:
    texts = [value.strip() for value in values]
    if not all(texts) or max(map(len, texts)) > limit:
        raise _NotPlain
    return texts


def _plain_lookup(values: list[str], convert: Callable[[str], Any]) -> list[Any]:
    """``convert`` applied once per distinct value; a None result is not plain."""
    distinct = set(values)
    mapping = dict(zip(distinct, map(convert, distinct), strict=True))
    if None in mapping.values():
        raise _NotPlain
    return list(map(mapping.__getitem__, values))


def _plain_currency(value: str) -> str | None:
    code = value.strip().upper()
    return code if len(code) == 3 and code.isalpha() else None


def _plain_amounts(values: list[str], *, required: bool, summed: bool = False) -> list[Decimal]:
    """``summed``: each amount as a sum from zero gives it (the row-by-row claims reader adds
    up a claim's lines)."""
    if required and not all(values):
        raise _NotPlain

    def parse(value: str) -> Decimal:
        amount = _parse_money(value) if value else ZERO
        return ZERO + amount if summed else amount

    try:
        return _shared(values, parse)
    except ValueError:
        raise _NotPlain from None


def _plain_dates(values: list[str]) -> list[date | None]:
    if not set(map(len, values)) <= {0, 10}:
        raise _NotPlain
    try:
        return _shared(values, lambda value: date.fromisoformat(value) if value else None)
    except ValueError:
        raise _NotPlain from None


def _shared(values: list[str], convert: Callable[[str], Any]) -> list[Any]:
    """``convert`` applied once per distinct value, every equal value sharing one result.

    Amounts of 0, the same few dates and statuses repeat over a million cases: one object each
    instead of one per row keeps the cases several hundred MB smaller.
    """
    distinct = set(values)
    mapping = dict(zip(distinct, map(convert, distinct), strict=True))
    return list(map(mapping.__getitem__, values))


def _dispute(rows: FileRows, number: int, raw: dict[str, Any], case_id: str,
             config: RecoveriesConfig) -> Dispute:
    status = _text(raw["status"])
    closed = case_closed(status, config)
    if closed is None:
        raise rows.fail(f"unknown status {status!r} (known: {known_statuses(config)})", number)
    customer = normalise_customer(_required_text(rows, number, "customer", raw["customer"], 80))
    get = raw.get
    return Dispute(
        case_id, _text(get("company_code", "")), customer, closed, status, _text(get("reason", "")),
        _money(rows, number, "original_amount", get("original_amount", "")),
        _money(rows, number, "disputed_amount", raw["disputed_amount"], required=True),
        _money(rows, number, "paid_amount", get("paid_amount", "")),
        _money(rows, number, "credited_amount", get("credited_amount", "")),
        _money(rows, number, "written_off_amount", get("written_off_amount", "")),
        _currency(rows, number, raw["currency"]), _text(get("invoice_reference", "")),
        _date(rows, number, "created_on", get("created_on", "")),
        _date(rows, number, "closed_on", get("closed_on", "")),
    )
