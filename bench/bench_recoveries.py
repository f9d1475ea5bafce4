"""Benchmark: classify recovery claims against dispute cases, against a naive scan, and end to end.

Steps, all in one run so the ratios are fair on a noisy machine:

1. the seeded synthetic data (claims = disputes / 5) at each ``--sizes`` entry: time of the pure
   ``classify`` (indexes included; best of three up to 100k cases), rows per second, and how
   time grows with size;
2. a naive baseline on ``--baseline-disputes`` cases: the same classifier but every claim scans
   every case (normalising each reference as it goes), i.e. O(claims x cases); the results must be
   identical, and the ratio is printed;
3. with ``--end-to-end``: ``run_recoveries`` at the largest size from CSV files into a fresh SQLite
   store (reading, classifying, writing the CSVs and workbook, recording the run).

Usage::

    python bench/bench_recoveries.py --sizes 10000,100000,1000000 --end-to-end
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.recoveries.synthetic import (  # noqa: E402
    AS_OF,
    SyntheticData,
    generate,
    write_files,
)
from sapbridge.config import load_settings  # noqa: E402
from sapbridge.reconcile.recoveries import RecoveriesConfig, classify, run_recoveries  # noqa: E402
from sapbridge.reconcile.recoveries.classify import _Classifier  # noqa: E402
from sapbridge.reconcile.recoveries.model import (  # noqa: E402
    Claim,
    Dispute,
    RecoveriesResult,
)
from sapbridge.reconcile.references import normalise_reference  # noqa: E402
from sapbridge.store import open_store  # noqa: E402

CONFIG = RecoveriesConfig()


class _NaiveClassifier(_Classifier):
    """Same rules, no index: each claim scans every case."""

    def match(self, claim: Claim) -> tuple[Dispute | None, str]:
        for reference in claim.references:
            candidates = [case for case in self.index.disputes
                          if normalise_reference(case.invoice_reference) == reference
                          and case.customer == claim.customer and case.currency == claim.currency]
            if candidates:
                return min(candidates, key=lambda case: self._preference(claim, case)), "reference"
        found = [case for case in self.index.disputes
                 if case.customer == claim.customer and case.currency == claim.currency
                 and self.agrees(claim, case)]
        if len(found) == 1:
            return found[0], "amount"
        if len(found) > 1:
            return None, f"{len(found)} cases of this customer agree in amount; none by reference"
        return None, ""


def naive_classify(claims: Sequence[Claim], disputes: Sequence[Dispute]) -> RecoveriesResult:
    classifier = _NaiveClassifier(disputes, CONFIG, AS_OF)
    for claim in sorted(claims, key=lambda c: (c.claim_date, c.claim_id)):
        classifier.claim(claim)
    classifier.unclaimed(disputes)
    return RecoveriesResult(as_of=AS_OF, claim_count=len(claims), dispute_count=len(disputes),
                            rows=classifier.rows)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_classify(data: SyntheticData) -> tuple[float, RecoveriesResult]:
    start = time.perf_counter()
    result = classify(data.claims, data.disputes, CONFIG, data.as_of)
    return time.perf_counter() - start, result


def outcome(result: RecoveriesResult) -> list[tuple[str, str, str]]:
    return sorted((row.claim.claim_id if row.claim else "", row.dispute.case_id if row.dispute else "",
                   row.category) for row in result.rows)


def scaling(sizes: list[int], ratio: int) -> dict[int, SyntheticData]:
    print(f"{'disputes':>10} {'claims':>8} {'generate s':>10} {'classify s':>10} {'rows/s':>10} "
          f"{'peak MB':>8} {'correct':>8}")
    kept: dict[int, SyntheticData] = {}
    previous: tuple[int, float] | None = None
    growth = []
    for size in sizes:
        start = time.perf_counter()
        data = generate(disputes=size, claims=size // ratio, seed=1)
        made = time.perf_counter() - start
        runs = [timed_classify(data) for _ in range(3 if size <= 100_000 else 1)]
        seconds, result = min(runs, key=lambda run: run[0])
        got = {row.claim.claim_id: row.category for row in result.rows if row.claim is not None}
        correct = got == data.claim_truth
        rate = (len(data.claims) + len(data.disputes)) / seconds
        print(f"{size:>10,} {len(data.claims):>8,} {made:>10.2f} {seconds:>10.2f} {rate:>10,.0f} "
              f"{peak_mb():>8,.0f} {correct!s:>8}")
        if previous is not None:
            growth.append(f"{previous[0]:,} -> {size:,}: x{size / previous[0]:.0f} data, "
                          f"x{seconds / previous[1]:.1f} time")
        previous = (size, seconds)
        kept = {size: data}
    for line in growth:
        print("  growth", line)
    return kept


def baseline(size: int, ratio: int) -> None:
    data = generate(disputes=size, claims=size // ratio, seed=2)
    fast_seconds, fast = timed_classify(data)
    start = time.perf_counter()
    slow = naive_classify(data.claims, data.disputes)
    slow_seconds = time.perf_counter() - start
    same = outcome(fast) == outcome(slow)
    print(f"baseline at {size:,} disputes / {size // ratio:,} claims: indexed {fast_seconds:.3f} s, "
          f"naive scan {slow_seconds:.2f} s, ratio x{slow_seconds / fast_seconds:.0f}, "
          f"identical results: {same}")


def end_to_end(data: SyntheticData) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-recoveries-") as folder:
        base = Path(folder)
        claims, disputes = write_files(data, base / "in")
        store = open_store(f"sqlite:///{base / 'bench.db'}")
        start = time.perf_counter()
        result = run_recoveries(store, load_settings(None), system="demo", claims=claims,
                                out=base / "out", disputes=disputes, as_of=data.as_of, actor="bench")
        seconds = time.perf_counter() - start
        store.dispose()
        print(f"end to end (CSV in, CSVs + xlsx out, run recorded in SQLite): {len(data.disputes):,} "
              f"disputes, {len(data.claims):,} claims in {seconds:.1f} s; {len(result.result.rows):,} rows, "
              f"{result.needs_review:,} need review; peak {peak_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated dispute counts (claims = disputes / --ratio)")
    parser.add_argument("--ratio", type=int, default=5, help="disputes per claim")
    parser.add_argument("--baseline-disputes", type=int, default=5000)
    parser.add_argument("--end-to-end", action="store_true", help="also run_recoveries from files")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"python {sys.version.split()[0]}; classify only (data generated in memory, not timed)")
    kept = scaling(sizes, args.ratio)
    baseline(args.baseline_disputes, args.ratio)
    if args.end_to_end:
        end_to_end(kept[sizes[-1]])


if __name__ == "__main__":
    main()
