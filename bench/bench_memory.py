"""Peak memory of the recoveries and cash runs end to end, stage by stage, against a 1.5 GB ceiling.

The inputs are generated once (in their own process, so the generator's objects count nowhere) and
written as CSV files, as the other benches do. Each stage then runs in a fresh Python process and
reports its own peak RSS (``ru_maxrss``), so a stage's figure is what a run that stops there needs;
the stages are cumulative (``classify`` includes reading, ``files`` includes classifying):

* recoveries: ``import`` (interpreter and modules), ``read`` (claims and cases CSVs), ``classify``,
  ``files`` (totals, nine CSVs and the workbook), ``end-to-end`` (``run_recoveries`` into a fresh
  SQLite store, recording the run and its claim rows);
* cash: ``import``, ``read`` (bank file, open items, customers), ``match``, ``files`` (four CSVs and
  ``cash.xlsx``), ``end-to-end`` (``run_cash`` into a fresh SQLite store).

``--digest`` also prints a digest of every output (CSV bytes, the workbook's cell values, the
rows recorded in the store without run ids and times) of an end-to-end run of each, so a change
can be checked to give the same results: run it before and after and compare the lines.

``--compare-with DIR`` runs every stage with an older checkout too, right after this one's, so
speed and memory before and after a change are compared under the same load.

Usage::

    python bench/bench_memory.py --cases 1000000 --items 1000000 --compare-with /tmp/before
    python bench/bench_memory.py --cases 20000 --items 20000 --digest --only digest
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(os.environ.get("BENCH_SAPBRIDGE_ROOT", ROOT))
"""Whose sapbridge the children import: this checkout, or the one given by --compare-with."""
sys.path.insert(0, str(CODE))

CEILING_MB = 1536
"""The ceiling issue 10 sets for both runs end to end (1.5 GB)."""

RECOVERIES_STAGES = ("import", "read", "classify", "files", "end-to-end")
CASH_STAGES = ("import", "read", "match", "files", "end-to-end")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- generating the inputs (run in a child process) -------------------------------------------

def _generate_recoveries(folder: Path, cases: int, ratio: int) -> dict[str, Any]:
    from devtools.recoveries.synthetic import generate, write_files

    data = generate(disputes=cases, claims=cases // ratio, seed=1)
    write_files(data, folder)
    return {"cases": len(data.disputes), "claims": len(data.claims), "as_of": data.as_of.isoformat()}


def _generate_cash(folder: Path, items: int) -> dict[str, Any]:
    from bench_cash import write_inputs  # bench/ is on the path when this script runs

    from devtools.cash.synthetic import generate

    scenario = generate(seed=3, customers=items // 20, items_per_customer=20, payments=items // 10)
    write_inputs(folder, scenario)
    return {"items": len(scenario.open_items), "payments": len(scenario.payments)}


# --- the stages (each run in a fresh child process) -------------------------------------------

def _in_fresh_store(folder: Path, stage: str, run: Callable[[Any, Any], Any]) -> Any:
    """``run(store, settings)`` over a new SQLite store of this stage, closed after it."""
    from sapbridge.config import load_settings
    from sapbridge.store import open_store

    store = open_store(f"sqlite:///{folder / f'{stage}.db'}")
    try:
        return run(store, load_settings(None))
    finally:
        store.dispose()


def _recoveries_stage(stage: str, folder: Path, as_of: str) -> dict[str, Any]:
    from datetime import date

    from sapbridge.reconcile.bulk import no_cyclic_gc
    from sapbridge.reconcile.recoveries import RecoveriesConfig, classify, run_recoveries
    from sapbridge.reconcile.recoveries.inputs import read_claims, read_disputes
    from sapbridge.reconcile.recoveries.outputs import build_outputs, totals

    started = time.perf_counter()
    day, config = date.fromisoformat(as_of), RecoveriesConfig()
    claims, disputes = folder / "claims.csv", folder / "disputes.csv"
    out = _fresh(folder, stage)
    if stage == "import":
        return {"started": started}
    if stage == "end-to-end":
        run = _in_fresh_store(folder, stage, lambda store, settings: run_recoveries(
            store, settings, system="demo", claims=claims, out=out, disputes=disputes, as_of=day,
            actor="bench"))
        return {"rows": run.summary["rows"], "started": started}
    with no_cyclic_gc():
        claim_records, cases = read_claims(claims), read_disputes(disputes, config)
        if stage == "read":
            return {"rows": len(claim_records) + len(cases), "started": started}
        result = classify(claim_records, cases, config, day)
        if stage == "files":
            build_outputs(result, out, totals(result))
    return {"rows": len(result.rows), "started": started}


def _cash_stage(stage: str, folder: Path) -> dict[str, Any]:
    from sapbridge.bankfiles import read_payments
    from sapbridge.reconcile.bulk import no_cyclic_gc
    from sapbridge.reconcile.cash import run_cash
    from sapbridge.reconcile.cash.config import CashConfig
    from sapbridge.reconcile.cash.inputs import load_customers, load_open_items
    from sapbridge.reconcile.cash.matcher import match_payments
    from sapbridge.reconcile.cash.outputs import summarise, write_outputs

    started = time.perf_counter()
    bank, items, customers = folder / "bank.csv", folder / "items.csv", folder / "customers.csv"
    out = _fresh(folder, stage)
    if stage == "import":
        return {"started": started}
    if stage == "end-to-end":
        run = _in_fresh_store(folder, stage, lambda store, settings: run_cash(
            store, settings, system="demo", payments=bank, out=out, open_items=items,
            customers=customers))
        return {"rows": run.summary["payments"], "started": started}
    with no_cyclic_gc():
        paid = read_payments(bank, None)
        open_items = load_open_items(None, "demo", items)
        people = load_customers(None, "demo", customers)
        if stage == "read":
            return {"rows": len(paid) + len(open_items), "started": started}
        result = match_payments(paid, open_items, people, CashConfig(), [])
        if stage == "files":
            write_outputs(out, result, summarise(paid, result))
    return {"rows": len(result.matches), "started": started}


def _fresh(folder: Path, stage: str) -> Path:
    """The stage's output folder, with no earlier run's folder or store left there."""
    out = folder / f"out-{stage}"
    shutil.rmtree(out, ignore_errors=True)
    (folder / f"{stage}.db").unlink(missing_ok=True)
    return out


def _child(argv: list[str]) -> None:
    """Run one job in this (fresh) process and print its figures as one JSON line."""
    job, folder = argv[0], Path(argv[1])
    start = time.perf_counter()
    figures: dict[str, Any]
    if job == "generate-recoveries":
        figures = _generate_recoveries(folder, int(argv[2]), int(argv[3]))
    elif job == "generate-cash":
        figures = _generate_cash(folder, int(argv[2]))
    elif job == "recoveries":
        figures = _recoveries_stage(argv[2], folder, argv[3])
    elif job == "cash":
        figures = _cash_stage(argv[2], folder)
    else:
        figures = _digest(folder, argv[2])
    start = figures.pop("started", start)  # a stage times itself from after its imports
    figures.update(seconds=time.perf_counter() - start, peak_mb=_peak_mb())
    print(json.dumps(figures, sort_keys=True))


def _run_child(*args: object, code: Path = CODE) -> dict[str, Any]:
    env = {**os.environ, "PYTHONHASHSEED": "0", "BENCH_SAPBRIDGE_ROOT": str(code)}
    done = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], check=True,
                          capture_output=True, text=True, env=env)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- digest of a run's outputs ------------------------------------------------------------------

_RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""A run id (a new UUID each run), which the cash workbook's summary shows."""


