"""Benchmark: sync open items from replayed OData pages into SQLite, against pyodata entities.

Steps, all in one run so the ratio is fair on a noisy machine:

1. record ``--rows`` open items as OData pages (``__next`` server paging, ``--page-size`` rows a
   page) into a temporary fixture directory, through the same recording transport users use;
2. in a fresh child process each: the end-to-end replayed sync into a new SQLite store at the
   full size and at a tenth of it (peak memory must not grow with rows), our decode-and-map hot
   path alone, and pyodata's per-entity reading of the same pages (``--baseline-rows`` rows);
3. print rows/s, peak RSS and the ratios.

Usage::

    python bench/bench_sync.py --rows 1000000 --baseline-rows 100000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.demo.shapes import metadata_xml  # noqa: E402
from sapbridge.config import load_settings  # noqa: E402
from sapbridge.mapping import load_mapping  # noqa: E402
from sapbridge.transport.base import HttpResponse  # noqa: E402

SERVICE = "API_OPLACCTGDOCITEMCUBE_SRV"
ENTITY_SET = "A_OperationalAcctgDocItemCube"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cube_row(index: int) -> dict[str, Any]:
    """A varied, realistic open item (about what SAP returns for the mapped $select)."""
    posted = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=index % 300)
    ms = int((posted - EPOCH).total_seconds()) * 1000
    amount = f"{(index * 7919) % 250000 / 100 + 10:.2f}"
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


class GeneratedCube:
    """A fake gateway that makes pages of open items on demand (used only to record them)."""

    def __init__(self, rows: int, page_size: int) -> None:
        self.rows = rows
        self.page_size = page_size

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None, data: Any = None,
                timeout: float | None = None) -> HttpResponse:
        parts = urlsplit(url)
        if parts.path.endswith("$metadata"):
            return HttpResponse(200, metadata_xml(SERVICE), {"content-type": "application/xml"}, url)
        query = dict(parse_qsl(parts.query))
        query.update(params or {})
        start = int(query.get("$skiptoken", query.get("$skip", "0")))
        size = min(int(query.get("$top", self.page_size)), self.page_size)
        end = min(start + size, self.rows)
        body: dict[str, Any] = {"results": [cube_row(i) for i in range(start, end)]}
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


def record(fixtures: Path, rows: int, page_size: int) -> float:
    from sapbridge.odata.client import ODataClient
    from sapbridge.store import open_store
    from sapbridge.sync.service import Clients, sync_system
    from sapbridge.transport.record import RecordingHttpConnection

    settings, system = bench_settings(fixtures, page_size)
    client = ODataClient(system, RecordingHttpConnection(GeneratedCube(rows, page_size), fixtures))
    with tempfile.TemporaryDirectory() as scratch:
        store = open_store(f"sqlite:///{Path(scratch) / 'rec.db'}")
        started = time.perf_counter()
        sync_system(settings, store, system="demo", objects=["open_items"], run_id="record",
                    actor="bench", clients=Clients.given(system, odata=client))
        store.dispose()
    return time.perf_counter() - started


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_sync(fixtures: Path, page_size: int, db: Path) -> dict[str, Any]:
    from sapbridge.store import open_store
    from sapbridge.sync.service import sync_system

    settings, _system = bench_settings(fixtures, page_size)
    store = open_store(f"sqlite:///{db}")
    started = time.perf_counter()
    summary = sync_system(settings, store, system="demo", objects=["open_items"], run_id="bench",
                          actor="bench")
    seconds = time.perf_counter() - started
    return {"rows": summary.rows, "seconds": seconds, "peak_mb": peak_mb()}


def child_hot_path(fixtures: Path, page_size: int, limit: int) -> dict[str, Any]:
    from sapbridge.connect import open_odata
    from sapbridge.sync.sources import ODataSource

    _settings, system = bench_settings(fixtures, page_size)
    mapping = load_mapping(ROOT / "mappings" / "open_items.toml")
    assert mapping.odata is not None
    build = mapping.batch_builder(mapping.odata, sqlite=True)
    source = ODataSource(open_odata(system), mapping.odata, page_size=page_size)
    started, rows = time.perf_counter(), 0
    for batch in source.batches("1000", None):
        rows += len(build(batch))
        if rows >= limit:
            break
    return {"rows": rows, "seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def child_write(fixtures: Path, page_size: int, db: Path) -> dict[str, Any]:
    """The store's share alone: only the bulk upserts of the already mapped pages are timed."""
    from sapbridge.connect import open_odata
    from sapbridge.store import open_store
    from sapbridge.store.schema import open_items
    from sapbridge.sync.sources import ODataSource
    from sapbridge.sync.writer import DatasetWriter

    _settings, system = bench_settings(fixtures, page_size)
    mapping = load_mapping(ROOT / "mappings" / "open_items.toml")
    assert mapping.odata is not None
    store = open_store(f"sqlite:///{db}")
    source = ODataSource(open_odata(system), mapping.odata, page_size=page_size)
    rows, seconds = 0, 0.0
    with store.engine.begin() as conn:
        writer = DatasetWriter(conn, open_items, mapping.columns(mapping.odata), system="demo",
                               run_id="bench", now=datetime.now(UTC))
        build = mapping.batch_builder(mapping.odata, sqlite=writer.sqlite)
        for batch in source.batches("1000", None):
            mapped = build(batch)
            started = time.perf_counter()
            rows += writer.upsert(mapped)
            seconds += time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "peak_mb": peak_mb()}


