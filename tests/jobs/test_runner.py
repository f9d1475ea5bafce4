"""Running jobs: steps in order, failure stops, resume skips done steps, one run at a time."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from sapbridge.audit.log import query, verify
from sapbridge.config import load_settings
from sapbridge.errors import JobError
from sapbridge.jobs.definition import load_job
from sapbridge.jobs.history import get_run, list_runs
from sapbridge.jobs.runner import EXIT_LOCKED, JobLockedError, run_job
from sapbridge.jobs.tables import job_runs, job_steps
from sapbridge.leases.lock import current_holder
from sapbridge.leases.tables import job_locks

from .conftest import THREE_STEPS, write_job

SETTINGS = load_settings(None)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def step_rows(store, run_id):
    with store.engine.connect() as conn:
        return [(r.position, r.status, r.attempts, r.error) for r in conn.execute(
            select(job_steps).where(job_steps.c.run_id == run_id).order_by(job_steps.c.position))]


def test_run_executes_steps_in_order_and_records_counts(store, tmp_path, calls):
    job = load_job(write_job(tmp_path, "three", THREE_STEPS))
    result = run_job(store, SETTINGS, job, actor="ops", run_id="run-1")
    assert (result.status, result.exit_code, result.error) == ("succeeded", 0, None)
    assert [label for _, _, label in calls.seen] == ["first", "second", "third"]
    assert {run for run, _, _ in calls.seen} == {"run-1"}
    assert calls.contexts[0].company_codes == ("1000", "2000", "3000")  # the system's, none in the job
    run = get_run(store.engine, "run-1")
    assert run.status == "succeeded"
    assert [s.counts for s in run.steps] == [{"label": "first", "rows": 5}, {"label": "second", "rows": 6},
                                             {"label": "third", "rows": 5}]
    assert (run.steps_done, run.steps_total, run.needs_review) == (3, 3, 0)
    assert run.finished_at >= run.started_at
    assert current_holder(store.engine, "three") is None  # the lease was released


def test_failure_stops_the_run_and_resume_skips_the_steps_already_done(store, tmp_path, calls):
    job = load_job(write_job(tmp_path, "three", THREE_STEPS))
    calls.fail = {"second"}
    failed = run_job(store, SETTINGS, job, actor="ops", run_id="run-f")
    assert (failed.status, failed.exit_code) == ("failed", 1)
    assert failed.error == "step 2 (count): cannot reconcile second"
    assert [label for _, _, label in calls.seen] == ["first", "second"]
    assert step_rows(store, "run-f") == [(1, "succeeded", 1, None),
                                         (2, "failed", 1, "cannot reconcile second"),
                                         (3, "pending", 0, None)]
    calls.fail = set()
    calls.seen.clear()
    resumed = run_job(store, SETTINGS, job, actor="ops", resume=True)
    assert (resumed.run_id, resumed.status, resumed.resumed) == ("run-f", "succeeded", True)
    assert [label for _, _, label in calls.seen] == ["second", "third"]  # first is not run again
    assert [s.status for s in resumed.steps] == ["skipped", "succeeded", "succeeded"]
    assert resumed.steps[0].counts == {"label": "first", "rows": 5}
    assert step_rows(store, "run-f") == [(1, "succeeded", 1, None), (2, "succeeded", 2, None),
                                         (3, "succeeded", 1, None)]
    assert [r.run_id for r in list_runs(store.engine, "three")] == ["run-f"]


def test_resume_needs_a_failed_run_and_an_unchanged_job(store, tmp_path, calls):
    path = write_job(tmp_path, "three", THREE_STEPS)
    with pytest.raises(JobError, match="job three has no run to resume"):
        run_job(store, SETTINGS, load_job(path), actor="ops", resume=True)
    run_job(store, SETTINGS, load_job(path), actor="ops", run_id="ok-1")
    with pytest.raises(JobError, match="latest run ok-1 succeeded; nothing to resume"):
        run_job(store, SETTINGS, load_job(path), actor="ops", resume=True)
    calls.fail = {"third"}
    run_job(store, SETTINGS, load_job(path), actor="ops", run_id="bad-1")
    write_job(tmp_path, "three", THREE_STEPS.replace('"third"', '"3rd"'))
    with pytest.raises(JobError, match="changed since run bad-1; run it afresh without --resume"):
        run_job(store, SETTINGS, load_job(path), actor="ops", resume=True)


def test_resumed_run_keeps_its_date_for_output_paths(store, tmp_path, calls):
    job = load_job(write_job(tmp_path, "three", THREE_STEPS))
    calls.fail = {"first"}
    run_job(store, SETTINGS, job, actor="ops", run_id="old")
    with store.engine.begin() as conn:
        conn.execute(job_runs.update().values(started_at=datetime(2026, 1, 31, 23, 0, tzinfo=UTC)))
    calls.fail = set()
    run_job(store, SETTINGS, job, actor="ops", resume=True)
    assert calls.contexts[-1].path("out/{date}/x-{run_id}") == job.root / "out/2026-01-31/x-old"


def test_exceptions_to_review_end_the_run_in_review(store, tmp_path, calls):
    job = load_job(write_job(tmp_path, "rev", """
        name = "rev"
        system = "demo"
        company_codes = ["2000"]
        [[steps]]
        kind = "review"
        exceptions = 2
        [[steps]]
        kind = "count"
        label = "after"
        """))
    result = run_job(store, SETTINGS, job, actor="ops")
    assert (result.status, result.exit_code, result.needs_review) == ("review", 3, 2)
    assert calls.contexts[0].company_codes == ("2000",)
    assert get_run(store.engine, result.run_id).needs_review == 2


def test_a_second_run_of_the_same_job_is_refused_while_the_first_runs(store, tmp_path, calls):
    write_job(tmp_path, "slow", 'name = "slow"\nsystem = "demo"\n[[steps]]\nkind = "block"\n')
    job = load_job(tmp_path / "jobs" / "slow.toml")
    outcome = {}
    first = threading.Thread(target=lambda: outcome.update(r=run_job(store, SETTINGS, job, actor="a",
                                                                     run_id="first")))
    first.start()
    assert calls.entered.wait(10)
    try:
        with pytest.raises(JobLockedError) as info:
            run_job(store, SETTINGS, job, actor="b", run_id="second")
        assert info.value.exit_code == EXIT_LOCKED
        assert f"job slow is already running: run first on {socket.gethostname()} (pid {os.getpid()})" \
            in str(info.value)
        assert [(r.run_id, r.status) for r in list_runs(store.engine)] == [("first", "running")]
    finally:
        calls.release.set()
        first.join(10)
    assert outcome["r"].status == "succeeded"
    assert run_job(store, SETTINGS, job, actor="b", run_id="third").status == "succeeded"


def test_a_lease_left_by_a_dead_process_is_taken_over_and_its_run_marked_failed(store, tmp_path, calls):
    job = load_job(write_job(tmp_path, "three", THREE_STEPS))
    calls.fail = {"second"}
    run_job(store, SETTINGS, job, actor="ops", run_id="crashed")
    now = datetime.now(UTC)
    pid = dead_pid()
    with store.engine.begin() as conn:  # as if the process died in step 2 of its resume
        conn.execute(job_runs.update().values(status="running", finished_at=None, error=None, pid=pid))
        conn.execute(job_steps.update().where(job_steps.c.position == 2).values(status="running"))
        conn.execute(insert(job_locks).values(job="three", run_id="crashed", host=socket.gethostname(),
                                              pid=pid, heartbeat_at=now, expires_at=now + timedelta(hours=1)))
    calls.fail = set()
    calls.seen.clear()
    result = run_job(store, SETTINGS, job, actor="ops", resume=True)
    assert (result.run_id, result.status) == ("crashed", "succeeded")
    assert [label for _, _, label in calls.seen] == ["second", "third"]


def test_taking_over_a_dead_lease_marks_the_abandoned_run_failed(store, tmp_path, calls):
    job = load_job(write_job(tmp_path, "three", THREE_STEPS))
    now = datetime.now(UTC)
    pid = dead_pid()
    with store.engine.begin() as conn:
        conn.execute(insert(job_runs).values(run_id="ghost", job="three", system="demo", status="running",
                                             started_at=now, actor="ops", host=socket.gethostname(), pid=pid,
                                             definition_hash=job.definition_hash(), source="x"))
        conn.execute(insert(job_locks).values(job="three", run_id="ghost", host=socket.gethostname(), pid=pid,
                                              heartbeat_at=now, expires_at=now + timedelta(hours=1)))
    assert current_holder(store.engine, "three") is None
    assert [r.status for r in list_runs(store.engine, "three")] == ["interrupted"]  # shown, not stored
    assert run_job(store, SETTINGS, job, actor="ops", run_id="new").status == "succeeded"
    ghost = get_run(store.engine, "ghost")
    assert ghost.status == "failed"
    assert ghost.error == f"interrupted: {socket.gethostname()} pid {pid} stopped without finishing"


def test_run_start_and_end_are_in_the_audit_log(store, tmp_path, calls):
    job = load_job(write_job(tmp_path, "three", THREE_STEPS))
    calls.fail = {"third"}
    run_job(store, SETTINGS, job, actor="ops", run_id="aud")
    calls.fail = set()
    run_job(store, SETTINGS, job, actor="ops", resume=True)
    entries = list(query(store.engine, action="job_run"))
    assert [(e.run_id, e.actor, e.detail["event"]) for e in entries] == [
        ("aud", "ops", "started"), ("aud", "ops", "finished"), ("aud", "ops", "resumed"),
        ("aud", "ops", "finished")]
    assert entries[1].detail["status"] == "failed"
    assert entries[2].detail["skipping"] == [1, 2]
    assert entries[3].detail["status"] == "succeeded"
    assert verify(store.engine).ok


def test_a_step_returning_the_wrong_type_fails_the_run(store, tmp_path, calls):
    from sapbridge.jobs.steps import register_step

    register_step("sloppy", lambda ctx, options: {"rows": 1})  # type: ignore[arg-type,return-value]
    job = load_job(write_job(tmp_path, "s", 'name = "s"\nsystem = "demo"\n[[steps]]\nkind = "sloppy"\n'))
    result = run_job(store, SETTINGS, job, actor="ops")
    assert result.status == "failed"
    assert result.error == "step 1 (sloppy): step kind sloppy returned dict, not StepOutcome"


def test_step_counts_survive_as_json(store, tmp_path, calls):
    job = load_job(write_job(tmp_path, "three", THREE_STEPS))
    run_job(store, SETTINGS, job, actor="ops", run_id="j")
    with store.engine.connect() as conn:
        raw = conn.execute(select(job_steps.c.counts).where(job_steps.c.position == 1)).scalar_one()
    assert json.loads(raw) == {"label": "first", "rows": 5}
