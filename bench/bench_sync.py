"""Benchmark: sync open items from replayed OData pages, first load and daily resync.

Steps, all in one run so the ratios are fair on a noisy machine:

1. record ``--rows`` open items as OData pages (``__next`` server paging, ``--page-size`` rows a
   page) twice: day 1, and day 2 with 2 % of the items changed, 0.5 % new and 0.5 % cleared; and
   a tenth of day 1 (peak memory must not grow with rows);
2. in a fresh child process each: first load into an empty SQLite store (full size and a tenth);
   the daily resync (day 1 loaded, day 2 timed) on SQLite; with ``--pg-url`` both again on
   PostgreSQL; the ceilings: SQLite's own plain-INSERT rate for the mapped rows, our decode +
   map path alone, pyodata's per-entity reading (``--baseline-rows`` rows); with
   ``--compare-with DIR`` (a checkout of the code before this change) its resync as well;
3. print rows/s, peak RSS and the ratios.

Usage::

    python bench/bench_sync.py --rows 1000000 --baseline-rows 100000 --repeat 3 \\
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres --compare-with /tmp/old

``--fixtures DIR`` keeps the recorded pages for the next run; ``--only resync`` runs some measures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(os.environ.get("BENCH_SAPBRIDGE_ROOT", ROOT))
"""Whose sapbridge the children import: this checkout, or the one given by --compare-with."""
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(CODE))

from sapbridge.config import load_settings  # noqa: E402
from sapbridge.mapping import load_mapping  # noqa: E402
from sapbridge.transport.base import HttpResponse  # noqa: E402

SERVICE = "API_OPLACCTGDOCITEMCUBE_SRV"
ENTITY_SET = "A_OperationalAcctgDocItemCube"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cube_row(index: int, day: int = 1) -> dict[str, Any]:
    """A varied, realistic open item (about what SAP returns for the mapped $select)."""
    posted = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=index % 300)
    ms = int((posted - EPOCH).total_seconds()) * 1000
    cents = (index * 7919) % 250000 + (1 if day == 2 and changed_on_day2(index) else 0)
    amount = f"{cents / 100 + 10:.2f}"
    return {
        "__metadata": {"type": f"{SERVICE}.{ENTITY_SET}Type"},
        "CompanyCode": "1000", "FiscalYear": "2026", "AccountingDocument": str(90000000 + index // 3),
        "AccountingDocumentItem": str(index % 3 + 1), "Customer": str(100000 + index % 5000),
        "AccountingDocumentType": "RV", "PostingDate": f"/Date({ms})/", "DocumentDate": f"/Date({ms})/",
        "DueCalculationBaseDate": f"/Date({ms})/", "NetDueDate": f"/Date({ms + 30 * 86400000})/",
        "AmountInTransactionCurrency": amount, "TransactionCurrency": "EUR",
        "AmountInCompanyCodeCurrency": amount, "CompanyCodeCurrency": "EUR",
        "DocumentReferenceID": f"{10000000 + index}", "AssignmentReference": f"PO{index % 99991}",
        "BillingDocument": str(80000000 + index), "InvoiceReference": "", "PaymentReference": "",
        "AccountingDocumentHeaderText": "", "PaymentTerms": "NT30", "DunningLevel": "0",
        "PaymentBlockingReason": "", "SpecialGLCode": "", "CreditControlArea": "A000",
    }


def changed_on_day2(index: int) -> bool:
    return index % 50 == 3


def cleared_on_day2(index: int) -> bool:
    return index % 200 == 7


def day_indexes(rows: int, day: int) -> list[int]:
    """Item numbers SAP returns on a day: day 2 drops 0.5 % and adds 0.5 % new items at the end."""
    if day == 1:
        return list(range(rows))
    return [i for i in range(rows) if not cleared_on_day2(i)] + list(range(rows, rows + rows // 200))


class GeneratedCube:
    """A fake gateway that makes pages of open items on demand (used only to record them)."""

    def __init__(self, rows: int, page_size: int, day: int = 1) -> None:
        self.indexes = day_indexes(rows, day)
        self.rows = len(self.indexes)
        self.page_size = page_size
        self.day = day

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None, data: Any = None,
                timeout: float | None = None) -> HttpResponse:
        from devtools.demo.shapes import metadata_xml  # only this checkout records

        parts = urlsplit(url)
        if parts.path.endswith("$metadata"):
            return HttpResponse(200, metadata_xml(SERVICE), {"content-type": "application/xml"}, url)
        query = dict(parse_qsl(parts.query))
        query.update(params or {})
        start = int(query.get("$skiptoken", query.get("$skip", "0")))
        size = min(int(query.get("$top", self.page_size)), self.page_size)
        end = min(start + size, self.rows)
        body: dict[str, Any] = {"results": [cube_row(i, self.day) for i in self.indexes[start:end]]}
        if query.get("$inlinecount") == "allpages":
            body["__count"] = str(self.rows)
        if "$top" not in query and end < self.rows:
            rest = {k: v for k, v in query.items() if k not in {"$skiptoken", "$skip"}}
            body["__next"] = f"http://gw-internal:8000{parts.path}?{urlencode({**rest, '$skiptoken': end})}"
        return HttpResponse(200, orjson.dumps({"d": body}), {"content-type": "application/json"}, url)


def bench_settings(fixtures: Path, page_size: int) -> Any:
    settings = load_settings(None)
    system = settings.system("demo")
    from dataclasses import replace

    bench = replace(system, fixtures=str(fixtures), page_size=page_size, company_codes=("1000",))
    return replace(settings, systems={**settings.systems, "demo": bench}), bench


def record(fixtures: Path, rows: int, page_size: int, day: int = 1) -> None:
    """Record the pages a sync of company code 1000 requests, by reading them once."""
    from sapbridge.mapping import load_mapping
    from sapbridge.odata.client import ODataClient
    from sapbridge.odata.query import odata_filter
    from sapbridge.sync.sources import check_route
    from sapbridge.transport.record import RecordingHttpConnection

    _settings, system = bench_settings(fixtures, page_size)
    client = ODataClient(system, RecordingHttpConnection(GeneratedCube(rows, page_size, day), fixtures))
    route = load_mapping(ROOT / "mappings" / "open_items.toml").odata
    assert route is not None
    check_route(route, client.model(route.service))
    for _page in client.iter_pages(route.service, route.entity_set, select=route.select(),
                                   filter=odata_filter(route, "1000", None),
                                   orderby=",".join(route.orderby) or None, expand=route.expand,
                                   page_size=page_size, inline_count=True):
        pass


def peak_mb() -> float:
    """Peak RSS of this process, or of its conversion worker if that was larger."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, worker) / 1024