def _file_digest(path: Path) -> str:
    if path.suffix != ".xlsx":
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    digest = hashlib.sha256()
    for sheet in book.worksheets:
        digest.update(sheet.title.encode())
        for row in sheet.iter_rows(values_only=True):
            digest.update(_RUN_ID.sub("<run id>", repr(row)).encode())
    book.close()
    return digest.hexdigest()[:16]


def _table_digest(db: Path, table: str, skip: tuple[str, ...]) -> str:
    import sqlite3

    with sqlite3.connect(db) as conn:
        cursor = conn.execute(f"SELECT * FROM {table}")
        names = [column[0] for column in cursor.description]
        keep = [i for i, name in enumerate(names) if name not in skip]
        rows = sorted(repr([row[i] for i in keep]) for row in cursor)
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


def _digest(folder: Path, kind: str) -> dict[str, Any]:
    out = folder / "out-end-to-end"
    db = folder / "end-to-end.db"
    files = {path.name: _file_digest(path) for path in sorted(out.iterdir())}
    tables = (("recovery_claims",) if kind == "recoveries"
              else ("cash_proposals", "cash_proposal_texts", "cash_proposal_orders"))
    skip = ("run_id", "created_at")
    return {"files": files, "tables": {name: _table_digest(db, name, skip) for name in tables}}


# --- the report -------------------------------------------------------------------------------

