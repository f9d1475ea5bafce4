"""Cash application benchmark: quality against the greedy baseline, and scaling with open items.

Prints (1) auto-match recall and precision of ``match_payments`` and of the greedy oldest-first
baseline on the same seeded realistic data, with the ratio; (1b) the same data where a fifth of
the customers quote their PO or the last four digits instead of our number: the second half of
the payments matched without and with the reference habits confirmed on the first half; (2)
matching time and peak memory from 10k to 1M open items (payments = items / 10), beside the
baseline's time, and (3) a whole ``run_cash`` from CSV files (bank file, open items, customers)
at the largest size.

Run:  .venv/bin/python bench/bench_cash.py            (quality + 10k..1M scaling)
      .venv/bin/python bench/bench_cash.py --quality-only
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
from sapbridge.reconcile.cash.model import OpenItem
from sapbridge.reconcile.cash.reference_habits import learn_habits
from sapbridge.reconcile.cash.synthetic import Scenario, generate, pairs_of, score, with_reference_habits
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


def _confirmed(scenario: Scenario, proposed: set[tuple[str, tuple[str, str, str, str]]],
               ) -> list[tuple[str, str, OpenItem]]:
    """The proposals a person would confirm (the true ones), as (payment_id, remittance, item)."""
    items = {i.key: i for i in scenario.open_items}
    texts = {p.payment_id: p.remittance for p in scenario.payments}
    return [(pid, texts[pid], items[key]) for pid, key in sorted(proposed & scenario.truth)]


def habits_quality(seed: int) -> None:
    """Month 1 run and confirmed, its reference habits learned; month 2 matched without and with them."""
    plain = generate(seed=seed, customers=1000, items_per_customer=12, payments=8000)
    scenario = with_reference_habits(plain, share=0.2, seed=seed)
    half = len(scenario.payments) // 2
    first = Scenario(scenario.payments[:half], scenario.open_items, scenario.customers, scenario.truth)
    config = CashConfig()
    run1 = match_payments(first.payments, first.open_items, first.customers, config, [])
    habits = learn_habits(_confirmed(first, pairs_of(run1.matches + run1.suggestions)),
                          config.reference_min_length)
    second_ids = {p.payment_id for p in scenario.payments[half:]}
    paid_before = {key for pid, key in scenario.truth if pid not in second_ids}
    items = [i for i in scenario.open_items if i.key not in paid_before]
    truth = {pair for pair in scenario.truth if pair[0] in second_ids}
    payments = scenario.payments[half:]
    without = score(pairs_of(match_payments(payments, items, scenario.customers, config, []).matches), truth)
    with_habits = score(pairs_of(match_payments(payments, items, scenario.customers, config, habits).matches),
                        truth)
    base = score(greedy_baseline(payments, items, scenario.customers), truth)
    print(f"\nreference habits (seed {seed}: 20% of customers quote their PO or the last 4 digits; "
          f"{len(habits)} habits learned from month 1; month 2: {len(payments)} payments, "
          f"{len(truth)} true pairs)")
    print("| method | recall | precision |")
    print("|---|---|---|")
    print(f"| rules, no habits | {without.recall:.4f} | {without.precision:.4f} |")
    print(f"| rules + reference habits | {with_habits.recall:.4f} | {with_habits.precision:.4f} |")
    print(f"| greedy oldest-first | {base.recall:.4f} | {base.precision:.4f} |")
    print(f"| ratio habits/greedy | {with_habits.recall / base.recall:.2f}x "
          f"| {with_habits.precision / base.precision:.2f}x |")


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
    parser.add_argument("--quality-only", action="store_true", help="only the quality parts (1 and 1b)")
    args = parser.parse_args()
    quality(args.seed)
    habits_quality(args.seed)
    if args.quality_only:
        return
    scaling(args.max)
    end_to_end(args.max)


if __name__ == "__main__":
    main()
