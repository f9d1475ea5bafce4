"""Tables of the jobs component: runs and their steps (their leases sit in :mod:`sapbridge.leases`)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.engine import Connection

from sapbridge.leases.tables import metadata as lease_metadata
from sapbridge.store.migrations import migration
from sapbridge.store.types import UtcDateTime

__all__ = ["job_runs", "job_steps", "metadata"]

metadata = MetaData()

job_runs = Table(
    "job_runs",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("job", String(80), nullable=False),
    Column("system", String(20), nullable=False),
    Column("status", String(10), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("actor", String(64), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("error", Text),
    Column("definition_hash", String(64), nullable=False),
    Column("source", String(500), nullable=False),
)
"""One run of a job. ``status``: running, succeeded, failed, review (finished with exceptions
to review). ``definition_hash``: the job's steps when the run started (a resume needs the same)."""
Index("ix_job_runs_job", job_runs.c.job, job_runs.c.started_at)

job_steps = Table(
    "job_steps",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("status", String(10), nullable=False),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("counts", Text),
    Column("needs_review", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
)
"""One step of a run (position from 1). ``status``: pending, running, succeeded, failed.
``counts``: JSON of what the step did."""

@migration("jobs", 1, "job runs, steps and locks")
def _create_jobs(conn: Connection) -> None:
    metadata.create_all(conn)
    lease_metadata.create_all(conn)  # job_locks: created with the jobs' tables since v1
