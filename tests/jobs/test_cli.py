"""``sapbridge job`` end to end: exit codes, history and show, JSON logs, schedule entries."""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from sapbridge.cli import main
from sapbridge.jobs.history import list_runs
from sapbridge.leases.tables import job_locks
from sapbridge.store import open_store

from .conftest import THREE_STEPS, write_job


@pytest.fixture
def env(tmp_path, calls):
    project = tmp_path / "proj"
    write_job(project, "three", THREE_STEPS)
    write_job(project, "rev", 'name = "rev"\nsystem = "demo"\nschedule = "*/15 6-18 * * 1-5"\n'
                              '[[steps]]\nkind = "review"\nexceptions = 4\n')
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    return {"base": ["--db", db, "--as", "ops"], "jobs": ["job", "--jobs-dir", str(project / "jobs")],
            "db": db, "calls": calls, "tmp": tmp_path}


def run(env, capsys, *args: str, log_json: bool = False) -> tuple[int, str, str]:
    argv = [*env["base"], *(["--log-json"] if log_json else []), *env["jobs"], *args]
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_codes_for_success_failure_review_and_already_running(env, capsys):
    code, out, _ = run(env, capsys, "run", "three")
    assert code == 0
    assert "job three ran as run" in out
    assert ": succeeded" in out
    env["calls"].fail = {"second"}
    code, out, _ = run(env, capsys, "run", "three")
    assert code == 1
    assert "cannot reconcile second" in out
    assert "resume with: sapbridge job run three --resume" in out
    code, out, _ = run(env, capsys, "run", "rev")
    assert code == 3
    assert "4 to review" in out
    store = open_store(env["db"])
    now = datetime.now(UTC)
    with store.engine.begin() as conn:  # a live process (our parent) holds the lease
        conn.execute(insert(job_locks).values(job="rev", run_id="other", host=socket.gethostname(),
                                              pid=os.getppid(), heartbeat_at=now,
                                              expires_at=now + timedelta(minutes=5)))
    store.dispose()
    code, out, err = run(env, capsys, "run", "rev")
    assert code == 4
    assert err.startswith("error: job rev is already running: run other on ")
    code, _, err = run(env, capsys, "run", "nope")
    assert code == 1
    assert "no job named 'nope'" in err
    code, _, err = run(env, capsys, "run")
    assert code == 2  # click's usage error


def test_resume_through_the_cli_skips_the_done_steps(env, capsys):
    env["calls"].fail = {"third"}
    code, out, _ = run(env, capsys, "run", "three", "--json")
    first = json.loads(out)
    assert (code, first["status"], first["exit_code"]) == (1, "failed", 1)
    env["calls"].fail = set()
    env["calls"].seen.clear()
    code, out, _ = run(env, capsys, "run", "three", "--resume", "--json")
    again = json.loads(out)
    assert code == 0
    assert (again["run_id"], again["resumed"], again["status"]) == (first["run_id"], True, "succeeded")
    assert [s["status"] for s in again["steps"]] == ["skipped", "skipped", "succeeded"]
    assert [label for _, _, label in env["calls"].seen] == ["third"]


def test_history_and_show(env, capsys):
    env["calls"].fail = {"second"}
    _, out, _ = run(env, capsys, "run", "three", "--json")
    failed_id = json.loads(out)["run_id"]
    env["calls"].fail = set()
    _, out, _ = run(env, capsys, "run", "rev", "--json")
    review_id = json.loads(out)["run_id"]
    code, out, _ = run(env, capsys, "history", "--json")
    history = json.loads(out)
    assert code == 0
    assert [(h["run_id"], h["job"], h["status"]) for h in history] == [
        (review_id, "rev", "review"), (failed_id, "three", "failed")]
    assert history[1]["error"] == "step 2 (count): cannot reconcile second"
    assert (history[1]["steps_done"], history[1]["steps_total"]) == (1, 3)
    assert history[0]["needs_review"] == 4
    assert history[0]["actor"] == "ops"
    assert history[0]["seconds"] >= 0
    assert history[1]["steps"][0]["counts"] == {"label": "first", "rows": 5}
    store = open_store(env["db"])
    assert [r.counts_summary() for r in list_runs(store.engine)] == ["review unmatched=4", "count rows=5"]
    store.dispose()
    code, out, _ = run(env, capsys, "history")
    assert (code, "job runs" in out) == (0, True)
    _, out, _ = run(env, capsys, "history", "three", "--json")
    assert [h["run_id"] for h in json.loads(out)] == [failed_id]
    code, out, _ = run(env, capsys, "show", failed_id[:8], "--json")
    shown = json.loads(out)
    assert code == 0
    assert [(s["position"], s["status"], s["error"]) for s in shown["steps"]] == [
        (1, "succeeded", None), (2, "failed", "cannot reconcile second"), (3, "pending", None)]
    assert shown["steps"][0]["counts"] == {"label": "first", "rows": 5}
    code, out, _ = run(env, capsys, "show", failed_id)
    assert code == 0
    assert f"run {failed_id}  job three  system demo  failed" in out
    assert "error: step 2 (count): cannot reconcile second" in out
    code, _, err = run(env, capsys, "show", "zzz")
    assert (code, err.strip()) == (1, "error: run id 'zzz' does not match any run")


