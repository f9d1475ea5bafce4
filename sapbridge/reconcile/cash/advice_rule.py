"""Advices linked to their payments and applied by their lines, before any other rule runs.

Linking (:func:`link_advices`): the payment the advice names (its ``payment_reference`` is the
payment's id or a reference in its remittance text), else the one payment of the same amount and
currency whose payer is the advice's payer (or pays for it) with a value date at most
``window_days`` from the advice's date. Either way both must be unique: a payment fits one advice
and an advice one payment, or the advice stays unlinked (it may be for money still to come).

Applying (:func:`apply_advices`): each line's paid amount goes to the open item its invoice
reference names among the payer's accounts; a deduction becomes a short pay with the advice's
reason (a dispute proposal); an invoice that is no open item of the payer, or a difference the
advice does not explain, becomes an exception. The remittance text of a linked payment is not
read: the advice says more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sapbridge.reconcile.cash.advices import Advice, AdviceLine
from sapbridge.reconcile.cash.book import Book, PaymentState
from sapbridge.reconcile.cash.index import from_minor, index_key, minor_units, plain_candidates
from sapbridge.reconcile.cash.model import AdviceLink, PayerInfo

__all__ = ["apply_advices", "link_advices"]

_CONFIDENCE = Decimal("0.97")
_PAYER_STRENGTH = Decimal("0.97")


class _Lookup:
    """The run's payments by id, by the references their texts name, and by (currency, amount)."""

    def __init__(self, states: Sequence[PaymentState], min_length: int) -> None:
        self.min_length = min_length
        self.by_id: dict[str, list[PaymentState]] = defaultdict(list)
        self.by_key: dict[str, list[PaymentState]] = defaultdict(list)
        self.by_amount: dict[tuple[str, Decimal], list[PaymentState]] = defaultdict(list)
        for state in states:
            self.by_id[state.payment.payment_id.upper()].append(state)
            for key in plain_candidates(state.payment.remittance, min_length):
                self.by_key[key].append(state)
            self.by_amount[(state.payment.currency, state.payment.amount)].append(state)

    def named(self, advice: Advice) -> list[PaymentState]:
        """Payments whose id or remittance reference is the advice's payment reference."""
        reference = advice.payment_reference.upper()
        if not reference:
            return []
        found = list(self.by_id.get(reference, []))
        key = index_key(reference)
        if len(key) >= self.min_length:
            found += [s for s in self.by_key.get(key, []) if s not in found]
        return found


def _pays(book: Book, state: PaymentState, customer: str) -> bool:
    return state.payer is not None and customer in book.paid_by(state.payer.customer)


def _within(advice: Advice, state: PaymentState, window_days: int) -> bool:
    if advice.payment_date is None or state.payment.value_date is None:
        return True
    return abs((state.payment.value_date - advice.payment_date).days) <= window_days


def _fits(advice: Advice, state: PaymentState) -> bool:
    return state.payment.currency == advice.currency and state.payment.amount == advice.amount


def _by_reference(advice: Advice, named: list[PaymentState], taken: set[str]) -> AdviceLink:
    if len(named) > 1:
        return AdviceLink(advice.advice_id, "", "", "the payment reference names several payments")
    payment = named[0].payment
    if not _fits(advice, named[0]):
        return AdviceLink(advice.advice_id, "", "", f"payment {payment.payment_id} named, but its amount "
                          f"{payment.amount} {payment.currency} differs")
    if payment.payment_id in taken:
        return AdviceLink(advice.advice_id, "", "",
                          f"payment {payment.payment_id} is named by another advice")
    taken.add(payment.payment_id)
    return AdviceLink(advice.advice_id, payment.payment_id, "payment_reference", "")


def _unlinked_detail(found: list[PaymentState]) -> str:
    if not found:
        return "no payment of this amount from this payer within the date window"
    return "several payments fit" if len(found) > 1 else "the payment fits several advices"


