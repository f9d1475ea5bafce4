"""Import a batch file (CSV or XLSX) as a requester: read, validate against the store, store.

A batch with any invalid row is refused whole, with one line per bad row. A valid batch is
stored with the values seen at request time (to detect stale rows later) and a content hash
(to refuse approval of a batch changed after import).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from sapbridge.audit.chain import canonical_json
from sapbridge.audit.log import record
from sapbridge.errors import InputError
from sapbridge.push.authority import PushConfig
from sapbridge.push.controls import refuse
from sapbridge.push.state import content_hash, idempotency_key
from sapbridge.push.tables import push_batches, push_claims, push_rows
from sapbridge.push.validate import (
    Prepared,
    claimed_by,
    validate_limit,
    validate_release,
    validate_writeoff,
)

__all__ = ["KINDS", "BatchInvalidError", "ImportResult", "import_batch", "read_table"]

KINDS = {"limits": ("L", validate_limit), "write-offs": ("W", validate_writeoff),
         "releases": ("R", validate_release)}
"""Batch kinds: their id prefix and row validator."""

CLAIMING_KINDS = ("write-offs", "releases")
"""Kinds whose rows claim their object (open item, sales order): one live batch per object."""


class BatchInvalidError(InputError):
    """Some rows are invalid; the batch was refused whole. One line per bad row."""

    def __init__(self, path: str, problems: list[tuple[int, str]]) -> None:
        lines = [f"{path}: batch refused, {len(problems)} invalid row(s)"]
        lines += [f"{path}, row {row}: {problem}" for row, problem in problems]
        super().__init__("\n".join(lines))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import stored."""

    batch_id: str
    kind: str
    rows: int
    currency: str
    total: Decimal
    content_hash: str


