"""``sapbridge job``: list, run, inspect and schedule the jobs in ``jobs/*.toml``.

Exit codes of ``job run`` (for schedulers): 0 succeeded, 1 failed (resume with ``--resume``),
3 finished with exceptions to review, 4 another run of the job is still running; 2 is a usage
error (click).
"""

from __future__ import annotations

import shutil
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from sapbridge.cli.context import AppContext
from sapbridge.cli.output import echo_json, print_table
from sapbridge.errors import ConfigError, JobError
from sapbridge.jobs.definition import JobDefinition, find_job, jobs_dir, load_jobs
from sapbridge.jobs.history import RunRecord, get_run, last_runs, list_runs
from sapbridge.jobs.runner import JobTerminatedError, RunResult, run_job
from sapbridge.jobs.schedule import Invocation, cron_entry, next_runs, systemd_units
from sapbridge.tabular import atomic_path

__all__ = ["COMMANDS", "job"]

_json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


class JobApp:
    """The CLI context plus the jobs folder chosen for this invocation."""

    def __init__(self, app: AppContext, folder: str | None) -> None:
        self.app = app
        self.folder = folder

    @property
    def directory(self) -> Path:
        """The jobs folder (``--jobs-dir``, ``[jobs] dir``, or the project's ``jobs/``)."""
        return jobs_dir(self.app.settings, self.folder)

    def find(self, name: str) -> JobDefinition:
        """A job by name, validated against the configured systems."""
        return find_job(self.directory, name, self.app.settings)


@click.group()
@click.option("--jobs-dir", "folder", envvar="SAPBRIDGE_JOBS_DIR", type=click.Path(file_okay=False),
              help="Folder of job files (default: [jobs] dir in the config, else ./jobs of the project).")
@click.pass_context
def job(ctx: click.Context, folder: str | None) -> None:
    """Run integration jobs (sync, reconcile, KPIs, push plans) defined in jobs/*.toml.

    \b
    Example:
      sapbridge job list
      sapbridge job run nightly
      sapbridge job run nightly --resume
      sapbridge job history nightly
      sapbridge job schedule nightly --systemd
    """
    ctx.obj = JobApp(ctx.find_object(AppContext) or AppContext(), folder)


def _next_run(definition: JobDefinition) -> str:
    if not definition.schedule:
        return ""
    return next_runs(definition.schedule, datetime.now().astimezone())[0].isoformat(timespec="minutes")


@job.command("list")
@_json_option
@click.pass_obj
def list_cmd(japp: JobApp, as_json: bool) -> None:
    """List the jobs with their steps, schedule, next scheduled time and last run.

    \b
    Example:
      sapbridge job list --json
    """
    definitions = load_jobs(japp.directory, japp.app.settings)
    latest = last_runs(japp.app.store.engine)
    rows: list[dict[str, Any]] = []
    for d in definitions:
        last = latest.get(d.name)
        rows.append({"name": d.name, "system": d.system, "file": str(d.path),
                     "description": d.description, "steps": [s.kind for s in d.steps],
                     "schedule": d.schedule, "next_run": _next_run(d) or None,
                     "last_run": last.as_dict() if last else None})
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(f"no jobs in {japp.directory}")
        return
    print_table(f"jobs in {japp.directory}", ["job", "system", "steps", "schedule", "next", "last run"],
                [[r["name"], r["system"], ", ".join(r["steps"]), r["schedule"] or "", r["next_run"] or "",
                  f"{latest[r['name']].status} {latest[r['name']].started_at:%Y-%m-%d %H:%M}"
                  if r["name"] in latest else ""] for r in rows])


def _print_result(result: RunResult) -> None:
    verb = "resumed" if result.resumed else "ran"
    click.echo(f"job {result.job} {verb} as run {result.run_id}: {result.status}")
    for step in result.steps:
        counts = ", ".join(f"{k}={v}" for k, v in step.counts.items() if not isinstance(v, dict | list))
        review = f", {step.needs_review} to review" if step.needs_review else ""
        detail = step.error or counts
        click.echo(f"  {step.position:>2} {step.kind:<22} {step.status:<9} {detail}{review}")
    if result.status == "failed":
        click.echo(f"resume with: sapbridge job run {result.job} --resume")


