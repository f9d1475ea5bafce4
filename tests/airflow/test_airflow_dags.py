"""The DAG factory: a DAG per job file, the job's schedule, steps in order, sync steps mapped per
partition in the SAP system's pool; apply refused unless the config allows it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from airflow_harness import SKIP_REASON, airflow_installed, nightly_project

pytestmark = [pytest.mark.airflow, pytest.mark.skipif(not airflow_installed(), reason=SKIP_REASON)]

HERE = Path(__file__).parent


def _shape(airflow_home, jobs: Path, config: str = "") -> dict:
    env = dict(airflow_home.env)
    if config:
        path = jobs.parent / "sapbridge.toml"
        path.write_text(config, encoding="utf-8")
        env["SAPBRIDGE_CONFIG"] = str(path)
    done = subprocess.run([sys.executable, str(HERE / "dag_shape.py"), str(jobs)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_nightly_job_becomes_a_dag_with_its_schedule_steps_in_order_and_mapped_partitions(
        airflow_home, tmp_path):
    dag = _shape(airflow_home, nightly_project(tmp_path))["sapbridge_nightly"]
    assert dag["schedule"] == "30 2 * * *"
    assert dag["catchup"] is False
    assert dag["tags"] == ["demo", "sapbridge"]
    tasks = dag["tasks"]
    assert {name: t["upstream"] for name, t in tasks.items()} == {
        "step1_sync_customers": [],
        "step1_sync": ["step1_sync_customers"],
        "step2_reconcile_cash": ["step1_sync"],
        "step3_reconcile_recoveries": ["step2_reconcile_cash"],
        "step4_kpis": ["step3_reconcile_recoveries"],
    }
    assert tasks["step1_sync_customers"]["partitions"] == [
        {"system": "demo", "object": "customers", "company_code": "*"}]
    assert [(p["object"], p["company_code"]) for p in tasks["step1_sync"]["partitions"]] == [
        ("credit_segments", "*"), ("open_items", "1000"), ("open_items", "2000"),
        ("open_items", "3000"), ("cleared_items", "1000"), ("cleared_items", "2000"),
        ("cleared_items", "3000"), ("blocked_orders", "*"), ("disputes", "*"), ("promises", "*")]
    assert tasks["step1_sync"]["pool"] == tasks["step1_sync_customers"]["pool"] == "sapbridge_demo"
    assert tasks["step2_reconcile_cash"]["pool"] == "default_pool", "only SAP work takes a slot"
    assert {t["retries"] for t in tasks.values()} == {2}


def test_pool_names_sizes_and_retries_come_from_the_config(airflow_home, tmp_path):
    jobs = nightly_project(tmp_path)
    config = '[airflow]\nretries = 0\n[airflow.pools]\ndemo = { name = "sap_demo_dialog", slots = 3 }\n'
    tasks = _shape(airflow_home, jobs, config)["sapbridge_nightly"]["tasks"]
    assert tasks["step1_sync"]["pool"] == "sap_demo_dialog"
    assert {t["retries"] for t in tasks.values()} == {0}
    pools = subprocess.run([sys.executable, "-m", "sapbridge.airflow", "pools", str(jobs)],
                           env={**airflow_home.env, "SAPBRIDGE_CONFIG": str(jobs.parent / "sapbridge.toml")},
                           capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(pools.stdout) == {"sap_demo_dialog": {
        "slots": 3, "description": "SAP sessions against system demo", "include_deferred": False}}


def test_a_dag_never_applies_unless_the_config_allows_the_job(airflow_home, tmp_path):
    jobs = nightly_project(tmp_path)
    (jobs / "apply.toml").write_text('name = "apply"\nsystem = "demo"\n[[steps]]\nkind = "push_plan"\n'
                                     '[[steps]]\nkind = "push_apply"\n', encoding="utf-8")
    refused = _shape(airflow_home, jobs)
    assert refused["error"].endswith("step 2:push_apply changes SAP; a DAG only plans unless "
                                     "[airflow] allow_apply lists 'apply'")
    allowed = _shape(airflow_home, jobs, '[airflow]\nallow_apply = ["apply"]\n')
    assert list(allowed["sapbridge_apply"]["tasks"]) == ["step1_push_plan", "step2_push_apply"]
    assert allowed["sapbridge_apply"]["tasks"]["step1_push_plan"]["pool"] == "sapbridge_demo"
