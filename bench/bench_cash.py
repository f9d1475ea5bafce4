"""Cash application benchmark: quality against the greedy baseline, and scaling with open items.

Prints (1) auto-match recall and precision of ``match_payments`` and of the greedy oldest-first
baseline on the same seeded realistic data, with the ratio; (1b) the same data where a fifth of
the customers quote their PO or the last four digits instead of our number: the second half of
the payments matched without and with the reference habits confirmed on the first half; (2)
matching time and peak memory from 10k to 1M open items (payments = items / 10), beside the
baseline's time, (3) a whole ``run_cash`` from CSV files (bank file, open items, customers)
at the largest size, and (1c) the groups of issue 14 laid over the base month (``cash_groups.py``):
references wrapped by each bank format (files written and read back), advices with deductions,
head-office payers and ambiguous combinations with the tie-break that resolved them.

Run:  .venv/bin/python bench/bench_cash.py            (quality + 10k..1M scaling)
      .venv/bin/python bench/bench_cash.py --quality-only
      .venv/bin/python bench/bench_cash.py --max 100000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # devtools/ beside sapbridge/

from cash_groups import (  # bench/ is on the path when this script runs
    Group,
    advices_group,
    ambiguous_group,
    head_office_group,
    unpaid_by_customer,
    with_month1_paid,
    wrapped_group,
)

from devtools.cash.baseline import greedy_baseline
from devtools.cash.synthetic import Scenario, generate, pairs_of, score, with_reference_habits
from sapbridge.config import load_settings
from sapbridge.reconcile.cash import run_cash
from sapbridge.reconcile.cash.config import CashConfig
from sapbridge.reconcile.cash.inputs import OPEN_ITEM_COLUMNS
from sapbridge.reconcile.cash.matcher import match_payments
from sapbridge.reconcile.cash.model import CashResult, OpenItem
from sapbridge.reconcile.cash.reference_habits import ORDER_FIELD, ReferenceHabit, learn_habits
from sapbridge.reconcile.cash.tiebreak import TIE_BREAKS
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


Pairs = set[tuple[str, tuple[str, str, str, str]]]


def _orders_learned(result: CashResult, truth: Pairs) -> list[ReferenceHabit]:
    """Payment orders confirmed from a run, as ``cash-confirm`` learns them: a payment counts
    when every item proposed for it is a true one (a person confirms it)."""
    proposed: dict[str, set[tuple[str, str, str, str]]] = {}
    for a in result.matches + result.suggestions:
        proposed.setdefault(a.payment_id, set()).add(a.key)
    counts: Counter[tuple[str, str]] = Counter()
    for payment_id, (customer, orders) in result.orders.items():
        if all((payment_id, key) in truth for key in proposed.get(payment_id, ())):
            counts.update((customer, order) for order in orders)
    return [ReferenceHabit(c, ORDER_FIELD, o, n) for (c, o), n in sorted(counts.items())]


def _only(pairs: Pairs, ids: set[str]) -> Pairs:
    return {pair for pair in pairs if pair[0] in ids}


def groups_quality(seed: int) -> float:
    """Each new group amid the base month, matched in one run; returns overall precision."""
    base = generate(seed=seed, customers=1000, items_per_customer=12, payments=8000)
    pool = unpaid_by_customer(base)
    wrapped = wrapped_group(base, pool, seed)
    advices = advices_group(base, pool, seed)
    head = head_office_group(base, pool, seed)
    month1, ambiguous = ambiguous_group(base, seed)
    customers = base.customers + list(head.customers.values())
    config = CashConfig()
    month1_items = base.open_items + month1.items + ambiguous.items
    run1 = match_payments(month1.payments, month1_items, customers, config, [])
    orders = _orders_learned(run1, month1.truth)
    groups: list[Group] = [*wrapped.values(), advices, head, with_month1_paid(ambiguous, month1)]
    payments = base.payments + [p for g in groups for p in g.payments]
    items = base.open_items + [i for g in groups for i in g.items]
    result = match_payments(payments, items, customers, config, orders, advices.advices)
    matched = pairs_of(result.matches)
    unaware = [replace(c, pays_for=()) for c in customers]
    without = pairs_of(match_payments(payments, items, unaware, config, [], ()).matches)
    print(f"\nnew groups (seed {seed}), matched in one run with the base month: {len(payments)} payments, "
          f"{len(items)} open items; {len(orders)} payment-order habits confirmed from "
          f"{len(month1.payments)} month-1 payments")
    print("(\"without\": the same run given no advices, no head-office relations, no payment orders)")
    print("| group | payments | true pairs | recall | precision | recall without | precision without |")
    print("|---|---|---|---|---|---|---|")
    for group in groups:
        ids = {p.payment_id for p in group.payments}
        got, old = score(_only(matched, ids), group.truth), score(_only(without, ids), group.truth)
        print(f"| {group.name} | {len(ids)} | {got.true_pairs} | {got.recall:.4f} | {got.precision:.4f} "
              f"| {old.recall:.4f} | {old.precision:.4f} |")
    everything = base.truth.union(*(g.truth for g in groups))
    overall = score(matched, everything)
    old = score(without, everything)
    print(f"| all (base month + groups) | {len(payments)} | {overall.true_pairs} | {overall.recall:.4f} "
          f"| {overall.precision:.4f} | {old.recall:.4f} | {old.precision:.4f} |")
    linked = sum(1 for link in result.advices if link.payment_id)
    print(f"advices: {linked} of {len(result.advices)} linked "
          f"({len(advices.payments)} have their payment in the file)")
    _tie_breaks(result, ambiguous, everything, {p.payment_id for p in base.payments})
    return overall.precision


def _resolved(rows: list[tuple[str, bool]]) -> bool:
    return any(rule.endswith(TIE_BREAKS) for rule, _ in rows)


def _tie_breaks(result: CashResult, ambiguous: Group, truth: Pairs, base_ids: set[str]) -> None:
    """Per ambiguous case: how many a tie-break resolved (auto-applied, or one suggestion) and
    how many of those were right."""
    auto: dict[str, list[tuple[str, bool]]] = {}
    suggested: dict[str, list[tuple[str, bool]]] = {}
    for rows, target in ((result.matches, auto), (result.suggestions, suggested)):
        for a in rows:
            target.setdefault(a.payment_id, []).append((a.rule, (a.payment_id, a.key) in truth))
    still = {e.payment_id for e in result.exceptions if e.category == "ambiguous"}
    print("| ambiguous case | payments | auto by a tie-break | right | suggested by a tie-break | right "
          "| still ambiguous |")
    print("|---|---|---|---|---|---|---|")
    for signal in sorted(set(ambiguous.kinds.values())):
        ids = [pid for pid, kind in ambiguous.kinds.items() if kind == signal]
        cells = []
        for found in (auto, suggested):
            resolved = [pid for pid in ids if _resolved(found.get(pid, []))]
            cells += [len(resolved), sum(all(ok for _, ok in found[pid]) for pid in resolved)]
        print(f"| {signal} | {len(ids)} | {' | '.join(map(str, cells))} | {sum(p in still for p in ids)} |")
    tied = [pid for pid in base_ids if _resolved(auto.get(pid, []) + suggested.get(pid, []))]
    print(f"base month: {len(tied)} payments resolved by a tie-break; {sum(p in still for p in base_ids)} "
          "still ambiguous")


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


def write_inputs(folder: Path, scenario: Scenario) -> dict[str, Path]:
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
        paths = write_inputs(folder, scenario)
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
    parser.add_argument("--quality-only", action="store_true", help="only the quality parts (1, 1b, 1c)")
    args = parser.parse_args()
    quality(args.seed)
    habits_quality(args.seed)
    groups_quality(args.seed)
    if args.quality_only:
        return
    scaling(args.max)
    end_to_end(args.max)


if __name__ == "__main__":
    main()
