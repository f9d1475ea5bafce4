"""Open items indexed for matching: by (currency, customer), by normalised reference, by amount.

Amounts are held as integers in minor units (cents, yen) so sums and comparisons are exact and
fast; :attr:`ItemIndex.remaining` is what is still open while payments are being applied.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sapbridge.money import currency_decimals, to_minor_units
from sapbridge.reconcile.cash.model import OpenItem
from sapbridge.reconcile.references import (
    OCR_TO_DIGIT,
    PREFIXES,
    extract_candidates,
    joined_candidates,
    normalise_reference,
    strip_amounts,
)

__all__ = ["ItemIndex", "from_minor", "index_key", "minor_units", "plain_candidates", "remittance_candidates",
           "wrapped_candidates"]

_FAR = date.max


_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DECIMALS: dict[str, int] = {}


def index_key(value: str | None) -> str:
    """:func:`normalise_reference`, with fast paths for plain digits and ``PO123456``-like values."""
    if not value:
        return ""
    if value.isdigit():
        return value.lstrip("0") or "0"
    digits = value.lstrip(_UPPER)
    letters = len(value) - len(digits)
    if not 1 <= letters <= 4 or not digits.isdigit() or not digits.isascii() or value[:letters] in PREFIXES:
        return normalise_reference(value)
    if len(digits) < max(3, (len(value) * 2 + 2) // 3):
        return value
    translated = value[:letters].translate(OCR_TO_DIGIT) + digits
    return (translated.lstrip("0") or "0") if translated.isdigit() else translated


def plain_candidates(text: str, min_length: int) -> list[str]:
    """References written whole in a remittance text (money amounts dropped first)."""
    return extract_candidates(strip_amounts(text), min_length=min_length) if text else []


def wrapped_candidates(text: str, min_length: int, plain: list[str] | None = None) -> list[str]:
    """References the bank or the customer broke into pieces (``9001 7316``, a wrapped line),
    joined back; those already among ``plain`` are left out."""
    if not text:
        return []
    known = set(plain_candidates(text, min_length) if plain is None else plain)
    return [c for c in joined_candidates(text, min_length=min_length) if c not in known]


def remittance_candidates(text: str, min_length: int) -> list[str]:
    """Every key a remittance text may name an item by: whole references, then joined pieces."""
    plain = plain_candidates(text, min_length)
    return plain + wrapped_candidates(text, min_length, plain)


def minor_units(amount: Decimal, currency: str) -> int:
    """:func:`to_minor_units` without rounding work when the amount has no excess decimals."""
    places = _DECIMALS.get(currency)
    if places is None:
        places = _DECIMALS[currency] = currency_decimals(currency)
    scaled = amount.scaleb(places)
    whole = int(scaled)
    return whole if whole == scaled else to_minor_units(amount, currency)


def from_minor(minor: int, currency: str) -> Decimal:
    """Minor units back to a Decimal amount with the currency's decimals."""
    return Decimal(minor).scaleb(-currency_decimals(currency))


@dataclass
class ItemIndex:
    """Open items with their lookups; built once per run by :meth:`build`."""

    items: Sequence[OpenItem]
    minor: list[int]
    remaining: list[int]
    by_customer: dict[tuple[str, str], list[int]]
    by_reference: dict[str, int | list[int]]
    _sorted: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def build(cls, items: Sequence[OpenItem], min_reference_length: int,
              wanted: set[str] | None = None) -> ItemIndex:
        """Index ``items``; references shorter than ``min_reference_length`` are not indexed.

        ``wanted``: the only reference keys anyone will look up (those found in the payments'
        remittance texts); other keys are not stored, which keeps a million-item index small.
        """
        minor = [minor_units(item.amount, item.currency) for item in items]
        by_customer: dict[tuple[str, str], list[int]] = defaultdict(list)
        by_reference: dict[str, int | list[int]] = {}
        for position, item in enumerate(items):
            by_customer[(item.currency, item.customer)].append(position)
            seen = ""
            for value in (item.document, item.reference, item.assignment, item.billing_document):
                key = index_key(value)
                if len(key) >= min_reference_length and key != seen and (wanted is None or key in wanted):
                    seen = key
                    found = by_reference.get(key)
                    if found is None:
                        by_reference[key] = position
                    elif isinstance(found, int):
                        by_reference[key] = [found, position]
                    else:
                        found.append(position)
        return cls(items, minor, list(minor), dict(by_customer), by_reference)

    def referenced(self, key: str) -> list[int]:
        """Items whose document, reference, assignment or billing document normalises to ``key``."""
        found = self.by_reference.get(key)
        if found is None:
            return []
        return [found] if isinstance(found, int) else found

    def with_amount(self, currency: str, customer: str, amount: int) -> list[int]:
        """Untouched items of one customer with exactly ``amount`` (minor units), oldest due first."""
        remaining = self.remaining
        return [p for p in self.customer_items(currency, customer)
                if remaining[p] == amount and self.minor[p] == amount]

    def amounts_index(self, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], list[int]]:
        """Untouched items whose (currency, amount) is in ``wanted``: one pass, built on demand."""
        found: dict[tuple[str, int], list[int]] = defaultdict(list)
        items, remaining = self.items, self.remaining
        for position, amount in enumerate(self.minor):
            if remaining[position] == amount:
                key = (items[position].currency, amount)
                if key in wanted:
                    found[key].append(position)
        return found

    def customer_items(self, currency: str, customer: str) -> list[int]:
        """Items of one customer in one currency, oldest due first."""
        key = (currency, customer)
        positions = self.by_customer.get(key, [])
        if key not in self._sorted:
            items = self.items
            positions.sort(key=lambda i: (items[i].due_date or items[i].posting_date or _FAR,
                                          items[i].document))
            self._sorted.add(key)
        return positions

    def untouched(self, position: int) -> bool:
        """True while nothing has been applied to the item in this run."""
        return self.remaining[position] == self.minor[position]

    def due_order(self, position: int) -> tuple[date, str]:
        """Sort key: oldest due date first, then document number."""
        item = self.items[position]
        return (item.due_date or item.posting_date or _FAR, item.document)