def _sync(store: Any, fixtures: Path, page_size: int, run_id: str) -> tuple[Any, float]:
    from sapbridge.sync.service import sync_system

    settings, _system = bench_settings(fixtures, page_size)
    started = time.perf_counter()
    summary = sync_system(settings, store, system="demo", objects=["open_items"], run_id=run_id,
                          actor="bench")
    return summary, time.perf_counter() - started


def child_first(fixtures: Path, page_size: int, url: str) -> dict[str, Any]:
    """First load of an empty store (timed)."""
    from sapbridge.store import open_store

    with scratch_store(url) as store_url:
        store = open_store(store_url)
        summary, seconds = _sync(store, fixtures, page_size, "first")
        store.dispose()
    return {"rows": summary.rows, "seconds": seconds, "peak_mb": peak_mb()}


def child_resync(day1: Path, day2: Path, page_size: int, url: str) -> dict[str, Any]:
    """Day 1 loaded (not timed), then day 2's snapshot synced (timed) over a new connection."""
    from sapbridge.store import open_store

    with scratch_store(url) as store_url:
        store = open_store(store_url)
        _sync(store, day1, page_size, "day1")
        store.dispose()  # the next night's sync is a new process, with a new connection
        store = open_store(store_url)
        summary, seconds = _sync(store, day2, page_size, "day2")
        store.dispose()
    counts = {k: getattr(summary.datasets[0], k, None)
              for k in ("read", "inserted", "updated", "unchanged", "cleared")}
    return {"rows": summary.rows, "seconds": seconds, "peak_mb": peak_mb(), "counts": counts}


@contextmanager
def scratch_store(url: str) -> Iterator[str]:
    """A fresh store URL: a SQLite file in a temporary directory, or a new PostgreSQL database."""
    if url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text

    name = f"sapbridge_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _pages(fixtures: Path, page_size: int, decode: Any = None) -> Iterator[Any]:
    from sapbridge.connect import open_odata
    from sapbridge.odata.query import odata_filter

    _settings, system = bench_settings(fixtures, page_size)
    route = load_mapping(ROOT / "mappings" / "open_items.toml").odata
    assert route is not None
    options = {"decode": decode} if decode else {}
    yield from open_odata(system).iter_pages(
        route.service, route.entity_set, select=route.select(), filter=odata_filter(route, "1000", None),
        orderby=",".join(route.orderby) or None, page_size=page_size, inline_count=True, **options)


