"""Reading and changing batch and row state; the content hash that approvals are bound to."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from sapbridge.audit.chain import canonical_json
from sapbridge.errors import ControlError
from sapbridge.money import D
from sapbridge.push.tables import push_approvals, push_batches, push_claims, push_rows

__all__ = [
    "Batch",
    "Row",
    "approvals_for",
    "authority_amount",
    "content_hash",
    "current_content_hash",
    "idempotency_key",
    "load_batch",
    "load_rows",
    "lock_batch",
    "set_batch_status",
    "set_row_state",
]


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch header as stored."""

    batch_id: str
    kind: str
    system: str
    requester: str
    created_at: datetime
    source_file: str
    content_hash: str
    status: str
    row_count: int
    currency: str
    total: Decimal
    largest: Decimal


@dataclass(frozen=True, slots=True)
class Row:
    """One change as stored: what to set (``target``) and what was seen at request time."""

    batch_id: str
    row_no: int
    customer: str
    target: dict[str, Any]
    seen: dict[str, Any]
    idem_key: str
    state: str
    sap_document: str | None
    message: str | None


def idempotency_key(batch_id: str, row_no: int) -> str:
    """16 characters (fits REF_DOC_NO), derived from batch and row, so it never changes."""
    digest = hashlib.sha256(f"{batch_id}:{row_no}".encode()).hexdigest()
    return "SB" + digest[:14].upper()


def content_hash(kind: str, system: str, rows: list[tuple[int, str, str, str]]) -> str:
    """SHA-256 over the batch's kind, system and every (row_no, customer, target, seen)."""
    body = canonical_json({"kind": kind, "system": system, "rows": sorted(rows)})
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def authority_amount(kind: str, target: dict[str, Any], seen: dict[str, Any]) -> Decimal:
    """What a row weighs against authority: a limit's increase, a write-off's amount, a
    released or rejected order's value."""
    if kind == "releases":
        return D(target["order_value"])
    if kind == "limits":
        return max(D(target["new_limit"]) - D(seen["credit_limit"]), Decimal(0))
    return D(target["amount"])


def load_batch(conn: Connection, batch_id: str) -> Batch:
    """The batch header, or ControlError when there is no such batch."""
    row = conn.execute(select(push_batches).where(push_batches.c.batch_id == batch_id)).first()
    if row is None:
        msg = f"batch {batch_id} does not exist"
        raise ControlError(msg)
    m = row._mapping
    return Batch(**{k: m[k] for k in Batch.__slots__})


def load_rows(conn: Connection, batch_id: str) -> list[Row]:
    """The batch's rows in row order."""
    result = conn.execute(
        select(push_rows).where(push_rows.c.batch_id == batch_id).order_by(push_rows.c.row_no)
    ).mappings()
    return [
        Row(batch_id=m["batch_id"], row_no=m["row_no"], customer=m["customer"],
            target=json.loads(m["target_json"]), seen=json.loads(m["seen_json"]),
            idem_key=m["idem_key"], state=m["state"], sap_document=m["sap_document"],
            message=m["message"])
        for m in result
    ]


def current_content_hash(conn: Connection, batch: Batch) -> str:
    """The content hash recomputed from the rows as they are now."""
    rows = conn.execute(
        select(push_rows.c.row_no, push_rows.c.customer, push_rows.c.target_json,
               push_rows.c.seen_json).where(push_rows.c.batch_id == batch.batch_id)
    ).all()
    return content_hash(batch.kind, batch.system, [tuple(r) for r in rows])


def approvals_for(conn: Connection, batch_id: str) -> list[tuple[str, str, str]]:
    """(user, decision, content_hash) of every decision on the batch, oldest first."""
    rows = conn.execute(
        select(push_approvals.c.user, push_approvals.c.decision, push_approvals.c.content_hash)
        .where(push_approvals.c.batch_id == batch_id).order_by(push_approvals.c.id)
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def lock_batch(conn: Connection, batch_id: str) -> None:
    """Serialise decisions on one batch: write its row first (a row lock on PostgreSQL, the
    write lock on SQLite), so the controls read after this see every committed decision."""
    conn.execute(update(push_batches).where(push_batches.c.batch_id == batch_id)
                 .values(updated_at=datetime.now(UTC)))


def set_batch_status(conn: Connection, batch_id: str, status: str) -> None:
    """Change a batch's status; a done or rejected batch gives up its open-item claims."""
    conn.execute(update(push_batches).where(push_batches.c.batch_id == batch_id)
                 .values(status=status, updated_at=datetime.now(UTC)))
    if status in {"done", "rejected"}:
        conn.execute(delete(push_claims).where(push_claims.c.batch_id == batch_id))


def set_row_state(conn: Connection, row: Row, state: str, *, sap_document: str | None = None,
                  message: str | None = None) -> None:
    """Change one row's state (and its SAP document number or message)."""
    values: dict[str, Any] = {"state": state, "updated_at": datetime.now(UTC), "message": message}
    if sap_document is not None:
        values["sap_document"] = sap_document
    conn.execute(update(push_rows).where(push_rows.c.batch_id == row.batch_id,
                                         push_rows.c.row_no == row.row_no).values(**values))
    if state == "stale":
        conn.execute(delete(push_claims).where(push_claims.c.batch_id == row.batch_id,
                                               push_claims.c.row_no == row.row_no))
