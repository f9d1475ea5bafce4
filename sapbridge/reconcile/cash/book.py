"""The ledger of one matching run: applies amounts to items and files matches and exceptions.

Rules decide; the book records. An application at or above the auto threshold goes to
``matches``, below it to ``suggestions``; both reserve the item's amount so no later rule
proposes the same money twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sapbridge.money import to_minor_units
from sapbridge.reconcile.cash.config import CashConfig
from sapbridge.reconcile.cash.index import ItemIndex, from_minor
from sapbridge.reconcile.cash.model import (
    Application,
    CashException,
    CashResult,
    Category,
    PayerInfo,
    Payment,
)
from sapbridge.reconcile.cash.reference_habits import ORDER_FIELD, ReferenceHabit
from sapbridge.reconcile.cash.tiebreak import ORDERS, first_in_order

__all__ = ["ORDER_MIN_CONFIRMATIONS", "Book", "PaymentState"]

ORDER_MIN_CONFIRMATIONS = 2
"""A payment order decides a tie only after this many confirmed payments followed it (one
payment of the two oldest of three items follows it by chance too often)."""


@dataclass
class PaymentState:
    """A payment while rules run over it."""

    payment: Payment
    minor: int
    payer: PayerInfo | None
    refs: list[int]
    done: bool = False
    notes: list[str] = field(default_factory=list)


class Book:
    """Collects the run's outcome and keeps :attr:`ItemIndex.remaining` current."""

    def __init__(self, index: ItemIndex, config: CashConfig,
                 reference_habits: Iterable[ReferenceHabit] = (),
                 pays_for: dict[str, tuple[str, ...]] | None = None) -> None:
        self.index = index
        self.config = config
        self.result = CashResult()
        self.pays_for = pays_for or {}
        self.reference_habits: dict[str, list[ReferenceHabit]] = {}
        self.orders: dict[str, list[str]] = {}
        for habit in sorted(reference_habits, key=lambda h: -h.confirmations):
            if habit.field == ORDER_FIELD:
                if habit.confirmations >= ORDER_MIN_CONFIRMATIONS:
                    self.orders.setdefault(habit.customer, []).append(habit.pattern)
            else:
                self.reference_habits.setdefault(habit.customer, []).append(habit)

    def paid_by(self, customer: str) -> list[str]:
        """The customer and the accounts it pays for (as head office or alternative payer)."""
        return [customer, *(c for c in self.pays_for.get(customer, ()) if c != customer)]

    def payer_items(self, currency: str, customer: str) -> list[int]:
        """Open items in ``currency`` of the customer and of the accounts it pays for, oldest due first."""
        customers = self.paid_by(customer)
        if len(customers) == 1:
            return self.index.customer_items(currency, customer)
        positions = [p for c in customers for p in self.index.customer_items(currency, c)]
        return sorted(positions, key=self.index.due_order)

    def note_order(self, state: PaymentState, chosen: list[int]) -> None:
        """Remember which payment orders (:data:`tiebreak.ORDERS`) the items chosen by amount
        follow among the payer's open items, for ``cash-confirm`` to learn from."""
        if state.payer is None:
            return
        pool = [p for p in self.payer_items(state.payment.currency, state.payer.customer)
                if self.index.untouched(p) or p in chosen]
        followed = tuple(o for o in ORDERS if first_in_order(self.index.items, chosen, pool, o))
        if followed:
            self.result.orders[state.payment.payment_id] = (state.payer.customer, followed)

    def tolerance(self, state: PaymentState, amount_minor: int | None = None) -> int:
        """Accepted difference in minor units for this payment."""
        base = state.minor if amount_minor is None else amount_minor
        return self.config.tolerance.allowed_minor(base, state.payment.currency)

    def apply(self, state: PaymentState, positions: list[int], amounts: list[int], rule: str,
              confidence: Decimal) -> None:
        """Apply ``amounts`` (minor units) of the payment to the items at ``positions``."""
        auto = confidence >= self.config.auto_threshold
        target = self.result.matches if auto else self.result.suggestions
        currency = state.payment.currency
        for position, amount in zip(positions, amounts, strict=True):
            item = self.index.items[position]
            self.index.remaining[position] -= amount
            target.append(Application(state.payment.payment_id, item.company_code, item.fiscal_year,
                                      item.document, item.item, from_minor(amount, currency), currency,
                                      rule, confidence.quantize(Decimal("0.01"))))
        state.done = True

    def clear(self, state: PaymentState, positions: list[int], rule: str, confidence: Decimal) -> None:
        """Clear the items completely; a difference within tolerance is recorded as such."""
        amounts = [self.index.remaining[p] for p in positions]
        difference = state.minor - sum(amounts)
        if difference and confidence >= self.config.auto_threshold:
            currency = state.payment.currency
            total = self.result.tolerance_differences.get(currency, Decimal(0))
            self.result.tolerance_differences[currency] = total + from_minor(difference, currency)
        self.apply(state, positions, amounts, rule, confidence)

    def exception(self, state: PaymentState, category: Category, difference_minor: int,
                  action: str, detail: str) -> None:
        """File a payment (or what is left of it) for a person."""
        payment = state.payment
        self.result.exceptions.append(CashException(
            payment.payment_id, payment.amount, payment.currency, category,
            from_minor(difference_minor, payment.currency), action, detail))
        state.done = True

    def documents(self, positions: list[int]) -> str:
        """Readable item list for exception texts: ``1000/90000012``, ..."""
        items = self.index.items
        return ", ".join(f"{items[p].company_code}/{items[p].document}" for p in positions)


def payment_minor(payment: Payment) -> int:
    """The payment amount in minor units."""
    return to_minor_units(payment.amount, payment.currency)
