"""Benchmark: a job's sync over many company codes, sequential CLI run versus the Airflow DAG.

All in one run, each variant into a fresh PostgreSQL database (the team's store):

1. record ``--codes`` company codes x ``--items`` open items as OData pages (5000 rows a page)
   into a temporary replay system ``bench``, through the recording transport users use;
2. ``sapbridge job run bench`` (one process, partitions one after another): wall time of the
   sync step;
3. the same job as a DAG on a one-machine Airflow (scheduler, dag-processor, api-server,
   LocalExecutor) with ``--parallel`` tasks at once (executor parallelism = pool slots): the
   DAG run's duration, and how much of each mapped task is Airflow's own overhead;
4. print the figures and the ratios to the sequential run.

Needs the ``airflow`` extra (``.venv-airflow``) and a PostgreSQL server::

    .venv-airflow/bin/python bench/bench_airflow.py --codes 20 --items 50000 --parallel 2 4
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson
from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "airflow"))

from airflow_harness import LocalDeployment, make_home  # noqa: E402

from devtools.demo.shapes import metadata_xml  # noqa: E402
from sapbridge.config import load_settings  # noqa: E402
from sapbridge.jobs.tables import job_steps  # noqa: E402
from sapbridge.store import open_store  # noqa: E402
from sapbridge.store.schema import sync_runs  # noqa: E402
from sapbridge.transport.base import HttpResponse  # noqa: E402

SERVICE = "API_OPLACCTGDOCITEMCUBE_SRV"
ENTITY_SET = "A_OperationalAcctgDocItemCube"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAGE = 5000
JOB = """name = "bench"
system = "bench"
[[steps]]
kind = "sync"
objects = ["open_items"]
mode = "full"
"""
DAG_FILE = "from sapbridge.airflow import dags_from_jobs\nglobals().update(dags_from_jobs({jobs!r}))\n"
CODE_FILTER = re.compile(r"CompanyCode eq '(\d{4})'")


def item(code: str, index: int) -> dict[str, Any]:
    """A varied open item of company code ``code``."""
    posted = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=index % 300)
    ms = int((posted - EPOCH).total_seconds()) * 1000
    amount = f"{(index * 7919) % 250000 / 100 + 10:.2f}"
    return {
        "__metadata": {"type": f"{SERVICE}.{ENTITY_SET}Type"},
        "CompanyCode": code, "FiscalYear": "2026", "AccountingDocument": str(90000000 + index // 3),
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


class GeneratedGateway:
    """A fake gateway paging ``rows`` open items per company code (used only to record them)."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None, data: Any = None,
                timeout: float | None = None) -> HttpResponse:
        parts = urlsplit(url)
        if parts.path.endswith("$metadata"):
            return HttpResponse(200, metadata_xml(SERVICE), {"content-type": "application/xml"}, url)
        query = {**dict(parse_qsl(parts.query)), **(params or {})}
        found = CODE_FILTER.search(query.get("$filter", ""))
        code = found.group(1) if found else "1000"
        start = int(query.get("$skiptoken", query.get("$skip", "0")))
        end = min(start + min(int(query.get("$top", PAGE)), PAGE), self.rows)
        body: dict[str, Any] = {"results": [item(code, i) for i in range(start, end)]}
        if query.get("$inlinecount") == "allpages":
            body["__count"] = str(self.rows)
        if "$top" not in query and end < self.rows:
            rest = {k: v for k, v in query.items() if k not in {"$skiptoken", "$skip"}}
            body["__next"] = f"http://gw-internal:8000{parts.path}?{urlencode({**rest, '$skiptoken': end})}"
        return HttpResponse(200, orjson.dumps({"d": body}), {"content-type": "application/json"}, url)


def codes_of(count: int) -> list[str]:
    return [str(1000 + 100 * i) for i in range(count)]


def write_config(folder: Path, fixtures: Path, codes: list[str], slots: int) -> Path:
    demo = load_settings(None).system("demo")
    config = folder / f"sapbridge-{slots}.toml"
    config.write_text(
        f'[systems.bench]\nkind = "replay"\nodata_url = "{demo.odata_url}"\nclient = "{demo.client}"\n'
        f'user = "{demo.user}"\npage_size = {PAGE}\nfixtures = "{fixtures}"\n'
        f"company_codes = {orjson.dumps(codes).decode()}\n"
        f"[airflow]\npool_slots = {slots}\nretries = 0\n", encoding="utf-8")
    return config


def record(config: Path, fixtures: Path, codes: list[str], rows: int) -> float:
    from sapbridge.odata.client import ODataClient
    from sapbridge.sync.service import Clients, sync_system
    from sapbridge.transport.record import RecordingHttpConnection

    settings = load_settings(config)
    system = replace(settings.system("bench"), kind="sap")
    client = ODataClient(system, RecordingHttpConnection(GeneratedGateway(rows), fixtures))
    with tempfile.TemporaryDirectory() as scratch:
        store = open_store(f"sqlite:///{Path(scratch) / 'rec.db'}")
        started = time.perf_counter()
        sync_system(settings, store, system="bench", objects=["open_items"], company_codes=codes,
                    full=True, run_id="record", actor="bench", clients=Clients.given(system, odata=client))
        store.dispose()
    return time.perf_counter() - started