def test_list_shows_jobs_schedule_next_run_and_last_run(env, capsys):
    code, out, _ = run(env, capsys, "list", "--json")
    assert [(j["name"], j["last_run"]) for j in json.loads(out)] == [("rev", None), ("three", None)]
    run(env, capsys, "run", "rev")
    env["calls"].fail = {"first"}
    run(env, capsys, "run", "three")
    env["calls"].fail = set()
    run(env, capsys, "run", "three")
    code, out, _ = run(env, capsys, "list", "--json")
    listed = {j["name"]: j for j in json.loads(out)}
    assert code == 0
    assert sorted(listed) == ["rev", "three"]
    assert listed["three"]["steps"] == ["count", "count", "count"]
    assert listed["three"]["schedule"] is None
    assert listed["three"]["last_run"]["status"] == "succeeded"  # the newer of its two runs
    assert listed["rev"]["last_run"]["status"] == "review"
    next_run = datetime.fromisoformat(listed["rev"]["next_run"])
    assert next_run.weekday() < 5
    assert 6 <= next_run.hour <= 18
    assert next_run.minute % 15 == 0


def test_unattended_logs_are_json_lines_with_run_id_and_step(env, capsys):
    code, out, err = run(env, capsys, "run", "three", "--json", log_json=True)
    run_id = json.loads(out)["run_id"]
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert code == 0
    assert lines
    assert all(line["run_id"] == run_id for line in lines)
    in_steps = [line for line in lines if "step" in line]
    assert {line["step"] for line in in_steps} == {"1:count", "2:count", "3:count"}
    counting = [line for line in in_steps if line["event"] == "counting"]
    assert [(line["step"], line["label"]) for line in counting] == [
        ("1:count", "first"), ("2:count", "second"), ("3:count", "third")]
    started = next(line for line in lines if line["event"] == "job started")
    assert "step" not in started
    assert started["job"] == "three"


def test_schedule_prints_cron_and_writes_systemd_units(env, capsys, tmp_path):
    config = tmp_path / "sapbridge.toml"
    config.write_text("", encoding="utf-8")
    env["base"] = ["--config", str(config), *env["base"]]
    code, out, _ = run(env, capsys, "schedule", "rev", "--cron")
    assert code == 0
    line = out.splitlines()[1]
    program = Path(sys.executable).parent / "sapbridge"
    assert line.startswith(f"*/15 6-18 * * 1-5 cd {Path.cwd()} && {program} --config {config} --db ")
    assert f"--log-json job --jobs-dir {env['tmp'] / 'proj' / 'jobs'} run rev >> " in line
    units = tmp_path / "units"
    code, out, _ = run(env, capsys, "schedule", "rev", "--systemd", "--write", str(units))
    assert code == 0
    timer = (units / "sapbridge-job-rev.timer").read_text(encoding="utf-8")
    assert "OnCalendar=Mon..Fri *-*-* 06,07,08,09,10,11,12,13,14,15,16,17,18:00/15:00" in timer
    assert oct((units / "sapbridge-job-rev.service").stat().st_mode & 0o777) == "0o644"
    code, _, err = run(env, capsys, "schedule", "three", "--cron")
    assert (code, "job three has no schedule" in err) == (1, True)
    code, _, err = run(env, capsys, "schedule", "rev")
    assert code == 2


def test_schedule_refuses_a_db_url_with_a_password(env, capsys):
    env["base"] = ["--db", "postgresql+psycopg://otc:s3cret@db.example.com/otc"]
    code, out, err = run(env, capsys, "schedule", "rev", "--cron")
    assert code == 1
    assert "holds a password" in err
    assert "s3cret" not in out + err
