"""One run per job at a time: a lease in ``job_locks`` (host, pid, heartbeat, expiry).

The lease lives in the store, so it holds across machines sharing a PostgreSQL store. It is
taken with an insert, or a compare-and-swap ``UPDATE`` on the holder's run id, both atomic on
SQLite and PostgreSQL, so two runs racing for a free or abandoned lease cannot both win. A
:class:`Heartbeat` thread renews it while the run works.

A lease is abandoned (and may be taken over) when its process is gone (same host: the pid is
checked, which is exact) or, for a holder on another host, when its heartbeat stopped long enough
for the lease to expire.
"""

from __future__ import annotations

import contextvars
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from sapbridge.leases.tables import job_locks
from sapbridge.logs import get_logger

__all__ = ["HEARTBEAT", "LEASE", "Acquired", "Heartbeat", "LockHolder", "acquire",
           "current_holder", "process_alive", "release", "renew"]



def _log() -> Any:
    """A logger bound now, so it follows the logging the CLI set up (stream, JSON or console)."""
    return get_logger(__name__)

LEASE = timedelta(minutes=5)
"""How long a lease lasts without a heartbeat."""

HEARTBEAT = timedelta(seconds=30)
"""How often a running job renews its lease."""


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a job's lease."""

    job: str
    run_id: str
    host: str
    pid: int
    heartbeat_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        """``run <id> on <host> (pid <n>), last heartbeat <time>``."""
        return (f"run {self.run_id} on {self.host} (pid {self.pid}), last heartbeat "
                f"{self.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC")


def process_alive(pid: int) -> bool:
    """True when a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_ours(holder: LockHolder, run_id: str) -> bool:
    return (holder.run_id, holder.host, holder.pid) == (run_id, socket.gethostname(), os.getpid())


def _abandoned(holder: LockHolder, now: datetime) -> bool:
    if holder.host == socket.gethostname():
        return not process_alive(holder.pid)
    return holder.expires_at <= now


def _read(engine: Engine, job: str) -> LockHolder | None:
    with engine.connect() as conn:
        row = conn.execute(select(job_locks).where(job_locks.c.job == job)).mappings().first()
    return None if row is None else LockHolder(**dict(row))


def current_holder(engine: Engine, job: str, *, now: datetime | None = None) -> LockHolder | None:
    """The live holder of the job's lease, or None when it is free or abandoned."""
    holder = _read(engine, job)
    if holder is None or _abandoned(holder, now or datetime.now(UTC)):
        return None
    return holder


@dataclass(frozen=True, slots=True)
class Acquired:
    """The lease is ours; ``taken_from`` is the abandoned holder it was taken over from."""

    taken_from: LockHolder | None


def acquire(engine: Engine, job: str, run_id: str, *, lease: timedelta = LEASE) -> Acquired | LockHolder:
    """Take the job's lease for ``run_id``: :class:`Acquired`, or the live holder refusing it."""
    for _ in range(5):
        now = datetime.now(UTC)
        values = {"run_id": run_id, "host": socket.gethostname(), "pid": os.getpid(),
                  "heartbeat_at": now, "expires_at": now + lease}
        holder = _read(engine, job)
        if holder is None:
            try:
                with engine.begin() as conn:
                    conn.execute(insert(job_locks).values(job=job, **values))
            except IntegrityError:
                continue  # another run inserted first: look again
            return Acquired(None)
        if not _is_ours(holder, run_id) and not _abandoned(holder, now):
            return holder
        with engine.begin() as conn:
            swapped = conn.execute(update(job_locks).where(
                job_locks.c.job == job, job_locks.c.run_id == holder.run_id,
                job_locks.c.host == holder.host, job_locks.c.pid == holder.pid,
            ).values(**values)).rowcount
        if swapped == 1:
            return Acquired(None if _is_ours(holder, run_id) else holder)
    msg = f"job {job}: the lease keeps changing hands"
    raise RuntimeError(msg)


def renew(engine: Engine, job: str, run_id: str, *, lease: timedelta = LEASE) -> bool:
    """Extend our lease; False when it is no longer ours."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        changed = conn.execute(update(job_locks).where(
            job_locks.c.job == job, job_locks.c.run_id == run_id,
            job_locks.c.host == socket.gethostname(), job_locks.c.pid == os.getpid(),
        ).values(heartbeat_at=now, expires_at=now + lease)).rowcount
    return changed == 1


def release(engine: Engine, job: str, run_id: str) -> None:
    """Give the lease back (only if it is still ours)."""
    with engine.begin() as conn:
        conn.execute(delete(job_locks).where(
            job_locks.c.job == job, job_locks.c.run_id == run_id,
            job_locks.c.host == socket.gethostname(), job_locks.c.pid == os.getpid()))


class Heartbeat:
    """Renews a lease (or several held by one run) every ``interval`` in a background thread.

    A failed renewal (the store busy, say) is logged and tried again at the next beat; a lease
    found taken by another run sets :attr:`lost`, which the runner checks between steps.
    """

    def __init__(self, engine: Engine, job: str | Sequence[str], run_id: str, *,
                 interval: timedelta = HEARTBEAT, lease: timedelta = LEASE) -> None:
        self._engine, self._run_id = engine, run_id
        self._jobs = (job,) if isinstance(job, str) else tuple(job)
        self._interval, self._lease = interval.total_seconds(), lease
        self._stop = threading.Event()
        self.lost = False
        context = contextvars.copy_context()  # log lines keep the run id and job
        self._thread = threading.Thread(target=context.run, args=(self._beat,),
                                        name=f"heartbeat-{self._jobs[0] if self._jobs else ''}",
                                        daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            for job in self._jobs:
                try:
                    if not renew(self._engine, job, self._run_id, lease=self._lease):
                        self.lost = True
                        _log().error("job lease lost", job=job)
                        return
                except SQLAlchemyError as exc:
                    _log().warning("job lease renewal failed; retrying", job=job, error=str(exc))
