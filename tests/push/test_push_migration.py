"""Upgrading a version-1 push store: duplicate decisions go, claims of live batches come."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from sapbridge.push.approval import approve
from sapbridge.push.tables import push_approvals, push_claims
from sapbridge.store import open_store
from sapbridge.store.migrations import schema_migrations

from .helpers import writeoff_batch


def _downgrade_to_v1(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE push_claims"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE push_approvals DROP CONSTRAINT IF EXISTS "
                              "uq_push_approvals_batch_user"))
        conn.execute(text("DROP INDEX IF EXISTS uq_push_approvals_batch_user"))
        conn.execute(text("ALTER TABLE push_approvals DROP COLUMN signature"))
        conn.execute(delete(schema_migrations).where(schema_migrations.c.component == "push",
                                                     schema_migrations.c.version == 2))


def test_version_2_dedupes_decisions_and_claims_live_items(seeded, push_config, tmp_path):
    batch = writeoff_batch(seeded.engine, push_config, tmp_path)
    approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    engine = seeded.engine
    if engine.dialect.name == "sqlite":
        # SQLite cannot drop a column that a table-level UNIQUE constraint names: rebuild
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE old AS SELECT id, batch_id, \"user\", decision,"
                              " content_hash, at, reason FROM push_approvals"))
            conn.execute(text("DROP TABLE push_approvals"))
            conn.execute(text("ALTER TABLE old RENAME TO push_approvals"))
            conn.execute(text("ALTER TABLE push_approvals ADD COLUMN signature TEXT"))
    _downgrade_to_v1(engine)
    with engine.begin() as conn:  # the race of version 1: bob twice
        conn.execute(text("INSERT INTO push_approvals (id, batch_id, \"user\", decision,"
                          " content_hash, at) VALUES (99, :b, 'bob', 'approved', :h, :at)"),
                     {"b": batch.batch_id, "h": batch.content_hash, "at": datetime.now(UTC)})
    upgraded = open_store(seeded.url)
    try:
        with upgraded.engine.connect() as conn:
            users = conn.execute(select(push_approvals.c.user, push_approvals.c.signature)
                                 .where(push_approvals.c.batch_id == batch.batch_id)).all()
            claims = conn.execute(select(func.count()).select_from(push_claims)).scalar()
        assert [tuple(u) for u in users] == [("bob", None)]
        assert claims == 3
        with pytest.raises(IntegrityError), upgraded.engine.begin() as conn:
            conn.execute(insert(push_approvals).values(
                id=100, batch_id=batch.batch_id, user="bob", decision="approved",
                content_hash="h", at=datetime.now(UTC)))
    finally:
        upgraded.dispose()
