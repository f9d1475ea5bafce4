"""Cost of the hash chain: audit appends and verification against plain inserts.

Usage: python bench/bench_audit_chain.py [N] [POSTGRES_SERVER_URL]

Without a URL it runs on a temporary SQLite file; with a PostgreSQL URL it creates and then
drops a throw-away database on that server (the named database is left untouched).

Appends N entries with ``record`` (one transaction per entry, as push does per row event)
and, as the baseline in the same run, inserts the same rows into an unchained copy of the
table. Then times ``verify`` over the N entries.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, text

from sapbridge.audit.log import record, verify
from sapbridge.store import open_store


@contextmanager
def scratch_url(server: str | None) -> Iterator[str]:
    """A store URL on a throw-away database."""
    if server is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"sapbridge_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def main(n: int, server: str | None) -> None:
    with scratch_url(server) as url:
        store = open_store(url)
        meta = MetaData()
        plain = Table("bench_plain_log", meta, Column("id", Integer, primary_key=True),
                      Column("action", String(20)), Column("actor", String(64)),
                      Column("after_json", Text), Column("at", String(40)))
        meta.create_all(store.engine)
        start = time.perf_counter()
        for i in range(n):
            with store.engine.begin() as conn:
                conn.execute(plain.insert().values(
                    action="applied", actor="bob", after_json=f'{{"limit":"{i}.00"}}',
                    at=datetime.now(UTC).isoformat()))
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(n):
            with store.engine.begin() as conn:
                record(conn, action="applied", actor="bob", run_id="bench", batch_id="L-1",
                       row_no=i, after={"limit": Decimal(f"{i}.00")})
        chained = time.perf_counter() - start
        start = time.perf_counter()
        result = verify(store.engine)
        verifying = time.perf_counter() - start
        assert result.ok
        assert result.checked == n
        store.dispose()
    print(f"store: {store.dialect}, entries: {n}")
    print(f"plain insert (baseline): {n / baseline:,.0f} entries/s")
    print(f"audit record (chained):  {n / chained:,.0f} entries/s "
          f"(x{chained / baseline:.2f} the baseline time)")
    print(f"audit verify:            {n / verifying:,.0f} entries/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, sys.argv[2] if len(sys.argv) > 2
         else None)
