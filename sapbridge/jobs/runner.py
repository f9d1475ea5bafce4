"""Run a job: take its lease, run its steps in order, record each outcome, release the lease.

A failing step stops the run (status ``failed``); ``resume=True`` runs the job's last failed
run again under the same run id, skipping the steps that already succeeded in it. A run whose
steps left exceptions to review ends ``review``. Every log line of a run carries ``run_id``,
``job`` and (inside a step) ``step`` through structlog context variables.
"""

from __future__ import annotations

import json
import os
import socket
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from sapbridge.app import Bridge
from sapbridge.audit.log import record
from sapbridge.config import Settings
from sapbridge.errors import JobError, SapBridgeError
from sapbridge.jobs.definition import JobDefinition, StepDefinition
from sapbridge.jobs.steps import StepContext, StepOutcome, step_kind
from sapbridge.jobs.tables import job_runs, job_steps
from sapbridge.leases.lock import Acquired, Heartbeat, LockHolder, acquire, release
from sapbridge.logs import get_logger
from sapbridge.store import Store

__all__ = [
    "EXIT_CODES",
    "EXIT_LOCKED",
    "JobLockedError",
    "JobTerminatedError",
    "RunResult",
    "StepResult",
    "run_job",
]



def _log() -> Any:
    """A logger bound now, so it follows the logging the CLI set up (stream, JSON or console)."""
    return get_logger(__name__)

EXIT_CODES = {"succeeded": 0, "failed": 1, "review": 3}
"""Process exit code of ``sapbridge job run`` by run status (2 is click's usage error)."""

EXIT_LOCKED = 4
"""``job run`` refused: another run of the same job holds the lease."""


class JobLockedError(JobError):
    """Another live run of the job holds its lease."""

    def __init__(self, job: str, holder: LockHolder) -> None:
        super().__init__(f"job {job} is already running: {holder.describe()}", job=job,
                         holder=holder, exit_code=EXIT_LOCKED)


@dataclass(frozen=True, slots=True)
class StepResult:
    """What happened to one step in this invocation."""

    position: int
    kind: str
    status: str
    counts: dict[str, Any] = field(default_factory=dict)
    needs_review: int = 0
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of :func:`run_job`."""

    run_id: str
    job: str
    system: str
    status: str
    resumed: bool
    steps: tuple[StepResult, ...]
    error: str | None

    @property
    def exit_code(self) -> int:
        """0 succeeded, 1 failed, 3 finished with exceptions to review."""
        return EXIT_CODES[self.status]

    @property
    def needs_review(self) -> int:
        """Exceptions left to review over all steps of the run."""
        return sum(s.needs_review for s in self.steps)


class JobTerminatedError(KeyboardInterrupt):
    """The run was stopped by a signal (SIGTERM from ``systemctl stop``, say)."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(exc, SapBridgeError | JobTerminatedError) and first:
        return first
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _resume_target(engine: Engine, job: JobDefinition) -> tuple[str, date]:
    """The run id and date of the job's latest run, which must have failed."""
    with engine.connect() as conn:
        latest = conn.execute(select(job_runs).where(job_runs.c.job == job.name)
                              .order_by(job_runs.c.started_at.desc()).limit(1)).mappings().first()
    if latest is None:
        msg = f"job {job.name} has no run to resume"
        raise JobError(msg)
    if latest["status"] not in ("failed", "running"):  # running: see acquire, which refuses a live one
        msg = f"job {job.name}: latest run {latest['run_id']} {latest['status']}; nothing to resume"
        raise JobError(msg)
    if latest["definition_hash"] != job.definition_hash():
        msg = (f"job {job.name}: {job.path} changed since run {latest['run_id']}; "
               "run it afresh without --resume")
        raise JobError(msg)
    return str(latest["run_id"]), latest["started_at"].date()


