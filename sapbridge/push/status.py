"""Where batches stand: header, approvals and row states."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Engine

from sapbridge.push.state import approvals_for, load_batch
from sapbridge.push.tables import push_batches, push_rows

__all__ = ["BatchStatus", "batch_status"]


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """One batch as ``push status`` shows it."""

    batch_id: str
    kind: str
    system: str
    requester: str
    created_at: datetime
    status: str
    rows: int
    currency: str
    total: Decimal
    approvals: tuple[str, ...]
    row_states: dict[str, int]


def batch_status(engine: Engine, batch_id: str | None = None,
                 limit: int = 50) -> list[BatchStatus]:
    """One batch, or the latest ``limit`` batches, newest first."""
    with engine.connect() as conn:
        if batch_id is not None:
            ids = [load_batch(conn, batch_id).batch_id]
        else:
            ids = list(conn.execute(select(push_batches.c.batch_id)
                                    .order_by(push_batches.c.created_at.desc())
                                    .limit(limit)).scalars())
        result = []
        for bid in ids:
            batch = load_batch(conn, bid)
            states = Counter(conn.execute(select(push_rows.c.state)
                                          .where(push_rows.c.batch_id == bid)).scalars())
            approvers = tuple(f"{user} {decision}" for user, decision, _ in
                              approvals_for(conn, bid))
            result.append(BatchStatus(
                batch.batch_id, batch.kind, batch.system, batch.requester, batch.created_at,
                batch.status, batch.row_count, batch.currency, batch.total, approvers,
                dict(states)))
    return result