def _cell(value: Any) -> str:
    """An XLSX cell as the text a CSV would hold (floats via repr, dates ISO)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value).strip()


def _read_xlsx(path: Path) -> list[dict[str, str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        msg = f"not a readable XLSX file ({type(exc).__name__})"
        raise InputError(msg, path=str(path)) from exc
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    if not rows:
        return []
    header = [_cell(h).lower() for h in rows[0]]
    return [dict(zip(header, (_cell(v) for v in row), strict=False)) for row in rows[1:]
            if any(v not in (None, "") for v in row)]


def read_table(path: str | Path) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, optional BOM) or XLSX file as dicts of trimmed text."""
    path = Path(path)
    if not path.is_file():
        msg = "file not found"
        raise InputError(msg, path=str(path))
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_xlsx(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            return [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
                    for row in reader if any((v or "").strip() for v in row.values())]
    except UnicodeDecodeError as exc:
        msg = "not UTF-8 text; save the CSV as UTF-8"
        raise InputError(msg, path=str(path)) from exc


def _validate_all(conn: Connection, kind: str, system: str, rows: list[dict[str, str]],
                  config: PushConfig) -> tuple[list[Prepared], list[tuple[int, str]]]:
    validator = KINDS[kind][1]
    prepared: list[Prepared] = []
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(rows, start=2):  # row 1 is the header
        try:
            prepared.append(validator(conn, system, raw, config, number))
        except InputError as exc:
            problems.append((number, exc.message))
    currencies = {p.currency for p in prepared}
    if not problems and len(currencies) > 1:
        problems.append((0, f"one currency per batch, found {', '.join(sorted(currencies))}"))
    seen_keys: dict[str, int] = {}
    for p in prepared:
        if p.unique_key in seen_keys:
            problems.append((p.row_no, f"duplicates row {seen_keys[p.unique_key]}"))
        seen_keys.setdefault(p.unique_key, p.row_no)
    return prepared, sorted(problems)


def _store(conn: Connection, batch_id: str, kind: str, system: str, requester: str,
           source: str, prepared: list[Prepared]) -> ImportResult:
    now = datetime.now(UTC)
    stored = [(p.row_no, p.customer, canonical_json(p.target), canonical_json(p.seen))
              for p in prepared]
    digest = content_hash(kind, system, stored)
    total = sum((p.authority_amount for p in prepared), Decimal(0))
    largest = max((p.authority_amount for p in prepared), default=Decimal(0))
    currency = prepared[0].currency
    conn.execute(insert(push_batches).values(
        batch_id=batch_id, kind=kind, system=system, requester=requester, created_at=now,
        source_file=source, content_hash=digest, status="requested", row_count=len(prepared),
        currency=currency, total=total, largest=largest, updated_at=now))
    conn.execute(insert(push_rows), [
        {"batch_id": batch_id, "row_no": row_no, "customer": customer, "target_json": target,
         "seen_json": seen, "idem_key": idempotency_key(batch_id, row_no), "state": "pending",
         "updated_at": now}
        for row_no, customer, target, seen in stored
    ])
    if kind in CLAIMING_KINDS:
        conn.execute(insert(push_claims), [
            {"system": system, "item": p.unique_key, "batch_id": batch_id, "row_no": p.row_no}
            for p in prepared])
    return ImportResult(batch_id, kind, len(prepared), currency, total, digest)


def _claim_conflicts(engine: Engine, system: str,
                     prepared: list[Prepared]) -> list[tuple[int, str]]:
    """Rows whose open item another live batch claimed (a request that won a race)."""
    with engine.connect() as conn:
        claims = dict(conn.execute(
            select(push_claims.c.item, push_claims.c.batch_id)
            .where(push_claims.c.system == system,
                   push_claims.c.item.in_([p.unique_key for p in prepared]))).all())
    return [(p.row_no, claimed_by(p.unique_key, claims[p.unique_key]))
            for p in prepared if p.unique_key in claims]


def _refuse_rows(engine: Engine, source: str, kind: str, requester: str, run_id: str,
                 problems: list[tuple[int, str]]) -> BatchInvalidError:
    with engine.begin() as conn:
        record(conn, action="refused", actor=requester, run_id=run_id,
               message=f"{len(problems)} invalid row(s) in {source}",
               detail={"control": "validation", "attempted": f"push {kind}",
                       "problems": [f"row {r}: {p}" for r, p in problems]})
    return BatchInvalidError(source, problems)


def import_batch(
    engine: Engine,
    kind: str,
    path: str | Path,
    *,
    system: str,
    requester: str,
    run_id: str,
    config: PushConfig,
) -> ImportResult:
    """Validate every row of ``path`` and store the batch as ``requested``; refuse it whole
    (with one line per bad row, recorded in the audit log) if any row is invalid."""
    if kind not in KINDS:
        msg = f"unknown batch kind {kind!r} (use {', '.join(KINDS)})"
        raise InputError(msg)
    source = str(path)
    if not config.authority.may_request(requester):
        refuse(engine, f"{requester} may not request {kind} batches", control="requester",
               attempted=f"push {kind}", actor=requester, run_id=run_id,
               detail={"file": source})
    rows = read_table(path)
    if not rows:
        msg = "no data rows"
        raise InputError(msg, path=source)
    batch_id = f"{KINDS[kind][0]}-{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        prepared, problems = _validate_all(conn, kind, system, rows, config)
    if problems:
        raise _refuse_rows(engine, source, kind, requester, run_id, problems)
    try:
        with engine.begin() as conn:
            return _store_and_record(conn, batch_id, kind, system, requester, source, run_id,
                                     prepared)
    except IntegrityError:
        conflicts = _claim_conflicts(engine, system, prepared)
        if not conflicts:
            raise
        raise _refuse_rows(engine, source, kind, requester, run_id, conflicts) from None


def _store_and_record(conn: Connection, batch_id: str, kind: str, system: str, requester: str,
                      source: str, run_id: str, prepared: list[Prepared]) -> ImportResult:
    """Store the batch and the audit entries that later prove it, in one transaction."""
    result = _store(conn, batch_id, kind, system, requester, source, prepared)
    largest = max(p.authority_amount for p in prepared)
    detail: Mapping[str, Any] = {"file": source, "kind": kind, "system": system,
                                 "rows": len(prepared), "content_hash": result.content_hash,
                                 "requester": requester, "largest": largest}
    record(conn, action="imported", actor=requester, run_id=run_id, batch_id=batch_id,
           detail=detail, after={"currency": result.currency, "total": result.total})
    for p in prepared:
        record(conn, action="validated", actor=requester, run_id=run_id,
               batch_id=batch_id, row_no=p.row_no, customer=p.customer, before=p.seen,
               after=p.target)
    return result
