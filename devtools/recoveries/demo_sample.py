"""Write ``claims-demo.csv``: a recovery provider's claims against the demo system's dispute cases.

The claims are built from :mod:`devtools.demo.data` (the seeded company the demo fixtures were
recorded from), so after ``sapbridge sync all --system demo`` they land in several categories:
recoveries on open and on written-off cases, claims in progress, a rejected claim, amount
mismatches, duplicates, and claims for deductions the dispute team never saw. References and
customer numbers are written the untidy ways providers write them.

Usage::

    python -m devtools.recoveries.demo_sample fixtures/samples
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from devtools.demo.data import AS_OF, Dispute, generate
from sapbridge.money import quantize
from sapbridge.reconcile.recoveries.inputs import CLAIM_COLUMNS
from sapbridge.tabular import write_csv

__all__ = ["EXPECTED", "FILE_NAME", "PLAN", "claim_rows", "main"]

FILE_NAME = "claims-demo.csv"
"""The sample's file name inside the target folder."""

PLAN = {
    "recovered_open_dispute": 3,
    "recovered_after_writeoff": 2,
    "open_claim": 4,
    "amount_mismatch": 2,
    "rejected_claim": 1,
    "duplicate_claim": 2,
    "claim_without_dispute": 2,
}
"""How many claims the sample plants in each category."""

EXPECTED = {**PLAN, "open_claim": PLAN["open_claim"] + 1}
"""Claims per category after reconciling: the first of the two claims on one case is in progress."""

_SEED = 20261121


def _noisy(reference: str, rng: random.Random) -> str:
    style = rng.choice(("plain", "inv", "ri", "stripped"))
    if style == "inv":
        return f"INV-{reference}"
    if style == "ri":
        return f"RI {reference}"
    return reference.lstrip("0") if style == "stripped" else reference


def _customer(number: str, rng: random.Random) -> str:
    return number.lstrip("0") if rng.random() < 0.5 else number


class _Writer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rows: list[list[object]] = []

    def claim(self, case: Dispute, status: str, *, amount: Decimal | None = None,
              reference: str | None = None, when: date | None = None, reason: str = "") -> None:
        rng = self.rng
        number = f"PA-{len(self.rows) + 1:05d}"
        soon_after = case.created_on + timedelta(days=rng.randint(5, 30))
        claimed = when or min(AS_OF - timedelta(days=20), soon_after)
        value = case.disputed if amount is None else amount
        recovered = value if status == "recovered" else None
        recovered_on = claimed + timedelta(days=rng.randint(3, 15)) if recovered is not None else None
        self.rows.append([number, _customer(case.customer, rng), claimed,
                          _noisy(case.invoice_reference, rng) if reference is None else reference,
                          value, case.currency, status, recovered, recovered_on,
                          reason or f"post-audit {case.reason}"])


def claim_rows(seed: int = _SEED) -> list[list[object]]:
    """The sample's rows in :data:`CLAIM_COLUMNS` order."""
    rng = random.Random(seed)
    cases = generate(stage=1).disputes
    open_cases = [c for c in cases if c.closed_on is None]
    written_off = [c for c in cases if c.written_off > 0]
    credited = [c for c in cases if c.credited > 0]
    picked_open = iter(rng.sample(open_cases, k=12))
    writer = _Writer(rng)
    plants: dict[str, Callable[[], None]] = {
        "recovered_open_dispute": lambda: writer.claim(next(picked_open), "recovered"),
        "open_claim": lambda: writer.claim(next(picked_open), "claimed"),
        "rejected_claim": lambda: writer.claim(next(picked_open), "rejected"),
        "amount_mismatch": lambda: _mismatch(writer, next(picked_open)),
    }
    for category, make in plants.items():
        for _ in range(PLAN[category]):
            make()
    for case in rng.sample(written_off, k=PLAN["recovered_after_writeoff"]):
        writer.claim(case, "recovered")
    twice = next(picked_open)
    writer.claim(twice, "claimed", when=AS_OF - timedelta(days=60))
    writer.claim(twice, "recovered", when=AS_OF - timedelta(days=30), reason="resubmitted")
    writer.claim(rng.choice(credited), "claimed", when=AS_OF - timedelta(days=25))
    for case in rng.sample(open_cases, k=PLAN["claim_without_dispute"]):
        writer.claim(case, "claimed", amount=Decimal("4321.09") * (150 if case.currency == "JPY" else 1),
                     reference=f"PAUDIT-{rng.randint(10000000, 99999999)}")
    return writer.rows


def _mismatch(writer: _Writer, case: Dispute) -> None:
    writer.claim(case, "claimed", amount=quantize(case.disputed * Decimal("1.2") + 10, case.currency))


def main(argv: list[str] | None = None) -> int:
    """Write the sample into the folder given as the only argument."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m devtools.recoveries.demo_sample DIR", file=sys.stderr)
        return 2
    target = write_csv(Path(args[0]) / FILE_NAME, CLAIM_COLUMNS, claim_rows())
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
