"""Approve or reject a batch under the authority matrix; every refusal goes to the audit log.

Controls, in order: the batch is what the audit log proves (content, requester, totals; see
:mod:`sapbridge.push.proof`) and awaits approval; the approver is a configured user and not the
requester; the approver has not decided already; the approver's authority covers the totals
recomputed from the rows; where required, the approver signs. Above ``second_approver_above``
two different approvers are needed. Decisions on one batch are serialised (the batch row is
written first) and one user has one decision per batch (a unique constraint).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from sapbridge.audit.log import record
from sapbridge.push.authority import (
    BatchFacts,
    PushConfig,
    approval_refusal,
    required_approvals,
    signature_required,
)
from sapbridge.push.controls import refuse
from sapbridge.push.proof import AuditedApproval, ProvenBatch, prove_or_refuse
from sapbridge.push.signatures import (
    SigningError,
    allowed_signers,
    approval_message,
    sign_approval,
    signature_valid,
)
from sapbridge.push.state import Batch, approvals_for, load_batch, lock_batch, set_batch_status
from sapbridge.push.tables import push_approvals

__all__ = ["Decision", "approvals_problem", "approve", "check_approved", "reject",
           "valid_approvers"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The batch after a decision: its status and approvals given versus needed."""

    batch_id: str
    status: str
    approvals: int
    needed: int


class _Lost(Exception):
    """Another decision won the race; carries the (control, message) to refuse with."""


def _decision_refusal(batch: Batch, requester: str, user: str, deciding: str,
                      decided: set[str]) -> tuple[str, str]:
    """(control, message) when the batch's state or segregation refuses, or ('', '')."""
    if batch.status != "requested":
        return "state", f"batch {batch.batch_id} is {batch.status}, not awaiting approval"
    if user == requester:
        return "segregation", f"{user} requested batch {batch.batch_id} and may not {deciding} it"
    if user in decided:
        return "segregation", f"{user} already decided on batch {batch.batch_id}"
    return "", ""


def _control_refusal(batch: Batch, requester: str, user: str, config: PushConfig,
                     deciding: str, decided: set[str]) -> tuple[str, str]:
    """(control, message) of the first control that refuses, or ('', '')."""
    if batch.status == "requested" and config.authority.user(user) is None:
        return "identity", f"{user} is not a configured user"
    return _decision_refusal(batch, requester, user, deciding, decided)


def _signature(engine: Engine, proven: ProvenBatch, user: str, config: PushConfig,
               sign_key: str | None, run_id: str) -> str | None:
    """The approver's signature over the approval message, when required or asked for."""
    person = config.authority.user(user)
    if person is None or not (signature_required(config, user) or sign_key
                              or person.signing_key_file):
        return None
    batch_id = proven.batch.batch_id
    message = approval_message(batch_id, proven.content_hash, proven.requester, user)
    signature: str | None = None
    if not person.allowed_signers:
        refuse(engine, f"approval of batch {batch_id} must be signed by {user}, who has no"
               " signing_key in the config", control="signature", attempted="approve",
               actor=user, run_id=run_id, batch_id=batch_id)
    try:
        signature = sign_approval(message, person, sign_key)
    except SigningError as exc:
        problem = f"approval of batch {batch_id} must be signed by {user}: {exc.message}"
    else:
        problem = "" if signature_valid(message, signature, user, allowed_signers(config)) else (
            f"signature by {user} does not verify with {user}'s signing_key in the config"
            " (wrong key?)")
    if problem:
        refuse(engine, problem, control="signature", attempted="approve", actor=user,
               run_id=run_id, batch_id=batch_id)
    return signature


def _record(conn: Connection, proven: ProvenBatch, user: str, deciding: str,
            signature: str | None, reason: str | None, needed: int, run_id: str) -> Decision:
    """Under the batch's lock: check again, then store the decision and its audit entry."""
    batch_id = proven.batch.batch_id
    lock_batch(conn, batch_id)
    now = load_batch(conn, batch_id)
    decided = {u for u, _, _ in approvals_for(conn, batch_id)}
    control, message = _decision_refusal(now, proven.requester, user, deciding, decided)
    if control:
        raise _Lost(control, message)
    decision = "approved" if deciding == "approve" else "rejected"
    try:
        with conn.begin_nested():
            conn.execute(insert(push_approvals).values(
                batch_id=batch_id, user=user, decision=decision, content_hash=proven.content_hash,
                at=datetime.now(UTC), reason=reason, signature=signature))
    except IntegrityError:
        raise _Lost("segregation", f"{user} already decided on batch {batch_id}") from None
    given = sum(1 for _, d, _ in approvals_for(conn, batch_id) if d == "approved")
    status = "rejected" if decision == "rejected" else (
        "approved" if given >= needed else "requested")
    if status != now.status:
        set_batch_status(conn, batch_id, status)
    facts = proven.facts
    detail: dict[str, Any] = {
        "approvals": given, "needed": needed, "content_hash": proven.content_hash,
        "requester": proven.requester, "approver": user, "status": status,
        "kind": facts.kind, "currency": facts.currency, "total": facts.total,
        "largest": facts.largest}
    if signature:
        detail["signature"] = signature
    record(conn, action=decision, actor=user, run_id=run_id, batch_id=batch_id,
           message=reason, detail=detail)
    return Decision(batch_id, status, given, needed)


