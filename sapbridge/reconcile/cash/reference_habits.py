"""Reference habits: how a customer writes the items it pays when it is not our number as such.

A habit is a (field, pattern) pair learned from a confirmed match, per customer:

* field: which open-item field the customer quotes (``reference``, ``document``, ``assignment``,
  ``billing_document``);
* pattern: how it is written in the remittance text

  - ``digits``: the field's digits, whatever surrounds them (``PO 4711`` for assignment ``PO-4711``);
  - ``affix:P|S``: our number inside the customer's own fixed prefix ``P`` and suffix ``S``
    (``2026-90001234`` or ``KD90001234X``), compared without separators;
  - ``last:N``: only the last ``N`` digits of the field (``1234`` for document ``0090001234``).

:func:`explain` finds the habit behind one confirmed match (None if the ordinary reference lookup
already finds the item, or nothing in the text leads to it); :func:`habit_hits` applies learned
habits to a remittance text. Both are pure.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sapbridge.reconcile.cash.index import index_key, remittance_candidates
from sapbridge.reconcile.cash.model import OpenItem
from sapbridge.reconcile.references import strip_amounts

__all__ = ["FIELDS", "MIN_DIGITS", "ORDER_FIELD", "ReferenceHabit", "explain", "habit_confidence",
           "habit_hits", "learn_habits"]

ORDER_FIELD = "payment_order"
"""The ``field`` of a habit that is a payment order (pattern ``oldest_first`` or ``due_first``,
see :mod:`tiebreak`), not a way of writing references."""

FIELDS = ("reference", "document", "assignment", "billing_document")
"""Open-item fields a customer may quote, in the order :func:`explain` tries them."""

MIN_DIGITS = 4
"""Fewer digits than this explain nothing: they fit too many items by chance."""

_MAX_AFFIX = 20
_SPLIT = re.compile(r"[,;|\s]+")
_SEPARATORS = re.compile(r"[\-_/.:#]+")
_NON_DIGIT = re.compile(r"\D")


@dataclass(frozen=True, slots=True)
class ReferenceHabit:
    """A confirmed reference habit of ``customer``: it quotes ``field`` written as ``pattern``."""

    customer: str
    field: str
    pattern: str
    confirmations: int = 1


def _words(text: str) -> list[str]:
    """Remittance words with a digit, upper case, separators removed, money amounts dropped."""
    words = (_SEPARATORS.sub("", w.upper()) for w in _SPLIT.split(strip_amounts(text or "")))
    return [w for w in words if any(ch.isdigit() for ch in w)]


def _digits(value: str) -> str:
    return _NON_DIGIT.sub("", value or "")


def _significant(value: str) -> str:
    """The digits of a value without leading zeros."""
    return _digits(value).lstrip("0")


def item_key(pattern: str, value: str) -> str:
    """The key of an open item's field under ``pattern`` ("" if the field cannot be written so)."""
    if pattern == "digits":
        key = _significant(value)
    elif pattern.startswith("last:"):
        digits, length = _digits(value), int(pattern[5:])
        key = digits[-length:] if len(digits) > length else ""
    else:
        key = index_key(_SEPARATORS.sub("", (value or "").upper()))
    return key if len(key) >= MIN_DIGITS else ""


def text_keys(pattern: str, text: str) -> set[str]:
    """The keys a remittance text holds under ``pattern``."""
    words = _words(text)
    if pattern == "digits":
        keys = {_significant(w) for w in words}
    elif pattern.startswith("last:"):
        length = int(pattern[5:])
        keys = {w for w in words if w.isdigit() and len(w) == length}
    else:
        prefix, _, suffix = pattern[6:].partition("|")
        keys = {index_key(w[len(prefix):len(w) - len(suffix)]) for w in words
                if len(w) > len(prefix) + len(suffix) and w.startswith(prefix) and w.endswith(suffix)}
    return {k for k in keys if len(k) >= MIN_DIGITS}


def _affix(word: str, key: str) -> str | None:
    """``affix:P|S`` if ``word`` is ``key`` inside a prefix and/or suffix, else None."""
    at = word.find(key)
    if at < 0:
        return None
    prefix, suffix = word[:at].rstrip("0"), word[at + len(key):]
    if not (prefix or suffix) or len(prefix) > _MAX_AFFIX or len(suffix) > _MAX_AFFIX:
        return None
    return f"affix:{prefix}|{suffix}"


def _patterns(words: list[str], value: str) -> list[str]:
    """Patterns under which ``words`` name ``value``, most general first.

    The last digits only count when the word before them is not the rest of the number: ``00900
    04263`` is our document split in two, not a habit of quoting five digits.
    """
    found: list[str] = []
    significant = _significant(value)
    if len(significant) >= MIN_DIGITS and any(_significant(w) == significant for w in words):
        found.append("digits")
    key = item_key("affix:|", value)
    if key:
        found += [p for p in (_affix(w, key) for w in words) if p][:1]
    digits = _digits(value)
    found += [f"last:{len(w)}" for at, w in enumerate(words)
              if w.isdigit() and MIN_DIGITS <= len(w) < len(digits) and digits.endswith(w)
              and not (at and digits.endswith(_digits(words[at - 1]) + w))][:1]
    return found


def explain(remittance: str, item: OpenItem, min_length: int) -> tuple[str, str] | None:
    """The (field, pattern) by which ``remittance`` names ``item``, if the reference rule cannot.

    None when the ordinary reference lookup (``min_length`` as configured) already finds the item,
    or when no field of the item can be read from the text: such a match teaches no habit.
    """
    found = set(remittance_candidates(remittance, min_length))
    if any(index_key(getattr(item, f)) in found for f in FIELDS):
        return None
    words = _words(remittance)
    for field in FIELDS:
        value = getattr(item, field)
        if not value:
            continue
        patterns = _patterns(words, value)
        if patterns:
            return field, patterns[0]
    return None


def learn_habits(confirmed: Iterable[tuple[str, str, OpenItem]], min_length: int) -> list[ReferenceHabit]:
    """Reference habits from confirmed (payment_id, remittance, item) rows, counted once per
    payment: what ``cash-confirm`` stores, without a store (for simulations and benchmarks)."""
    seen: set[tuple[str, str, str, str]] = set()
    for payment_id, remittance, item in confirmed:
        habit = explain(remittance, item, min_length)
        if habit is not None:
            seen.add((payment_id, item.customer, *habit))
    counts = Counter((customer, field, pattern) for _, customer, field, pattern in seen)
    return [ReferenceHabit(customer, field, pattern, n)
            for (customer, field, pattern), n in sorted(counts.items())]


def habit_hits(text: str, habits: list[ReferenceHabit], items: Sequence[OpenItem],
               positions: list[int]) -> tuple[list[int], int]:
    """Positions whose field, written as a habit says, appears in ``text``; and the most
    confirmations among the habits that found them (0 if none did)."""
    hits: list[int] = []
    confirmations = 0
    for habit in habits:
        keys = text_keys(habit.pattern, text)
        if not keys:
            continue
        for position in positions:
            if item_key(habit.pattern, getattr(items[position], habit.field)) in keys:
                confirmations = max(confirmations, habit.confirmations)
                if position not in hits:
                    hits.append(position)
    return hits, confirmations


def habit_confidence(confirmations: int) -> Decimal:
    """0.92 after one confirmation (like an exact amount of a known payer: auto-applied at the
    default threshold), 0.02 more per further confirmation, at most 0.97."""
    return min(Decimal("0.92") + Decimal("0.02") * (confirmations - 1), Decimal("0.97"))
