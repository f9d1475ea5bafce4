"""A sync killed mid-run (kill -9) is shown as interrupted, and the next sync records it so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from sapbridge.mapping import load_mappings
from sapbridge.store.schema import open_items, sync_runs
from sapbridge.sync import SyncRequest, run_sync
from sapbridge.sync.state import sync_history

from .test_engine import FakeSource, cube_row

HANGING_SYNC = """
import sys, time
from pathlib import Path
from sapbridge.mapping import load_mappings
from sapbridge.store import open_store
from sapbridge.sync import SyncRequest, run_sync

url, ready = sys.argv[1], Path(sys.argv[2])

def row(doc):
    return {"CompanyCode": "1000", "FiscalYear": "2026", "AccountingDocument": str(doc),
            "AccountingDocumentItem": "1", "Customer": "100001", "AmountInTransactionCurrency": "1.00",
            "TransactionCurrency": "EUR"}

class Hanging:
    def batches(self, partition, since, progress=None):
        yield [row(i) for i in range(100, 150)]
        ready.write_text("written one page")
        time.sleep(600)
        yield []

run_sync(open_store(url), load_mappings("mappings"),
         SyncRequest(system="T", objects=["open_items"], company_codes=["1000"]),
         lambda m, r, c: Hanging(), run_id="killed", actor="tester")
"""


def start_hanging_sync(store, tmp_path: Path) -> subprocess.Popen:
    script = tmp_path / "hang.py"
    script.write_text(HANGING_SYNC)
    ready = tmp_path / "ready"
    url = store.engine.url.render_as_string(hide_password=False)
    process = subprocess.Popen([sys.executable, str(script), url, str(ready)], cwd=Path.cwd(),
                               env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert process.poll() is None, "the sync process ended early"
        assert time.monotonic() < deadline, "the sync process never got going"
        time.sleep(0.05)
    return process


def test_a_killed_sync_shows_as_interrupted_and_the_next_sync_closes_it(store, tmp_path):
    request = SyncRequest(system="T", objects=["open_items"], company_codes=["1000"])
    run_sync(store, load_mappings("mappings"), request, lambda m, r, c: FakeSource({"1000": [[cube_row(1)]]}),
             run_id="before", actor="tester")
    process = start_hanging_sync(store, tmp_path)
    shown = {run.run_id: run.status for run in sync_history(store.engine)}
    assert shown["killed"] == "running"

    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    history = {run.run_id: run for run in sync_history(store.engine)}
    assert history["killed"].status == "interrupted"
    assert "ended without finishing" in (history["killed"].error or "")
    assert history["before"].status == "ok"
    with store.engine.connect() as conn:
        stored = conn.execute(select(sync_runs.c.status).where(sync_runs.c.run_id == "killed")).scalar_one()
        assert stored == "running"
        assert conn.execute(select(func.count()).select_from(open_items)).scalar_one() == 1, \
            "rows of the killed run were kept"

    run_sync(store, load_mappings("mappings"), request,
             lambda m, r, c: FakeSource({"1000": [[cube_row(1), cube_row(2)]]}), run_id="after", actor="tester")
    with store.engine.connect() as conn:
        runs = {r.run_id: r for r in conn.execute(select(sync_runs))}
    assert runs["killed"].status == "interrupted"
    assert runs["killed"].finished_at is not None
    assert runs["after"].status == "ok"


def test_a_run_of_a_live_process_on_another_host_is_not_called_interrupted(store):
    from datetime import UTC, datetime

    with store.engine.begin() as conn:
        conn.execute(sync_runs.insert().values(run_id="far", system="T", actor="x", status="running",
                                               started_at=datetime.now(UTC), host="elsewhere", pid=1))
    assert {r.run_id: r.status for r in sync_history(store.engine)}["far"] == "running"
