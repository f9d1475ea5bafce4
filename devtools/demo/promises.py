"""The demo company's promises to pay (FSCM Collections Management), in every state."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sapbridge.money import quantize

if TYPE_CHECKING:
    from devtools.demo.data import OpenItem

__all__ = ["PROMISE_CODES", "Promise", "later_promises", "promises"]


@dataclass(frozen=True)
class Promise:
    guid: str
    company_code: str
    customer: str
    promised: Decimal
    paid: Decimal
    currency: str
    due_on: date
    made_on: date
    state: str
    level: int


PROMISE_CODES = {"open": "O", "kept": "K", "partially_kept": "P", "broken": "B", "withdrawn": "W"}
"""Canonical promise state -> the demo SAP's single-letter code (as mappings/promises.toml reads them)."""

def _promise_state(due_on: date, as_of: date, rng: random.Random, forced: str | None) -> str:
    if forced is not None:
        return forced
    if due_on > as_of:
        return rng.choices(("open", "withdrawn"), weights=(9, 1))[0]
    return rng.choices(("kept", "partially_kept", "broken", "withdrawn"), weights=(55, 15, 25, 5))[0]


def _promise_paid(state: str, promised: Decimal, currency: str, rng: random.Random) -> Decimal:
    if state == "kept":
        return promised
    if state == "partially_kept":
        return quantize(promised * Decimal(rng.choice(("0.25", "0.4", "0.5", "0.7"))), currency)
    if state == "broken" and rng.random() < 0.3:
        return quantize(promised * Decimal("0.1"), currency)
    return Decimal(0)


_FORCED_STATES = ("open", "kept", "partially_kept", "broken", "withdrawn")
"""The first promises take each state in turn, so every state is in the demo whatever the draws."""


def promises(rng: random.Random, items: list[OpenItem], count: int, as_of: date) -> list[Promise]:
    """Promises on customers' overdue items: made when the item was overdue, due days later."""
    overdue = [i for i in items if i.amount > 0 and i.baseline_date + timedelta(days=i.net_days) < as_of]
    result = []
    for index in range(count):
        item = rng.choice(overdue)
        made = as_of - timedelta(days=rng.randint(2, 75))
        due = made + timedelta(days=rng.randint(5, 21))
        forced = _FORCED_STATES[index] if index < len(_FORCED_STATES) else None
        if forced == "open":
            due = as_of + timedelta(days=7)
        elif forced is not None and due > as_of:
            due = as_of - timedelta(days=3)
        state = _promise_state(due, as_of, rng, forced)
        promised = quantize(item.amount * Decimal(rng.choice(("0.5", "1", "1"))), item.currency)
        result.append(Promise(
            guid=f"{rng.getrandbits(128):032X}", company_code=item.company_code, customer=item.customer,
            promised=promised, paid=_promise_paid(state, promised, item.currency, rng),
            currency=item.currency, due_on=due, made_on=made, state=state,
            level=rng.choices((1, 2, 3), weights=(70, 22, 8))[0],
        ))
    return result


def later_promises(promises: list[Promise], later_as_of: date, rng: random.Random) -> list[Promise]:
    """Open promises that fell due during the week are kept or broken; one new promise each week."""
    result = []
    for promise in promises:
        if promise.state == "open" and promise.due_on <= later_as_of:
            state = rng.choice(("kept", "broken"))
            promise = replace(promise, state=state,
                              paid=promise.promised if state == "kept" else Decimal(0))
        result.append(promise)
    return result
