"""Job files: the shipped nightly job loads; every kind of mistake is one line naming the file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sapbridge.config import load_settings, project_root
from sapbridge.errors import JobError
from sapbridge.jobs.definition import find_job, jobs_dir, load_job, load_jobs
from sapbridge.jobs.steps import StepContext

from .conftest import THREE_STEPS, write_job


def test_shipped_nightly_job_loads_with_its_four_steps_and_schedule():
    job = load_job(project_root() / "jobs" / "nightly.toml", load_settings(None))
    assert job.name == "nightly"
    assert job.system == "demo"
    assert [s.kind for s in job.steps] == ["sync", "reconcile_cash", "reconcile_recoveries", "kpis"]
    assert job.steps[1].options == {"payments": "fixtures/samples/bank-demo.camt053.xml",
                                    "out": "out/{date}/cash"}
    assert job.schedule == "30 2 * * *"
    assert job.root == project_root().resolve()


def test_paths_resolve_against_the_project_root_with_run_id_and_date(tmp_path, calls):
    job = load_job(write_job(tmp_path / "proj", "three", THREE_STEPS))
    ctx = StepContext(bridge=None, job="three", system="demo", company_codes=(),  # type: ignore[arg-type]
                      run_id="r-1", run_date=date(2026, 11, 23), actor="ops", root=job.root, position=1)
    assert ctx.path("out/{date}/cash-{run_id}") == (tmp_path / "proj").resolve() / "out/2026-11-23/cash-r-1"
    assert ctx.path("/abs/{date}") == Path("/abs/2026-11-23")


def test_definition_hash_changes_with_options_not_with_description(tmp_path, calls):
    first = load_job(write_job(tmp_path, "three", THREE_STEPS))
    described = load_job(write_job(tmp_path, "three", 'description = "x"\n' + THREE_STEPS))
    changed = load_job(write_job(tmp_path, "three", THREE_STEPS.replace('"third"', '"3rd"')))
    assert first.definition_hash() == described.definition_hash()
    assert first.definition_hash() != changed.definition_hash()


BASE = 'name = "bad"\nsystem = "demo"\n'
STEP = '[[steps]]\nkind = "sync"\n'


@pytest.mark.parametrize(("body", "problem"), [
    (BASE + '[[steps]]\nkind = "teleport"\n', "step 1: unknown step kind 'teleport'"),
    (BASE + STEP + 'objekts = "all"\n', "step 1 (sync): unknown option 'objekts'"),
    (BASE + STEP + 'objects = ["customers", "invoices"]\n', "names unknown object(s) invoices"),
    (BASE + STEP + 'mode = "fast"\n', "option 'mode' must be one of incremental, full"),
    ('name = "bad"\n' + STEP, "missing system"),
    (BASE + 'schedule = "30 25 * * *"\n' + STEP, "cron schedule '30 25 * * *' is not valid"),
    (BASE + 'schedule = "30 2 * *"\n' + STEP, "must have 5 fields"),
    (BASE + 'schedule = "0 0 L * *"\n' + STEP, "day-of-month uses an extension"),
    (BASE, "needs at least one [[steps]] table"),
    (BASE + 'owner = "ops"\n' + STEP, "unknown key(s) owner"),
    (BASE + STEP + '[[steps]]\nkind = "reconcile_cash"\nout = "out"\n', "step 2 (reconcile_cash): missing option 'payments'"),
    (BASE + '[[steps]]\nkind = "kpis"\nout = "out/{day}"\n', "may only use {run_id} and {date}"),
    ('name = "no spaces"\nsystem = "demo"\n' + STEP, "name 'no spaces' must be letters"),
    (BASE + 'company_codes = "1000"\n' + STEP, "company_codes must be a list"),
    (BASE + "[[steps]\n", "not valid TOML"),
])
def test_invalid_job_files_fail_with_one_line_naming_file_and_problem(tmp_path, body, problem):
    path = write_job(tmp_path, "bad", body)
    with pytest.raises(JobError) as info:
        load_job(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message


def test_unknown_system_is_refused_when_settings_are_given(tmp_path):
    path = write_job(tmp_path, "prd", 'name = "prd"\nsystem = "PRD"\n' + STEP)
    assert load_job(path).system == "PRD"
    with pytest.raises(JobError, match=r"prd\.toml: system 'PRD' is not configured \(known: demo\)"):
        load_job(path, load_settings(None))


def test_duplicate_job_names_in_one_folder_are_refused(tmp_path, calls):
    write_job(tmp_path, "a", THREE_STEPS)
    write_job(tmp_path, "b", THREE_STEPS)
    with pytest.raises(JobError, match=r"b\.toml: job name 'three' is already used by .*a\.toml"):
        load_jobs(tmp_path / "jobs")


def test_find_job_runs_a_good_job_beside_a_broken_one_and_names_the_broken_one_asked_for(tmp_path, calls):
    write_job(tmp_path, "three", THREE_STEPS)
    write_job(tmp_path, "broken", 'name = "broken"\nsystem = "demo"\n[[steps]]\nkind = "nope"\n')
    folder = tmp_path / "jobs"
    assert find_job(folder, "three").name == "three"
    with pytest.raises(JobError, match=r"broken\.toml: step 1: unknown step kind 'nope'"):
        find_job(folder, "broken")
    with pytest.raises(JobError, match=r"broken\.toml"):
        load_jobs(folder)


def test_find_job_lists_known_jobs_when_the_name_is_wrong(tmp_path, calls):
    write_job(tmp_path, "three", THREE_STEPS)
    with pytest.raises(JobError, match=r"no job named 'thre' in .* \(known: three\)"):
        find_job(tmp_path / "jobs", "thre")


def test_jobs_dir_comes_from_override_then_config_then_project(tmp_path):
    config = tmp_path / "sapbridge.toml"
    config.write_text('[jobs]\ndir = "my-jobs"\n', encoding="utf-8")
    assert jobs_dir(load_settings(config), "/x") == Path("/x")
    assert jobs_dir(load_settings(config)) == tmp_path / "my-jobs"
    assert jobs_dir(load_settings(None)) == project_root() / "jobs"
