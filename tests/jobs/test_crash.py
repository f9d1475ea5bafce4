"""Real processes: a run stopped by SIGTERM or killed by SIGKILL is resumed from its failed step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sapbridge.cli import main
from sapbridge.jobs.history import get_run, list_runs
from sapbridge.jobs.steps import Option, StepOutcome, register_step, text
from sapbridge.leases.lock import current_holder
from sapbridge.store import open_store

from .conftest import write_job

SCRIPT = Path(__file__).with_name("job_process.py")
ROOT = Path(__file__).resolve().parents[2]

JOB = """
name = "crashy"
system = "demo"
[[steps]]
kind = "mark"
label = "first"
[[steps]]
kind = "wait"
[[steps]]
kind = "mark"
label = "last"
"""


@pytest.fixture
def env(tmp_path, calls):
    """The same step kinds in this process, where the resume runs; ``wait`` returns at once here."""
    marks = tmp_path / "marks"
    marks.mkdir()
    resumed: list[str] = []

    def mark(ctx, options):
        resumed.append(options["label"])
        return StepOutcome({"marked": 1})

    register_step("mark", mark, options={"label": Option(text, required=True)})
    register_step("wait", lambda ctx, options: resumed.append("wait") or StepOutcome({"waited": 1}))
    write_job(tmp_path, "crashy", JOB)
    db = f"sqlite:///{tmp_path / 'crash.db'}"
    argv = ["--db", db, "--as", "ops", "job", "--jobs-dir", str(tmp_path / "jobs"), "run", "crashy"]
    return {"db": db, "argv": argv, "marks": marks, "resumed": resumed}


def start_and_wait(env) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, str(SCRIPT), str(env["marks"]), "--", *env["argv"]],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 30
    while not (env["marks"] / "waiting").exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the job never reached its waiting step"
        time.sleep(0.05)
    return child


def resume(env, capsys) -> int:
    try:
        main([*env["argv"], "--resume"])
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        capsys.readouterr()
    return 0


def test_sigterm_records_the_run_failed_and_resume_skips_the_done_step(env, capsys):
    child = start_and_wait(env)
    run_id = (env["marks"] / "waiting").read_text(encoding="utf-8")
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 1, err  # failed, resumable
    store = open_store(env["db"])
    run = get_run(store.engine, run_id)
    assert run.status == "failed"
    assert run.error == "aborted: terminated by signal 15"
    assert [(s.status, s.error) for s in run.steps] == [
        ("succeeded", None), ("failed", "aborted: terminated by signal 15"), ("pending", None)]
    assert current_holder(store.engine, "crashy") is None  # the lease was given back
    store.dispose()
    assert resume(env, capsys) == 0
    assert env["resumed"] == ["wait", "last"]


def test_sigkill_leaves_an_interrupted_run_that_the_resume_takes_over(env, capsys):
    child = start_and_wait(env)
    run_id = (env["marks"] / "waiting").read_text(encoding="utf-8")
    child.kill()
    child.communicate(timeout=30)
    store = open_store(env["db"])
    holder = current_holder(store.engine, "crashy")
    assert holder is None  # the lease row is there, but its process is gone
    assert [(r.run_id, r.status) for r in list_runs(store.engine, "crashy")] == [(run_id, "interrupted")]
    store.dispose()
    assert resume(env, capsys) == 0
    assert env["resumed"] == ["wait", "last"]
    store = open_store(env["db"])
    run = get_run(store.engine, run_id)
    assert run.status == "succeeded"
    assert [s.attempts for s in run.steps] == [1, 2, 1]
    store.dispose()
