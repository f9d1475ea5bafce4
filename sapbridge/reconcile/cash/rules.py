"""The matching rules, each a function over the payments no earlier rule settled.

A rule either settles a payment (match, suggestion and/or exception) or leaves it for the next
rule. Each match names its rule: ``reference``, ``reference_subset``, ``reference_partial``,
``reference_combination``, ``reference_habit``, ``many_to_one``, ``exact_amount``, ``combination``,
``amount_only``, ``reference_other_customer``, and ``exact_amount_<tie-break>`` /
``combination_<tie-break>`` where a tie-break of :mod:`tiebreak` chose among several fitting
sets. A payer's own items and those of the accounts it pays for (head office, alternative payer)
are searched alike. Amounts never cross currencies: every lookup is
keyed by currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from sapbridge.reconcile.cash.book import Book, PaymentState
from sapbridge.reconcile.cash.combos import find_combinations, find_subset
from sapbridge.reconcile.cash.index import from_minor
from sapbridge.reconcile.cash.model import PayerInfo
from sapbridge.reconcile.cash.reference_habits import habit_confidence, habit_hits
from sapbridge.reconcile.cash.tiebreak import break_tie

__all__ = ["CONFIDENCE", "RULE_FUNCTIONS", "Confidence"]

C = Decimal


@dataclass(frozen=True, slots=True)
class Confidence:
    """How sure a match is: when the payer we identified (bank account, name) is the customer of
    the matched items, and when it is another one or unknown. With the default auto-apply
    threshold (0.90) a match at or above it is applied, below it is a suggestion."""

    agrees: Decimal
    otherwise: Decimal

    def of(self, agrees: bool) -> Decimal:
        """The confidence for a payer who does (or does not) agree with the items."""
        return self.agrees if agrees else self.otherwise


def _same(value: str) -> Confidence:
    return Confidence(C(value), C(value))


CONFIDENCE: Mapping[str, Confidence] = {
    # The remittance names exactly the items the payment settles.
    "reference": Confidence(C("0.99"), C("0.95")),
    # The payment settles one subset of the named items.
    "reference_subset": Confidence(C("0.95"), C("0.90")),
    # A short payment on the named items (a residual stays open).
    "reference_partial": Confidence(C("0.93"), C("0.80")),
    # More than the named items: they are settled, the rest is on account.
    "reference_overpaid": Confidence(C("0.97"), C("0.90")),
    # The named items plus one or two unnamed ones of the customer add up.
    "reference_combination": Confidence(C("0.92"), C("0.85")),
    # Several payments naming one invoice together pay it.
    "many_to_one": Confidence(C("0.95"), C("0.80")),
    # A known payer names another customer's items: only a suggestion, and a question.
    "reference_other_customer": _same("0.60"),
    # The named items do not fit, another item of the customer has exactly the amount.
    "wrong_reference": _same("0.70"),
    # One item of the identified payer with exactly the amount (capped by the payer's strength).
    "exact_amount": _same("0.97"),
    # One set of the payer's items adds up: ``agrees`` when it adds up exactly or is one item.
    "combination": Confidence(C("0.93"), C("0.85")),
    # Several items or sets fit and no tie-break decides: the first is suggested.
    "ambiguous": _same("0.50"),
    # Payer unknown, one item anywhere with exactly the amount.
    "amount_only": _same("0.60"),
    # A reference habit's short payment is never surer than a named partial payment.
    "habit_partial_cap": _same("0.93"),
    # A reference habit's overpayment is never surer than a named overpayment.
    "habit_overpaid_cap": _same("0.97"),
}
"""Every confidence the rules give, by situation (the matched rule's name where they coincide)."""

PAYER_CERTAIN = C("0.99")
"""A payer identified this surely (its own bank account) who names another customer's items is
asked about, not overridden by the reference."""

_REFERENCE_ONLY = PayerInfo("", "reference", C("0.90"))
"""The payer a reference alone identifies (no account or name match): the items' customer."""


def _live_refs(book: Book, state: PaymentState) -> list[int]:
    return [p for p in state.refs if book.index.remaining[p] != 0]


def _agrees(state: PaymentState, customer: str) -> bool:
    return state.payer is not None and state.payer.customer == customer


def many_to_one(book: Book, states: list[PaymentState]) -> None:
    """Several payments naming the same single invoice that together pay it."""
    groups: dict[int, list[PaymentState]] = defaultdict(list)
    for state in states:
        live = sorted(set(_live_refs(book, state)))
        if len(live) == 1 and state.minor < book.index.remaining[live[0]] - book.tolerance(state):
            groups[live[0]].append(state)
    for position, group in groups.items():
        total = sum(s.minor for s in group)
        remaining = book.index.remaining[position]
        if len(group) < 2 or abs(total - remaining) > book.config.tolerance.allowed_minor(
                total, group[0].payment.currency):
            continue
        customer = book.index.items[position].customer
        confidence = CONFIDENCE["many_to_one"].of(all(s.payer is None or _agrees(s, customer) for s in group))
        for state in group:
            book.apply(state, [position], [state.minor], "many_to_one", confidence)


def _pick_reference_group(book: Book, state: PaymentState, live: list[int]) -> tuple[list[int], bool] | None:
    """The referenced items to settle against, and whether the payer agrees with them."""
    items = book.index.items
    customers = {items[p].customer for p in live}
    if state.payer and state.payer.customer in customers:
        return [p for p in live if items[p].customer == state.payer.customer], True
    paid_for = set(book.paid_by(state.payer.customer)) if state.payer else set()
    if customers & paid_for:
        return [p for p in live if items[p].customer in paid_for], True
    if len(customers) == 1:
        return live, False
    fitting = [c for c in customers
               if abs(sum(book.index.remaining[p] for p in live if items[p].customer == c) - state.minor)
               <= book.tolerance(state)]
    if len(fitting) == 1:
        return [p for p in live if items[p].customer == fitting[0]], False
    book.exception(state, "ambiguous", state.minor, "choose the customer and invoices by hand",
                   f"remittance names items of customers {', '.join(sorted(customers))}: "
                   f"{book.documents(live)}")
    return None


def reference(book: Book, states: list[PaymentState]) -> None:
    """Invoice references found in the remittance text, settled by amount."""
    for state in states:
        if state.done or not state.refs:
            continue
        live = _live_refs(book, state)
        if not live:
            book.exception(state, "over_pay", state.minor, "post on account; check for a duplicate payment",
                           f"referenced item(s) {book.documents(state.refs)} already paid in this run")
            continue
        picked = _pick_reference_group(book, state, live)
        if picked is None:
            continue
        group, agrees = picked
        customer = book.index.items[group[0]].customer
        if not agrees and state.payer is not None and state.payer.strength >= PAYER_CERTAIN:
            _other_customer(book, state, group, customer)
            continue
        if not agrees:
            state.payer = PayerInfo(customer, "reference", _REFERENCE_ONLY.strength)
        _settle(book, state, sorted(group, key=book.index.due_order), agrees)


def _other_customer(book: Book, state: PaymentState, group: list[int], customer: str) -> None:
    """A known payer names another customer's items: a suggestion at most, and a question."""
    payer = state.payer.customer if state.payer else "?"
    total = sum(book.index.remaining[p] for p in group)
    if abs(total - state.minor) <= book.tolerance(state):
        book.clear(state, group, "reference_other_customer",
                   CONFIDENCE["reference_other_customer"].agrees)
    book.exception(state, "ambiguous", state.minor, "confirm who paid for whom",
                   f"payer {payer} names items of customer {customer}: {book.documents(group)}")


def _settle(book: Book, state: PaymentState, group: list[int], agrees: bool) -> None:
    remaining = book.index.remaining
    total = sum(remaining[p] for p in group)
    tol = book.tolerance(state)
    if abs(state.minor - total) <= tol:
        book.clear(state, group, "reference", CONFIDENCE["reference"].of(agrees))
    elif _exact_elsewhere(book, state, group):
        return
    elif state.minor < total:
        _short(book, state, group, total, agrees)
    else:
        _over(book, state, group, total, agrees)


def _exact_elsewhere(book: Book, state: PaymentState, group: list[int]) -> bool:
    """The amount does not fit the named items but exactly fits another item: likely a wrong reference."""
    index = book.index
    customer = index.items[group[0]].customer
    hits = [p for p in index.with_amount(state.payment.currency, customer, state.minor) if p not in group]
    if not hits:
        return False
    book.clear(state, hits[:1], "exact_amount", CONFIDENCE["wrong_reference"].agrees)
    book.exception(state, "ambiguous", state.minor,
                   "confirm the suggested item (amount fits) or the named one",
                   f"remittance names {book.documents(group)} but the amount fits {book.documents(hits[:3])}")
    return True


def _short(book: Book, state: PaymentState, group: list[int], total: int, agrees: bool) -> None:
    remaining = book.index.remaining
    subsets = find_subset([remaining[p] for p in group], state.minor, book.tolerance(state))
    if len(subsets) == 1:
        chosen = [group[i] for i in subsets[0]]
        book.clear(state, chosen, "reference_subset", CONFIDENCE["reference_subset"].of(agrees))
        return
    if _complement(book, state, group, total, agrees):
        return
    _partial(book, state, group, total, "reference_partial", CONFIDENCE["reference_partial"].of(agrees))


def _partial(book: Book, state: PaymentState, group: list[int], total: int, rule: str,
             confidence: Decimal) -> None:
    """A short payment applied to the named items oldest first; the residual stays open as a
    short pay (or the whole payment goes to a person when partial application is off)."""
    remaining = book.index.remaining
    if not book.config.allow_partial:
        book.exception(state, "short_pay", total - state.minor, "apply by hand or open a dispute case",
                       f"paid {from_minor(state.minor, state.payment.currency)} of "
                       f"{from_minor(total, state.payment.currency)} for {book.documents(group)}")
        return
    ordered = [p for p in group if remaining[p] < 0] + [p for p in group if remaining[p] > 0]
    left, amounts, positions = state.minor, [], []
    for position in ordered:
        if left <= 0 and remaining[position] > 0:
            break
        amount = remaining[position] if remaining[position] < 0 else min(remaining[position], left)
        positions.append(position)
        amounts.append(amount)
        left -= amount
    book.apply(state, positions, amounts, rule, confidence)
    short_items = [p for p in group if remaining[p] > 0]
    book.exception(state, "short_pay", total - state.minor,
                   f"open dispute case (reason: short payment) for {book.documents(short_items)}",
                   f"paid {from_minor(state.minor, state.payment.currency)} of "
                   f"{from_minor(total, state.payment.currency)}; residual stays open")


def _complement(book: Book, state: PaymentState, group: list[int], total: int, agrees: bool) -> bool:
    """Named items plus one or two other items of the customer (a forgotten invoice or credit memo)
    fit exactly; exact only, since a short pay plus tolerance is matched by chance too easily."""
    difference = state.minor - total
    customer = book.index.items[group[0]].customer
    pool = [p for p in book.index.customer_items(state.payment.currency, customer)
            if p not in group and book.index.untouched(p)]
    credits = [p for p in pool if book.index.minor[p] < 0]
    others = credits + [p for p in pool if book.index.minor[p] > 0][:book.config.max_combination_candidates]
    combos = find_combinations([book.index.remaining[p] for p in others], difference, 0,
                               min(2, book.config.max_combination_items), limit=2)
    if len(combos) != 1:
        return False
    chosen = [others[i] for i in combos[0]]
    book.clear(state, group + chosen, "reference_combination",
               CONFIDENCE["reference_combination"].of(agrees))
    return True


def _over(book: Book, state: PaymentState, group: list[int], total: int, agrees: bool) -> None:
    if _complement(book, state, group, total, agrees):
        return
    _overpaid(book, state, group, total, "reference", CONFIDENCE["reference_overpaid"].of(agrees))


def _overpaid(book: Book, state: PaymentState, group: list[int], total: int, rule: str,
              confidence: Decimal) -> None:
    """The named items cleared; the excess goes on account of their customer, for a person."""
    extra = state.minor - total
    customer = book.index.items[group[0]].customer
    book.apply(state, group, [book.index.remaining[p] for p in group], rule, confidence)
    book.exception(state, "over_pay", extra, f"post {from_minor(extra, state.payment.currency)} on account "
                   f"of customer {customer}", f"paid more than {book.documents(group)}")


def reference_habit(book: Book, states: list[PaymentState]) -> None:
    """Items of the identified customer named the way that customer was confirmed to write them
    (its PO number, the last digits, its own prefix), settled by amount like a reference."""
    index = book.index
    for state in states:
        if state.done or state.payer is None:
            continue
        habits = book.reference_habits.get(state.payer.customer)
        if not habits:
            continue
        open_positions = [p for p in index.customer_items(state.payment.currency, state.payer.customer)
                          if index.remaining[p] != 0]
        hits, confirmations = habit_hits(state.payment.remittance, habits, index.items, open_positions)
        if not hits:
            continue
        _settle_habit(book, state, hits, min(habit_confidence(confirmations), state.payer.strength))


def _settle_habit(book: Book, state: PaymentState, hits: list[int], confidence: Decimal) -> None:
    """Like a reference: cleared when the amount fits, a unique subset, else partial or overpaid
    (confidence capped as for a reference the payer agrees with)."""
    amounts = [book.index.remaining[p] for p in hits]
    total, tol = sum(amounts), book.tolerance(state)
    if abs(total - state.minor) <= tol:
        book.clear(state, hits, "reference_habit", confidence)
        return
    subsets = find_subset(amounts, state.minor, tol)
    if len(subsets) == 1:
        book.clear(state, [hits[i] for i in subsets[0]], "reference_habit", confidence)
    elif len(subsets) > 1:
        return
    elif state.minor < total:
        _partial(book, state, hits, total, "reference_habit",
                 min(confidence, CONFIDENCE["habit_partial_cap"].agrees))
    else:
        _overpaid(book, state, hits, total, "reference_habit",
                  min(confidence, CONFIDENCE["habit_overpaid_cap"].agrees))


def exact_amount(book: Book, states: list[PaymentState]) -> None:
    """One untouched item of the identified customer (or of an account it pays for) with exactly
    the payment amount; several such items go to the tie-breaks (:mod:`tiebreak`)."""
    index = book.index
    for state in states:
        if state.done or state.payer is None:
            continue
        currency = state.payment.currency
        hits = [p for c in book.paid_by(state.payer.customer)
                for p in index.with_amount(currency, c, state.minor)]
        if len(hits) == 1:
            book.note_order(state, hits)
            cap = CONFIDENCE["exact_amount"].agrees
            book.clear(state, hits, "exact_amount", min(cap, state.payer.strength))
        elif len(hits) > 1 and not _tie_broken(book, state, [(p,) for p in hits], "exact_amount"):
            _ambiguous(book, state, sorted(hits, key=index.due_order), "exact_amount")


_TIE_CONFIDENCE = {"partial_digits": C("0.93"), "habit": C("0.92"), "due_date": C("0.85"),
                   "billing_run": C("0.85")}
"""Confidence of a set a tie-break singled out (before the payer's strength caps it): the payer's
own words (partial digits) and its confirmed order are auto-applied at the default threshold; a
shared due date or billing run only makes the one suggestion (customers do pay other sets)."""


def _tie_broken(book: Book, state: PaymentState, sets: list[tuple[int, ...]], rule: str) -> bool:
    """Clear the one set a tie-break singles out, as ``rule_<tie-break>``; False if none does."""
    assert state.payer is not None
    customer = book.index.items[sets[0][0]].customer
    picked = break_tie(sets, book.index.items, state.payment.remittance, book.orders.get(customer, []))
    if picked is None:
        return False
    chosen, name = picked
    book.note_order(state, list(chosen))
    book.clear(state, list(chosen), f"{rule}_{name}", min(_TIE_CONFIDENCE[name], state.payer.strength))
    return True


def _ambiguous(book: Book, state: PaymentState, candidates: list[int], rule: str) -> None:
    book.clear(state, candidates[:1], rule, CONFIDENCE["ambiguous"].agrees)
    book.exception(state, "ambiguous", state.minor, "confirm the suggested item or pick another",
                   f"{len(candidates)} items fit: {book.documents(candidates[:5])}")


_TIE_SETS = 8
"""Fitting sets a tie-break chooses among; more than this stay ambiguous."""


def combination(book: Book, states: list[PaymentState]) -> None:
    """A few untouched items of the identified customer (and the accounts it pays for, credit
    memos included) adding up; several fitting sets go to the tie-breaks (:mod:`tiebreak`)."""
    index, config = book.index, book.config
    for state in states:
        if state.done or state.payer is None:
            continue
        pool = [p for p in book.payer_items(state.payment.currency, state.payer.customer)
                if index.untouched(p)]
        candidates = pool[:config.max_combination_candidates]
        if not candidates:
            continue
        amounts = [index.remaining[p] for p in candidates]
        combos = find_combinations(amounts, state.minor, book.tolerance(state),
                                   config.max_combination_items, limit=_TIE_SETS + 1)
        if not combos:
            continue
        exact = [c for c in combos if sum(amounts[i] for i in c) == state.minor]
        chosen = [candidates[i] for i in combos[0]]
        if len(combos) == 1 or len(exact) == 1:
            book.note_order(state, chosen)
            base = CONFIDENCE["combination"].of(bool(exact) or len(chosen) == 1)
            book.clear(state, chosen, "combination", min(base, state.payer.strength))
            continue
        fitting = exact or combos
        sets = [tuple(candidates[i] for i in c) for c in fitting]
        if len(combos) <= _TIE_SETS and _tie_broken(book, state, sets, "combination"):
            continue
        book.clear(state, chosen, "combination", CONFIDENCE["ambiguous"].agrees)
        book.exception(state, "ambiguous", state.minor, "confirm the suggested items or pick others",
                       "several sets of open items add up to the payment")


def amount_only(book: Book, states: list[PaymentState]) -> None:
    """Payer unknown: a single untouched item anywhere with exactly the amount (a suggestion)."""
    index = book.index
    pending = [s for s in states if not s.done and s.payer is None]
    by_amount = index.amounts_index({(s.payment.currency, s.minor) for s in pending}) if pending else {}
    for state in pending:
        hits = [p for p in by_amount.get((state.payment.currency, state.minor), []) if index.untouched(p)]
        if len(hits) == 1:
            book.clear(state, hits, "amount_only", CONFIDENCE["amount_only"].agrees)


RULE_FUNCTIONS: dict[str, Callable[[Book, list[PaymentState]], None]] = {
    "many_to_one": many_to_one,
    "reference": reference,
    "reference_habit": reference_habit,
    "exact_amount": exact_amount,
    "combination": combination,
    "amount_only": amount_only,
}
"""Rule name (as configured in ``[cash] rules``) -> function."""
