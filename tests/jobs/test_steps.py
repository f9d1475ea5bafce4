"""The built-in sync and push_plan steps inside real job runs."""

from __future__ import annotations

import pytest
from push.conftest import seed_sap, seed_store, write_config
from push.fakes import FakeOData, FakeRfc, FakeSapState
from push.helpers import limit_batch, writeoff_batch
from sqlalchemy import func, select

from devtools.demo.data import generate
from sapbridge.audit.log import query
from sapbridge.config import load_settings
from sapbridge.jobs.definition import load_job
from sapbridge.jobs.history import get_run
from sapbridge.jobs.runner import run_job
from sapbridge.push.approval import approve
from sapbridge.push.authority import load_push_config
from sapbridge.store.schema import OBJECT_TABLES
from sapbridge.sync.state import sync_runs

from .conftest import write_job


def stored_rows(store) -> int:
    with store.engine.connect() as conn:
        return sum(conn.execute(select(func.count()).select_from(t).where(t.c.system == "demo")).scalar_one()
                   for t in OBJECT_TABLES.values())


def test_sync_step_fills_the_store_from_the_demo_system_and_a_rerun_writes_nothing(sqlite_store, tmp_path):
    job = load_job(write_job(tmp_path, "sync", """
        name = "sync"
        system = "demo"
        [[steps]]
        kind = "sync"
        objects = "all"
        mode = "full"
        """))
    first = run_job(sqlite_store, load_settings(None), job, actor="ops")
    assert first.status == "succeeded"
    counts = first.steps[0].counts
    company = generate(1)
    expected = (len(company.customers) + sum(len(c.company_codes) + len(c.ibans) for c in company.customers)
                + len(company.segments) + len(company.open_items) + len(company.cleared_items)
                + sum(o.credit_status in "BD" for o in company.orders) + len(company.disputes)
                + len(company.promises))
    assert counts["inserted"] == counts["read"] == stored_rows(sqlite_store) == expected
    assert counts["datasets"] == len(OBJECT_TABLES)
    with sqlite_store.engine.connect() as conn:
        sync_run = conn.execute(select(sync_runs).where(sync_runs.c.run_id == counts["sync_run_id"])).first()
    assert (sync_run.status, sync_run.actor) == ("ok", "ops")
    second = run_job(sqlite_store, load_settings(None), job, actor="ops")
    again = second.steps[0].counts
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, counts["read"])
    assert second.steps[0].counts["sync_run_id"] != counts["sync_run_id"]


def test_sync_step_of_some_objects_only(sqlite_store, tmp_path):
    job = load_job(write_job(tmp_path, "cs", """
        name = "cs"
        system = "demo"
        [[steps]]
        kind = "sync"
        objects = ["credit_segments"]
        """))
    result = run_job(sqlite_store, load_settings(None), job, actor="ops")
    assert result.steps[0].counts["datasets"] == 1
    assert result.steps[0].counts["read"] == stored_rows(sqlite_store)


PRD = """
[systems.PRD]
odata_url = "https://s4.example.com"
"""


@pytest.fixture
def push_env(store, tmp_path, monkeypatch):
    settings = load_settings(write_config(tmp_path, PRD))
    seed_store(store.engine)
    sap = FakeSapState(tmp_path / "sap.json")
    seed_sap(sap)
    monkeypatch.setattr("sapbridge.push.sap.connect", lambda system: (FakeOData(sap), FakeRfc(sap)))
    return settings, sap


def test_push_plan_step_plans_approved_batches_only_and_flags_stale_rows(store, tmp_path, push_env):
    settings, sap = push_env
    config = load_push_config(settings)
    limits = limit_batch(store.engine, config, tmp_path)
    approve(store.engine, limits.batch_id, approver="bob", config=config, run_id="r-approve")
    writeoff_batch(store.engine, config, tmp_path)  # requested, not approved: not planned
    sap.set_limit("0010000002", "1000", "47000.00")  # SAP changed since the request
    job = load_job(write_job(tmp_path, "plan", """
        name = "plan"
        system = "PRD"
        [[steps]]
        kind = "push_plan"
        """), settings)
    result = run_job(store, settings, job, actor="carol", run_id="job-plan")
    assert (result.status, result.exit_code) == ("review", 3)
    assert result.steps[0].counts == {"batches": 1, "rows": 2, "change": 1, "stale": 1}
    assert result.steps[0].needs_review == 1
    assert sap.load()["patches"] == []  # a plan never writes to SAP
    planned = [e for e in query(store.engine, batch_id=limits.batch_id) if e.action == "planned"]
    assert [(e.run_id, e.actor) for e in planned] == [("job-plan", "carol")] * 2


def test_push_plan_step_with_nothing_approved_does_not_connect(store, tmp_path, push_env, monkeypatch):
    settings, _ = push_env

    def refuse(system):
        raise AssertionError("must not connect without approved batches")

    monkeypatch.setattr("sapbridge.push.sap.connect", refuse)
    job = load_job(write_job(tmp_path, "plan", 'name = "plan"\nsystem = "PRD"\n[[steps]]\nkind = "push_plan"\n'))
    result = run_job(store, settings, job, actor="carol")
    assert result.status == "succeeded"
    assert result.steps[0].counts == {"batches": 0, "rows": 0}


def test_a_missing_input_file_fails_the_step_naming_the_resolved_path(sqlite_store, tmp_path):
    job = load_job(write_job(tmp_path, "cash", """
        name = "cash"
        system = "demo"
        [[steps]]
        kind = "reconcile_cash"
        payments = "in/bank-{date}.xml"
        out = "out/{date}/cash"
        """))
    result = run_job(sqlite_store, load_settings(None), job, actor="ops")
    day = get_run(sqlite_store.engine, result.run_id).started_at.date().isoformat()
    assert result.status == "failed"
    assert result.error == f"step 1 (reconcile_cash): {tmp_path.resolve()}/in/bank-{day}.xml: payments file not found"
    assert not (tmp_path / "out").exists()
