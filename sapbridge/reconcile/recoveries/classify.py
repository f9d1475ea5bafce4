"""Classifying recovery claims against dispute cases: a pure function over records.

Matching, in order, for each claim (oldest first, so the first claim on a deduction owns it):

1. by reference: any of the claim's normalised references equals a case's normalised invoice
   reference, with the same customer and currency; among several cases the best is the one not
   yet claimed, within tolerance, closest in amount, open, lowest case id;
2. otherwise by customer, currency and amount: the one case of that customer and currency whose
   deduction agrees with the claim within tolerance (none, or several, is no match).

Indexes by normalised reference and by (customer, currency) keep this linear in claims plus
cases; a customer's cases are sorted by amount once, when a claim first needs them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sapbridge.money import ZERO
from sapbridge.reconcile.bulk import no_cyclic_gc
from sapbridge.reconcile.recoveries.config import RecoveriesConfig
from sapbridge.reconcile.recoveries.model import Category, Claim, Dispute, RecoveriesResult, ResultRow
from sapbridge.reconcile.references import normalise_reference

__all__ = ["OWNERS", "classify", "fast_normalise"]

OWNERS: dict[Category, str] = {
    "recovered_closed": "recovery_provider",
    "recovered_open_dispute": "dispute_team",
    "recovered_after_writeoff": "dispute_team",
    "amount_mismatch": "recovery_provider",
    "duplicate_claim": "recovery_provider",
    "claim_without_dispute": "dispute_team",
    "dispute_without_claim": "recovery_provider",
    "open_claim": "recovery_provider",
    "rejected_claim": "dispute_team",
}
"""Which side acts on each category: the dispute team or the recovery provider."""


def fast_normalise(reference: str) -> str:
    """:func:`normalise_reference`, with a shortcut for the usual all-digit SAP reference."""
    if reference.isascii() and reference.isdigit():
        return reference.lstrip("0") or "0"
    return normalise_reference(reference)


class _Index:
    """Cases by normalised reference and by (customer, currency), built once per run."""

    def __init__(self, disputes: Sequence[Dispute]) -> None:
        self.disputes = disputes
        self.first_by_reference: dict[str, int] = {}
        self.more_by_reference: dict[str, list[int]] = {}
        self.by_account: dict[tuple[str, str], list[int]] = {}
        self._sorted: dict[tuple[str, str], tuple[list[Decimal], list[int]]] = {}
        first, more, by_account = self.first_by_reference, self.more_by_reference, self.by_account
        for position, case in enumerate(disputes):
            reference = fast_normalise(case.invoice_reference)
            if reference in first:
                more.setdefault(reference, []).append(position)
            elif reference:
                first[reference] = position
            account = (case.customer, case.currency)
            positions = by_account.get(account)
            if positions is None:
                by_account[account] = [position]
            else:
                positions.append(position)

    def by_reference(self, reference: str) -> list[int]:
        """Positions of the cases with this normalised invoice reference."""
        position = self.first_by_reference.get(reference)
        if position is None:
            return []
        return [position, *self.more_by_reference.get(reference, ())]

    def by_amount(self, customer: str, currency: str) -> tuple[list[Decimal], list[int]]:
        """A customer's cases in one currency, sorted by deduction amount (cached)."""
        key = (customer, currency)
        cached = self._sorted.get(key)
        if cached is None:
            positions = sorted(self.by_account.get(key, ()),
                               key=lambda p: self.disputes[p].disputed_amount)
            cached = ([self.disputes[p].disputed_amount for p in positions], positions)
            self._sorted[key] = cached
        return cached


