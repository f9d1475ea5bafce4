"""The greedy oldest-first baseline (Odoo / ERPNext style), to measure the matcher against.

Partner from the customer number or an exact bank account only (no fuzzy names, no habits);
numeric tokens of four or more digits compared digits-only with document and reference (no OCR
fixes); found items, else the partner's items oldest first, are allocated greedily until the
payment is used up; no partner and no token: a unique exact amount. Everything is auto-applied.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from sapbridge.bankfiles.payment import normalise_account
from sapbridge.money import to_minor_units
from sapbridge.reconcile.cash.model import CustomerRecord, ItemKey, OpenItem, Payment

__all__ = ["greedy_baseline"]

_NUMERIC = re.compile(r"\d{4,}")


def greedy_baseline(payments: Sequence[Payment], open_items: Sequence[OpenItem],
                    customers: Sequence[CustomerRecord]) -> set[tuple[str, ItemKey]]:
    """(payment_id, item key) pairs the greedy baseline would apply."""
    accounts = {normalise_account(a): c.customer for c in customers for a in c.accounts}
    remaining = [to_minor_units(i.amount, i.currency) for i in open_items]
    by_token: dict[str, list[int]] = defaultdict(list)
    by_partner: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_amount: dict[tuple[str, int], list[int]] = defaultdict(list)
    for position, item in enumerate(open_items):
        for value in {item.document.lstrip("0"), item.reference.lstrip("0")}:
            if len(value) >= 4:
                by_token[value].append(position)
        by_partner[(item.currency, item.customer)].append(position)
        by_amount[(item.currency, remaining[position])].append(position)
    for positions in by_partner.values():
        positions.sort(key=lambda p: (open_items[p].due_date or open_items[p].posting_date,
                                      open_items[p].document))
    pairs: set[tuple[str, ItemKey]] = set()
    for payment in payments:
        left = to_minor_units(payment.amount, payment.currency)
        partner = payment.customer or accounts.get(normalise_account(payment.payer_account), "")
        tokens = [t.lstrip("0") for t in _NUMERIC.findall(re.sub(r"[^\w\s]", "", payment.remittance))]
        found = [p for t in tokens for p in by_token.get(t, []) if open_items[p].currency == payment.currency]
        candidates = found or by_partner.get((payment.currency, partner), [])
        if not candidates:
            hits = [p for p in by_amount.get((payment.currency, left), []) if remaining[p] == left]
            candidates = hits if len(hits) == 1 else []
        for position in candidates:
            if left <= 0:
                break
            if remaining[position] <= 0:
                continue
            applied = min(remaining[position], left)
            remaining[position] -= applied
            left -= applied
            pairs.add((payment.payment_id, open_items[position].key))
    return pairs
