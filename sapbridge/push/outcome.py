"""What applying one row came to, and the one place row state and audit entries change together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from sapbridge.audit.log import record
from sapbridge.push.authority import PushConfig
from sapbridge.push.controls import failpoint
from sapbridge.push.sap import ODataLike, RfcLike
from sapbridge.push.state import Batch, Row, set_row_state

__all__ = ["ApplyContext", "Event", "RowOutcome", "SapUnreachable", "mark_in_flight", "settle"]


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """``outcome``: applied, recovered, skipped, already, stale, failed, unknown, not_attempted."""

    row_no: int
    customer: str
    outcome: str
    sap_document: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class ApplyContext:
    """Everything one apply run needs."""

    engine: Engine
    batch: Batch
    odata: ODataLike
    rfc: RfcLike | None
    config: PushConfig
    actor: str
    run_id: str


@dataclass(frozen=True, slots=True)
class Event:
    """One audit entry to write with a state change."""

    action: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    message: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


class SapUnreachable(Exception):
    """SAP stopped answering mid-row; the run stops and the row is resolved on re-run."""

    def __init__(self, outcome: RowOutcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


def settle(ctx: ApplyContext, row: Row, state: str | None, events: list[Event], *,
           outcome: str, sap_document: str | None = None,
           message: str | None = None) -> RowOutcome:
    """Change the row's state (None: keep it) and write its audit entries in one transaction."""
    with ctx.engine.begin() as conn:
        if state is not None:
            set_row_state(conn, row, state, sap_document=sap_document, message=message)
        for event in events:
            record(conn, action=event.action, actor=ctx.actor, run_id=ctx.run_id,
                   batch_id=row.batch_id, row_no=row.row_no, customer=row.customer,
                   before=event.before, after=event.after, sap_document=sap_document,
                   message=event.message or message,
                   detail={"idempotency_key": row.idem_key, **event.detail})
        failpoint("settle_before_commit")
    return RowOutcome(row.row_no, row.customer, outcome, sap_document, message)


def mark_in_flight(ctx: ApplyContext, row: Row, sap_document: str | None = None) -> None:
    """Commit ``in_flight`` before calling SAP, so a crash leaves a trace to resolve."""
    with ctx.engine.begin() as conn:
        set_row_state(conn, row, "in_flight", sap_document=sap_document)