class Databases:
    """Fresh PostgreSQL databases for the variants, dropped at the end."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.admin = create_engine(base, isolation_level="AUTOCOMMIT")
        self.made: list[str] = []

    def fresh(self) -> str:
        name = f"sapbridge_bench_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.made.append(name)
        url = self.base.rsplit("/", 1)[0] + f"/{name}"
        open_store(url).dispose()
        return url

    def drop(self) -> None:
        with self.admin.connect() as conn:
            for name in self.made:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        self.admin.dispose()


def sync_seconds(url: str) -> tuple[float, float, int]:
    """From the store: first start to last finish of the sync runs, their summed time, rows."""
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            runs = conn.execute(select(sync_runs.c.started_at, sync_runs.c.finished_at,
                                       sync_runs.c.rows)).all()
    finally:
        store.dispose()
    span = (max(r.finished_at for r in runs) - min(r.started_at for r in runs)).total_seconds()
    return span, sum((r.finished_at - r.started_at).total_seconds() for r in runs), sum(r.rows for r in runs)


def run_cli(url: str, config: Path, jobs: Path) -> dict[str, float]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SAPBRIDGE_")},
           "SAPBRIDGE_CONFIG": str(config)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sapbridge", "--db", url, "job", "--jobs-dir", str(jobs),
                    "run", "bench"], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    store = open_store(url)
    with store.engine.connect() as conn:
        step = conn.execute(select(job_steps.c.started_at, job_steps.c.finished_at)).one()
    store.dispose()
    span, busy, rows = sync_seconds(url)
    return {"wall": wall, "step": (step.finished_at - step.started_at).total_seconds(),
            "sync_span": span, "sync_busy": busy, "rows": rows}


def run_dag(url: str, config: Path, jobs: Path, slots: int, scratch: Path) -> dict[str, float]:
    home = make_home(scratch / f"airflow-{slots}")
    env = {"SAPBRIDGE_DB": url, "SAPBRIDGE_CONFIG": str(config)}
    home.write_dag_file("sapbridge_jobs", DAG_FILE.format(jobs=str(jobs)))
    pools = subprocess.run([sys.executable, "-m", "sapbridge.airflow", "pools", str(jobs)],
                           env={**home.env, **env}, capture_output=True, text=True, check=True)
    (home.home / "pools.json").write_text(pools.stdout, encoding="utf-8")
    home.airflow("pools", "import", str(home.home / "pools.json"))
    deployment = LocalDeployment(home, parallelism=slots, env=env)
    try:
        run_id = deployment.trigger("sapbridge_bench")
        state = deployment.wait("sapbridge_bench", run_id, seconds=3600)
        times = deployment.query(
            "SELECT MIN(start_date), MAX(end_date),"
            " SUM((julianday(end_date) - julianday(start_date)) * 86400)"
            " FROM task_instance WHERE dag_id = 'sapbridge_bench' AND run_id = ?", run_id)[0]
    finally:
        deployment.stop()
    if state != "success":
        msg = f"DAG run with {slots} slots ended {state}; see {home.home}"
        raise RuntimeError(msg)
    first, last = (datetime.fromisoformat(t) for t in times[:2])
    span, busy, rows = sync_seconds(url)
    return {"run": (last - first).total_seconds(), "task_busy": float(times[2]), "sync_span": span,
            "sync_busy": busy, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codes", type=int, default=20)
    parser.add_argument("--items", type=int, default=50000, help="open items per company code")
    parser.add_argument("--parallel", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--pg", default=os.environ.get("SAPBRIDGE_TEST_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    codes = codes_of(args.codes)
    databases = Databases(args.pg)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        fixtures, jobs = scratch / "fixtures", scratch / "jobs"
        jobs.mkdir()
        (jobs / "bench.toml").write_text(JOB, encoding="utf-8")
        recorded = record(write_config(scratch, fixtures, codes, 1), fixtures, codes, args.items)
        print(f"recorded {args.codes} x {args.items} open items in {recorded:.1f} s")
        try:
            cli = run_cli(databases.fresh(), write_config(scratch, fixtures, codes, 1), jobs)
            print(f"sequential CLI: job {cli['wall']:.1f} s wall, sync step {cli['step']:.1f} s, "
                  f"{cli['rows']:,} rows, {cli['rows'] / cli['step']:,.0f} rows/s")
            for slots in args.parallel:
                dag = run_dag(databases.fresh(), write_config(scratch, fixtures, codes, slots), jobs,
                              slots, scratch)
                overhead = (dag["task_busy"] - dag["sync_busy"]) / args.codes
                print(f"DAG, {slots} parallel: run {dag['run']:.1f} s (syncs {dag['sync_span']:.1f} s), "
                      f"{dag['rows']:,} rows; speed-up {cli['step'] / dag['run']:.2f}x over the CLI step "
                      f"({cli['step'] / dag['sync_span']:.2f}x counting the syncs alone); "
                      f"sync time per partition {dag['sync_busy'] / args.codes:.2f} s "
                      f"(CLI: {cli['sync_busy'] / args.codes:.2f} s), Airflow overhead per task "
                      f"{overhead:.2f} s")
        finally:
            databases.drop()


if __name__ == "__main__":
    main()
