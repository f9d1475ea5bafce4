"""Cash application benchmark: quality against the greedy baseline, and scaling with open items.

Prints (1) auto-match recall and precision of ``match_payments`` and of the greedy oldest-first
baseline on the same seeded realistic data, with the ratio, and (2) matching time and peak memory
from 10k to 1M open items (payments = items / 10), beside the baseline's time, and (3) a whole
``run_cash`` from CSV files (bank file, open items, customers) at the largest size.

Run:  .venv/bin/python bench/bench_cash.py            (quality + 10k..1M scaling)
      .venv/bin/python bench/bench_cash.py --max 100000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from sapbridge.config import load_settings
from sapbridge.reconcile.cash import run_cash
from sapbridge.reconcile.cash.baseline import greedy_baseline
from sapbridge.reconcile.cash.config import CashConfig
from sapbridge.reconcile.cash.inputs import OPEN_ITEM_COLUMNS
from sapbridge.reconcile.cash.matcher import match_payments
from sapbridge.reconcile.cash.synthetic import Scenario, generate, pairs_of, score
from sapbridge.store import open_store
from sapbridge.tabular import write_csv

_PAYMENT_COLUMNS = ("payment_id", "value_date", "amount", "currency", "payer_name", "payer_account",
                    "customer", "remittance")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quality(seed: int) -> None:
    scenario = generate(seed=seed, customers=1000, items_per_customer=12, payments=8000)
    ours = score(pairs_of(match_payments(scenario.payments, scenario.open_items, scenario.customers,
                                         CashConfig(), []).matches), scenario.truth)
    base = score(greedy_baseline(scenario.payments, scenario.open_items, scenario.customers), scenario.truth)
    print(f"quality (realistic profile, seed {seed}: {len(scenario.payments)} payments, "
          f"{len(scenario.open_items)} open items, {ours.true_pairs} true pairs)")
    print("| method | recall | precision |")
    print("|---|---|---|")
    print(f"| sapbridge rules | {ours.recall:.4f} | {ours.precision:.4f} |")
    print(f"| greedy oldest-first | {base.recall:.4f} | {base.precision:.4f} |")
    print(f"| ratio ours/greedy | {ours.recall / base.recall:.2f}x "
          f"| {ours.precision / base.precision:.2f}x |")


def scaling(maximum: int) -> None:
    print("\nscaling (payments = open items / 10; match time excludes data generation)")
    print("| open items | payments | ours s | greedy s | ratio | auto-match rate | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    size = 10_000
    while size <= maximum:
        scenario = generate(seed=3, customers=size // 20, items_per_customer=20, payments=size // 10)
        start = time.perf_counter()
        result = match_payments(scenario.payments, scenario.open_items, scenario.customers, CashConfig(), [])
        ours = time.perf_counter() - start
        start = time.perf_counter()
        greedy_baseline(scenario.payments, scenario.open_items, scenario.customers)
        base = time.perf_counter() - start
        rate = len({m.payment_id for m in result.matches}) / len(scenario.payments)
        print(f"| {len(scenario.open_items):,} | {len(scenario.payments):,} | {ours:.2f} | {base:.2f} | "
              f"{ours / base:.1f}x | {rate:.3f} | {_peak_mb():,.0f} |", flush=True)
        size *= 10


def _write_inputs(folder: Path, scenario: Scenario) -> dict[str, Path]:
    paths = {"payments": folder / "bank.csv", "items": folder / "items.csv",
             "customers": folder / "customers.csv"}
    write_csv(paths["payments"], _PAYMENT_COLUMNS, [
        (p.payment_id, p.value_date, p.amount, p.currency, p.payer_name, p.payer_account, p.customer,
         p.remittance) for p in scenario.payments])
    write_csv(paths["items"], [c.name for c in OPEN_ITEM_COLUMNS], [
        (i.company_code, i.customer, i.fiscal_year, i.document, i.item, i.reference, i.assignment,
         i.posting_date, i.due_date, i.amount, i.currency) for i in scenario.open_items])
    write_csv(paths["customers"], ("customer", "name", "account"),
              [(c.customer, c.name, a) for c in scenario.customers for a in c.accounts])
    return paths


def end_to_end(size: int) -> None:
    """``run_cash`` from CSV files (bank file, open items, customers) to the four outputs."""
    scenario = generate(seed=3, customers=size // 20, items_per_customer=20, payments=size // 10)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        paths = _write_inputs(folder, scenario)
        store = open_store(f"sqlite:///{folder / 'bench.db'}")
        start = time.perf_counter()
        result = run_cash(store, load_settings(None), system="demo", payments=paths["payments"],
                          out=folder / "out", open_items=paths["items"], customers=paths["customers"])
        seconds = time.perf_counter() - start
        store.dispose()
    print(f"\nend to end: run_cash on CSV files, {len(scenario.open_items):,} open items, "
          f"{len(scenario.payments):,} payments: {seconds:.1f} s, auto-match rate "
          f"{result.summary['auto_match_rate']}, peak RSS {_peak_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max", type=int, default=1_000_000, help="largest open item count")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    quality(args.seed)
    scaling(args.max)
    end_to_end(args.max)


if __name__ == "__main__":
    main()
