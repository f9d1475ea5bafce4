"""Writes of canonical rows into the store, the stored digests they are compared with, and
marking rows SAP no longer returns.

Rows arrive as tuples in storage form from the mapping's batch builder, each with its digest,
and go to the driver's ``executemany`` with one prepared upsert whose tracking values (system,
run, time) are bound once per statement, not per row. An empty partition is loaded by COPY on
PostgreSQL (falling back to the upsert for a page that repeats a key); on SQLite the upsert of a
row without conflict costs what a plain INSERT does. A table that was empty gets its secondary
indexes built after the load.
Column and table names come from our own schema, never from user input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy import ARRAY, BigInteger, Table, and_, cast, column, func, or_, select, table, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.schema import CreateIndex, DropIndex

from sapbridge.sync.digest import Digests
from sapbridge.sync.known import StoredRows

__all__ = ["DatasetWriter"]

TRACKING = ("system", "status", "cleared_at", "first_seen_at", "last_seen_at", "last_seen_run")

_BOUND_VALUES = 30_000
"""Values bound in one comparison statement at most (SQLite binds at most 32,766)."""

_STAGED_MIN_ROWS = 50
"""Rows of a PostgreSQL upsert from which staging them by COPY is the faster way."""

_ANALYZE_WAIT_MS = 200
"""How long a first load waits for the lock of its closing ``ANALYZE`` (PostgreSQL)."""

_STORED_CHUNK = 50_000
"""Stored rows read at a time for a resync's comparison."""

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
    """Writes one dataset's rows for one system within the caller's transaction."""

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
        self.key = [c.name for c in table.primary_key.columns if c.name != "system"]
        self.names = [*self.columns, *(name for name, _ in self.derived), "row_digest", "row_check"]
        self.upsert_sql = self._insert_sql()

    # ------------------------------------------------------------------ statements

    def _literal(self, value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, datetime):
            stamp = value.astimezone(UTC)
            value = stamp.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds") \
                if self.sqlite else stamp.isoformat()
        text = "'" + str(value).replace("'", "''") + "'"
        return text if self.sqlite else text.replace("%", "%%")

    def _tracking_values(self) -> tuple[Any, ...]:
        return (self.system, "open", None, self.now, self.now, self.run_id)

    def _insert_sql(self) -> str:
        marker = "?" if self.sqlite else "%s"
        values = [marker] * len(self.names) + [self._literal(v) for v in self._tracking_values()]
        if not self.sqlite:
            values[-3:-1] = [f"{v}::timestamptz" for v in values[-3:-1]]
        sql = (f"INSERT INTO {self.table.name} ({', '.join([*self.names, *TRACKING])}) "
               f"VALUES ({', '.join(values)})")
        return sql + self._conflict_sql()

    def _conflict_sql(self) -> str:
        keys = [c.name for c in self.table.primary_key.columns]
        overrides = _CONFLICT_OVERRIDES.get(self.table.name, {})
        updates = [f"{c} = excluded.{c}" for c in self.columns if c not in keys and c not in overrides]
        updates += [f"{c} = {overrides[c]}" for c, _ in self.derived if c in overrides]
        updates += ["row_digest = excluded.row_digest", "row_check = excluded.row_check",
                    "status = 'open'", "cleared_at = NULL",
                    "last_seen_at = excluded.last_seen_at", "last_seen_run = excluded.last_seen_run"]
        return f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(updates)}"

    def _bound(self, rows: Sequence[tuple[Any, ...]], digests: Digests) -> list[tuple[Any, ...]]:
        pairs = digests.tolist()
        if self.derived:
            derived = [fn for _, fn in self.derived]
            return [row + tuple(fn(row) for fn in derived) + (digest, check)
                    for row, (digest, check) in zip(rows, pairs, strict=True)]
        return [(*row, digest, check) for row, (digest, check) in zip(rows, pairs, strict=True)]

    # ------------------------------------------------------------------ writes

    def upsert(self, rows: Sequence[tuple[Any, ...]], digests: Digests) -> int:
        """Insert or refresh rows with their digests; returns how many were written.

        On PostgreSQL a page of rows with distinct keys is copied into a temporary stage and
        upserted from it in one statement (per-row statements cost about four times more)."""
        if not rows:
            return 0
        bound = self._bound(rows, digests)
        if self.sqlite or len(rows) < _STAGED_MIN_ROWS or self._repeats_key(rows):
            self.conn.exec_driver_sql(self.upsert_sql, bound)
        else:
            self._staged_upsert(bound)
        return len(rows)

    def _repeats_key(self, rows: Sequence[tuple[Any, ...]]) -> bool:
        """Whether two rows share a key: one statement may not update a row twice."""
        at = [self.columns.index(name) for name in self.key if name in self.columns]
        return len({tuple(row[i] for i in at) for row in rows}) < len(rows)

    def _staged_upsert(self, bound: Sequence[tuple[Any, ...]]) -> None:
        stage = f"sync_stage_{self.table.name}"
        columns = ", ".join([*self.names, *TRACKING])
        self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} "
                                  f"(LIKE {self.table.name}) ON COMMIT DROP")
        self._copy(bound, stage)
        self.conn.exec_driver_sql(f"INSERT INTO {self.table.name} ({columns}) SELECT {columns} "
                                  f"FROM {stage}{self._conflict_sql()}")
        self.conn.exec_driver_sql(f"TRUNCATE {stage}")

    def insert_new(self, rows: Sequence[tuple[Any, ...]], digests: Digests) -> int:
        """Rows of an empty partition: COPY on PostgreSQL (a page repeating a key upserts)."""
        if not rows:
            return 0
        bound = self._bound(rows, digests)
        if self.sqlite:
            # Without a conflict SQLite's upsert costs what a plain INSERT does; a savepoint to
            # retry a page that repeats a key would cost more (a statement journal per page).
            self.conn.exec_driver_sql(self.upsert_sql, bound)
            return len(rows)
        savepoint = self.conn.begin_nested()
        try:
            self._copy(bound)
        except IntegrityError:
            savepoint.rollback()
            self.conn.exec_driver_sql(self.upsert_sql, bound)
        else:
            savepoint.commit()
        return len(rows)

    def _copy(self, bound: Sequence[tuple[Any, ...]], target: str | None = None) -> None:
        tail = self._tracking_values()
        statement = f"COPY {target or self.table.name} ({', '.join([*self.names, *TRACKING])}) FROM STDIN"
        driver = self.conn.connection.driver_connection
        assert driver is not None
        from psycopg.errors import UniqueViolation

        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for row in bound:
                    copy.write_row(row + tail)
        except UniqueViolation as exc:
            raise IntegrityError(statement, None, exc) from exc

    # ------------------------------------------------------------------ reads

    def count(self, partition: tuple[str, str] | None = None, *, open_only: bool = False) -> int:
        """Rows of this system (and partition) in the table, open ones only if asked."""
        condition = self._scope(partition)
        if open_only:
            condition = and_(condition, self.table.c.status == "open")
        query = select(func.count()).select_from(self.table).where(condition)
        return int(self.conn.execute(query).scalar_one())

    def table_is_empty(self) -> bool:
        """True when the table holds no row at all (of any system): a first load."""
        return self.conn.execute(select(1).select_from(self.table).limit(1)).first() is None

    def defers_indexes(self, first_load: bool) -> bool:
        """Whether this load builds the secondary indexes after it: a first load (of a table that
        was empty, :meth:`table_is_empty`) on SQLite.

        Not on PostgreSQL: ``DROP INDEX`` locks the whole table until commit, so partitions
        loading an empty table side by side (Airflow's mapped syncs) would queue behind one
        another; COPY fills an indexed table well enough there.
        """
        return self.sqlite and first_load

    def to_write(self, keys: Sequence[tuple[Any, ...]], pairs: Digests) -> list[int]:
        """Positions of the rows to write: keys the store lacks for this system, or holds with
        another digest, or not open. The store compares; only those positions come back."""
        digests = pairs[:, 0].tolist()
        width = len(self.key)
        chunk_size = _BOUND_VALUES // (width + 2)
        wanted: list[int] = []
        for start in range(0, len(keys), chunk_size):
            chunk = range(start, min(start + chunk_size, len(keys)))
            if self.sqlite:
                wanted.extend(row[0] for row in self._fetch(*self._sqlite_compare(keys, digests, chunk)))
            else:
                wanted.extend(self._pg_compare(keys, digests, chunk))
        wanted.sort()
        return wanted

    def _sqlite_compare(self, keys: Sequence[tuple[Any, ...]], digests: Sequence[int],
                        chunk: range) -> tuple[str, list[Any]]:
        width = len(self.key)
        row = f"({', '.join('?' * (width + 2))})"
        joined = " AND ".join(f"t.{name} = v.column{i + 2}" for i, name in enumerate(self.key))
        sql = (f"SELECT v.column1 FROM (VALUES {', '.join([row] * len(chunk))}) AS v "
               f"LEFT JOIN {self.table.name} AS t ON t.system = ? AND {joined} "
               f"WHERE t.row_digest IS NOT v.column{width + 2} OR t.status IS NOT 'open'")
        params: list[Any] = []
        for i in chunk:
            params += [i, *keys[i], digests[i]]
        params.append(self.system)
        return sql, params

    def _pg_compare(self, keys: Sequence[tuple[Any, ...]], digests: Sequence[int],
                    chunk: range) -> list[int]:
        # The stored digests of the chunk's keys, compared here (a LEFT JOIN from unnest()
        # arrays, as on SQLite, measured no faster on this machine).
        width = len(self.key)
        arrays = ", ".join(["%s::text[]"] * width)
        sql = (f"SELECT {', '.join(self.key)}, row_digest, status FROM {self.table.name} "
               f"WHERE system = %s AND ({', '.join(self.key)}) IN (SELECT * FROM unnest({arrays}))")
        params = [self.system, *([keys[i][n] for i in chunk] for n in range(width))]
        stored = {row[:width]: row[width:] for row in self._fetch(sql, params)}
        return [i for i in chunk if stored.get(keys[i]) != (digests[i], "open")]

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Plain tuples from the driver's own cursor, inside this transaction (a hot path)."""
        driver = self.conn.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        try:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def known_keys(self, keys: Sequence[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        """Which of these keys the store already holds for this system."""
        if not keys:
            return set()
        cols = [self.table.c[name] for name in self.key]
        target = tuple_(*cols) if len(cols) > 1 else cols[0]
        values = list(keys) if len(cols) > 1 else [k[0] for k in keys]
        query = select(*cols).where(self.table.c.system == self.system, target.in_(values))
        return {tuple(row) for row in self.conn.execute(query)}

    def stored_rows(self, partition: tuple[str, str] | None) -> Iterator[StoredRows]:
        """The partition's open rows in chunks: row ids (SQLite's ``rowid``; -1 on PostgreSQL,
        which clears by digest, see :meth:`clear_rows`) and ``[row_digest, row_check]`` (-1 for
        none); a server-side cursor on PostgreSQL, so a million rows stream."""
        marker = "?" if self.sqlite else "%s"
        row_id = "rowid" if self.sqlite else "-1"
        sql = (f"SELECT {row_id}, COALESCE(row_digest, -1), COALESCE(row_check, -1) "
               f"FROM {self.table.name} WHERE system = {marker} AND status = 'open'")
        params: list[Any] = [self.system]
        if partition is not None:
            sql += f" AND {self.table.c[partition[0]].name} = {marker}"
            params.append(partition[1])
        driver = self.conn.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor() if self.sqlite else driver.cursor(name="sync_stored_rows")
        try:
            cursor.execute(sql, params)
            while chunk := cursor.fetchmany(_STORED_CHUNK):
                values = np.fromiter(chain.from_iterable(chunk), dtype=np.int64, count=3 * len(chunk))
                values = values.reshape(-1, 3)
                yield values[:, 0], values[:, 1:]
        finally:
            cursor.close()

    def unwritten_open_digests(self, partition: tuple[str, str] | None) -> tuple[np.ndarray[Any, Any], int]:
        """Digests of the open rows this run did not write (seen unchanged, or not seen at all),
        and how many such rows have no digest; read in chunks, so a million cost 8 MB."""
        marker = "?" if self.sqlite else "%s"
        sql = (f"SELECT row_digest FROM {self.table.name} WHERE system = {marker} "
               f"AND status = 'open' AND last_seen_run <> {marker}")
        params: list[Any] = [self.system, self.run_id]
        if partition is not None:
            sql += f" AND {self.table.c[partition[0]].name} = {marker}"
            params.append(partition[1])
        driver = self.conn.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        chunks, missing = [], 0
        try:
            cursor.execute(sql, params)
            while chunk := cursor.fetchmany(50_000):
                values = [row[0] for row in chunk if row[0] is not None]
                missing += len(chunk) - len(values)
                chunks.append(np.array(values, dtype=np.int64))
        finally:
            cursor.close()
        return (np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int64)), missing

    # ------------------------------------------------------------------ clearing

    def clear_unseen(self, partition: tuple[str, str] | None, digests: Sequence[int],
                     *, without_digest: bool) -> int:
        """Mark cleared the open rows this run did not write whose digest is one of ``digests``
        (rows not seen), and those without a digest when asked; returns how many."""
        target = self.table
        condition = and_(self._scope(partition), target.c.status == "open",
                         target.c.last_seen_run != self.run_id)
        chosen: list[Any] = []
        if digests and self.sqlite:
            self.conn.exec_driver_sql("CREATE TEMPORARY TABLE IF NOT EXISTS sync_unseen (digest BIGINT)")
            self.conn.exec_driver_sql("DELETE FROM sync_unseen")
            self.conn.exec_driver_sql("INSERT INTO sync_unseen (digest) VALUES (?)", [(d,) for d in digests])
            chosen.append(target.c.row_digest.in_(select(_UNSEEN.c.digest)))
        elif digests:
            # One array parameter, which PostgreSQL hashes; a temporary table would be joined by
            # a plan from the statistics, stale right after a bulk load (minutes at 1M rows).
            chosen.append(target.c.row_digest == func.any(cast(list(digests), ARRAY(BigInteger))))
        if without_digest:
            chosen.append(target.c.row_digest.is_(None))
        if not chosen:
            return 0
        statement = target.update().where(condition, or_(*chosen)).values(status="cleared",
                                                                          cleared_at=self.now)
        return int(self.conn.execute(statement).rowcount or 0)

    def clear_rows(self, partition: tuple[str, str] | None, ids: np.ndarray[Any, Any], digests: Digests
                   ) -> int:
        """Mark cleared the partition's open rows no row read matched (these ids and digests,
        from :meth:`stored_rows`), unless this run wrote them (a changed row read again);
        returns how many.

        SQLite looks the ids up and checks the digests, so a stale id can only miss a row,
        never clear another one. PostgreSQL hashes the digests and scans the partition (reading
        ``ctid`` costs more than that scan). Either way no row a read row matched is cleared: a
        matched row's digest is one no other stored row has (:class:`KnownRows`)."""
        if not len(ids):
            return 0
        stamp = self._literal(self.now)
        if not self.sqlite:
            condition, params = self._scope_sql(partition)
            sql = (f"UPDATE {self.table.name} SET status = 'cleared', cleared_at = {stamp}::timestamptz "
                   f"WHERE {condition} AND status = 'open' AND last_seen_run <> %s "
                   "AND COALESCE(row_digest, -1) = ANY(%s::bigint[]) "
                   "AND COALESCE(row_check, -1) = ANY(%s::bigint[])")
            params += [self.run_id, digests[:, 0].tolist(), digests[:, 1].tolist()]
            return int(self.conn.exec_driver_sql(sql, tuple(params)).rowcount or 0)
        self.conn.exec_driver_sql("CREATE TEMPORARY TABLE IF NOT EXISTS sync_unseen_rows "
                                  "(id INTEGER PRIMARY KEY, digest BIGINT, checksum BIGINT)")
        self.conn.exec_driver_sql("DELETE FROM sync_unseen_rows")
        unseen = [(i, d, c) for i, (d, c) in zip(ids.tolist(), digests.tolist(), strict=True)]
        self.conn.exec_driver_sql("INSERT INTO sync_unseen_rows VALUES (?, ?, ?)", unseen)
        # ``+system``: without it SQLite walks an index of every row of the system instead of
        # looking the few ids up.
        sql = (f"UPDATE {self.table.name} SET status = 'cleared', cleared_at = {stamp} "
               "WHERE rowid IN (SELECT id FROM sync_unseen_rows) AND +system = ? "
               "AND status = 'open' AND last_seen_run <> ? "
               "AND (COALESCE(row_digest, -1), COALESCE(row_check, -1)) = "
               f"(SELECT digest, checksum FROM sync_unseen_rows WHERE id = {self.table.name}.rowid)")
        return int(self.conn.exec_driver_sql(sql, (self.system, self.run_id)).rowcount or 0)

    def refresh_statistics(self) -> bool:
        """Fresh planner statistics after a first load (PostgreSQL), so the next resync's
        clearing scans the partition instead of walking an index of it; True when taken.

        ``ANALYZE`` holds its lock until this sync commits, so a partition loading the same
        table beside this one (Airflow's mapped syncs) would wait for it: when the lock is not
        free within a moment the statistics are left to autovacuum instead."""
        if self.sqlite:
            return False
        previous = self.conn.exec_driver_sql("SHOW lock_timeout").scalar_one()
        savepoint = self.conn.begin_nested()
        try:
            self.conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{_ANALYZE_WAIT_MS}ms'")
            self.conn.exec_driver_sql(f"ANALYZE {self.table.name}")
        except OperationalError:
            savepoint.rollback()  # also undoes the SET LOCAL
            return False
        savepoint.commit()
        self.conn.exec_driver_sql("SELECT set_config('lock_timeout', %s, true)", (previous,))
        return True

    def _scope_sql(self, partition: tuple[str, str] | None) -> tuple[str, list[Any]]:
        marker = "?" if self.sqlite else "%s"
        condition, params = f"system = {marker}", [self.system]
        if partition is not None:
            condition += f" AND {self.table.c[partition[0]].name} = {marker}"
            params.append(partition[1])
        return condition, params

    @contextmanager
    def indexes_deferred(self) -> Iterator[None]:
        """Drop the table's secondary indexes for a bulk load and build them again after it."""
        indexes = list(self.table.indexes)
        # IF [NOT] EXISTS: on SQLite a concurrent partition's first load may have dropped or
        # built them between our check and these statements (SQLite only).
        for index in indexes:
            self.conn.execute(DropIndex(index, if_exists=True))
        yield
        for index in indexes:
            self.conn.execute(CreateIndex(index, if_not_exists=True))

    def _scope(self, partition: tuple[str, str] | None) -> Any:
        condition = self.table.c.system == self.system
        if partition is not None:
            column, value = partition
            condition = and_(condition, self.table.c[column] == value)
        return condition


_UNSEEN = table("sync_unseen", column("digest"))
"""A temporary table of the digests of rows a snapshot did not see (filled per partition)."""