def _measure(kind: str, stages: tuple[str, ...], rows: int, run: Callable[[str, Path], dict[str, Any]],
             before: Path | None, repeat: int) -> None:
    print(f"\n{kind}: peak RSS per stage, each in a fresh process (ceiling {CEILING_MB:,} MB)")
    head = f"| stage | seconds | input rows/s | peak RSS MB | under {CEILING_MB / 1024:.1f} GB |"
    if before is not None:
        head += " code before: seconds | rows/s | peak RSS MB |"
    print(head)
    print("|---|---:|---:|---:|:---:|" + ("---:|---:|---:|" if before is not None else ""))
    for stage in stages:
        runs: dict[Path, list[dict[str, Any]]] = {CODE: [], **({before: []} if before else {})}
        for _ in range(repeat):  # alternating, so both codes see the same load
            for code, figures in runs.items():
                figures.append(run(stage, code))
        now = _best(runs[CODE])
        line = f"| {stage} | {_cells(now, stage, rows)} | {'yes' if now['peak_mb'] < CEILING_MB else 'NO'} |"
        if before is not None:
            line += f" {_cells(_best(runs[before]), stage, rows)} |"
        print(line, flush=True)


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run's time with the highest peak of all of them."""
    return {"seconds": min(run["seconds"] for run in runs), "peak_mb": max(run["peak_mb"] for run in runs)}


def _cells(figures: dict[str, Any], stage: str, rows: int) -> str:
    rate = f"{rows / figures['seconds']:,.0f}" if stage != "import" else ""
    return f"{figures['seconds']:.1f} | {rate} | {figures['peak_mb']:,.0f}"


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="recoveries: dispute cases")
    parser.add_argument("--ratio", type=int, default=5, help="recoveries: cases per claim")
    parser.add_argument("--items", type=int, default=1_000_000, help="cash: open items (payments / 10)")
    parser.add_argument("--only", choices=("recoveries", "cash", "digest"), action="append",
                        help="measure only these (repeatable; digest: only the digests)")
    parser.add_argument("--digest", action="store_true", help="also print digests of the outputs")
    parser.add_argument("--compare-with", type=Path,
                        help="a checkout of the code before a change: each stage is run with it too")
    parser.add_argument("--repeat", type=int, default=1, help="runs per stage (and code): best time")
    parser.add_argument("--stages", help="comma-separated stages to measure (default: all)")
    parser.add_argument("--inputs", type=Path,
                        help="keep the generated inputs in this folder and reuse them when the sizes match")
    args = parser.parse_args()
    only = set(args.only or ("recoveries", "cash"))
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as temp:
        base = args.inputs or Path(temp)
        if only & {"recoveries", "digest"}:
            _recoveries(_folder(base, f"recoveries-{args.cases}-{args.ratio}"), args,
                        measure="recoveries" in only)
        if only & {"cash", "digest"}:
            _cash(_folder(base, f"cash-{args.items}"), args, measure="cash" in only)


def _stages(known: tuple[str, ...], wanted: str | None) -> tuple[str, ...]:
    return known if wanted is None else tuple(stage for stage in known if stage in wanted.split(","))


def _folder(base: Path, name: str) -> Path:
    folder = base / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _inputs(folder: Path, *job: object) -> dict[str, Any]:
    """The inputs' figures, generating them unless a kept folder has them already."""
    made = folder / "inputs.json"
    if made.exists():
        return dict(json.loads(made.read_text()))
    figures = _run_child(*job)
    made.write_text(json.dumps(figures))
    return figures


def _recoveries(folder: Path, args: argparse.Namespace, *, measure: bool) -> None:
    made = _inputs(folder, "generate-recoveries", folder, args.cases, args.ratio)
    print(f"recoveries inputs: {made['cases']:,} cases, {made['claims']:,} claims "
          f"(generated and written in {made['seconds']:.0f} s)")
    rows = made["cases"] + made["claims"]
    if measure:
        _measure("recoveries", _stages(RECOVERIES_STAGES, args.stages), rows,
                 lambda stage, code: _run_child("recoveries", folder, stage, made["as_of"], code=code),
                 args.compare_with, args.repeat)
    if args.digest or not measure:
        if not measure:
            _run_child("recoveries", folder, "end-to-end", made["as_of"])
        digest = _run_child("digest", folder, "recoveries")
        print("recoveries digest:", json.dumps(digest["files"] | digest["tables"], sort_keys=True))


def _cash(folder: Path, args: argparse.Namespace, *, measure: bool) -> None:
    made = _inputs(folder, "generate-cash", folder, args.items)
    print(f"\ncash inputs: {made['items']:,} open items, {made['payments']:,} payments "
          f"(generated and written in {made['seconds']:.0f} s)")
    rows = made["items"] + made["payments"]
    if measure:
        _measure("cash", _stages(CASH_STAGES, args.stages), rows,
                 lambda stage, code: _run_child("cash", folder, stage, code=code), args.compare_with,
                 args.repeat)
    if args.digest or not measure:
        if not measure:
            _run_child("cash", folder, "end-to-end")
        digest = _run_child("digest", folder, "cash")
        print("cash digest:", json.dumps(digest["files"] | digest["tables"], sort_keys=True))


if __name__ == "__main__":
    main()
