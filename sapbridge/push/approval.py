"""Approve or reject a batch under the authority matrix; every refusal goes to the audit log.

Controls, in order: the batch exists and awaits approval; the approver is a configured user
and not the requester; the rows are unchanged since import (content hash); the approver has
not decided already; the approver's authority covers the batch. Above
``second_approver_above`` two different approvers are needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.engine import Connection, Engine

from sapbridge.audit.log import record
from sapbridge.push.authority import BatchFacts, PushConfig, approval_refusal, required_approvals
from sapbridge.push.controls import refuse
from sapbridge.push.state import (
    Batch,
    approvals_for,
    current_content_hash,
    load_batch,
    set_batch_status,
)
from sapbridge.push.tables import push_approvals

__all__ = ["Decision", "approve", "check_approved", "reject"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The batch after a decision: its status and approvals given versus needed."""

    batch_id: str
    status: str
    approvals: int
    needed: int


def _facts(batch: Batch) -> BatchFacts:
    return BatchFacts(kind=batch.kind, currency=batch.currency, total=batch.total,
                      largest=batch.largest)


def _control_refusal(conn: Connection, batch: Batch, user: str, config: PushConfig,
                     deciding: str) -> tuple[str, str]:
    """(control, message) of the first control that refuses, or ('', '')."""
    if batch.status != "requested":
        return "state", f"batch {batch.batch_id} is {batch.status}, not awaiting approval"
    if config.authority.user(user) is None:
        return "identity", f"{user} is not a configured user"
    if user == batch.requester:
        return "segregation", f"{user} requested batch {batch.batch_id} and may not {deciding} it"
    if current_content_hash(conn, batch) != batch.content_hash:
        return "integrity", f"batch {batch.batch_id} changed since it was imported"
    if any(u == user for u, _, _ in approvals_for(conn, batch.batch_id)):
        return "segregation", f"{user} already decided on batch {batch.batch_id}"
    if deciding == "approve":
        reason = approval_refusal(config, user, _facts(batch))
        if reason:
            return "authority", reason
    return "", ""


def _decide(engine: Engine, batch_id: str, user: str, config: PushConfig, run_id: str,
            deciding: str, reason: str | None) -> Decision:
    with engine.begin() as conn:
        batch = load_batch(conn, batch_id)
        control, message = _control_refusal(conn, batch, user, config, deciding)
    if control:
        refuse(engine, message, control=control, attempted=deciding, actor=user, run_id=run_id,
               batch_id=batch_id)
    needed = required_approvals(config, _facts(batch))
    with engine.begin() as conn:
        decision = "approved" if deciding == "approve" else "rejected"
        conn.execute(insert(push_approvals).values(
            batch_id=batch_id, user=user, decision=decision, content_hash=batch.content_hash,
            at=datetime.now(UTC), reason=reason))
        given = sum(1 for _, d, _ in approvals_for(conn, batch_id) if d == "approved")
        status = "rejected" if decision == "rejected" else (
            "approved" if given >= needed else "requested")
        if status != batch.status:
            set_batch_status(conn, batch_id, status)
        record(conn, action=decision, actor=user, run_id=run_id, batch_id=batch_id,
               message=reason, detail={"approvals": given, "needed": needed,
                                       "content_hash": batch.content_hash, "status": status})
    return Decision(batch_id, status, given, needed)


def approve(engine: Engine, batch_id: str, *, approver: str, config: PushConfig,
            run_id: str) -> Decision:
    """Approve a batch; it becomes ``approved`` once enough distinct approvers agreed."""
    return _decide(engine, batch_id, approver, config, run_id, "approve", None)


def reject(engine: Engine, batch_id: str, *, approver: str, config: PushConfig, run_id: str,
           reason: str) -> Decision:
    """Reject a batch for good (a new request is needed)."""
    return _decide(engine, batch_id, approver, config, run_id, "reject", reason)


def check_approved(engine: Engine, batch_id: str, *, actor: str, config: PushConfig,
                   run_id: str) -> Batch:
    """The batch, if it may be applied: approved (or being resumed), approvals bound to the
    current content, by enough distinct approvers other than the requester."""
    with engine.begin() as conn:
        batch = load_batch(conn, batch_id)
        current = current_content_hash(conn, batch)
        approvers = {u for u, d, h in approvals_for(conn, batch_id)
                     if d == "approved" and h == current and u != batch.requester}
    needed = required_approvals(config, _facts(batch))
    problem, control = "", "approval"
    if batch.status not in {"approved", "partial", "done"}:
        problem = f"batch {batch_id} is {batch.status}; only approved batches can be applied"
    elif current != batch.content_hash:
        problem, control = f"batch {batch_id} changed since it was approved", "integrity"
    elif len(approvers) < needed:
        problem = f"batch {batch_id} has {len(approvers)} valid approval(s), needs {needed}"
    elif config.authority.user(actor) is None:
        problem, control = f"{actor} is not a configured user", "identity"
    if problem:
        refuse(engine, problem, control=control, attempted="apply", actor=actor, run_id=run_id,
               batch_id=batch_id)
    return batch
