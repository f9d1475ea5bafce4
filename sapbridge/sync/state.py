"""Sync bookmarks and the record of sync runs."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from sapbridge.store.schema import sync_bookmarks, sync_runs

__all__ = ["finish_run", "get_bookmark", "set_bookmark", "start_run"]


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
            run_id=run_id, system=system, actor=actor, started_at=now, status="running"))


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
