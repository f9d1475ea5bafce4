"""Reading what the matcher needs: open items and customers from the store or files, habits."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sapbridge.bankfiles.payment import check_currency, normalise_account
from sapbridge.errors import InputError
from sapbridge.money import parse_amount
from sapbridge.reconcile.cash.model import CustomerRecord, Habit, OpenItem
from sapbridge.reconcile.cash.reference_habits import ReferenceHabit
from sapbridge.reconcile.cash.tables import cash_habits, cash_reference_habits
from sapbridge.store import Store
from sapbridge.store.schema import customer_bank_accounts, customer_companies, customers, open_items
from sapbridge.tabular import Column, read_table, text_encoding

__all__ = ["OPEN_ITEM_COLUMNS", "load_customers", "load_habits", "load_open_items", "load_reference_habits"]

OPEN_ITEM_COLUMNS = (
    Column("company_code"), Column("customer"), Column("fiscal_year"), Column("document"),
    Column("item"), Column("reference", required=False), Column("assignment", required=False),
    Column("posting_date", "date", required=False), Column("due_date", "date", required=False),
    Column("amount", "money"), Column("currency"),
)
"""Columns of an ``--open-items`` file; amounts signed (credit memos negative)."""

CUSTOMER_COLUMNS = (Column("customer"), Column("name", required=False), Column("account", required=False))
"""Columns of a ``--customers`` file: one row per bank account."""

PAYER_COLUMNS = (Column("head_office", required=False), Column("alternative_payer", required=False))
"""Optional columns of a ``--customers`` file: who pays the customer's items (may be absent)."""


def _require_header(path: Path, columns: tuple[Column, ...]) -> None:
    """Optional-value columns must still be present in the header."""
    if path.suffix.lower() in {".xlsx", ".xlsm"} or not path.is_file():
        return
    with path.open(encoding=text_encoding(path)) as handle:
        first = handle.readline()
    delimiter = ";" if first.count(";") > first.count(",") else ","
    present = {name.strip().lower() for name in first.strip().split(delimiter)}
    missing = [c.name for c in columns if c.name not in present]
    if missing and first.strip():
        raise InputError(f"missing column(s): {', '.join(missing)}", path=str(path), row=1)


def _item_from_file(row: dict[str, Any], path: Path, number: int) -> OpenItem:
    return OpenItem(
        company_code=row["company_code"], customer=row["customer"], fiscal_year=row["fiscal_year"],
        document=row["document"], item=row["item"], reference=row["reference"] or "",
        assignment=row["assignment"] or "", posting_date=row["posting_date"], due_date=row["due_date"],
        amount=row["amount"], currency=check_currency(row["currency"], path=str(path), row=number),
    )




def _plain_date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


class _Days(dict[Any, "date | None"]):
    """Each distinct date once: a million items share a few hundred posting and due dates."""

    def __missing__(self, text: str) -> date | None:
        day = self[text] = _plain_date(text)
        return day


def _shared_texts() -> Callable[[str, str], str]:
    """``share(text, text)``: the one copy of an equal text seen before, else ``text``.

    Company codes, customers, years, item numbers and currencies repeat over a million items;
    one string each instead of one per item keeps the items a third smaller.
    """
    texts: dict[str, str] = {}
    return texts.setdefault


def _fast_open_items(path: Path) -> list[OpenItem] | None:
    """A quick read of a plain comma CSV (plain amounts, ISO dates); None if anything is unusual.

    Large exports (a million items) are read several times faster this way; any file this does
    not accept is read by :func:`read_table`, which also reports the file, row and problem.
    """
    if path.suffix.lower() != ".csv":
        return None
    names = [c.name for c in OPEN_ITEM_COLUMNS]
    items: list[OpenItem] = []
    share, days = _shared_texts(), _Days()
    with path.open(encoding=text_encoding(path), newline="") as handle:
        rows = csv.reader(handle)
        header = [h.strip().lower() for h in next(rows, [])]
        if any(name not in header for name in names):
            return None
        at = [header.index(name) for name in names]
        width = max(at) + 1
        pick = itemgetter(*at)
        try:
            for raw in rows:
                if len(raw) < width:
                    return None
                cc, cu, fy, doc, it, ref, asg, posted, due, amount, ccy = pick(raw)
                if not (cc and cu and fy and doc and it and len(ccy) == 3 and ccy.isupper()
                        and ccy.isalpha()):
                    return None
                value = parse_amount(amount)
                if "," in amount:
                    return None
                items.append(OpenItem(share(cc, cc), share(cu, cu), share(fy, fy), doc, share(it, it), ref,
                                      asg, days[posted], days[due], value, share(ccy, ccy)))
        except (ValueError, ArithmeticError, csv.Error, UnicodeDecodeError):
            return None
    return items or None


