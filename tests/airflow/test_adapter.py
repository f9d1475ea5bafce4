"""The adapter every Airflow task runs through (no Airflow needed): options, run ids, secrets, leases."""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from sapbridge.airflow.adapter import (
    airflow_options,
    plan_job,
    run_step,
    step_run_id,
    supply_sap_password,
)
from sapbridge.config import SystemConfig, load_settings, project_root
from sapbridge.errors import ConfigError
from sapbridge.jobs.definition import load_job
from sapbridge.jobs.runner import JobLockedError
from sapbridge.leases.tables import job_locks


def _settings(tmp_path, body: str):
    path = tmp_path / "sapbridge.toml"
    path.write_text(body, encoding="utf-8")
    return load_settings(path)


def _nightly(tmp_path):
    (tmp_path / "jobs").mkdir()
    shutil.copy(project_root() / "jobs" / "nightly.toml", tmp_path / "jobs")
    shutil.copytree(project_root() / "fixtures" / "samples", tmp_path / "fixtures" / "samples")
    return load_job(tmp_path / "jobs" / "nightly.toml")


def test_options_default_and_read_from_the_config(tmp_path):
    default = airflow_options(load_settings(None))
    assert default.pool("demo") == ("sapbridge_demo", 4)
    assert (default.retries, default.retry_delay) == (2, timedelta(minutes=5))
    read = airflow_options(_settings(tmp_path, '[airflow]\npool_slots = 6\nretry_delay_seconds = 30\n'
                                               '[airflow.pools]\nPRD = { name = "sap_prd", slots = 12 }\n'))
    assert read.pool("PRD") == ("sap_prd", 12)
    assert read.pool("QAS") == ("sapbridge_QAS", 6)
    assert read.retry_delay == timedelta(seconds=30)


@pytest.mark.parametrize(("body", "problem"), [
    ("[airflow]\nretries = -1\n", "[airflow] retries must be a whole number >= 0, not -1"),
    ('[airflow]\npool_slots = "many"\n', "[airflow] pool_slots must be a whole number >= 0"),
    ("[airflow]\npools = 3\n", "[airflow.pools] must map systems to tables"),
    ('[airflow]\nallow_apply = "nightly"\n', "[airflow] allow_apply must be a list of job names"),
])
def test_bad_options_are_one_clear_line(tmp_path, body, problem):
    with pytest.raises(ConfigError) as caught:
        airflow_options(_settings(tmp_path, body))
    assert problem in str(caught.value)
    assert "\n" not in str(caught.value)


def test_step_run_id_is_the_same_on_every_retry_of_a_dag_run_and_differs_between_runs():
    first = step_run_id("sapbridge_nightly", "scheduled__2026-12-01T02:30:00+00:00", 2)
    assert first == step_run_id("sapbridge_nightly", "scheduled__2026-12-01T02:30:00+00:00", 2)
    assert first != step_run_id("sapbridge_nightly", "scheduled__2026-12-02T02:30:00+00:00", 2)
    assert first != step_run_id("sapbridge_nightly", "scheduled__2026-12-01T02:30:00+00:00", 3)
    assert len(first) == 36


def test_sap_password_comes_from_the_deployment_only_when_the_environment_has_none(monkeypatch):
    system = SystemConfig(name="PRD", odata_url="https://sap.example.invalid", password_env="PRD_PW")
    asked: list[str] = []

    def lookup(name: str) -> str:
        asked.append(name)
        return "from-airflow"

    monkeypatch.delenv("PRD_PW", raising=False)
    assert supply_sap_password(system, lookup) is True
    assert system.password() == "from-airflow"
    monkeypatch.setenv("PRD_PW", "from-env")
    assert supply_sap_password(system, lookup) is False
    assert system.password() == "from-env", "the environment variable wins"
    assert supply_sap_password(replace(system, kind="replay"), lookup) is False
    assert asked == ["PRD"]
    monkeypatch.delenv("PRD_PW")
    assert supply_sap_password(system, lambda name: None) is False
    assert "PRD_PW" not in os.environ


def test_a_step_waits_its_turn_while_a_cli_run_of_the_job_holds_its_lease(store, tmp_path):
    job = _nightly(tmp_path)
    now = datetime.now(UTC)
    with store.engine.begin() as conn:  # `sapbridge job run nightly`, alive (the test runner's parent)
        conn.execute(insert(job_locks).values(job="nightly", run_id="cli-run", host=socket.gethostname(),
                                              pid=os.getppid(), heartbeat_at=now,
                                              expires_at=now + timedelta(minutes=5)))
    with pytest.raises(JobLockedError, match="job nightly is already running: run cli-run"):
        run_step(load_settings(None), store, job, 4, run_id="r", run_date=now.date(), actor="airflow:t")


def test_plan_refuses_an_unknown_system_before_any_task_exists(tmp_path):
    job = _nightly(tmp_path)
    with pytest.raises(ConfigError, match="unknown system 'nowhere'"):
        plan_job(load_settings(None), replace(job, system="nowhere"), airflow_options(load_settings(None)))