def child_hot_path(fixtures: Path, page_size: int, limit: int) -> dict[str, Any]:
    """Decode and map every row as a first load does (the pages' raw entities, converted by the
    sync's own conversion): what a first load must do besides writing."""
    from sapbridge.store.schema import open_items
    from sapbridge.sync.guards import column_widths
    from sapbridge.sync.rows import RowConversion
    from sapbridge.sync.sources import _raw_decode

    mapping = load_mapping(ROOT / "mappings" / "open_items.toml")
    assert mapping.odata is not None
    columns = mapping.columns(mapping.odata)
    conversion = RowConversion(mapping, "odata", True, tuple(column_widths(open_items, columns)),
                               tuple(columns.index(k) for k in mapping.key))
    started, rows = time.perf_counter(), 0
    for page in _pages(fixtures, page_size, decode=_raw_decode):
        rows += len(conversion.json_rows(b"[" + b",".join(page.rows) + b"]"))
        if rows >= limit:
            break
    return {"rows": rows, "seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def child_raw_path(fixtures: Path, page_size: int, limit: int) -> dict[str, Any]:
    """Read every page as raw entities and digest each row: what a resync does for a row that
    did not change (the ceiling of a resync in one process)."""
    from sapbridge.sync.digest import raw_digests
    from sapbridge.sync.sources import _raw_decode

    started, rows = time.perf_counter(), 0
    for page in _pages(fixtures, page_size, decode=_raw_decode):
        rows += len(raw_digests(page.rows, 1))
        if rows >= limit:
            break
    return {"rows": rows, "seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def child_write(fixtures: Path, page_size: int, url: str) -> dict[str, Any]:
    """The store's share alone: only the inserts of the already mapped pages are timed."""
    import numpy as np

    from sapbridge.store import open_store
    from sapbridge.store.schema import open_items
    from sapbridge.sync.writer import DatasetWriter

    mapping = load_mapping(ROOT / "mappings" / "open_items.toml")
    assert mapping.odata is not None
    rows, seconds = 0, 0.0
    with scratch_store(url) as store_url:
        store = open_store(store_url)
        with store.engine.begin() as conn:
            writer = DatasetWriter(conn, open_items, mapping.columns(mapping.odata), system="demo",
                                   run_id="bench", now=datetime.now(UTC))
            build = mapping.batch_builder(mapping.odata, sqlite=writer.sqlite)
            for page in _pages(fixtures, page_size):
                mapped = build(page.rows)
                started = time.perf_counter()
                rows += writer.insert_new(mapped, np.zeros((len(mapped), 2), dtype=np.int64))
                seconds += time.perf_counter() - started
        store.dispose()
    return {"rows": rows, "seconds": seconds, "peak_mb": peak_mb()}


def child_pyodata(fixtures: Path, page_size: int, limit: int) -> dict[str, Any]:
    from devtools.odata_baseline import read_with_pyodata_entities
    from sapbridge.connect import open_odata

    _settings, system = bench_settings(fixtures, page_size)
    mapping = load_mapping(ROOT / "mappings" / "open_items.toml")
    assert mapping.odata is not None
    started = time.perf_counter()
    rows = read_with_pyodata_entities(open_odata(system), mapping.odata, "1000", page_size, limit=limit)
    return {"rows": rows, "seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def run_child(*args: str, code: Path | None = None) -> dict[str, Any]:
    env = {**os.environ, "BENCH_SAPBRIDGE_ROOT": str(code or ROOT)}
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                          env=env)
    if done.returncode != 0:
        sys.exit(f"bench child {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(kind: str, args: list[str]) -> dict[str, Any]:
    page_size = int(args[1])
    handlers = {
        "first": lambda: child_first(Path(args[0]), page_size, args[2]),
        "resync": lambda: child_resync(Path(args[0]), Path(args[2]), page_size, args[3]),
        "hot": lambda: child_hot_path(Path(args[0]), page_size, int(args[2])),
        "raw": lambda: child_raw_path(Path(args[0]), page_size, int(args[2])),
        "pyodata": lambda: child_pyodata(Path(args[0]), page_size, int(args[2])),
        "write": lambda: child_write(Path(args[0]), page_size, args[2]),
    }
    return handlers[kind]()


def measure(args: argparse.Namespace, work: Path) -> list[tuple[str, dict[str, Any]]]:
    day1, day2, small = work / "day1", work / "day2", work / "small"
    small_rows = max(args.rows // 10, args.page_size)
    size = str(args.page_size)
    print(f"recording {args.rows:,} rows for two days and {small_rows:,} rows, pages of {size} ...",
          flush=True)
    for folder, rows, day in [(day1, args.rows, 1), (day2, args.rows, 2), (small, small_rows, 1)]:
        if not (folder / "done").exists():
            record(folder, rows, args.page_size, day=day)
            (folder / "done").write_text(str(rows))
    sqlite, limit = "sqlite://", str(args.baseline_rows)
    plan: list[tuple[str, tuple[str, ...], Path | None]] = [
        ("first load, SQLite", ("first", str(day1), size, sqlite), None),
        ("first load, SQLite, a tenth of the rows", ("first", str(small), size, sqlite), None),
        ("daily resync, SQLite", ("resync", str(day1), size, str(day2), sqlite), None),
    ]
    if args.pg_url:
        plan += [
            ("first load, PostgreSQL (COPY)", ("first", str(day1), size, args.pg_url), None),
            ("daily resync, PostgreSQL", ("resync", str(day1), size, str(day2), args.pg_url), None),
        ]
    if args.compare_with:
        plan.append(("daily resync, SQLite, code before", ("resync", str(day1), size, str(day2), sqlite),
                     args.compare_with))
    plan += [
        ("ceiling: SQLite INSERT of mapped rows alone", ("write", str(day1), size, sqlite), None),
        ("ceiling: decode + map (first load's read)", ("hot", str(day1), size, str(args.rows)), None),
        ("ceiling: read raw pages + digest (resync)", ("raw", str(day1), size, str(args.rows)), None),
        ("baseline: pyodata per-entity reading", ("pyodata", str(day1), size, limit), None),
    ]
    results = []
    for label, child_args, code in plan:
        if args.only and not any(word in label for word in args.only):
            continue
        best = min((run_child(*child_args, code=code) for _ in range(args.repeat)),
                   key=lambda r: r["seconds"])
        rate = best["rows"] / best["seconds"]
        print(f"  {label}: {rate:,.0f} rows/s, {best['peak_mb']:.0f} MB", flush=True)
        results.append((label, best))
    return results


def report(results: list[tuple[str, dict[str, Any]]]) -> None:
    print(f"{'measure':<46}{'rows':>11}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}")
    rate = {}
    for label, result in results:
        rate[label] = result["rows"] / result["seconds"]
        print(f"{label:<46}{result['rows']:>11,}{result['seconds']:>10.2f}{rate[label]:>12,.0f}"
              f"{result['peak_mb']:>10.0f}")
    for label, result in results:
        if "counts" in result and result["counts"].get("unchanged") is not None:
            print(f"{label}: {result['counts']}")
    resync = rate.get("daily resync, SQLite")
    if resync and "baseline: pyodata per-entity reading" in rate:
        print(f"resync vs pyodata reading: {resync / rate['baseline: pyodata per-entity reading']:.1f}x")
    if resync and "daily resync, SQLite, code before" in rate:
        print(f"resync vs the code before: {resync / rate['daily resync, SQLite, code before']:.1f}x")
    by_label = dict(results)
    if "first load, SQLite" in by_label and "first load, SQLite, a tenth of the rows" in by_label:
        full, tenth = by_label["first load, SQLite"], by_label["first load, SQLite, a tenth of the rows"]
        print(f"peak memory {tenth['peak_mb']:.0f} MB at {tenth['rows']:,} rows, "
              f"{full['peak_mb']:.0f} MB at {full['rows']:,} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--pg-url", help="PostgreSQL server URL (a scratch database is made per run)")
    parser.add_argument("--compare-with", type=Path, help="a checkout of older code to resync with too")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measure; the best is kept")
    parser.add_argument("--only", nargs="+", help="measures whose label contains one of these words")
    parser.add_argument("--fixtures", type=Path, help="keep (and reuse) the recorded pages here")
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1:])))
        return
    if args.fixtures:
        report(measure(args, args.fixtures))
        return
    with tempfile.TemporaryDirectory() as work:
        report(measure(args, Path(work)))


if __name__ == "__main__":
    main()
