"""Cash application as a pure function: payments + open items + customers + habits -> result.

Payments are taken in value-date order; each configured rule runs over every payment not yet
settled before the next rule starts, so a strong signal (a reference) on a later payment is
never pre-empted by a weak one (an amount) on an earlier payment. What no rule settles becomes
an ``unapplied`` exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sapbridge.reconcile.bulk import no_cyclic_gc
from sapbridge.reconcile.cash.book import Book, PaymentState, payment_minor
from sapbridge.reconcile.cash.config import CashConfig
from sapbridge.reconcile.cash.index import ItemIndex, remittance_candidates
from sapbridge.reconcile.cash.model import CashResult, CustomerRecord, Habit, OpenItem, Payment
from sapbridge.reconcile.cash.payer import PayerDirectory
from sapbridge.reconcile.cash.reference_habits import ReferenceHabit
from sapbridge.reconcile.cash.rules import RULE_FUNCTIONS

__all__ = ["match_payments"]


def _references(payment: Payment, candidates: list[str], index: ItemIndex) -> list[int]:
    positions: list[int] = []
    for candidate in candidates:
        for position in index.referenced(candidate):
            if index.items[position].currency == payment.currency and position not in positions:
                positions.append(position)
    return positions


def _states(ordered: list[Payment], candidates: list[list[str]], index: ItemIndex,
            directory: PayerDirectory) -> list[PaymentState]:
    return [PaymentState(p, payment_minor(p), directory.identify(p), _references(p, found, index))
            for p, found in zip(ordered, candidates, strict=True)]


def _leftovers(book: Book, states: list[PaymentState]) -> None:
    for state in states:
        if state.done:
            continue
        if state.payer is None:
            book.exception(state, "unapplied", state.minor, "park in suspense; identify the payer",
                           f"payer unknown ({state.payment.payer_name or 'no name'}); no usable reference")
        else:
            book.exception(state, "unapplied", state.minor,
                           f"post on account of customer {state.payer.customer}",
                           f"payer {state.payer.customer} ({state.payer.how}); no open items fit")


def match_payments(payments: Sequence[Payment], open_items: Sequence[OpenItem],
                   customers: Iterable[CustomerRecord], config: CashConfig,
                   habits: Iterable[Habit | ReferenceHabit]) -> CashResult:
    """Apply ``payments`` to ``open_items`` by the rules of ``config``; nothing is written anywhere.

    ``habits``: confirmed payer habits (:class:`Habit`) and reference habits
    (:class:`ReferenceHabit`), in any mix.
    """
    habit_list = list(habits)
    payer_habits = [h for h in habit_list if isinstance(h, Habit)]
    reference_habits = [h for h in habit_list if isinstance(h, ReferenceHabit)]
    with no_cyclic_gc():
        ordered = sorted(payments, key=lambda p: (p.value_date or date.min, p.payment_id))
        candidates = [remittance_candidates(p.remittance, config.reference_min_length) for p in ordered]
        wanted = {c for found in candidates for c in found}
        index = ItemIndex.build(open_items, config.reference_min_length, wanted=wanted)
        known = {customer for _, customer in index.by_customer}
        directory = PayerDirectory(customers, payer_habits, known, config.name_threshold)
        book = Book(index, config, reference_habits)
        states = _states(ordered, candidates, index, directory)
        for rule in config.rules:
            RULE_FUNCTIONS[rule](book, [s for s in states if not s.done])
        _leftovers(book, states)
        book.result.payers = {s.payment.payment_id: s.payer for s in states if s.payer is not None}
    return book.result
