"""Apply an approved batch row by row; resumable, each row exactly once.

Rows done in an earlier run are skipped and reported; rows left ``in_flight`` by a crash are
resolved by looking in SAP first. If SAP stops answering, the run stops; re-running resumes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from sapbridge.audit.log import record
from sapbridge.push import lease
from sapbridge.push.apply_limits import apply_limit
from sapbridge.push.apply_releases import apply_release
from sapbridge.push.apply_writeoffs import apply_writeoff
from sapbridge.push.approval import check_approved
from sapbridge.push.authority import PushConfig
from sapbridge.push.controls import refuse
from sapbridge.push.outcome import ApplyContext, Event, RowOutcome, SapUnreachable, settle
from sapbridge.push.sap import ODataLike, RfcLike
from sapbridge.push.state import Batch, load_rows, set_batch_status

__all__ = ["ApplyReport", "apply_batch"]


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """The result of one apply run."""

    batch_id: str
    status: str
    rows: tuple[RowOutcome, ...]
    stopped: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        """How many rows came to each outcome."""
        return dict(Counter(r.outcome for r in self.rows))


_HANDLERS = {"limits": apply_limit, "write-offs": apply_writeoff, "releases": apply_release}


def apply_batch(
    engine: Engine,
    batch_id: str,
    *,
    odata: ODataLike,
    rfc: RfcLike | None,
    config: PushConfig,
    actor: str,
    run_id: str,
) -> ApplyReport:
    """Apply every row not yet done of an approved batch (controls refuse anything else)."""
    batch = check_approved(engine, batch_id, actor=actor, config=config, run_id=run_id)
    if not lease.acquire(engine, batch_id, run_id):
        busy = lease.holder(engine, batch_id, run_id) or "another run"
        refuse(engine, f"batch {batch_id} is being applied by {busy}", control="concurrency",
               attempted="apply", actor=actor, run_id=run_id, batch_id=batch_id)
    try:
        return _apply_rows(engine, batch, odata, rfc, config, actor, run_id)
    finally:
        lease.release(engine, batch_id, run_id)


def _apply_rows(engine: Engine, batch: Batch, odata: ODataLike, rfc: RfcLike | None,
                config: PushConfig, actor: str, run_id: str) -> ApplyReport:
    batch_id = batch.batch_id
    ctx = ApplyContext(engine, batch, odata, rfc, config, actor, run_id)
    handler = _HANDLERS[batch.kind]
    outcomes: list[RowOutcome] = []
    stopped: str | None = None
    with engine.connect() as conn:
        rows = load_rows(conn, batch_id)
    for row in rows:
        if stopped is not None:
            outcomes.append(RowOutcome(row.row_no, row.customer, "not_attempted"))
        elif row.state in {"done", "stale"}:
            why = "done in an earlier run" if row.state == "done" else "stale in an earlier run"
            outcomes.append(settle(ctx, row, None, [Event("skipped", message=why)],
                                   outcome="skipped", sap_document=row.sap_document,
                                   message=why))
        else:
            try:
                outcomes.append(handler(ctx, row))
            except SapUnreachable as exc:
                outcomes.append(exc.outcome)
                stopped = exc.outcome.message
            lease.renew(engine, batch_id, run_id)
    with engine.begin() as conn:
        finished = all(r.state == "done" for r in load_rows(conn, batch_id))
        status = "done" if finished else "partial"
        set_batch_status(conn, batch_id, status)
        counts = dict(Counter(o.outcome for o in outcomes))
        record(conn, action="applied" if finished else "failed", actor=actor, run_id=run_id,
               batch_id=batch_id, message=stopped or f"batch {status}",
               detail={"status": status, "counts": counts})
    return ApplyReport(batch_id, status, tuple(outcomes), stopped)

