"""One apply run per batch at a time: a lease on the batch row.

Two operators applying the same batch at once could otherwise both find a row unposted and
both post it. The lease is taken with a conditional ``UPDATE`` (atomic on SQLite and
PostgreSQL), renewed after every row, and released at the end. A lease left by a crashed run
can be taken over at once when its process is gone (same host), otherwise when it expires.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from sapbridge.push.tables import push_batches

__all__ = ["LEASE", "acquire", "holder", "release", "renew"]

LEASE = timedelta(minutes=15)
"""How long a lease lasts without renewal (longer than any single SAP call)."""


def _process_gone(host: str | None, pid: int | None) -> bool:
    if host != socket.gethostname() or pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def holder(engine: Engine, batch_id: str, run_id: str) -> str:
    """Who holds the batch, or '' when ``run_id`` may take it."""
    with engine.connect() as conn:
        row = conn.execute(select(push_batches.c.lock_run, push_batches.c.lock_host,
                                  push_batches.c.lock_pid, push_batches.c.lock_until)
                           .where(push_batches.c.batch_id == batch_id)).first()
    if row is None or row.lock_run in (None, run_id):
        return ""
    until = row.lock_until if row.lock_until.tzinfo else row.lock_until.replace(tzinfo=UTC)
    if until < datetime.now(UTC) or _process_gone(row.lock_host, row.lock_pid):
        return ""
    return f"run {row.lock_run} on {row.lock_host} (pid {row.lock_pid})"


def acquire(engine: Engine, batch_id: str, run_id: str) -> bool:
    """Take the lease if it is free, expired or left by a dead process; True on success."""
    if holder(engine, batch_id, run_id):
        return False
    with engine.connect() as conn:
        seen = conn.execute(select(push_batches.c.lock_run)
                            .where(push_batches.c.batch_id == batch_id)).scalar()
    condition = (push_batches.c.lock_run.is_(None) if seen is None
                 else push_batches.c.lock_run == seen)
    with engine.begin() as conn:
        taken = conn.execute(
            update(push_batches).where(push_batches.c.batch_id == batch_id, condition)
            .values(lock_run=run_id, lock_host=socket.gethostname(), lock_pid=os.getpid(),
                    lock_until=datetime.now(UTC) + LEASE))
    return taken.rowcount == 1


def renew(engine: Engine, batch_id: str, run_id: str) -> None:
    """Extend the lease held by ``run_id``."""
    with engine.begin() as conn:
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch_id,
                                                push_batches.c.lock_run == run_id)
                     .values(lock_until=datetime.now(UTC) + LEASE))


def release(engine: Engine, batch_id: str, run_id: str) -> None:
    """Give the lease back."""
    with engine.begin() as conn:
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch_id,
                                                push_batches.c.lock_run == run_id)
                     .values(lock_run=None, lock_host=None, lock_pid=None, lock_until=None))