def _decide(engine: Engine, proven: ProvenBatch, user: str, config: PushConfig, run_id: str,
            deciding: str, reason: str | None, signature: str | None) -> Decision:
    needed = required_approvals(config, proven.facts)
    try:
        with engine.begin() as conn:
            return _record(conn, proven, user, deciding, signature, reason, needed, run_id)
    except _Lost as lost:
        control, message = lost.args
        refuse(engine, message, control=control, attempted=deciding, actor=user, run_id=run_id,
               batch_id=proven.batch.batch_id)


def approve(engine: Engine, batch_id: str, *, approver: str, config: PushConfig,
            run_id: str, sign_key: str | None = None) -> Decision:
    """Approve a batch; it becomes ``approved`` once enough distinct approvers agreed.

    ``sign_key``: the private key file to sign with (default: the user's ``signing_key_file``,
    else ssh-agent); a signature is made where the config requires one.
    """
    proven = prove_or_refuse(engine, batch_id, config, actor=approver, run_id=run_id,
                             attempted="approve")
    decided = {a.approver for a in proven.approvals}
    control, message = _control_refusal(proven.batch, proven.requester, approver, config,
                                        "approve", decided)
    if not control:
        why = approval_refusal(config, approver, proven.facts)
        control, message = ("authority", why) if why else ("", "")
    if control:
        refuse(engine, message, control=control, attempted="approve", actor=approver,
               run_id=run_id, batch_id=batch_id)
    signature = _signature(engine, proven, approver, config, sign_key, run_id)
    return _decide(engine, proven, approver, config, run_id, "approve", None, signature)


def reject(engine: Engine, batch_id: str, *, approver: str, config: PushConfig, run_id: str,
           reason: str) -> Decision:
    """Reject a batch for good (a new request is needed).

    Rejecting only stops a batch, so it works on a batch the audit log no longer proves.
    """
    with engine.connect() as conn:
        batch = load_batch(conn, batch_id)
        decided = {u for u, _, _ in approvals_for(conn, batch_id)}
    control, message = _control_refusal(batch, batch.requester, approver, config, "reject",
                                        decided)
    if control:
        refuse(engine, message, control=control, attempted="reject", actor=approver,
               run_id=run_id, batch_id=batch_id)
    facts = BatchFacts(batch.kind, batch.currency, batch.total, batch.largest)
    stand_in = ProvenBatch(batch, batch.requester, batch.content_hash, facts, (), False)
    return _decide(engine, stand_in, approver, config, run_id, "reject", reason, None)


def valid_approvers(proven: ProvenBatch, config: PushConfig) -> tuple[set[str], list[str]]:
    """Approvers whose audited approval counts now, and why the others do not."""
    signers = allowed_signers(config)
    counted: set[str] = set()
    discarded: list[str] = []
    for approval in proven.approvals:
        why = _discard_reason(proven, approval, config, signers)
        if why:
            discarded.append(f"{approval.approver}: {why}")
        else:
            counted.add(approval.approver)
    return counted, discarded


def _discard_reason(proven: ProvenBatch, approval: AuditedApproval, config: PushConfig,
                    signers: str) -> str:
    user = approval.approver
    if approval.content_hash != proven.content_hash:
        return "approved other content"
    if user == proven.requester:
        return "is the requester"
    refusal = approval_refusal(config, user, proven.facts)
    if refusal:
        return refusal
    if approval.signature or signature_required(config, user):
        message = approval_message(proven.batch.batch_id, proven.content_hash,
                                   proven.requester, user)
        if not approval.signature:
            return "approval is not signed, the config requires a signature"
        if not signature_valid(message, approval.signature, user, signers):
            return "signature does not verify"
    return ""


def approvals_problem(proven: ProvenBatch, config: PushConfig) -> tuple[str, str]:
    """(control, message) when the audited approvals do not suffice, else ('', '')."""
    batch_id = proven.batch.batch_id
    if proven.rejected:
        return "approval", f"batch {batch_id} was rejected (audit log)"
    counted, discarded = valid_approvers(proven, config)
    needed = required_approvals(config, proven.facts)
    if len(counted) >= needed:
        return "", ""
    why = f" ({'; '.join(discarded)})" if discarded else ""
    control = "signature" if any("signature" in d or "signed" in d for d in discarded) \
        else "approval"
    return control, (f"batch {batch_id} has {len(counted)} approval(s) proven by the audit log,"
                     f" needs {needed}{why}")


def check_approved(engine: Engine, batch_id: str, *, actor: str, config: PushConfig,
                   run_id: str) -> Batch:
    """The batch, if it may be applied: approved (or being resumed), and enough approvals in
    the audit log, bound to the content recomputed from the rows, by distinct approvers other
    than the audited requester, within their authority, signed where required."""
    proven = prove_or_refuse(engine, batch_id, config, actor=actor, run_id=run_id,
                             attempted="apply")
    batch = proven.batch
    problem, control = "", "approval"
    if batch.status not in {"approved", "partial", "done"}:
        problem = f"batch {batch_id} is {batch.status}; only approved batches can be applied"
    elif config.authority.user(actor) is None:
        problem, control = f"{actor} is not a configured user", "identity"
    else:
        control, problem = approvals_problem(proven, config)
    if problem:
        refuse(engine, problem, control=control, attempted="apply", actor=actor, run_id=run_id,
               batch_id=batch_id)
    return batch
