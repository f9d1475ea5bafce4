"""Reading audit rows defensively: a row someone edited to the wrong type is a finding, not a crash.

The store's column types are a convention an attacker with write access can break (SQLite keeps
whatever is written; PostgreSQL columns can be altered). Rows are therefore read with the raw
value of ``at`` and checked field by field, so verify and export can name the entry and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, String, select, type_coerce
from sqlalchemy.engine import Connection

from sapbridge.audit.tables import audit_log

__all__ = ["ReadRow", "entry_number", "entry_select", "read_rows", "row_problem"]

_REQUIRED_TEXT = ("action", "actor", "run_id", "alg", "prev_hash", "hash")
_OPTIONAL_TEXT = ("batch_id", "customer", "sap_document", "message", "os_login", "host")
_JSON_FIELDS = ("before_json", "after_json", "detail_json")
_OPTIONAL_INT = ("row_no", "form")

ReadRow = tuple[dict[str, Any], str]
"""``(row, problem)``: the row is only to be trusted when ``problem`` is empty."""


def entry_select() -> Select[Any]:
    """Every audit column, with ``at`` as the stored value so a bad one cannot abort the read."""
    columns = [type_coerce(c, String).label("at") if c.name == "at" else c
               for c in audit_log.columns]
    return select(*columns)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field_problem(row: dict[str, Any]) -> str:
    if not _is_int(row["seq"]):
        return f"seq holds {row['seq']!r}, not a number"
    for name in _REQUIRED_TEXT:
        if not isinstance(row[name], str) or not row[name]:
            return f"{name} holds {row[name]!r}, not text"
    for name in _OPTIONAL_TEXT:
        if row[name] is not None and not isinstance(row[name], str):
            return f"{name} holds {row[name]!r}, not text"
    for name in _OPTIONAL_INT:
        if row[name] is not None and not _is_int(row[name]):
            return f"{name} holds {row[name]!r}, not a number"
    for name in _JSON_FIELDS:
        if row[name] is None:
            continue
        try:
            parsed = json.loads(row[name]) if isinstance(row[name], str) else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            return f"{name} holds {str(row[name])[:40]!r}, not a JSON object"
    return ""


def row_problem(row: dict[str, Any]) -> str:
    """What is wrong with a row's types (``at`` is converted in place), or '' when it is sound."""
    moment = _as_datetime(row["at"])
    if moment is None:
        return f"at holds {row['at']!r}, not a timestamp"
    row["at"] = moment
    return _field_problem(row)


def entry_number(row: dict[str, Any], fallback: int) -> int:
    """The row's ``seq`` when it is a number, else ``fallback`` (its place in the chain)."""
    return int(row["seq"]) if _is_int(row["seq"]) else fallback


def read_rows(conn: Connection, stmt: Select[Any]) -> Iterator[ReadRow]:
    """Rows of ``stmt`` (built on :func:`entry_select`) with what is wrong with each."""
    rows = conn.execution_options(yield_per=1000).execute(stmt).mappings()
    try:
        for mapping in rows:
            row = dict(mapping)
            yield row, row_problem(row)
    finally:
        rows.close()