def load_open_items(store: Store | None, system: str, path: Path | None) -> list[OpenItem]:
    """Open items from ``path`` (CSV/XLSX) if given, else the store's open items of ``system``."""
    if path is not None:
        _require_header(path, OPEN_ITEM_COLUMNS)
        fast = _fast_open_items(path)
        if fast is not None:
            return fast
        rows = read_table(path, OPEN_ITEM_COLUMNS)
        return [_item_from_file(row, path, n) for n, row in enumerate(rows, start=2)]
    assert store is not None
    t = open_items.c
    query = select(t.company_code, t.customer, t.fiscal_year, t.document, t.item, t.reference,
                   t.assignment, t.posting_date, t.net_due_date, t.amount, t.currency,
                   t.billing_document).where(t.system == system, t.status == "open")
    share = _shared_texts()
    days: dict[date | None, date | None] = {}
    day = days.setdefault
    with store.engine.connect() as conn:
        found = conn.execution_options(yield_per=10_000).execute(query)
        return [OpenItem(share(r.company_code, r.company_code), share(r.customer, r.customer),
                         share(r.fiscal_year, r.fiscal_year), r.document, share(r.item, r.item),
                         r.reference or "", r.assignment or "", day(r.posting_date, r.posting_date),
                         day(r.net_due_date, r.net_due_date), r.amount, share(r.currency, r.currency),
                         r.billing_document or "") for r in found]


def _customer_number(value: str | None) -> str:
    text = (value or "").strip()
    return text.zfill(10) if text.isdigit() and len(text) <= 10 else text.upper()


def _read_customers_file(path: Path) -> tuple[dict[str, str], dict[str, list[str]], set[tuple[str, str]]]:
    names: dict[str, str] = {}
    accounts: dict[str, list[str]] = defaultdict(list)
    paid_by: set[tuple[str, str]] = set()
    _require_header(path, CUSTOMER_COLUMNS)
    for row in read_table(path, CUSTOMER_COLUMNS + PAYER_COLUMNS):
        customer = row["customer"]
        names.setdefault(customer, row["name"] or "")
        if row["account"]:
            accounts[customer].append(normalise_account(row["account"]))
        paid_by |= {(_customer_number(row[c.name]), customer) for c in PAYER_COLUMNS if row.get(c.name)}
    return names, accounts, paid_by


def _read_customers_store(store: Store, system: str) -> tuple[dict[str, str], dict[str, list[str]],
                                                              set[tuple[str, str]]]:
    names: dict[str, str] = {}
    accounts: dict[str, list[str]] = defaultdict(list)
    paid_by: set[tuple[str, str]] = set()
    with store.engine.connect() as conn:
        for r in conn.execute(select(customers.c.customer, customers.c.name)
                              .where(customers.c.system == system, customers.c.status == "open")):
            names[r.customer] = r.name or ""
        b = customer_bank_accounts.c
        for bank in conn.execute(select(b.customer, b.iban, b.bank_account)
                                 .where(b.system == system, b.status == "open")):
            accounts[bank.customer] += [normalise_account(a) for a in (bank.iban, bank.bank_account) if a]
        k = customer_companies.c
        for company in conn.execute(select(k.customer, k.head_office, k.alternative_payer)
                                    .where(k.system == system, k.status == "open")):
            payers = (company.head_office, company.alternative_payer)
            paid_by |= {(payer, company.customer) for payer in payers if payer and payer != company.customer}
    return names, accounts, paid_by


def load_customers(store: Store | None, system: str, path: Path | None) -> list[CustomerRecord]:
    """Customers with names, bank accounts and the accounts each pays for (as head office or
    alternative payer), from ``path`` if given, else the store."""
    if path is not None:
        names, accounts, paid_by = _read_customers_file(path)
    else:
        assert store is not None
        names, accounts, paid_by = _read_customers_store(store, system)
    pays_for: dict[str, list[str]] = defaultdict(list)
    for payer, customer in sorted(paid_by):
        if payer != customer:
            pays_for[payer].append(customer)
    return [CustomerRecord(c, names.get(c, ""), tuple(accounts.get(c, ())), tuple(pays_for.get(c, ())))
            for c in sorted(set(names) | set(accounts) | set(pays_for))]


def load_habits(store: Store | None, system: str) -> list[Habit]:
    """Confirmed payer habits of ``system`` (none without a store)."""
    if store is None:
        return []
    h = cash_habits.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(h.kind, h.key, h.customer, h.confirmations).where(h.system == system)
                            .order_by(h.confirmations.desc()))
        return [Habit(r.kind, r.key, r.customer, r.confirmations) for r in rows]


def load_reference_habits(store: Store | None, system: str) -> list[ReferenceHabit]:
    """Confirmed reference habits of ``system`` (none without a store)."""
    if store is None:
        return []
    h = cash_reference_habits.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(h.customer, h.field, h.pattern, h.confirmations)
                            .where(h.system == system)
                            .order_by(h.customer, h.confirmations.desc(), h.field, h.pattern))
        return [ReferenceHabit(r.customer, r.field, r.pattern, r.confirmations) for r in rows]
