"""Append to, verify, query and export the audit log.

Other components call :func:`record` inside the transaction that makes the change it describes,
so an entry and its change commit (or roll back) together. Appends take the head row with an
``UPDATE`` first: PostgreSQL row-locks it and SQLite takes its write lock, so concurrent writers
queue up instead of forking the chain.

Typical use::

    with store.engine.begin() as conn:
        conn.execute(...)                      # the change
        record(conn, action="approved", actor="bob", run_id=run_id, batch_id="L-0001")
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.engine import Connection, Engine, RowMapping

from sapbridge.audit.chain import (
    ALG_HMAC,
    GENESIS_HASH,
    canonical_json,
    entry_hash,
    utc_iso,
)
from sapbridge.audit.tables import HEAD_ID, audit_head, audit_log
from sapbridge.errors import AuditError

__all__ = [
    "ACTIONS",
    "DEFAULT_KEY_ENV",
    "AuditEntry",
    "VerifyResult",
    "audit_key",
    "export",
    "get_entry",
    "query",
    "record",
    "set_key_env",
    "verify",
]

ACTIONS = (
    "imported", "validated", "approved", "rejected", "planned", "applied", "failed",
    "verified", "stale", "skipped", "refused", "sync_run", "reconcile_run",
)
"""Actions sapbridge records; other components may add their own lowercase names."""

DEFAULT_KEY_ENV = "SAPBRIDGE_AUDIT_KEY"
"""Environment variable holding the HMAC key (``[audit] key_env`` in the config can rename it)."""

_ACTION_RE = re.compile(r"^[a-z][a-z_]{0,19}$")
_key_env = DEFAULT_KEY_ENV


def set_key_env(name: str) -> None:
    """Read the HMAC key from another environment variable (from ``[audit] key_env``)."""
    global _key_env
    _key_env = name or DEFAULT_KEY_ENV


def audit_key() -> bytes | None:
    """The HMAC key from the environment, or None to hash without a key."""
    value = os.environ.get(_key_env)
    return value.encode("utf-8") if value else None


def _json_or_none(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else canonical_json(value)


def _hashed_fields(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The fields an entry's hash covers: every column but the hash itself."""
    fields = {c.name: row[c.name] for c in audit_log.columns if c.name != "hash"}
    fields["at"] = utc_iso(fields["at"])
    return fields


