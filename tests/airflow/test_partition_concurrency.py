"""Partition syncs in parallel processes through the Airflow adapter, and a CLI sync overlapping one.

Runs without Airflow: the adapter is what every mapped sync task runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sapbridge.audit.log import verify
from sapbridge.config import load_settings, project_root
from sapbridge.leases.tables import job_locks
from sapbridge.store import open_store
from sapbridge.store.schema import open_items, sync_runs
from sapbridge.sync.service import sync_system

HERE = Path(__file__).parent
CODES = ("1000", "2000", "3000")


def _job_file(tmp_path: Path) -> Path:
    (tmp_path / "jobs").mkdir()
    return Path(shutil.copy(project_root() / "jobs" / "nightly.toml", tmp_path / "jobs"))


def _open_items_by_code(engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(open_items.c.company_code, func.count())
                            .where(open_items.c.status == "open")
                            .group_by(open_items.c.company_code)).all()
    return {code: int(n) for code, n in rows}


def _wait_for(paths: list[Path], procs: list[subprocess.Popen], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not all(p.exists() for p in paths):
        failed = [p for p in procs if p.poll() is not None]
        if failed:
            _, err = failed[0].communicate()
            pytest.fail(f"a partition sync ended early: {err}")
        if time.monotonic() > deadline:
            pytest.fail(f"partition syncs not all inside their sync: {[p.name for p in paths]}")
        time.sleep(0.05)


def _reference(tmp_path: Path) -> dict[str, int]:
    """Open items per company code of one sequential sync, in a store of its own."""
    ref = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        sync_system(load_settings(None), ref, system="demo", objects=["customers", "open_items"],
                    full=True, run_id="reference", actor="test")
        return _open_items_by_code(ref.engine)
    finally:
        ref.dispose()


def test_parallel_partitions_land_and_an_overlapping_cli_sync_is_refused(store, tmp_path):
    job_file = _job_file(tmp_path)
    marks = tmp_path / "marks"
    marks.mkdir()
    sync_system(load_settings(None), store, system="demo", objects=["customers"], full=True,
                run_id="master-data", actor="test")  # the DAG's first wave
    targets = [("open_items", code) for code in CODES] + [("credit_segments", "*")]
    procs = [subprocess.Popen([sys.executable, str(HERE / "partition_process.py"), store.url,
                               str(job_file), obj, code, str(marks)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for obj, code in targets]
    try:
        _wait_for([marks / f"demo_{obj}_{code}.ready" for obj, code in targets], procs)
        with store.engine.connect() as conn:
            held = sorted(conn.execute(select(job_locks.c.job)).scalars())
        assert held == ["sync:demo:credit_segments:*", "sync:demo:open_items:1000",
                        "sync:demo:open_items:2000", "sync:demo:open_items:3000"]

        cli = subprocess.run([sys.executable, "-m", "sapbridge", "--db", store.url, "sync",
                              "open_items", "--company-code", "2000", "--full"],
                             capture_output=True, text=True, timeout=120)
        assert cli.returncode == 4, cli.stderr
        message = [line for line in cli.stderr.splitlines() if line.strip()]
        assert len(message) == 1, cli.stderr
        assert "partition demo/open_items/2000 is already being synced: run " in message[0]
        assert "Traceback" not in cli.stderr
    finally:
        (marks / "go").write_text("go", encoding="utf-8")
        results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in results]
    counts = {json.loads(out)["partition"]: json.loads(out) for out, _ in results}

    expected = _reference(tmp_path)
    assert _open_items_by_code(store.engine) == expected, "every partition landed, none twice"
    assert {c: counts[f"demo/open_items/{c}"]["inserted"] for c in CODES} == expected
    assert counts["demo/credit_segments/*"]["inserted"] > 0
    with store.engine.connect() as conn:
        assert sorted(conn.execute(select(sync_runs.c.status)).scalars()) == ["ok"] * 5
        assert conn.execute(select(func.count()).select_from(job_locks)).scalar_one() == 0
    assert verify(store.engine).ok, "parallel partitions did not fork the audit chain"

    again = subprocess.run([sys.executable, "-m", "sapbridge", "--db", store.url, "sync",
                            "open_items", "--company-code", "2000", "--full"],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert _open_items_by_code(store.engine) == expected
