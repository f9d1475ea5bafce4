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
from sapbridge.reconcile.cash.advice_rule import apply_advices, link_advices
from sapbridge.reconcile.cash.advices import Advice
from sapbridge.reconcile.cash.book import Book, PaymentState, payment_minor
from sapbridge.reconcile.cash.config import CashConfig
from sapbridge.reconcile.cash.index import ItemIndex, index_key, plain_candidates, wrapped_candidates
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


def _state(payment: Payment, plain: list[str], wrapped: list[str], index: ItemIndex,
           directory: PayerDirectory, pays_for: dict[str, tuple[str, ...]]) -> PaymentState:
    """A payment with its payer and the items its remittance names.

    A reference joined from pieces counts only where it is an open item of the identified payer
    (or of an account it pays for): joining ``2026 11 20`` may hit some other customer's item.
    """
    payer = directory.identify(payment)
    refs = _references(payment, plain, index)
    joined = [p for p in _references(payment, wrapped, index) if p not in refs]
    if payer is not None and joined:
        allowed = {payer.customer, *pays_for.get(payer.customer, ())}
        joined = [p for p in joined if index.items[p].customer in allowed]
    return PaymentState(payment, payment_minor(payment), payer, refs + joined)


def _pays_for(customers: list[CustomerRecord]) -> dict[str, tuple[str, ...]]:
    return {r.customer: r.pays_for for r in customers if r.pays_for}


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
                   habits: Iterable[Habit | ReferenceHabit], advices: Sequence[Advice] = ()) -> CashResult:
    """Apply ``payments`` to ``open_items`` by the rules of ``config``; nothing is written anywhere.

    ``habits``: confirmed payer habits (:class:`Habit`) and reference habits
    (:class:`ReferenceHabit`), in any mix. ``advices``: remittance advices received apart from
    the payments; a payment linked to one is applied by its lines before any rule runs.
    """
    habit_list = list(habits)
    payer_habits = [h for h in habit_list if isinstance(h, Habit)]
    reference_habits = [h for h in habit_list if isinstance(h, ReferenceHabit)]
    records = list(customers)
    pays_for = _pays_for(records)
    with no_cyclic_gc():
        ordered = sorted(payments, key=lambda p: (p.value_date or date.min, p.payment_id))
        plain = [plain_candidates(p.remittance, config.reference_min_length) for p in ordered]
        wrapped = [wrapped_candidates(p.remittance, config.reference_min_length, found)
                   for p, found in zip(ordered, plain, strict=True)]
        wanted = {c for found in plain + wrapped for c in found}
        wanted |= {index_key(line.invoice.upper()) for advice in advices for line in advice.lines}
        index = ItemIndex.build(open_items, config.reference_min_length, wanted=wanted)
        known = {customer for _, customer in index.by_customer}
        directory = PayerDirectory(records, payer_habits, known, config.name_threshold)
        book = Book(index, config, reference_habits, pays_for)
        states = [_state(p, found, joined, index, directory, pays_for)
                  for p, found, joined in zip(ordered, plain, wrapped, strict=True)]
        if advices:
            linked, book.result.advices = link_advices(book, advices, states, config.advice_window_days)
            apply_advices(book, linked, states)
        for rule in config.rules:
            RULE_FUNCTIONS[rule](book, [s for s in states if not s.done])
        _leftovers(book, states)
        book.result.payers = {s.payment.payment_id: s.payer for s in states if s.payer is not None}
    return book.result