def _mark_interrupted(engine: Engine, taken_from: LockHolder) -> None:
    """The run whose abandoned lease was taken over failed: its process is gone."""
    reason = f"interrupted: {taken_from.host} pid {taken_from.pid} stopped without finishing"
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(update(job_runs).where(job_runs.c.run_id == taken_from.run_id,
                                            job_runs.c.status == "running")
                     .values(status="failed", finished_at=now, error=reason))
        conn.execute(update(job_steps).where(job_steps.c.run_id == taken_from.run_id,
                                             job_steps.c.status == "running")
                     .values(status="failed", finished_at=now, error=reason))


def _abort(engine: Engine, run_id: str, reason: str) -> None:
    """Best effort: a run stopped by an interrupt or a store failure is not left 'running'."""
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            conn.execute(update(job_runs).where(job_runs.c.run_id == run_id,
                                                job_runs.c.status == "running")
                         .values(status="failed", finished_at=now, error=f"aborted: {reason}"))
            conn.execute(update(job_steps).where(job_steps.c.run_id == run_id,
                                                 job_steps.c.status == "running")
                         .values(status="failed", finished_at=now, error=f"aborted: {reason}"))
    except SQLAlchemyError:
        _log().exception("could not record the aborted run")


def _start(engine: Engine, job: JobDefinition, run_id: str, actor: str, resumed: bool) -> set[int]:
    """Record the run as running; return the positions already done (on a resume)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if resumed:
            conn.execute(update(job_runs).where(job_runs.c.run_id == run_id).values(
                status="running", finished_at=None, error=None, host=socket.gethostname(),
                pid=os.getpid()))
            done = set(conn.execute(select(job_steps.c.position).where(
                job_steps.c.run_id == run_id, job_steps.c.status == "succeeded")).scalars())
        else:
            conn.execute(insert(job_runs).values(
                run_id=run_id, job=job.name, system=job.system, status="running", started_at=now,
                actor=actor, host=socket.gethostname(), pid=os.getpid(),
                definition_hash=job.definition_hash(), source=str(job.path)))
            conn.execute(insert(job_steps), [
                {"run_id": run_id, "position": s.position, "kind": s.kind, "status": "pending",
                 "needs_review": 0, "attempts": 0} for s in job.steps])
            done = set()
        record(conn, action="job_run", actor=actor, run_id=run_id,
               detail={"job": job.name, "event": "resumed" if resumed else "started",
                       "system": job.system, "skipping": sorted(done)})
    return done


def _set_step(engine: Engine, run_id: str, position: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(job_steps).where(job_steps.c.run_id == run_id,
                                             job_steps.c.position == position).values(**values))


def _done_step(engine: Engine, run_id: str, step: StepDefinition) -> StepResult:
    with engine.connect() as conn:
        row = conn.execute(select(job_steps).where(job_steps.c.run_id == run_id,
                                                   job_steps.c.position == step.position)).first()
    assert row is not None
    counts = json.loads(row.counts) if row.counts else {}
    return StepResult(step.position, step.kind, "skipped", counts, int(row.needs_review))


def _run_step(engine: Engine, ctx: StepContext, step: StepDefinition) -> StepResult:
    started = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(update(job_steps).where(job_steps.c.run_id == ctx.run_id,
                                             job_steps.c.position == step.position)
                     .values(status="running", started_at=started, finished_at=None, error=None,
                             attempts=job_steps.c.attempts + 1))
    _log().info("step started", options=step.options)
    try:
        outcome = step_kind(step.kind).run(ctx, step.options)
        if not isinstance(outcome, StepOutcome):
            msg = f"step kind {step.kind} returned {type(outcome).__name__}, not StepOutcome"
            raise JobError(msg)
        counts_json = json.dumps(outcome.counts, default=str)  # in the step's own order
    except Exception as exc:  # noqa: BLE001 - any step failure is recorded and stops the run
        error = _one_line(exc)
        finished = datetime.now(UTC)
        _set_step(engine, ctx.run_id, step.position, status="failed", finished_at=finished,
                  error=error)
        if isinstance(exc, SapBridgeError):
            _log().error("step failed", error=error)
        else:
            _log().error("step failed", error=error, traceback=traceback.format_exc())
        return StepResult(step.position, step.kind, "failed", error=error,
                          seconds=(finished - started).total_seconds())
    finished = datetime.now(UTC)
    _set_step(engine, ctx.run_id, step.position, status="succeeded", finished_at=finished,
              counts=counts_json, needs_review=outcome.needs_review)
    counts = json.loads(counts_json)
    _log().info("step finished", counts=counts, needs_review=outcome.needs_review)
    return StepResult(step.position, step.kind, "succeeded", counts, outcome.needs_review,
                      seconds=(finished - started).total_seconds())


def _finish(engine: Engine, job: JobDefinition, run_id: str, actor: str,
            steps: list[StepResult]) -> tuple[str, str | None]:
    failed = next((s for s in steps if s.status == "failed"), None)
    review = sum(s.needs_review for s in steps)
    status = "failed" if failed else "review" if review else "succeeded"
    error = f"step {failed.position} ({failed.kind}): {failed.error}" if failed else None
    with engine.begin() as conn:
        conn.execute(update(job_runs).where(job_runs.c.run_id == run_id).values(
            status=status, finished_at=datetime.now(UTC), error=error))
        record(conn, action="job_run", actor=actor, run_id=run_id,
               detail={"job": job.name, "event": "finished", "status": status,
                       "needs_review": review, "error": error})
    return status, error


def _steps(store: Store, settings: Settings, job: JobDefinition, run_id: str, run_date: date,
           actor: str, done: set[int], heartbeat: Heartbeat) -> list[StepResult]:
    system = settings.system(job.system)
    codes = job.company_codes or system.company_codes
    bridge = Bridge.over(store, settings, actor=actor, run_id=run_id)
    results: list[StepResult] = []
    for step in job.steps:
        with structlog.contextvars.bound_contextvars(step=step.label):
            if step.position in done:
                _log().info("step skipped: done earlier in this run")
                results.append(_done_step(store.engine, run_id, step))
                continue
            if heartbeat.lost:
                lost = StepResult(step.position, step.kind, "failed",
                                  error="the job's lease was taken by another run")
                _set_step(store.engine, run_id, step.position, status="failed", error=lost.error)
                results.append(lost)
                break
            ctx = StepContext(bridge=bridge, job=job.name, system=system.name,
                              company_codes=tuple(codes), run_id=run_id, run_date=run_date,
                              actor=actor, root=job.root, position=step.position)
            results.append(_run_step(store.engine, ctx, step))
            if results[-1].status == "failed":
                break
    return results


def run_job(store: Store, settings: Settings, job: JobDefinition, *, actor: str,
            run_id: str | None = None, resume: bool = False) -> RunResult:
    """Run ``job`` (or resume its last failed run); raise :class:`JobLockedError` if it runs."""
    settings.system(job.system)  # an unknown system fails before anything is recorded
    engine = store.engine
    if resume:
        run_id, run_date = _resume_target(engine, job)
    else:
        run_id, run_date = run_id or str(uuid.uuid4()), datetime.now(UTC).date()
    with structlog.contextvars.bound_contextvars(run_id=run_id, job=job.name):
        taken = acquire(engine, job.name, run_id)
        if not isinstance(taken, Acquired):
            raise JobLockedError(job.name, taken)
        try:
            if taken.taken_from is not None:
                _log().warning("took over an abandoned job lease", previous=taken.taken_from.describe())
                _mark_interrupted(engine, taken.taken_from)
            if resume:  # re-read: the run may only now have been marked failed
                _resume_target(engine, job)
            done = _start(engine, job, run_id, actor, resume)
            _log().info("job started", system=job.system, resumed=resume, steps=len(job.steps))
            with Heartbeat(engine, job.name, run_id) as heartbeat:
                steps = _steps(store, settings, job, run_id, run_date, actor, done, heartbeat)
            status, error = _finish(engine, job, run_id, actor, steps)
        except BaseException as exc:
            _abort(engine, run_id, _one_line(exc) or type(exc).__name__)
            raise
        finally:
            release(engine, job.name, run_id)
        _log().info("job finished", status=status,
                    needs_review=sum(s.needs_review for s in steps), error=error)
    return RunResult(run_id, job.name, job.system, status, resume, tuple(steps), error)
