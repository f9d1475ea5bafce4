"""Input reading benchmark: the cost of checking every amount by the one rule for user files.

Times reading a large open-items CSV (``load_open_items``, its fast path) and a payments CSV
(``read_payments``), and one amount parse against a bare ``Decimal()``. Run it on two checkouts
to compare; the amount line needs ``sapbridge.money.parse_amount``.

Run:  .venv/bin/python bench/bench_inputs.py                 (1M open items, 100k payments)
      .venv/bin/python bench/bench_inputs.py --items 100000
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
import timeit
from decimal import Decimal
from pathlib import Path

from sapbridge.bankfiles import read_payments
from sapbridge.reconcile.cash.inputs import load_open_items


def _items(path: Path, count: int, rng: random.Random) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["company_code", "customer", "fiscal_year", "document", "item", "reference",
                         "assignment", "posting_date", "due_date", "amount", "currency"])
        for n in range(count):
            writer.writerow(["1000", f"{n % 50000:010d}", "2026", f"{n:010d}", "001", f"INV{n}", "",
                             "2026-09-01", "2026-10-01", f"{rng.randint(1, 10**7) / 100:.2f}", "EUR"])


def _payments(path: Path, count: int, rng: random.Random) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["payment_id", "value_date", "amount", "currency", "payer_name", "payer_account",
                         "customer", "remittance"])
        for n in range(count):
            writer.writerow([f"P{n}", "2026-11-21", f"{rng.randint(1, 10**7) / 100:.2f}", "EUR", "Acme",
                             "", "", f"INV {n}"])


def _timed(label: str, call: object) -> None:
    start = time.perf_counter()
    result = call()  # type: ignore[operator]
    print(f"| {label} | {len(result):,} | {time.perf_counter() - start:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--payments", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        items, payments = Path(folder) / "items.csv", Path(folder) / "bank.csv"
        _items(items, args.items, rng)
        _payments(payments, args.payments, rng)
        print("| read | rows | seconds |")
        print("|---|---|---|")
        _timed("open items CSV (load_open_items)", lambda: load_open_items(None, "demo", items))
        _timed("payments CSV (read_payments)", lambda: read_payments(payments))
    try:
        from sapbridge.money import parse_amount
    except ImportError:
        return
    runs = 200_000
    ours = timeit.timeit(lambda: parse_amount("12345.67"), number=runs) / runs * 1e9
    bare = timeit.timeit(lambda: Decimal("12345.67"), number=runs) / runs * 1e9
    print(f"\none amount: parse_amount {ours:.0f} ns, Decimal() {bare:.0f} ns")


if __name__ == "__main__":
    main()
