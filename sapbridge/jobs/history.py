"""Past and current runs of jobs, as ``job history`` and ``job show`` present them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine, RowMapping

from sapbridge.errors import JobError
from sapbridge.jobs.tables import job_runs, job_steps
from sapbridge.leases.lock import current_holder

__all__ = ["RunRecord", "StepRecord", "get_run", "last_runs", "list_runs"]


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One step of a recorded run."""

    position: int
    kind: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, Any]
    needs_review: int
    attempts: int
    error: str | None

    @property
    def seconds(self) -> float | None:
        """How long the step's last attempt took."""
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"position": self.position, "kind": self.kind, "status": self.status,
                "started_at": _iso(self.started_at), "finished_at": _iso(self.finished_at),
                "seconds": self.seconds, "counts": self.counts, "needs_review": self.needs_review,
                "attempts": self.attempts, "error": self.error}


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One recorded run with its steps."""

    run_id: str
    job: str
    system: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    actor: str
    host: str
    pid: int
    error: str | None
    steps_done: int
    steps_total: int
    needs_review: int
    steps: tuple[StepRecord, ...] = ()

    @property
    def seconds(self) -> float | None:
        """Run duration (start to finish of its last attempt)."""
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        data: dict[str, Any] = {"run_id": self.run_id, "job": self.job, "system": self.system,
                "status": self.status, "started_at": _iso(self.started_at),
                "finished_at": _iso(self.finished_at), "seconds": self.seconds,
                "actor": self.actor, "host": self.host, "pid": self.pid, "error": self.error,
                "steps_done": self.steps_done, "steps_total": self.steps_total,
                "needs_review": self.needs_review}
        data["steps"] = [s.as_dict() for s in self.steps]
        return data

    def counts_summary(self, width: int = 3) -> str:
        """``sync read=4479 inserted=0 updated=4479; kpis ...``: the first numbers of each step."""
        parts = []
        for step in self.steps:
            numbers = [f"{k}={v}" for k, v in step.counts.items()
                       if isinstance(v, int | float) and not isinstance(v, bool)][:width]
            if numbers:
                parts.append(f"{step.kind} {' '.join(numbers)}")
        return "; ".join(parts)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _step(row: RowMapping) -> StepRecord:
    return StepRecord(position=row["position"], kind=row["kind"], status=row["status"],
                      started_at=row["started_at"], finished_at=row["finished_at"],
                      counts=json.loads(row["counts"]) if row["counts"] else {},
                      needs_review=int(row["needs_review"] or 0), attempts=int(row["attempts"] or 0),
                      error=row["error"])


def _shown_status(engine: Engine, row: RowMapping) -> str:
    """The stored status, except that a 'running' run nobody holds the lease for is 'interrupted'
    (its process died; the next run of the job marks it failed, or ``--resume`` continues it)."""
    if row["status"] != "running":
        return str(row["status"])
    holder = current_holder(engine, row["job"])
    return "running" if holder is not None and holder.run_id == row["run_id"] else "interrupted"


def _runs(engine: Engine, where: Any, limit: int | None) -> list[RunRecord]:
    stmt = select(job_runs).where(where).order_by(job_runs.c.started_at.desc(), job_runs.c.run_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
        steps: dict[str, list[StepRecord]] = {r["run_id"]: [] for r in rows}
        for chunk in _chunks(list(steps), 500):
            for step in conn.execute(select(job_steps).where(job_steps.c.run_id.in_(chunk))
                                     .order_by(job_steps.c.run_id, job_steps.c.position)).mappings():
                steps[step["run_id"]].append(_step(step))
    return [RunRecord(run_id=r["run_id"], job=r["job"], system=r["system"],
                      status=_shown_status(engine, r), started_at=r["started_at"],
                      finished_at=r["finished_at"], actor=r["actor"], host=r["host"], pid=r["pid"],
                      error=r["error"],
                      steps_done=sum(s.status == "succeeded" for s in steps[r["run_id"]]),
                      steps_total=len(steps[r["run_id"]]),
                      needs_review=sum(s.needs_review for s in steps[r["run_id"]]),
                      steps=tuple(steps[r["run_id"]])) for r in rows]


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def list_runs(engine: Engine, job: str | None = None, *, limit: int = 20) -> list[RunRecord]:
    """The latest runs (of one job, or of all), newest first."""
    where = job_runs.c.job == job if job is not None else job_runs.c.run_id.isnot(None)
    return _runs(engine, where, limit)


def last_runs(engine: Engine) -> dict[str, RunRecord]:
    """Each job's latest run, by job name."""
    newest = (select(job_runs.c.job, func.max(job_runs.c.started_at).label("at"))
              .group_by(job_runs.c.job).subquery())
    latest = (select(job_runs.c.run_id)
              .join(newest, (newest.c.job == job_runs.c.job) & (newest.c.at == job_runs.c.started_at)))
    found: dict[str, RunRecord] = {}
    for run in _runs(engine, job_runs.c.run_id.in_(latest.scalar_subquery()), None):
        found.setdefault(run.job, run)
    return found


def get_run(engine: Engine, run_id: str) -> RunRecord:
    """One run with its steps; a unique prefix of the run id is enough."""
    with engine.connect() as conn:
        ids = list(conn.execute(select(job_runs.c.run_id)
                                .where(job_runs.c.run_id.startswith(run_id, autoescape=True))
                                .limit(2)).scalars())
    if len(ids) != 1:
        problem = "does not match any run" if not ids else "matches more than one run"
        msg = f"run id {run_id!r} {problem}"
        raise JobError(msg)
    return _runs(engine, job_runs.c.run_id == ids[0], None)[0]
