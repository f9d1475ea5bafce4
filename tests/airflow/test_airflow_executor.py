"""The nightly DAG on a real one-machine deployment: scheduler, dag-processor, api-server and the
LocalExecutor. Mapped partitions sync in parallel processes, never more at once than the SAP
system's pool allows (made with the README's ``airflow pools import`` commands).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest
from airflow_harness import SKIP_REASON, LocalDeployment, airflow_installed, make_home, nightly_project
from sqlalchemy import select

from sapbridge.audit.log import verify
from sapbridge.store import open_store
from sapbridge.store.schema import sync_runs

pytestmark = [pytest.mark.airflow, pytest.mark.skipif(not airflow_installed(), reason=SKIP_REASON)]

DAG_FILE = '''
import time

from sapbridge.sync import service

_source = service.Clients.source


def _slow_source(self, mapping, route_name, conn):
    time.sleep(2)  # a partition holds its SAP session a while, as a real read of SAP does
    return _source(self, mapping, route_name, conn)


service.Clients.source = _slow_source

from sapbridge.airflow import dags_from_jobs  # noqa: E402

globals().update(dags_from_jobs({jobs!r}))
'''


def _most_at_once(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                    key=lambda e: (e[0], e[1]))
    running = most = 0
    for _, change in events:
        running += change
        most = max(most, running)
    return most


def test_partitions_sync_in_parallel_capped_by_the_system_pool(pg_url, tmp_path):
    store_url = pg_url()
    jobs = nightly_project(tmp_path / "project")
    config = tmp_path / "sapbridge.toml"
    config.write_text("[airflow]\npool_slots = 2\nretries = 0\n", encoding="utf-8")
    home = make_home(tmp_path)
    env = {"SAPBRIDGE_DB": store_url, "SAPBRIDGE_CONFIG": str(config)}
    home.write_dag_file("sapbridge_jobs", DAG_FILE.format(jobs=str(jobs)))

    pools = subprocess.run([sys.executable, "-m", "sapbridge.airflow", "pools", str(jobs)],
                           env={**home.env, **env}, capture_output=True, text=True, check=True)
    (tmp_path / "pools.json").write_text(pools.stdout, encoding="utf-8")
    imported = home.airflow("pools", "import", str(tmp_path / "pools.json"))
    assert imported.returncode == 0, imported.stderr
    deployment = LocalDeployment(home, parallelism=4, env=env)
    try:
        run_id = deployment.first_run("sapbridge_nightly")  # the latest nightly interval, unpaused
        assert run_id.startswith("scheduled__"), run_id
        state = deployment.wait("sapbridge_nightly", run_id)
        tasks = deployment.task_states("sapbridge_nightly", run_id)
    finally:
        deployment.stop()
    assert state == "success", deployment.log("scheduler")[-3000:]
    assert {t[2] for t in tasks} == {"success"}
    assert len([t for t in tasks if t[0].startswith("step1_sync")]) == 11  # customers, credit segments, 3 x open items, 3 x cleared items, blocked orders, disputes, promises
    assert {t[4] for t in tasks if t[0].startswith("step1_sync")} == {"sapbridge_demo"}

    store = open_store(store_url)
    try:
        with store.engine.connect() as conn:
            runs = conn.execute(select(sync_runs.c.started_at, sync_runs.c.finished_at,
                                       sync_runs.c.status)).all()
        assert [r.status for r in runs] == ["ok"] * 11  # one per sync partition, as above
        assert _most_at_once([(r.started_at, r.finished_at) for r in runs]) == 2, \
            "partitions overlap, and no more of them than the pool's 2 slots"
        assert verify(store.engine).ok
    finally:
        store.dispose()