def record(
    conn: Connection,
    *,
    action: str,
    actor: str,
    run_id: str,
    batch_id: str | None = None,
    row_no: int | None = None,
    customer: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    sap_document: str | None = None,
    message: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one entry inside the caller's transaction; return its sequence number."""
    if not _ACTION_RE.match(action):
        msg = f"audit action must be a short lowercase name, not {action!r}"
        raise AuditError(msg)
    if not actor:
        msg = f"audit entry {action!r} needs an actor"
        raise AuditError(msg)
    head = conn.execute(
        update(audit_head)
        .where(audit_head.c.id == HEAD_ID)
        .values(seq=audit_head.c.seq + 1)
        .returning(audit_head.c.seq, audit_head.c.hash)
    ).first()
    if head is None:
        msg = "audit log head is missing; the store was not migrated or was tampered with"
        raise AuditError(msg)
    seq, prev_hash = int(head.seq), str(head.hash)
    row: dict[str, Any] = {
        "seq": seq,
        "at": datetime.now(UTC),
        "action": action,
        "actor": actor,
        "run_id": run_id,
        "batch_id": batch_id,
        "row_no": row_no,
        "customer": customer,
        "before_json": _json_or_none(before),
        "after_json": _json_or_none(after),
        "sap_document": sap_document,
        "message": message,
        "detail_json": _json_or_none(detail),
        "prev_hash": prev_hash,
    }
    key = audit_key()
    row["alg"] = ALG_HMAC if key else "sha256"
    _, row["hash"] = entry_hash(_hashed_fields(row), key=key)
    conn.execute(audit_log.insert().values(**row))
    conn.execute(update(audit_head).where(audit_head.c.id == HEAD_ID).values(hash=row["hash"]))
    return seq


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of :func:`verify`: ``first_broken_id`` is the seq of the first bad entry."""

    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str = ""
    head_hash: str = GENESIS_HASH


def _check_entry(
    row: RowMapping, expected_seq: int, prev_hash: str, key: bytes | None, keyed_seen: bool,
    require_key: bool,
) -> str:
    """Why this entry breaks the chain, or '' when it holds."""
    if row["seq"] != expected_seq:
        return f"expected entry {expected_seq} next, found {row['seq']} (deleted or inserted)"
    if row["prev_hash"] != prev_hash:
        return "prev_hash does not match the previous entry (deleted, inserted or reordered)"
    if row["alg"] == ALG_HMAC and key is None:
        return f"entry is keyed (HMAC); set {_key_env} to verify it"
    if row["alg"] != ALG_HMAC and (keyed_seen or require_key):
        return "entry is not keyed although keyed entries precede it or a key is required"
    _, digest = entry_hash(_hashed_fields(row), key=key if row["alg"] == ALG_HMAC else None)
    if digest != row["hash"]:
        return "hash does not match the entry's content (edited)"
    return ""


def verify(engine: Engine, key: bytes | None = None, *, require_key: bool = False) -> VerifyResult:
    """Walk the whole chain; name the first edited, deleted, inserted or reordered entry.

    ``key`` defaults to the key in the environment. With ``require_key`` every entry must be
    keyed (detects a chain rebuilt without the key).
    """
    key = key if key is not None else audit_key()
    prev_hash, checked, keyed_seen = GENESIS_HASH, 0, False
    with engine.connect() as conn:
        head = conn.execute(select(audit_head).where(audit_head.c.id == HEAD_ID)).mappings().first()
        rows = conn.execution_options(yield_per=1000).execute(
            select(audit_log).order_by(audit_log.c.seq)
        ).mappings()
        try:
            for row in rows:
                reason = _check_entry(row, checked + 1, prev_hash, key, keyed_seen, require_key)
                if reason:
                    broken = min(int(row["seq"]), checked + 1)  # a gap names the missing entry
                    return VerifyResult(False, checked, broken, reason, prev_hash)
                keyed_seen = keyed_seen or row["alg"] == ALG_HMAC
                prev_hash = str(row["hash"])
                checked += 1
        finally:
            rows.close()
    if head is None:
        return VerifyResult(False, checked, checked + 1, "audit head row is missing", prev_hash)
    head_seq = int(head["seq"])
    if head_seq > checked:
        reason = f"log ends at entry {checked} but its head says {head_seq} (entries deleted)"
        return VerifyResult(False, checked, checked + 1, reason, prev_hash)
    if head_seq < checked:
        reason = f"entries after {head_seq}, the head of the log, were added behind its back"
        return VerifyResult(False, checked, head_seq + 1, reason, prev_hash)
    if head["hash"] != prev_hash:
        reason = "last entry's hash differs from the head (last entry replaced)"
        return VerifyResult(False, checked, checked, reason, prev_hash)
    return VerifyResult(True, checked, None, "", prev_hash)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One entry as read back, with its JSON fields parsed."""

    seq: int
    at: datetime
    action: str
    actor: str
    run_id: str
    batch_id: str | None
    row_no: int | None
    customer: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    sap_document: str | None
    message: str | None
    detail: dict[str, Any] | None
    alg: str
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: RowMapping) -> AuditEntry:
        """Build from a row of ``audit_log``."""
        at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)

        def parsed(text: str | None) -> dict[str, Any] | None:
            return None if text is None else dict(json.loads(text))

        return cls(
            seq=int(row["seq"]), at=at, action=row["action"], actor=row["actor"],
            run_id=row["run_id"], batch_id=row["batch_id"], row_no=row["row_no"],
            customer=row["customer"], before=parsed(row["before_json"]),
            after=parsed(row["after_json"]), sap_document=row["sap_document"],
            message=row["message"], detail=parsed(row["detail_json"]), alg=row["alg"],
            prev_hash=row["prev_hash"], hash=row["hash"],
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (time as UTC ISO text)."""
        return {
            "seq": self.seq, "at": utc_iso(self.at), "action": self.action, "actor": self.actor,
            "run_id": self.run_id, "batch_id": self.batch_id, "row_no": self.row_no,
            "customer": self.customer, "before": self.before, "after": self.after,
            "sap_document": self.sap_document, "message": self.message, "detail": self.detail,
            "alg": self.alg, "prev_hash": self.prev_hash, "hash": self.hash,
        }


def _filtered(
    since: datetime | None, until: datetime | None, actor: str | None, action: str | None,
    batch_id: str | None, customer: str | None,
) -> Select[Any]:
    stmt = select(audit_log).order_by(audit_log.c.seq)
    if since is not None:
        stmt = stmt.where(audit_log.c.at >= since)
    if until is not None:
        stmt = stmt.where(audit_log.c.at < until)
    for column, value in (("actor", actor), ("action", action), ("batch_id", batch_id),
                          ("customer", customer)):
        if value is not None:
            stmt = stmt.where(audit_log.c[column] == value)
    return stmt


def query(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    batch_id: str | None = None,
    customer: str | None = None,
    limit: int | None = None,
) -> Iterator[AuditEntry]:
    """Entries in order, filtered by time range [since, until), actor, action, batch, customer."""
    stmt = _filtered(since, until, actor, action, batch_id, customer)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        rows = conn.execution_options(yield_per=1000).execute(stmt).mappings()
        try:
            for row in rows:
                yield AuditEntry.from_row(row)
        finally:
            rows.close()


def get_entry(engine: Engine, seq: int) -> AuditEntry:
    """One entry by its sequence number."""
    with engine.connect() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.seq == seq)).mappings().first()
    if row is None:
        msg = f"audit entry {seq} does not exist"
        raise AuditError(msg)
    return AuditEntry.from_row(row)


def export(
    engine: Engine,
    path: str | Path,
    *,
    fmt: str,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    batch_id: str | None = None,
    customer: str | None = None,
) -> int:
    """Export the filtered entries as csv, xlsx or jsonl; return how many were written."""
    from sapbridge.audit.export import write_entries

    entries = query(engine, since=since, until=until, actor=actor, action=action,
                    batch_id=batch_id, customer=customer)
    return write_entries(entries, path, fmt=fmt)
