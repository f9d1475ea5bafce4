"""Bulk upserts of canonical rows into the store, and marking rows SAP no longer returns.

This is the hot path of a sync: rows arrive as tuples in storage form from the mapping's row
builder and go to the driver's ``executemany`` with one prepared upsert, so no per-row objects
are built. Column names come from our own schema, never from user input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, func, select, tuple_
from sqlalchemy.engine import Connection

__all__ = ["DatasetWriter"]

TRACKING = ("system", "status", "cleared_at", "first_seen_at", "last_seen_at", "last_seen_run")

_CONFLICT_OVERRIDES: dict[str, dict[str, str]] = {
    "blocked_orders": {
        "blocked_since": (
            "CASE WHEN excluded.credit_status = 'B' AND (blocked_orders.credit_status IS NULL "
            "OR blocked_orders.credit_status <> 'B') THEN excluded.blocked_since "
            "ELSE COALESCE(blocked_orders.blocked_since, excluded.blocked_since) END"
        ),
        "released_at": (
            "CASE WHEN blocked_orders.credit_status = 'B' AND excluded.credit_status <> 'B' "
            "THEN COALESCE(excluded.changed_at, excluded.last_seen_at) "
            "ELSE COALESCE(blocked_orders.released_at, excluded.released_at) END"
        ),
    },
}
"""Columns whose value on update depends on the stored row (state transitions), per dataset."""


def _blocked_order_timeline(columns: Sequence[str]) -> list[tuple[str, Callable[[tuple[Any, ...]], Any]]]:
    """On first sight: blocked since the change (B) or creation (D), released at the change (D).

    For an order first seen already released (D) the real block time is unknown; the creation
    date is the best estimate because the credit check runs when the order is saved.
    """
    status_at = columns.index("credit_status")
    changed_at = columns.index("changed_at") if "changed_at" in columns else None
    created_on = columns.index("created_on") if "created_on" in columns else None

    def since(row: tuple[Any, ...]) -> Any:
        if row[status_at] == "B":
            return row[changed_at] if changed_at is not None else None
        if row[status_at] == "D" and created_on is not None and row[created_on] is not None:
            created = row[created_on]
            return f"{created} 00:00:00.000000" if isinstance(created, str) else datetime(
                created.year, created.month, created.day, tzinfo=UTC)
        return None

    def released(row: tuple[Any, ...]) -> Any:
        if row[status_at] == "D" and changed_at is not None:
            return row[changed_at]
        return None

    return [("blocked_since", since), ("released_at", released)]


_DERIVED: dict[str, Callable[[Sequence[str]], list[tuple[str, Callable[[tuple[Any, ...]], Any]]]]] = {
    "blocked_orders": _blocked_order_timeline,
}


class DatasetWriter:
    """Upserts one dataset's rows for one system within the caller's transaction."""

    def __init__(self, conn: Connection, table: Table, columns: Sequence[str], *, system: str,
                 run_id: str, now: datetime) -> None:
        self.conn = conn
        self.table = table
        self.system = system
        self.run_id = run_id
        self.now = now
        self.sqlite = conn.dialect.name == "sqlite"
        self.columns = list(columns)
        derive = _DERIVED.get(table.name)
        self.derived = derive(self.columns) if derive and "credit_status" in self.columns else []
        now_value: Any = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds") \
            if self.sqlite else now
        self.tail = (system, "open", None, now_value, now_value, run_id)
        self.sql = self._upsert_sql()
        self.key = [c.name for c in table.primary_key.columns if c.name != "system"]

    def _upsert_sql(self) -> str:
        derived = [name for name, _ in self.derived]
        names = [*self.columns, *derived, *TRACKING]
        marker = "?" if self.sqlite else "%s"
        keys = [c.name for c in self.table.primary_key.columns]
        overrides = _CONFLICT_OVERRIDES.get(self.table.name, {})
        updates = [f"{c} = excluded.{c}" for c in self.columns if c not in keys and c not in overrides]
        updates += [f"{c} = {overrides[c]}" for c in derived if c in overrides]
        updates += ["status = 'open'", "cleared_at = NULL", "last_seen_at = excluded.last_seen_at",
                    "last_seen_run = excluded.last_seen_run"]
        return (
            f"INSERT INTO {self.table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join([marker] * len(names))}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(updates)}"
        )

    def upsert(self, rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert or refresh rows; returns how many were written."""
        tail = self.tail
        if self.derived:
            derived = [fn for _, fn in self.derived]
            batch = [row + tuple(fn(row) for fn in derived) + tail for row in rows]
        else:
            batch = [row + tail for row in rows]
        if batch:
            self.conn.exec_driver_sql(self.sql, batch)
        return len(batch)

    def count(self, partition: tuple[str, str] | None = None) -> int:
        """Rows of this system (and partition) in the table, whatever their status."""
        query = select(func.count()).select_from(self.table).where(self._scope(partition))
        return int(self.conn.execute(query).scalar_one())

    def known_keys(self, keys: Sequence[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        """Which of these keys the store already holds for this system."""
        if not keys:
            return set()
        cols = [self.table.c[name] for name in self.key]
        target = tuple_(*cols) if len(cols) > 1 else cols[0]
        values = list(keys) if len(cols) > 1 else [k[0] for k in keys]
        query = select(*cols).where(self.table.c.system == self.system, target.in_(values))
        return {tuple(row) for row in self.conn.execute(query)}

    def mark_absent(self, partition: tuple[str, str] | None = None) -> int:
        """Mark rows this run did not see as cleared (snapshot semantics); returns how many."""
        table = self.table
        statement = (
            table.update()
            .where(self._scope(partition), table.c.status == "open",
                   table.c.last_seen_run != self.run_id)
            .values(status="cleared", cleared_at=self.now)
        )
        return int(self.conn.execute(statement).rowcount or 0)

    def _scope(self, partition: tuple[str, str] | None) -> Any:
        condition = self.table.c.system == self.system
        if partition is not None:
            column, value = partition
            condition = and_(condition, self.table.c[column] == value)
        return condition
