"""The lease table: who holds a job or a sync partition now (created by the jobs migration v1)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table

from sapbridge.store.types import UtcDateTime

__all__ = ["job_locks", "metadata"]

metadata = MetaData()

job_locks = Table(
    "job_locks",
    metadata,
    Column("job", String(80), primary_key=True),
    Column("run_id", String(36), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
"""Who runs a job now: a lease renewed by a heartbeat; taken over when it expires or its
process is gone (same host)."""
