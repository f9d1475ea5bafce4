"""The demo's nightly job as an Airflow DAG (``airflow dags test``, a real metadata DB) on PostgreSQL.

Against the CLI run of the same job: the same rows, the same counts; the audit chain verifies;
a partition whose sync is refused fails alone, and its retry succeeds.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from airflow_harness import SKIP_REASON, airflow_installed, nightly_project
from sqlalchemy import func, select

from sapbridge.audit.log import verify
from sapbridge.jobs.tables import job_steps
from sapbridge.leases.tables import job_locks
from sapbridge.store import open_store
from sapbridge.store.schema import OBJECT_TABLES

pytestmark = [pytest.mark.airflow, pytest.mark.skipif(not airflow_installed(), reason=SKIP_REASON)]

HERE = Path(__file__).parent

DAG_FILE = '''
import json
import os
import signal
from datetime import timedelta
from pathlib import Path

from sapbridge.airflow import dags_from_jobs

HOLDER = Path({holder!r})


def kill_the_overlapping_sync(context):
    """The sync that holds the partition dies (kill -9): the retry takes its lease over."""
    os.kill(int(HOLDER.read_text()), signal.SIGKILL)
    HOLDER.with_suffix(".killed").write_text(context["task_instance"].task_id)


def note_review(context, result):
    """The review callback: a step finished with work for a person."""
    name = result["step"].replace(":", "_")
    HOLDER.with_name(f"review-{{name}}.json").write_text(json.dumps(
        {{"task": context["task_instance"].task_id, "needs_review": result["needs_review"]}}))


globals().update(dags_from_jobs({jobs!r}, on_review=note_review, default_args={{
    "retries": 1, "retry_delay": timedelta(seconds=1),
    "on_retry_callback": kill_the_overlapping_sync}}))
'''

NOT_COMPARED = {"run_id", "sync_run_id", "files", "recovery_run_id", "partition"}


def _rows_by_status(url: str) -> dict[str, dict[str, int]]:
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            return {name: {str(s): int(n) for s, n in conn.execute(
                select(table.c.status, func.count()).group_by(table.c.status))}
                for name, table in OBJECT_TABLES.items()}
    finally:
        store.dispose()


def _cli_steps(url: str) -> dict[int, dict]:
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            return {row.position: {**json.loads(row.counts), "needs_review": row.needs_review}
                    for row in conn.execute(select(job_steps))}
    finally:
        store.dispose()


def _hold_partition(url: str, job_file: Path, marks: Path) -> subprocess.Popen:
    """Another sync of demo/open_items/2000, stuck inside its transaction.

    Started by a shell that reaps it when it is killed, as a login shell would: a killed child
    of the test runner would linger as a zombie, and a zombie's pid still looks alive.
    """
    command = " ".join(shlex.quote(str(a)) for a in [sys.executable, HERE / "partition_process.py",
                                                      url, job_file, "open_items", "2000", marks])
    pid_file, err_file = (shlex.quote(str(marks / name)) for name in ("holder.pid", "holder.err"))
    shell = subprocess.Popen(["sh", "-c", f"{command} 2> {err_file} & echo $! > {pid_file}; wait"],
                             stdout=subprocess.DEVNULL)
    ready = marks / "demo_open_items_2000.ready"
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert shell.poll() is None, (marks / "holder.err").read_text()
        assert time.monotonic() < deadline, "the holder never got inside its sync"
        time.sleep(0.05)
    return shell


def _compared(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if k not in NOT_COMPARED}


def test_nightly_dag_matches_the_cli_run_and_a_refused_partition_fails_alone_then_retries(
        airflow_home, pg_url, tmp_path):
    dag_url, cli_url = pg_url(), pg_url()
    cli_jobs = nightly_project(tmp_path / "cli")
    cli = subprocess.run([sys.executable, "-m", "sapbridge", "--db", cli_url, "job", "--jobs-dir",
                          str(cli_jobs), "run", "nightly"], capture_output=True, text=True, timeout=300,
                         env={k: v for k, v in os.environ.items() if not k.startswith("SAPBRIDGE_")})
    assert cli.returncode == 3, cli.stderr  # work to review

    dag_jobs = nightly_project(tmp_path / "dag")
    marks = tmp_path / "marks"
    marks.mkdir()
    holder = _hold_partition(dag_url, dag_jobs / "nightly.toml", marks)
    airflow_home.write_dag_file("nightly_retry", DAG_FILE.format(
        holder=str(marks / "holder.pid"), jobs=str(dag_jobs)))
    try:
        result = airflow_home.dags_test("sapbridge_nightly", env={"SAPBRIDGE_DB": dag_url})
    finally:
        if holder.poll() is None:
            os.kill(int((marks / "holder.pid").read_text()), signal.SIGKILL)
        holder.wait(timeout=30)

    assert result["state"] == "success", result["log"][-3000:]
    tasks = {(t["task_id"], t["label"]): t for t in result["tasks"]}
    partitions = sorted(label for task_id, label in tasks if task_id.startswith("step1_sync"))
    assert partitions == ["demo/blocked_orders/*", "demo/credit_segments/*", "demo/customers/*",
                          "demo/disputes/*", "demo/open_items/1000", "demo/open_items/2000",
                          "demo/open_items/3000", "demo/promises/*"]
    assert all(t["state"] == "success" for t in result["tasks"]), result["tasks"]
    assert all(t["pool"] == "sapbridge_demo" for (task_id, _), t in tasks.items()
               if task_id.startswith("step1_sync"))
    retried = {label: t["try_number"] for (task_id, label), t in tasks.items() if t["try_number"] > 1}
    assert retried == {"demo/open_items/2000": 2}, "only the refused partition needed a retry"
    assert [(h["task_id"], h["state"]) for h in result["history"]] == [("step1_sync", "failed")]
    refusal = [line for line in result["log"].splitlines()
               if "partition demo/open_items/2000 is already being synced" in line]
    assert refusal, "the failed try says why in one line"
    assert (marks / "holder.killed").read_text() == "step1_sync", "killed by the retry callback"

    xcom = {(x["task_id"], x["map_index"]): x["value"] for x in result["xcom"]}
    synced = [v for (task_id, _), v in xcom.items() if task_id.startswith("step1_sync")]
    cli_steps = _cli_steps(cli_url)
    for key in ("read", "inserted", "updated", "cleared", "skipped"):
        assert sum(v[key] for v in synced) == cli_steps[1][key], key
    for position, kind in ((2, "reconcile_cash"), (3, "reconcile_recoveries"), (4, "kpis")):
        assert _compared(xcom[(f"step{position}_{kind}", -1)]) == _compared(cli_steps[position]), kind
    assert xcom[("step2_reconcile_cash", -1)]["needs_review"] > 0, "review is counted, not failed"
    reviews = {path.name: json.loads(path.read_text()) for path in marks.glob("review-*.json")}
    assert reviews == {
        "review-2_reconcile_cash.json": {"task": "step2_reconcile_cash",
                                         "needs_review": cli_steps[2]["needs_review"]},
        "review-3_reconcile_recoveries.json": {"task": "step3_reconcile_recoveries",
                                               "needs_review": cli_steps[3]["needs_review"]}}

    assert _rows_by_status(dag_url) == _rows_by_status(cli_url)
    store = open_store(dag_url)
    try:
        assert verify(store.engine).ok
        with store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(job_locks)).scalar_one() == 0
    finally:
        store.dispose()
