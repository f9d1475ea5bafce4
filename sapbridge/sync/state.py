"""Sync bookmarks and the record of sync runs.

A run is recorded as ``running`` with the host and pid of its process before its transaction
starts. A process killed mid-run (kill -9, power loss) leaves that row behind: it is shown as
``interrupted`` as soon as its process is gone, and the next sync of the system records it so.
A run on another host is shown as ``running`` until a sync on that host closes it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from sapbridge.store.schema import sync_bookmarks, sync_runs

__all__ = ["SyncRun", "close_interrupted", "finish_run", "get_bookmark", "process_gone", "set_bookmark",
           "start_run", "sync_history"]

INTERRUPTED = "the sync process ended without finishing (killed or crashed); nothing of it was kept"


@dataclass(frozen=True, slots=True)
class SyncRun:
    """One recorded sync run as shown to a user."""

    run_id: str
    system: str
    actor: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows: int | None
    error: str | None
    host: str | None
    pid: int | None


def process_gone(host: str | None, pid: int | None) -> bool:
    """True when the run's process was on this host and no longer exists."""
    if host != socket.gethostname() or pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _shown_status(status: str, host: str | None, pid: int | None) -> str:
    return "interrupted" if status == "running" and process_gone(host, pid) else status


def sync_history(engine: Engine, *, system: str | None = None, limit: int = 20) -> list[SyncRun]:
    """The latest runs, newest first; a run whose process is gone shows as ``interrupted``."""
    query = select(sync_runs).order_by(sync_runs.c.started_at.desc(), sync_runs.c.run_id).limit(limit)
    if system is not None:
        query = query.where(sync_runs.c.system == system)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [SyncRun(run_id=r["run_id"], system=r["system"], actor=r["actor"],
                    status=_shown_status(r["status"], r["host"], r["pid"]), started_at=r["started_at"],
                    finished_at=r["finished_at"], rows=r["rows"],
                    error=INTERRUPTED if r["status"] == "running" and process_gone(r["host"], r["pid"])
                    else r["error"], host=r["host"], pid=r["pid"]) for r in rows]


def close_interrupted(engine: Engine, system: str, now: datetime) -> list[str]:
    """Record as ``interrupted`` the system's runs left ``running`` by a process that is gone."""
    with engine.begin() as conn:
        rows = conn.execute(select(sync_runs.c.run_id, sync_runs.c.host, sync_runs.c.pid).where(
            sync_runs.c.system == system, sync_runs.c.status == "running")).all()
        gone = [r.run_id for r in rows if process_gone(r.host, r.pid)]
        if gone:
            conn.execute(sync_runs.update().where(sync_runs.c.run_id.in_(gone),
                                                  sync_runs.c.status == "running")
                         .values(status="interrupted", finished_at=now, error=INTERRUPTED))
    return gone


def get_bookmark(conn: Connection, system: str, dataset: str, partition: str) -> datetime | None:
    """The change timestamp up to which a dataset partition has been read, if any."""
    row = conn.execute(
        select(sync_bookmarks.c.value).where(
            sync_bookmarks.c.system == system,
            sync_bookmarks.c.dataset == dataset,
            sync_bookmarks.c.partition == partition,
        )
    ).first()
    if row is None:
        return None
    stamp = datetime.fromisoformat(row[0])
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def set_bookmark(conn: Connection, system: str, dataset: str, partition: str, value: datetime,
                 now: datetime) -> None:
    """Store a bookmark inside the sync's transaction, so it commits with the rows it covers."""
    key = {"system": system, "dataset": dataset, "partition": partition}
    updated = conn.execute(
        sync_bookmarks.update()
        .where(*(sync_bookmarks.c[k] == v for k, v in key.items()))
        .values(value=value.astimezone(UTC).isoformat(), updated_at=now)
    ).rowcount
    if not updated:
        conn.execute(sync_bookmarks.insert().values(
            **key, value=value.astimezone(UTC).isoformat(), updated_at=now))


def start_run(engine: Engine, run_id: str, system: str, actor: str, now: datetime) -> None:
    """Record that a sync run started (its own transaction, kept even if the sync fails)."""
    with engine.begin() as conn:
        conn.execute(sync_runs.insert().values(
            run_id=run_id, system=system, actor=actor, started_at=now, status="running",
            host=socket.gethostname(), pid=os.getpid()))


def finish_run(engine: Engine, run_id: str, *, status: str, summary: object, rows: int,
               error: str | None = None) -> None:
    """Record how a sync run ended."""
    with engine.begin() as conn:
        conn.execute(
            sync_runs.update().where(sync_runs.c.run_id == run_id).values(
                finished_at=datetime.now(UTC), status=status,
                summary=orjson.dumps(summary, default=str).decode(), rows=rows, error=error,
            )
        )