class _Classifier:
    def __init__(self, disputes: Sequence[Dispute], config: RecoveriesConfig, as_of: date) -> None:
        self.index = _Index(disputes)
        self.config = config
        self.as_of = as_of
        self.owner_names = {"dispute_team": config.dispute_team,
                            "recovery_provider": config.recovery_provider}
        self.claimed_by: dict[str, str] = {}
        self.orphans: dict[tuple[object, ...], str] = {}
        self.rows: list[ResultRow] = []

    def row(self, category: Category, action: str, claim: Claim | None, dispute: Dispute | None,
            note: str = "") -> None:
        owner = self.owner_names[OWNERS[category]]
        self.rows.append(ResultRow(category, owner, action, claim, dispute, note))

    def agrees(self, claim: Claim, case: Dispute) -> bool:
        return abs(claim.amount - case.disputed_amount) <= self.config.tolerance(case.disputed_amount)

    def match(self, claim: Claim) -> tuple[Dispute | None, str]:
        disputes = self.index.disputes
        for reference in claim.references:
            candidates = [disputes[p] for p in self.index.by_reference(reference)
                          if disputes[p].customer == claim.customer
                          and disputes[p].currency == claim.currency]
            if candidates:
                return min(candidates, key=lambda case: self._preference(claim, case)), "reference"
        return self._match_by_amount(claim)

    def _preference(self, claim: Claim, case: Dispute) -> tuple[bool, bool, Decimal, bool, str]:
        return (not self.agrees(claim, case), case.case_id in self.claimed_by,
                abs(claim.amount - case.disputed_amount), case.closed, case.case_id)

    def _match_by_amount(self, claim: Claim) -> tuple[Dispute | None, str]:
        amounts, positions = self.index.by_amount(claim.customer, claim.currency)
        if not amounts:
            return None, ""
        # A case's tolerance grows with its own amount, so a case up to twice the claim's
        # tolerance above it may still agree (exact for tolerance_percent up to 50).
        slack = 2 * self.config.tolerance(claim.amount)
        low = bisect_left(amounts, claim.amount - slack)
        high = bisect_right(amounts, claim.amount + slack)
        found = [self.index.disputes[p] for p in positions[low:high]]
        found = [case for case in found if self.agrees(claim, case)]
        if len(found) == 1:
            return found[0], "amount"
        if len(found) > 1:
            return None, f"{len(found)} cases of this customer agree in amount; none by reference"
        return None, ""

    def claim(self, claim: Claim) -> None:
        case, how = self.match(claim)
        if case is None:
            self._orphan(claim, how)
            return
        note = "matched by customer and amount (no reference matched)" if how == "amount" else ""
        first = self.claimed_by.get(case.case_id)
        if first is not None:
            action = f"Withdraw claim: case {case.case_id} is already claimed by claim {first}"
            self.row("duplicate_claim", action + _refund(claim), claim, case, note)
            return
        self.claimed_by[case.case_id] = claim.claim_id
        category, action = self._matched(claim, case)
        self.row(category, action, claim, case, note)

    def _orphan(self, claim: Claim, note: str) -> None:
        primary = claim.references[0] if claim.references else ""
        key: tuple[object, ...] = (claim.customer, claim.currency, primary)
        if not primary:
            key = (*key, claim.amount)
        first = self.orphans.get(key)
        if first is not None:
            action = f"Withdraw claim: same deduction as claim {first}"
            self.row("duplicate_claim", action + _refund(claim), claim, None, note)
            return
        self.orphans[key] = claim.claim_id
        action = "Find the deduction and open a dispute case, or have the provider withdraw the claim"
        self.row("claim_without_dispute", action, claim, None, note)

    def _matched(self, claim: Claim, case: Dispute) -> tuple[Category, str]:
        currency, case_id = claim.currency, case.case_id
        if case.credited_amount > ZERO:
            return "duplicate_claim", (f"Withdraw claim: case {case_id} was already credited "
                                       f"{case.credited_amount} {currency}{_refund(claim)}")
        if not self.agrees(claim, case):
            difference = claim.amount - case.disputed_amount
            return "amount_mismatch", (f"Check the claim of {claim.amount} {currency} against the "
                                       f"deduction of {case.disputed_amount} on case {case_id} "
                                       f"(difference {difference})")
        if claim.status == "rejected":
            return "rejected_claim", (f"Decide on case {case_id}: contest the rejection or write "
                                      f"the deduction off")
        if claim.status == "recovered":
            return self._recovered(claim, case)
        if case.closed and self._settled_by_payment(claim, case):
            return "duplicate_claim", (f"Withdraw claim: case {case_id} was already paid "
                                       f"{case.paid_amount} {currency}")
        return "open_claim", f"None: claim in progress against case {case_id}"

    def _settled_by_payment(self, claim: Claim, case: Dispute) -> bool:
        slack = self.config.tolerance(case.disputed_amount)
        return case.paid_amount > ZERO and case.paid_amount >= claim.amount - slack

    def _recovered(self, claim: Claim, case: Dispute) -> tuple[Category, str]:
        recovered = f"{claim.recovered_amount} {claim.currency}"
        if case.written_off_amount > ZERO:
            return "recovered_after_writeoff", (
                f"Book the recovery of {recovered} against the write-off of "
                f"{case.written_off_amount} on case {case.case_id}")
        if not case.closed:
            return "recovered_open_dispute", f"Close case {case.case_id} with the recovered {recovered}"
        return "recovered_closed", f"None: recovered {recovered} and case {case.case_id} is closed"

    def unclaimed(self, disputes: Sequence[Dispute]) -> None:
        """Rows for open post-audit cases older than the window that no claim matched."""
        cutoff = self.as_of - timedelta(days=self.config.window_days)
        reasons, claimed = self.config.post_audit_reasons, self.claimed_by
        for case in [case for case in disputes
                     if not case.closed and case.created_on is not None and case.created_on < cutoff
                     and case.reason.upper() in reasons and case.case_id not in claimed]:
            assert case.created_on is not None
            age = (self.as_of - case.created_on).days
            open_amount = (case.disputed_amount - case.paid_amount - case.credited_amount
                           - case.written_off_amount)
            action = (f"Raise a recovery claim for case {case.case_id} ({case.reason}, {age} days "
                      f"old, {open_amount} {case.currency} open)")
            self.row("dispute_without_claim", action, None, case)


def _refund(claim: Claim) -> str:
    if claim.recovered_amount > ZERO:
        return f"; refund the {claim.recovered_amount} {claim.currency} recovered"
    return ""


def classify(claims: Sequence[Claim], disputes: Sequence[Dispute], config: RecoveriesConfig,
             as_of: date) -> RecoveriesResult:
    """Classify every claim, and every post-audit case nobody claimed, into a category.

    Each row names its owner (``config.dispute_team`` or ``config.recovery_provider``) and a
    proposed action. Claims are taken oldest first (then by id), so of two claims on one
    deduction the later is the duplicate.
    """
    with no_cyclic_gc():
        classifier = _Classifier(disputes, config, as_of)
        for claim in sorted(claims, key=lambda c: (c.claim_date, c.claim_id)):
            classifier.claim(claim)
        classifier.unclaimed(disputes)
    owners = {category: classifier.owner_names[side] for category, side in OWNERS.items()}
    return RecoveriesResult(as_of=as_of, claim_count=len(claims), dispute_count=len(disputes),
                            rows=classifier.rows, owners=owners)
