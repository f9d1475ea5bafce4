"""Tie-breaks for amounts that several sets of a customer's open items fit.

Tried in this order, each only when exactly one of the fitting sets passes it:

1. ``partial_digits``: every item of the set is named by a piece of the remittance text, the
   trailing digits of its document or reference (``...7316``, at least :data:`MIN_DIGITS`);
2. ``habit``: the set is what the customer's confirmed payment order picks among the fitting
   sets' items: the oldest (``oldest_first``, by posting date) or earliest due (``due_first``),
   the ``k`` first for a set of ``k`` items;
3. ``due_date``: the items of the set share one due date;
4. ``billing_run``: the items of the set were posted on one day (one billing run).

All pure: positions in, the chosen set and the tie-break's name out (None when none decides).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date

from sapbridge.reconcile.cash.model import OpenItem
from sapbridge.reconcile.references import strip_amounts

__all__ = ["MIN_DIGITS", "ORDERS", "TIE_BREAKS", "break_tie", "first_in_order"]

MIN_DIGITS = 3
"""Shorter digit pieces name nothing (``1 of 2``, a day of the month)."""

ORDERS = ("oldest_first", "due_first")
"""Payment orders a customer can be confirmed to follow."""

TIE_BREAKS = ("partial_digits", "habit", "due_date", "billing_run")
"""Tie-breaks in the order they are tried."""

_DIGIT_RUN = re.compile(r"\d+")
_FAR = date.max


def _order_key(order: str) -> Callable[[OpenItem], tuple[date, str]]:
    if order == "oldest_first":
        return lambda i: (i.posting_date or i.due_date or _FAR, i.document)
    return lambda i: (i.due_date or i.posting_date or _FAR, i.document)


def first_in_order(items: Sequence[OpenItem], chosen: Sequence[int], pool: Sequence[int], order: str) -> bool:
    """True when ``chosen`` are the ``len(chosen)`` first of ``pool`` in ``order`` and the pool
    holds more items than that (paying everything open shows no order)."""
    if len(pool) <= len(chosen):
        return False
    key = _order_key(order)
    ranked = sorted(pool, key=lambda p: key(items[p]))
    cut = len(chosen)
    if key(items[ranked[cut - 1]])[0] == key(items[ranked[cut]])[0]:
        return False  # a tie at the cut: the order does not decide
    return set(ranked[:cut]) == set(chosen)


def _pieces(text: str) -> set[str]:
    return {run for run in _DIGIT_RUN.findall(strip_amounts(text or "")) if len(run) >= MIN_DIGITS}


def _named(item: OpenItem, pieces: set[str]) -> bool:
    for value in (item.document, item.reference):
        digits = "".join(ch for ch in value if ch.isdigit()).lstrip("0")
        if any(len(piece) <= len(digits) and digits.endswith(piece) for piece in pieces):
            return True
    return False


def _unique(sets: list[tuple[int, ...]], test: Callable[[tuple[int, ...]], bool]) -> tuple[int, ...] | None:
    passing = [s for s in sets if test(s)]
    return passing[0] if len(passing) == 1 else None


def break_tie(
    sets: list[tuple[int, ...]],
    items: Sequence[OpenItem],
    remittance: str,
    orders: Sequence[str],
) -> tuple[tuple[int, ...], str] | None:
    """The one set (of positions) a tie-break singles out among ``sets``, and its name.

    ``orders``: the customer's confirmed payment orders.
    """
    pieces = _pieces(remittance)
    pool = sorted({p for s in sets for p in s})
    tests: list[tuple[str, Callable[[tuple[int, ...]], bool]]] = []
    if pieces:
        tests.append(("partial_digits", lambda s: all(_named(items[p], pieces) for p in s)))
    for order in orders:
        tests.append(("habit", lambda s, o=order: first_in_order(items, s, pool, o)))  # type: ignore[misc]
    tests.append(("due_date", lambda s: len(s) > 1 and len({items[p].due_date for p in s}) == 1))
    tests.append(("billing_run", lambda s: len(s) > 1 and len({items[p].posting_date for p in s}) == 1))
    for name, test in tests:
        chosen = _unique(sets, test)
        if chosen is not None:
            return chosen, name
    return None
