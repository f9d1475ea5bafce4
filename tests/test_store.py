from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from sapbridge.errors import StoreError
from sapbridge.store import open_store, redact_url
from sapbridge.store.migrations import applied_versions
from sapbridge.store.schema import credit_segments


def test_migrations_recorded_once(store):
    with store.engine.connect() as conn:
        assert ("core", 1) in applied_versions(conn)
    again = open_store(store.url)
    with again.engine.connect() as conn:
        assert ("core", 1) in applied_versions(conn)
    again.dispose()


def test_money_roundtrips_exactly(store):
    now = datetime.now(UTC)
    row = {
        "system": "T", "customer": "0000000001", "credit_segment": "1000",
        "credit_limit": Decimal("12345678901234.125"), "currency": "EUR", "blocked": False,
        "is_critical": False, "status": "open", "first_seen_at": now, "last_seen_at": now,
        "last_seen_run": "r1",
    }
    with store.engine.begin() as conn:
        conn.execute(credit_segments.insert(), [row])
    with store.engine.connect() as conn:
        value = conn.execute(select(credit_segments.c.credit_limit)).scalar_one()
    assert value == Decimal("12345678901234.125")
    assert isinstance(value, Decimal)


def test_float_money_refused(sqlite_store):
    now = datetime.now(UTC)
    with pytest.raises(Exception, match="Decimal"), sqlite_store.engine.begin() as conn:
        conn.execute(credit_segments.insert(), [{
            "system": "T", "customer": "1", "credit_segment": "1", "credit_limit": 1.5,
            "blocked": False, "is_critical": False, "status": "open", "first_seen_at": now,
            "last_seen_at": now, "last_seen_run": "r"}])


def test_unreachable_store_is_one_clear_error():
    with pytest.raises(StoreError, match=r"cannot open store postgresql\+psycopg://u:\*\*\*@127.0.0.1:1/x"):
        open_store("postgresql+psycopg://u:secret@127.0.0.1:1/x")


def test_redact_url_hides_password():
    assert "secret" not in redact_url("postgresql://u:secret@h/db")


def test_a_store_made_before_row_digests_is_upgraded(store):
    """A version-1 store (no row_digest, sync run process, with the unused run index) migrates."""
    from sqlalchemy import inspect, text

    from sapbridge.store.schema import OBJECT_TABLES

    with store.engine.begin() as conn:
        for table in OBJECT_TABLES:
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN row_digest"))
        conn.execute(text("ALTER TABLE sync_runs DROP COLUMN host"))
        conn.execute(text("ALTER TABLE sync_runs DROP COLUMN pid"))
        conn.execute(text("CREATE INDEX ix_open_items_run ON open_items (system, company_code, last_seen_run)"))
        conn.execute(text("DELETE FROM schema_migrations WHERE component = 'core' AND version = 2"))
    upgraded = open_store(store.url)
    found = inspect(upgraded.engine)
    assert all("row_digest" in {c["name"] for c in found.get_columns(t)} for t in OBJECT_TABLES)
    assert {"host", "pid"} <= {c["name"] for c in found.get_columns("sync_runs")}
    assert "ix_open_items_run" not in {i["name"] for i in found.get_indexes("open_items")}
    upgraded.dispose()
