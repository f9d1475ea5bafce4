"""Append to, verify, query and export the audit log.

Other components call :func:`record` inside the transaction that makes the change it describes,
so an entry and its change commit (or roll back) together. ``record`` writes with the
:class:`~sapbridge.audit.auditlog.AuditLog` the store was opened with (its key, from the settings),
which the connection carries; see :mod:`sapbridge.audit.auditlog`.

Typical use::

    with store.engine.begin() as conn:
        conn.execute(...)                      # the change
        record(conn, action="approved", actor="bob", run_id=run_id, batch_id="L-0001")
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Engine

from sapbridge.audit.auditlog import DEFAULT_KEY_ENV, AuditLog
from sapbridge.audit.entry import AuditEntry
from sapbridge.audit.export import write_entries
from sapbridge.audit.rows import entry_number, entry_select, read_rows
from sapbridge.audit.tables import audit_log
from sapbridge.audit.verify import VerifyResult
from sapbridge.errors import AuditError

__all__ = [
    "ACTIONS",
    "DEFAULT_KEY_ENV",
    "AuditEntry",
    "AuditLog",
    "VerifyResult",
    "export",
    "get_entry",
    "query",
    "record",
    "verify",
]

ACTIONS = (
    "imported", "validated", "approved", "rejected", "planned", "applied", "failed",
    "verified", "stale", "skipped", "refused", "sync_run", "reconcile_run",
)
"""Actions sapbridge records; other components may add their own lowercase names."""


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
    """Append one entry inside the caller's transaction with the store's audit log."""
    return AuditLog.of(conn).record(
        conn, action=action, actor=actor, run_id=run_id, batch_id=batch_id, row_no=row_no,
        customer=customer, before=before, after=after, sap_document=sap_document,
        message=message, detail=detail,
    )


def verify(engine: Engine, key: bytes | None = None, *, require_key: bool = False) -> VerifyResult:
    """Walk the whole chain; name the first edited, deleted, inserted or reordered entry.

    Uses the store's audit log (key, anchors); ``key`` checks with another key instead.
    ``require_key`` fails when no key is configured.
    """
    log = AuditLog.of(engine)
    if key is not None:
        log = log.with_key(key)
    return log.verify(engine, require_key=require_key)


def _filtered(
    since: datetime | None, until: datetime | None, actor: str | None, action: str | None,
    batch_id: str | None, customer: str | None,
) -> Select[Any]:
    stmt = entry_select().order_by(audit_log.c.seq)
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
        yield from _entries(conn, stmt)


def _entries(conn: Connection, stmt: Select[Any]) -> Iterator[AuditEntry]:
    """Entries of ``stmt``; a row edited to the wrong type stops the read, naming the entry."""
    previous = 0
    for row, problem in read_rows(conn, stmt):
        if problem:
            where = (f"entry {row['seq']}" if not problem.startswith("seq ")
                     else f"the entry after {previous}")
            msg = f"audit log broken at {where}: {problem} (type-edited)"
            raise AuditError(msg, seq=entry_number(row, previous + 1))
        entry = AuditEntry.from_row(row)
        previous = entry.seq
        yield entry


def get_entry(engine: Engine, seq: int) -> AuditEntry:
    """One entry by its sequence number."""
    with engine.connect() as conn:
        found = list(_entries(conn, entry_select().where(audit_log.c.seq == seq)))
    if not found:
        msg = f"audit entry {seq} does not exist"
        raise AuditError(msg)
    return found[0]


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
    entries = query(engine, since=since, until=until, actor=actor, action=action,
                    batch_id=batch_id, customer=customer)
    return write_entries(entries, path, fmt=fmt)