def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM stops the run like Ctrl-C: it is recorded failed (resumable), exit 1."""
    msg = f"terminated by signal {signum}"
    raise JobTerminatedError(msg)


@job.command("run")
@click.argument("name")
@click.option("--resume", is_flag=True,
              help="Resume the job's last failed run from its failed step (done steps are skipped).")
@_json_option
@click.pass_obj
def run_cmd(japp: JobApp, name: str, resume: bool, as_json: bool) -> None:
    """Run a job now: 0 succeeded, 1 failed, 3 exceptions to review, 4 already running.

    \b
    Example:
      sapbridge job run nightly
      sapbridge --log-json job run nightly --resume
    """
    app = japp.app
    definition = japp.find(name)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        result = run_job(app.store, app.settings, definition, actor=app.actor,
                         run_id=None if resume else app.run_id, resume=resume)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        echo_json({"run_id": result.run_id, "job": result.job, "system": result.system,
                   "status": result.status, "resumed": result.resumed, "error": result.error,
                   "needs_review": result.needs_review, "exit_code": result.exit_code,
                   "steps": [{"position": s.position, "kind": s.kind, "status": s.status,
                              "counts": s.counts, "needs_review": s.needs_review, "error": s.error,
                              "seconds": round(s.seconds, 3)} for s in result.steps]})
    else:
        _print_result(result)
    if result.exit_code:
        sys.exit(result.exit_code)


def _duration(run: RunRecord) -> str:
    return "" if run.seconds is None else f"{run.seconds:.1f}s"


@job.command("history")
@click.argument("name", required=False)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="How many runs to show.")
@_json_option
@click.pass_obj
def history_cmd(japp: JobApp, name: str | None, limit: int, as_json: bool) -> None:
    """Show recent runs (of one job or all): status, start, duration, steps, counts, errors.

    \b
    Example:
      sapbridge job history nightly --limit 5
    """
    runs = list_runs(japp.app.store.engine, name, limit=limit)
    if as_json:
        echo_json([r.as_dict() for r in runs])
        return
    if not runs:
        click.echo("no job runs yet")
        return
    print_table("job runs (job show RUN for a run's steps and counts)",
                ["run", "job", "status", "started (UTC)", "duration", "steps", "review", "error"],
                [[r.run_id[:8], r.job, r.status, f"{r.started_at:%Y-%m-%d %H:%M}", _duration(r),
                  f"{r.steps_done}/{r.steps_total}", r.needs_review, r.error or ""] for r in runs])


@job.command("show")
@click.argument("run_id")
@_json_option
@click.pass_obj
def show_cmd(japp: JobApp, run_id: str, as_json: bool) -> None:
    """Show one run and each of its steps (a unique prefix of the run id, or ``latest``).

    \b
    Example:
      sapbridge job show 3f2a9c
      sapbridge job show latest
    """
    run = _latest_run(japp) if run_id == LATEST else get_run(japp.app.store.engine, run_id)
    if as_json:
        echo_json(run.as_dict())
        return
    click.echo(f"run {run.run_id}  job {run.job}  system {run.system}  {run.status}")
    click.echo(f"started {run.started_at:%Y-%m-%d %H:%M:%S} UTC by {run.actor} on {run.host} "
               f"(pid {run.pid}); duration {_duration(run) or 'still running'}")
    if run.error:
        click.echo(f"error: {run.error}")
    print_table("steps", ["#", "kind", "status", "seconds", "attempts", "review", "counts", "error"],
                [[s.position, s.kind, s.status, s.seconds, s.attempts, s.needs_review,
                  ", ".join(f"{k}={v}" for k, v in s.counts.items() if not isinstance(v, dict | list)),
                  s.error or ""] for s in run.steps])


LATEST = "latest"
"""``job show latest``: the newest run of any job."""


def _latest_run(japp: JobApp) -> RunRecord:
    runs = list_runs(japp.app.store.engine, None, limit=1)
    if not runs:
        msg = "no job runs yet (run one with: sapbridge job run NAME)"
        raise JobError(msg)
    return runs[0]


def _program() -> Path:
    beside = Path(sys.executable).parent / "sapbridge"
    if beside.is_file():
        return beside
    found = shutil.which("sapbridge")
    if found is None:
        msg = "cannot find the installed sapbridge command (pip install sapbridge first)"
        raise ConfigError(msg)
    return Path(found).resolve()


def _has_password(url: str) -> bool:
    try:
        return make_url(url).password is not None
    except ArgumentError:
        return False


def _invocation(japp: JobApp, definition: JobDefinition, workdir: Path | None) -> Invocation:
    app = japp.app
    db_url = app.db_url
    if db_url is not None and _has_password(db_url):
        msg = "the --db URL holds a password; put the store URL in the config file instead"
        raise ConfigError(msg)
    config = app.settings.path
    return Invocation(job=definition.name, program=_program(),
                      workdir=(workdir or Path.cwd()).resolve(),
                      config=config.resolve() if config else None,
                      jobs_dir=japp.directory.resolve(), db_url=db_url)


@job.command("schedule")
@click.argument("name")
@click.option("--cron", "style", flag_value="cron", help="Print a crontab line.")
@click.option("--systemd", "style", flag_value="systemd", help="Print (or write) a service and a timer unit.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              help="Working directory of the scheduled run (default: the current one).")
@click.option("--write", "write_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the systemd units into DIR (e.g. /etc/systemd/system) instead of printing.")
@click.pass_obj
def schedule_cmd(japp: JobApp, name: str, style: str | None, workdir: Path | None,
                 write_dir: Path | None) -> None:
    """Generate a cron entry or systemd timer for the job's schedule.

    The entry runs the installed sapbridge with the absolute config path, working directory and
    jobs folder, and --log-json so every log line is JSON with the run id and step.

    \b
    Example:
      sapbridge job schedule nightly --cron >> /tmp/crontab && crontab /tmp/crontab
      sapbridge job schedule nightly --systemd --write /etc/systemd/system
    """
    if style is None:
        raise click.UsageError("choose --cron or --systemd")
    definition = japp.find(name)
    if not definition.schedule:
        msg = f"{definition.path}: job {name} has no schedule; add schedule = \"30 2 * * *\""
        raise ConfigError(msg)
    invocation = _invocation(japp, definition, workdir)
    if style == "cron":
        if write_dir is not None:
            raise click.UsageError("--write is for --systemd; append the cron line with crontab")
        click.echo(cron_entry(definition.schedule, invocation), nl=False)
        return
    units = systemd_units(definition.schedule, invocation)
    if write_dir is None:
        for file_name, content in units.items():
            click.echo(f"# --- {file_name}\n{content}")
        return
    for file_name, content in units.items():
        with atomic_path(write_dir / file_name) as tmp:
            tmp.write_text(content, encoding="utf-8")
            tmp.chmod(0o644)
        click.echo(f"wrote {write_dir / file_name}")
    timer = f"{next(iter(units)).rsplit('.', 1)[0]}.timer"
    click.echo(f"enable with: systemctl daemon-reload && systemctl enable --now {timer}")


COMMANDS = [job]
