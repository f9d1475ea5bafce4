"""Records and results of the recoveries reconciliation: claims, dispute cases, classified rows.

Claims come from the recovery provider (a post-audit firm chasing invalid deductions); dispute
cases from FSCM Dispute Management, where the dispute team works the same deductions. Every
amount is a ``Decimal`` in the record's own currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal, NamedTuple, get_args

from sapbridge.money import ZERO

__all__ = [
    "CATEGORIES",
    "CLAIM_STATUSES",
    "NEEDS_REVIEW",
    "Category",
    "Claim",
    "ClaimStatus",
    "Dispute",
    "RecoveriesResult",
    "ResultRow",
]

ClaimStatus = Literal["claimed", "recovered", "rejected"]
CLAIM_STATUSES: tuple[ClaimStatus, ...] = ("claimed", "recovered", "rejected")
"""What the recovery provider reports for a claim."""

Category = Literal[
    "recovered_closed",
    "recovered_open_dispute",
    "recovered_after_writeoff",
    "amount_mismatch",
    "duplicate_claim",
    "claim_without_dispute",
    "dispute_without_claim",
    "open_claim",
    "rejected_claim",
]
CATEGORIES: tuple[Category, ...] = get_args(Category)
"""Every category, in report order."""

NEEDS_REVIEW: frozenset[Category] = frozenset(CATEGORIES) - {"recovered_closed", "open_claim"}
"""Categories whose rows need a person's action."""


class Claim(NamedTuple):
    """One recovery claim (its lines summed), as the provider reports it."""

    claim_id: str
    customer: str
    claim_date: date
    references: tuple[str, ...]
    """Normalised references, the first written first; empty when the claim gives none."""
    reference_text: str
    amount: Decimal
    currency: str
    status: ClaimStatus
    recovered_amount: Decimal
    recovered_on: date | None
    reason: str


class Dispute(NamedTuple):
    """One dispute case (a deduction the customer took), from the store or a file."""

    case_id: str
    company_code: str
    customer: str
    closed: bool
    case_status: str
    reason: str
    original_amount: Decimal
    disputed_amount: Decimal
    paid_amount: Decimal
    credited_amount: Decimal
    written_off_amount: Decimal
    currency: str
    invoice_reference: str
    created_on: date | None
    closed_on: date | None


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One classified claim, or one dispute nobody claimed, with who acts and how."""

    category: Category
    owner: str
    proposed_action: str
    claim: Claim | None
    dispute: Dispute | None
    note: str = ""

    @property
    def customer(self) -> str:
        """The claim's customer, else the case's."""
        if self.claim is not None:
            return self.claim.customer
        return self.dispute.customer if self.dispute is not None else ""

    @property
    def currency(self) -> str:
        """The claim's currency, else the case's."""
        if self.claim is not None:
            return self.claim.currency
        return self.dispute.currency if self.dispute is not None else ""

    @property
    def claim_amount(self) -> Decimal:
        """What the provider claims (zero for a case without a claim)."""
        return self.claim.amount if self.claim is not None else ZERO

    @property
    def recovered_amount(self) -> Decimal:
        """What the provider has recovered so far."""
        return self.claim.recovered_amount if self.claim is not None else ZERO

    @property
    def disputed_amount(self) -> Decimal:
        """The deduction on the matched case (zero without one)."""
        return self.dispute.disputed_amount if self.dispute is not None else ZERO

    @property
    def needs_review(self) -> bool:
        """True when a person has to act on this row."""
        return self.category in NEEDS_REVIEW


@dataclass(frozen=True, slots=True)
class RecoveriesResult:
    """What :func:`~sapbridge.reconcile.recoveries.classify.classify` returns."""

    as_of: date
    claim_count: int
    dispute_count: int
    rows: list[ResultRow] = field(default_factory=list)
    owners: dict[Category, str] = field(default_factory=dict)
    """The owner name written on each category's rows."""

    def by_category(self) -> dict[Category, list[ResultRow]]:
        """Rows grouped by category, every category present, in report order."""
        groups: dict[Category, list[ResultRow]] = {category: [] for category in CATEGORIES}
        for row in self.rows:
            groups[row.category].append(row)
        return groups

    @property
    def needs_review(self) -> int:
        """Rows in categories that need a person's action."""
        return sum(1 for row in self.rows if row.needs_review)
