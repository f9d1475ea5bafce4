"""Records of cash application: open items, customers, habits in; applications and exceptions out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from sapbridge.bankfiles.payment import Payment

__all__ = [
    "ADVICE_COLUMNS_OUT",
    "APPLICATION_COLUMNS",
    "EXCEPTION_COLUMNS",
    "AdviceLink",
    "Application",
    "CashException",
    "CashResult",
    "Category",
    "CustomerRecord",
    "Habit",
    "ItemKey",
    "OpenItem",
    "Payment",
]

ItemKey = tuple[str, str, str, str]
"""(company_code, fiscal_year, document, item): an open item's identity in SAP."""

Category = Literal["unapplied", "short_pay", "over_pay", "ambiguous"]

APPLICATION_COLUMNS = ("payment_id", "company_code", "fiscal_year", "document", "item",
                       "applied_amount", "currency", "rule", "confidence")
"""Columns of matches.csv and suggestions.csv."""

EXCEPTION_COLUMNS = ("payment_id", "amount", "currency", "category", "difference",
                     "proposed_action", "detail")
"""Columns of exceptions.csv."""


class OpenItem(NamedTuple):
    """An open AR item; ``amount`` is signed (credit memos negative).

    A NamedTuple rather than a frozen dataclass: a run builds a million of these, and a frozen
    dataclass takes about five times as long to construct.
    """

    company_code: str
    customer: str
    fiscal_year: str
    document: str
    item: str
    reference: str
    assignment: str
    posting_date: date | None
    due_date: date | None
    amount: Decimal
    currency: str
    billing_document: str = ""

    @property
    def key(self) -> ItemKey:
        """The SAP key of the item."""
        return (self.company_code, self.fiscal_year, self.document, self.item)


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer with its name and bank accounts (IBANs or account numbers, normalised).

    ``pays_for``: the customers whose items this one pays as their head office
    (``CustomerHeadOffice``) or alternative payer (``AlternativePayerAccount``).
    """

    customer: str
    name: str
    accounts: tuple[str, ...] = ()
    pays_for: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Habit:
    """A confirmed payer habit: this account or name paid for this customer before."""

    kind: Literal["account", "name"]
    key: str
    customer: str
    confirmations: int = 1


class Application(NamedTuple):
    """One payment applied (or proposed) to one open item (a NamedTuple, like :class:`OpenItem`)."""

    payment_id: str
    company_code: str
    fiscal_year: str
    document: str
    item: str
    applied_amount: Decimal
    currency: str
    rule: str
    confidence: Decimal

    @property
    def key(self) -> ItemKey:
        """The SAP key of the item applied to."""
        return (self.company_code, self.fiscal_year, self.document, self.item)

    def row(self) -> tuple[Any, ...]:
        """Values in :data:`APPLICATION_COLUMNS` order."""
        return tuple(self)


@dataclass(frozen=True, slots=True)
class CashException:
    """A payment (or its remainder) a person must handle."""

    payment_id: str
    amount: Decimal
    currency: str
    category: Category
    difference: Decimal
    proposed_action: str
    detail: str

    def row(self) -> tuple[Any, ...]:
        """Values in :data:`EXCEPTION_COLUMNS` order."""
        return (self.payment_id, self.amount, self.currency, self.category, self.difference,
                self.proposed_action, self.detail)


@dataclass(frozen=True, slots=True)
class PayerInfo:
    """Who a payment was attributed to, how, and how sure we are (0..1)."""

    customer: str
    how: str
    strength: Decimal


ADVICE_COLUMNS_OUT = ("advice_id", "payment_id", "linked_by", "detail")
"""Columns of advices.csv: each advice, the payment it was linked to (if any) and how."""


@dataclass(frozen=True, slots=True)
class AdviceLink:
    """An advice and the payment it was linked to (``payment_id`` empty when none)."""

    advice_id: str
    payment_id: str
    linked_by: str
    detail: str

    def row(self) -> tuple[str, str, str, str]:
        """Values in :data:`ADVICE_COLUMNS_OUT` order."""
        return (self.advice_id, self.payment_id, self.linked_by, self.detail)


@dataclass
class CashResult:
    """The matcher's answer: auto-applied matches, suggestions, exceptions, and the payers found."""

    matches: list[Application] = field(default_factory=list)
    suggestions: list[Application] = field(default_factory=list)
    exceptions: list[CashException] = field(default_factory=list)
    payers: dict[str, PayerInfo] = field(default_factory=dict)
    tolerance_differences: dict[str, Decimal] = field(default_factory=dict)
    orders: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    """payment_id -> (payer, payment orders its items chosen by amount follow), for learning."""
    advices: list[AdviceLink] = field(default_factory=list)
    """How each remittance advice was linked, when advices were given."""
