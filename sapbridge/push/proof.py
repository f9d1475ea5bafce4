"""What the audit log proves about a batch, recomputed from the rows, never read from totals.

The push tables are writable by anyone who can write to the store; the audit log's keyed
entries are not (without the key). So before approve, plan and apply act, the batch's content
hash is recomputed from its rows, its authority totals from its rows, and both, with its
requester, must match the batch's ``imported`` entry; the approvals counted are the
``approved`` entries, not the ``push_approvals`` rows. Those entries count only when the chain
verifies up to them and, with a key configured, when they are HMAC-keyed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from sqlalchemy.engine import Engine

from sapbridge.audit.auditlog import AuditLog
from sapbridge.audit.chain import ALG_HMAC
from sapbridge.audit.log import AuditEntry, query
from sapbridge.errors import ControlError
from sapbridge.money import D
from sapbridge.push.authority import BatchFacts, PushConfig
from sapbridge.push.controls import refuse
from sapbridge.push.state import (
    Batch,
    Row,
    approvals_for,
    authority_amount,
    current_content_hash,
    idempotency_key,
    load_batch,
    load_rows,
)

__all__ = ["AuditedApproval", "ProvenBatch", "UnprovenError", "prove",
           "prove_or_refuse", "recomputed_facts"]


class UnprovenError(ControlError):
    """The batch in the store does not match what the audit log proves."""

    def __init__(self, message: str, *, control: str = "integrity") -> None:
        super().__init__(message, control=control)
        self.control = control


@dataclass(frozen=True, slots=True)
class AuditedApproval:
    """One ``approved`` entry: who approved which content, with which signature."""

    seq: int
    approver: str
    content_hash: str
    signature: str | None


@dataclass(frozen=True, slots=True)
class ProvenBatch:
    """The batch as the audit log proves it: requester, content hash, totals, decisions."""

    batch: Batch
    requester: str
    content_hash: str
    facts: BatchFacts
    approvals: tuple[AuditedApproval, ...]
    rejected: bool


def recomputed_facts(batch: Batch, rows: list[Row]) -> BatchFacts:
    """Kind, currency and authority totals from the rows themselves."""
    amounts = [authority_amount(batch.kind, r.target, r.seen) for r in rows]
    currencies = {str(r.target.get("currency", "")).upper() for r in rows}
    currency = currencies.pop() if len(currencies) == 1 else ""
    return BatchFacts(kind=batch.kind, currency=currency,
                      total=sum(amounts, Decimal(0)), largest=max(amounts, default=Decimal(0)))


def _check_chain(engine: Engine, entries: list[AuditEntry], batch_id: str) -> None:
    log = AuditLog.of(engine)
    if log.key is not None:
        unkeyed = [e.seq for e in entries if e.alg != ALG_HMAC]
        if unkeyed:
            msg = (f"audit entry {unkeyed[0]} of batch {batch_id} is not keyed although an"
                   " audit key is configured; request the batch again")
            raise UnprovenError(msg)
    result = log.verify(engine)
    last = max(e.seq for e in entries)
    if not result.ok and (result.first_broken_id is None or result.first_broken_id <= last):
        msg = (f"audit log broken at entry {result.first_broken_id} ({result.reason}); the"
               f" entries batch {batch_id} relies on cannot be proven")
        raise UnprovenError(msg)


def _import_entry(entries: list[AuditEntry], batch_id: str) -> AuditEntry:
    imported = [e for e in entries if e.action == "imported"]
    if len(imported) != 1:
        msg = f"batch {batch_id} has {len(imported)} import entries in the audit log, not one"
        raise UnprovenError(msg)
    return imported[0]


def _same_amount(audited: Any, recomputed: Decimal) -> bool:
    try:
        return D(audited) == recomputed
    except (TypeError, ValueError):
        return False


def _check_import(entry: AuditEntry, batch: Batch, digest: str, facts: BatchFacts) -> None:
    detail, after = entry.detail or {}, entry.after or {}
    bid = batch.batch_id
    if detail.get("content_hash") != digest:
        msg = f"batch {bid} changed since it was imported: its rows do not match the audit log"
        raise UnprovenError(msg)
    if (detail.get("kind"), detail.get("system")) != (batch.kind, batch.system):
        msg = f"batch {bid}: kind or system differ from the audit log"
        raise UnprovenError(msg)
    if entry.actor != batch.requester or detail.get("requester", entry.actor) != entry.actor:
        msg = (f"batch {bid}: requester is {batch.requester} in the store but {entry.actor}"
               " in the audit log")
        raise UnprovenError(msg)
    totals = [("total", after.get("total"), facts.total)]
    if "largest" in detail:
        totals.append(("largest", detail["largest"], facts.largest))
    for name, audited, recomputed in totals:
        if not _same_amount(audited, recomputed):
            msg = (f"batch {bid}: {name} recomputed from the rows is {recomputed}, the audit"
                   f" log says {audited}")
            raise UnprovenError(msg)
    stored = (batch.total, batch.largest, batch.currency.upper())
    if stored != (facts.total, facts.largest, facts.currency) \
            or str(after.get("currency", "")).upper() != facts.currency:
        msg = f"batch {bid}: stored totals or currency differ from its rows and the audit log"
        raise UnprovenError(msg)


def _check_rows(rows: list[Row], batch: Batch) -> None:
    if len(rows) != batch.row_count or not rows:
        msg = f"batch {batch.batch_id} has {len(rows)} rows, {batch.row_count} were imported"
        raise UnprovenError(msg)
    for row in rows:
        if row.idem_key != idempotency_key(batch.batch_id, row.row_no):
            msg = f"batch {batch.batch_id}, row {row.row_no}: idempotency key was changed"
            raise UnprovenError(msg)


def _approvals(entries: list[AuditEntry]) -> tuple[AuditedApproval, ...]:
    return tuple(
        AuditedApproval(e.seq, e.actor, str((e.detail or {}).get("content_hash", "")),
                        (e.detail or {}).get("signature"))
        for e in entries if e.action == "approved")


def _check_decision_rows(stored: set[str], batch_id: str,
                         approvals: tuple[AuditedApproval, ...]) -> None:
    forged = sorted(stored - {a.approver for a in approvals})
    if forged:
        msg = (f"batch {batch_id}: approval row(s) by {', '.join(forged)} have no entry in the"
               " audit log")
        raise UnprovenError(msg)


def prove(engine: Engine, batch_id: str, config: PushConfig) -> ProvenBatch:
    """The batch as the audit log proves it, or :class:`UnprovenError` saying what differs."""
    with engine.connect() as conn:
        batch = load_batch(conn, batch_id)
        rows = load_rows(conn, batch_id)
        digest = current_content_hash(conn, batch)
        # read before the log: a decision commits with its entry, so every row seen here has
        # its entry visible to the query below, even while others decide
        stored = {u for u, d, _ in approvals_for(conn, batch_id) if d == "approved"}
    entries = [e for e in query(engine, batch_id=batch_id)
               if e.action in {"imported", "approved", "rejected"}]
    imported = _import_entry(entries, batch_id)
    _check_chain(engine, entries, batch_id)
    _check_rows(rows, batch)
    facts = recomputed_facts(batch, rows)
    _check_import(imported, batch, digest, facts)
    approvals = _approvals(entries)
    _check_decision_rows(stored, batch_id, approvals)
    rejected = any(e.action == "rejected" for e in entries)
    return ProvenBatch(batch, imported.actor, digest, facts, approvals, rejected)


def prove_or_refuse(engine: Engine, batch_id: str, config: PushConfig, *, actor: str,
                    run_id: str, attempted: str) -> ProvenBatch:
    """:func:`prove`, with a failure recorded in the audit log as a refusal."""
    try:
        return prove(engine, batch_id, config)
    except UnprovenError as exc:
        _refuse(engine, exc, actor, run_id, attempted, batch_id)


def _refuse(engine: Engine, exc: UnprovenError, actor: str, run_id: str, attempted: str,
            batch_id: str) -> NoReturn:
    refuse(engine, exc.message, control=exc.control, attempted=attempted, actor=actor,
           run_id=run_id, batch_id=batch_id)
