"""Who paid? The customer number if the bank passed one, else the payer's account, else the name.

Confirmed habits (an account or name a person approved for a customer before) come after the
master data but before fuzzy name matching. Fuzzy matching (rapidfuzz) must be clear: the best
score at or above the threshold and a margin over the runner-up, so similar names stay unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from rapidfuzz import fuzz, process

from sapbridge.bankfiles.payment import Payment, normalise_account
from sapbridge.reconcile.cash.model import CustomerRecord, Habit, PayerInfo

__all__ = ["PayerDirectory", "normalise_name"]

_STRENGTH = {
    "customer": Decimal("1.00"),
    "account": Decimal("1.00"),
    "habit_account": Decimal("0.99"),
    "habit_name": Decimal("0.97"),
    "name": Decimal("0.96"),
}
_FUZZY_MARGIN = 4
_BLOCKS_SEARCHED = 3
"""The smallest word-pair blocks searched per name: enough to survive one misspelt word."""
_PUNCT = re.compile(r"[^\w\s]")


def normalise_name(name: str | None) -> str:
    """Lower case, punctuation removed, single spaces: ``"Nordic Foods GmbH."`` -> ``"nordic foods gmbh"``."""
    return " ".join(_PUNCT.sub(" ", (name or "").lower()).split())


def _pairs(name: str) -> set[tuple[str, str]]:
    """Unordered word pairs of a name (a one-word name pairs with itself)."""
    words = sorted(set(name.split()))
    if len(words) == 1:
        return {(words[0], words[0])}
    return {(a, b) for i, a in enumerate(words) for b in words[i + 1:]}


def _unique_map(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """key -> value where the key names one value only; ambiguous keys are dropped."""
    seen: dict[str, str | None] = {}
    for key, value in pairs:
        if not key:
            continue
        seen[key] = value if seen.get(key, value) == value else None
    return {k: v for k, v in seen.items() if v is not None}


class PayerDirectory:
    """Identifies the customer behind a payment from master data and learned habits."""

    def __init__(self, customers: Iterable[CustomerRecord], habits: Iterable[Habit],
                 known_customers: set[str], name_threshold: int) -> None:
        records = list(customers)
        habit_list = list(habits)
        self.known = known_customers | {r.customer for r in records}
        self.accounts = _unique_map((normalise_account(a), r.customer) for r in records for a in r.accounts)
        self.habit_accounts = _unique_map((h.key, h.customer) for h in habit_list if h.kind == "account")
        self.habit_names = _unique_map((h.key, h.customer) for h in habit_list if h.kind == "name")
        self.names = _unique_map((normalise_name(r.name), r.customer) for r in records)
        self.blocks: dict[tuple[str, str], list[str]] = {}
        for name in self.names:
            for pair in _pairs(name):
                self.blocks.setdefault(pair, []).append(name)
        self.threshold = name_threshold
        self._fuzzy_cache: dict[str, PayerInfo | None] = {}

    def identify(self, payment: Payment) -> PayerInfo | None:
        """The payer's customer, how it was found, and how strong the evidence is."""
        if payment.customer:
            number = payment.customer.strip()
            for candidate in (number, number.zfill(10)):
                if candidate in self.known:
                    return PayerInfo(candidate, "customer", _STRENGTH["customer"])
        account = normalise_account(payment.payer_account)
        if account in self.accounts:
            return PayerInfo(self.accounts[account], "account", _STRENGTH["account"])
        if account in self.habit_accounts:
            return PayerInfo(self.habit_accounts[account], "habit_account", _STRENGTH["habit_account"])
        name = normalise_name(payment.payer_name)
        if not name:
            return None
        if name in self.habit_names:
            return PayerInfo(self.habit_names[name], "habit_name", _STRENGTH["habit_name"])
        if name in self.names:
            return PayerInfo(self.names[name], "name", _STRENGTH["name"])
        if name not in self._fuzzy_cache:
            self._fuzzy_cache[name] = self._fuzzy(name)
        return self._fuzzy_cache[name]

    def _choices(self, name: str) -> list[str]:
        """Blocking: names sharing a word pair with the payer name (one misspelt word still leaves pairs)."""
        blocks = sorted((self.blocks[p] for p in _pairs(name) if p in self.blocks), key=len)
        found: dict[str, None] = {}
        for names in blocks[:_BLOCKS_SEARCHED]:
            found.update(dict.fromkeys(names))
        return list(found)

    def _fuzzy(self, name: str) -> PayerInfo | None:
        choices = self._choices(name)
        if not choices:
            return None
        best = process.extract(name, choices, scorer=fuzz.WRatio, limit=2,
                               score_cutoff=self.threshold - _FUZZY_MARGIN)
        if not best or best[0][1] < self.threshold:
            return None
        if len(best) > 1 and best[0][1] - best[1][1] < _FUZZY_MARGIN:
            return None
        score = Decimal(str(round(best[0][1]))) / 100
        return PayerInfo(self.names[best[0][0]], "fuzzy_name", min(Decimal("0.95"), score * Decimal("0.97")))