def link_advices(book: Book, advices: Sequence[Advice], states: Sequence[PaymentState],
                 window_days: int) -> tuple[dict[str, Advice], list[AdviceLink]]:
    """payment_id -> its advice, and how each advice was (or was not) linked."""
    lookup = _Lookup(states, book.config.reference_min_length)
    links: dict[str, AdviceLink] = {}
    taken: set[str] = set()
    for advice in advices:
        named = lookup.named(advice)
        if named:
            links[advice.advice_id] = _by_reference(advice, named, taken)
    fitting: dict[str, list[PaymentState]] = {}
    claims: dict[str, int] = defaultdict(int)
    for advice in advices:
        if advice.advice_id in links:
            continue
        fitting[advice.advice_id] = [
            s for s in lookup.by_amount.get((advice.currency, advice.amount), [])
            if s.payment.payment_id not in taken and advice.payer and _pays(book, s, advice.payer)
            and _within(advice, s, window_days)]
        for state in fitting[advice.advice_id]:
            claims[state.payment.payment_id] += 1
    for advice_id, found in fitting.items():
        if len(found) == 1 and claims[found[0].payment.payment_id] == 1:
            links[advice_id] = AdviceLink(advice_id, found[0].payment.payment_id, "amount_payer_date", "")
        else:
            links[advice_id] = AdviceLink(advice_id, "", "", _unlinked_detail(found))
    by_id = {a.advice_id: a for a in advices}
    linked = {link.payment_id: by_id[link.advice_id] for link in links.values() if link.payment_id}
    return linked, [links[a.advice_id] for a in advices]


def _item_of(book: Book, state: PaymentState, advice: Advice, line: AdviceLine) -> list[int]:
    """Open items the line's invoice reference names among the accounts the payer pays for."""
    key = index_key(line.invoice.upper())
    payer = advice.payer or (state.payer.customer if state.payer else "")
    allowed = set(book.paid_by(payer)) if payer else None
    return [
        p
        for p in book.index.referenced(key)
        if book.index.items[p].currency == advice.currency
        and book.index.remaining[p] != 0
        and (allowed is None or book.index.items[p].customer in allowed)
    ]


def _apply_line(
    book: Book, state: PaymentState, advice: Advice, line: AdviceLine, confidence: Decimal
) -> None:
    currency = advice.currency
    paid, deduction = minor_units(line.paid, currency), minor_units(line.deduction, currency)
    where = f"advice {advice.advice_id} line (row {line.row})"
    if not line.invoice:
        book.exception(
            state,
            "short_pay",
            deduction,
            f"open dispute case (reason: {line.reason}) for the payment",
            f"{where}: deduction {line.deduction} {currency} from the payment as a whole",
        )
        return
    found = _item_of(book, state, advice, line)
    if len(found) != 1:
        customer = advice.payer or (state.payer.customer if state.payer else "?")
        book.exception(
            state,
            "unapplied" if not found else "ambiguous",
            paid,
            f"post {line.paid} on account of customer {customer}; ask about invoice {line.invoice}",
            f"{where}: invoice {line.invoice} is "
            + ("no open item of the payer" if not found else f"named by {book.documents(found)}"),
        )
        return
    position = found[0]
    remaining = book.index.remaining[position]
    applied = min(paid, remaining) if remaining > 0 else paid
    book.apply(state, [position], [applied], "advice", confidence)
    if deduction:
        book.exception(
            state,
            "short_pay",
            deduction,
            f"open dispute case (reason: {line.reason}) for {book.documents([position])}",
            f"{where}: deducted {line.deduction} {currency} from {line.invoice} (reason {line.reason})",
        )
    rest = remaining - applied - deduction
    if rest > 0:
        book.exception(
            state,
            "short_pay",
            rest,
            f"open dispute case (reason: short payment) for {book.documents([position])}",
            f"{where}: {from_minor(rest, currency)} {currency} of "
            f"{line.invoice} neither paid nor deducted; residual stays open",
        )
    elif paid > applied:
        book.exception(
            state,
            "over_pay",
            paid - applied,
            f"post {from_minor(paid - applied, currency)} on account",
            f"{where}: paid more than {line.invoice} has open",
        )


def apply_advices(book: Book, linked: dict[str, Advice], states: Sequence[PaymentState]) -> None:
    """Settle each linked payment by its advice's lines (the payment is then done)."""
    for state in states:
        advice = linked.get(state.payment.payment_id)
        if advice is None:
            continue
        confidence = _CONFIDENCE
        bank_payer = state.payer
        if advice.payer and (bank_payer is None or advice.payer not in book.paid_by(bank_payer.customer)):
            state.payer = PayerInfo(advice.payer, "advice", _PAYER_STRENGTH)
            if bank_payer is not None and bank_payer.strength >= Decimal("0.99"):
                confidence = Decimal("0.60")
                book.exception(
                    state,
                    "ambiguous",
                    state.minor,
                    "confirm who paid for whom",
                    f"advice {advice.advice_id} is from payer {advice.payer}, the bank names "
                    f"{bank_payer.customer} ({bank_payer.how})",
                )
        for line in advice.lines:
            _apply_line(book, state, advice, line, confidence)
        state.done = True