def child_pyodata(fixtures: Path, page_size: int, limit: int) -> dict[str, Any]:
    from sapbridge.connect import open_odata
    from sapbridge.odata.baseline import read_with_pyodata_entities

    _settings, system = bench_settings(fixtures, page_size)
    mapping = load_mapping(ROOT / "mappings" / "open_items.toml")
    assert mapping.odata is not None
    started = time.perf_counter()
    rows = read_with_pyodata_entities(open_odata(system), mapping.odata, "1000", page_size, limit=limit)
    return {"rows": rows, "seconds": time.perf_counter() - started, "peak_mb": peak_mb()}


def run_child(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench child {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, fixtures, page_size, extra = args.child
        handlers = {
            "sync": lambda: child_sync(Path(fixtures), int(page_size), Path(extra)),
            "hot": lambda: child_hot_path(Path(fixtures), int(page_size), int(extra)),
            "pyodata": lambda: child_pyodata(Path(fixtures), int(page_size), int(extra)),
            "write": lambda: child_write(Path(fixtures), int(page_size), Path(extra)),
        }
        print(json.dumps(handlers[kind]()))
        return
    with tempfile.TemporaryDirectory() as work:
        small, large = Path(work) / "small", Path(work) / "large"
        small_rows = max(args.rows // 10, args.page_size)
        print(f"recording {args.rows:,} and {small_rows:,} rows in pages of {args.page_size:,} ...",
              flush=True)
        record(large, args.rows, args.page_size)
        record(small, small_rows, args.page_size)
        full = run_child("sync", str(large), str(args.page_size), str(Path(work) / "large.db"))
        tenth = run_child("sync", str(small), str(args.page_size), str(Path(work) / "small.db"))
        write = run_child("write", str(large), str(args.page_size), str(Path(work) / "write.db"))
        hot = run_child("hot", str(large), str(args.page_size), str(args.baseline_rows))
        base = run_child("pyodata", str(large), str(args.page_size), str(args.baseline_rows))
    rate = {name: r["rows"] / r["seconds"] for name, r in
            {"full": full, "tenth": tenth, "write": write, "hot": hot, "pyodata": base}.items()}
    print(f"{'measure':<44}{'rows':>11}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}")
    for label, result, key in [
        ("sync end to end (replay -> SQLite)", full, "full"),
        ("sync end to end, a tenth of the rows", tenth, "tenth"),
        ("store upserts alone (SQLite's share)", write, "write"),
        ("decode + map only (our hot path)", hot, "hot"),
        ("pyodata per-entity objects (baseline)", base, "pyodata"),
    ]:
        print(f"{label:<44}{result['rows']:>11,}{result['seconds']:>10.2f}{rate[key]:>12,.0f}"
              f"{result['peak_mb']:>10.0f}")
    print(f"end-to-end sync vs pyodata reading: {rate['full'] / rate['pyodata']:.1f}x; "
          f"hot path vs pyodata: {rate['hot'] / rate['pyodata']:.1f}x; "
          f"peak memory {tenth['peak_mb']:.0f} MB at {tenth['rows']:,} rows, "
          f"{full['peak_mb']:.0f} MB at {full['rows']:,} rows")


if __name__ == "__main__":
    main()
