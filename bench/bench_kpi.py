"""Benchmark: the KPI report over a large store, against just reading the same rows.

Usage: python bench/bench_kpi.py [ITEMS]   (default 200000; a temporary SQLite store)

Fills a store with ITEMS open items over three company codes and 18 months (a fifth of them
cleared, a tenth credit memos), 2,000 customers, 5,000 orders and 2,000 disputes. Then times,
in the same run: the baseline (``SELECT`` of every open-item row of the system, fetched), the
report's own item query, the pure computation, and the whole ``run_kpi_report`` (queries, every
KPI, 6 month-end points, XLSX with a per-customer aging sheet, HTML, snapshot rows).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from sapbridge.config import load_settings
from sapbridge.kpi import run_kpi_report
from sapbridge.kpi.config import KpiConfig
from sapbridge.kpi.queries import load_items
from sapbridge.kpi.report import KpiInputs, build_report, earliest_day_needed
from sapbridge.store import open_store
from sapbridge.store.schema import blocked_orders, disputes, open_items

AS_OF = date(2026, 10, 31)
SEEN = datetime(2025, 1, 1, tzinfo=UTC)
CODES = {"1000": "EUR", "2000": "USD", "3000": "JPY"}


def _tracking(status: str = "open", cleared_at: datetime | None = None) -> dict[str, object]:
    return {"system": "B", "status": status, "cleared_at": cleared_at, "first_seen_at": SEEN,
            "last_seen_at": SEEN, "last_seen_run": "bench"}


def _items(rng: random.Random, count: int) -> list[dict[str, object]]:
    rows = []
    for n in range(count):
        code = rng.choice(list(CODES))
        posted = AS_OF - timedelta(days=rng.randint(0, 540))
        credit = rng.random() < 0.1
        amount = Decimal(rng.randint(5000, 2500000)) / 100
        cleared = rng.random() < 0.2
        cleared_at = datetime.combine(posted + timedelta(days=rng.randint(5, 90)), datetime.min.time(),
                                      tzinfo=UTC) if cleared else None
        rows.append({"company_code": code, "fiscal_year": str(posted.year), "document": f"{n:010d}",
                     "item": "001", "customer": f"{rng.randint(1, 2000):010d}",
                     "document_type": "DG" if credit else "RV", "posting_date": posted,
                     "net_due_date": posted + timedelta(days=30), "amount": -amount if credit else amount,
                     "currency": CODES[code], "amount_company": -amount if credit else amount,
                     "company_currency": CODES[code],
                     **_tracking("cleared" if cleared else "open", cleared_at)})
    return rows


def _orders(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for n in range(5000):
        code = rng.choice(list(CODES))
        midnight = datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC)
        since = midnight - timedelta(hours=rng.randint(1, 2000))
        status = rng.choice("BBD")
        rows.append({"sales_order": f"{n:010d}", "sold_to": "1", "sales_organization": code,
                     "credit_status": status, "net_amount": Decimal(rng.randint(100, 90000)),
                     "currency": CODES[code], "blocked_since": since,
                     "released_at": since + timedelta(hours=rng.randint(1, 300)) if status == "D" else None,
                     **_tracking()})
    return rows


def _disputes(rng: random.Random) -> list[dict[str, object]]:
    return [{"case_id": f"{n:012d}", "company_code": (code := rng.choice(list(CODES))), "customer": "1",
             "case_status": "10", "reason": rng.choice(["PA1", "DMG", "PRC"]),
             "disputed_amount": Decimal(rng.randint(100, 50000)), "currency": CODES[code],
             "created_on": AS_OF - timedelta(days=rng.randint(0, 200)), **_tracking()} for n in range(2000)]


def _timed(label: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds:8.3f} s")
    return value, seconds


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        with store.engine.begin() as conn:
            conn.execute(open_items.insert(), _items(rng, count))
            conn.execute(blocked_orders.insert(), _orders(rng))
            conn.execute(disputes.insert(), _disputes(rng))
        config = Path(tmp) / "sapbridge.toml"
        config.write_text('[systems.B]\nkind = "replay"\n', encoding="utf-8")
        settings = load_settings(config, store_url=store.url)
        cfg = KpiConfig()
        print(f"{count} open items, 5000 orders, 2000 disputes; SQLite; as of {AS_OF}")

        def baseline() -> int:
            with store.engine.connect() as conn:
                return len(conn.execute(select(open_items).where(open_items.c.system == "B")).all())

        def query() -> list:  # type: ignore[type-arg]
            with store.engine.connect() as conn:
                return load_items(conn, "B", list(CODES), as_of=AS_OF, since=earliest_day_needed(AS_OF, cfg))

        _, base = _timed("baseline: SELECT every open-item row", baseline)
        items, _ = _timed("report item query (load_items)", query)
        _timed("compute every KPI (build_report)", lambda: build_report(
            KpiInputs(items=items), system="B", as_of=AS_OF, company_codes=list(CODES), cfg=cfg,
            generated_at=datetime.now(UTC)))
        _, full = _timed("run_kpi_report (queries, KPIs, XLSX, HTML)", lambda: run_kpi_report(
            store, settings, system="B", out=Path(tmp) / "out", as_of=AS_OF))
        print(f"ratio full report / baseline SELECT: {full / base:.2f}")
        print(f"full report: {count / full:,.0f} items/s")
        store.dispose()


if __name__ == "__main__":
    main()
