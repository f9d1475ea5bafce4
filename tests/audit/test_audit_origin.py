"""Every entry names the OS account and host that really wrote it, beside the configured actor."""

from __future__ import annotations

import os
import pwd
import socket
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, text, update

from sapbridge.audit.chain import FIELDS_V1, entry_hash
from sapbridge.audit.log import get_entry, record, verify
from sapbridge.audit.origin import Origin
from sapbridge.audit.tables import audit_head, audit_log
from sapbridge.audit.verify import hashed_fields
from sapbridge.store import open_store
from sapbridge.store.migrations import schema_migrations

REAL_LOGIN = pwd.getpwuid(os.getuid()).pw_name


def test_origin_ignores_the_environment(monkeypatch) -> None:
    for name in ("LOGNAME", "USER", "USERNAME", "SAPBRIDGE_USER"):
        monkeypatch.setenv(name, "bob")
    origin = Origin.current()
    assert REAL_LOGIN != "bob"
    assert origin.os_login == REAL_LOGIN
    assert origin.host == socket.gethostname()


def test_entry_records_real_os_login_and_host(store, monkeypatch) -> None:
    monkeypatch.setenv("LOGNAME", "bob")
    monkeypatch.setenv("USER", "bob")
    fresh = open_store(store.url)  # a process started with LOGNAME=bob
    try:
        with fresh.engine.begin() as conn:
            seq = record(conn, action="approved", actor="bob", run_id="r1", batch_id="L-1")
        entry = get_entry(fresh.engine, seq)
    finally:
        fresh.dispose()
    assert entry.actor == "bob"
    assert entry.os_login == REAL_LOGIN
    assert entry.host == socket.gethostname()
    assert entry.form == 2


def _write_form1(conn, seq: int, prev: str) -> str:
    """An entry as the code before migration 2 wrote it: no os_login, host or form."""
    row = {"seq": seq, "at": "2026-11-01 10:00:00.000000", "action": "approved",
           "actor": "alice", "run_id": "old", "batch_id": None, "row_no": None,
           "customer": None, "before_json": None, "after_json": '{"limit":"10.00"}',
           "sap_document": None, "message": "before the upgrade", "detail_json": None,
           "alg": "sha256", "prev_hash": prev}
    written = {**row, "at": datetime(2026, 11, 1, 10, tzinfo=UTC)}
    assert set(hashed_fields(written)) == set(FIELDS_V1)
    digest = entry_hash(hashed_fields(written), key=None)[1]
    conn.execute(text(
        "INSERT INTO audit_log (seq, at, action, actor, run_id, after_json, message, alg, "
        "prev_hash, hash) VALUES (:seq, :at, :action, :actor, :run_id, :after_json, :message, "
        ":alg, :prev_hash, :hash)"), {**row, "hash": digest})
    conn.execute(update(audit_head).values(seq=seq, hash=digest))
    return digest


def test_entries_written_before_the_upgrade_still_verify(tmp_path) -> None:
    """A store at audit migration 1 with old entries: upgrade, append, verify the whole chain."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = open_store(url)
    with store.engine.begin() as conn:
        for column in ("os_login", "host", "form"):
            conn.execute(text(f"ALTER TABLE audit_log DROP COLUMN {column}"))
        conn.execute(delete(schema_migrations).where(
            (schema_migrations.c.component == "audit") & (schema_migrations.c.version == 2)))
        prev = _write_form1(conn, 1, "0" * 64)
        _write_form1(conn, 2, prev)
    store.dispose()

    upgraded = open_store(url)
    try:
        with upgraded.engine.begin() as conn:
            record(conn, action="applied", actor="bob", run_id="new")
        result = verify(upgraded.engine)
        assert result.ok, result.reason
        assert result.checked == 3
        assert get_entry(upgraded.engine, 1).form is None
        assert get_entry(upgraded.engine, 3).os_login == REAL_LOGIN
    finally:
        upgraded.dispose()


def test_downgrading_an_entry_to_the_old_form_is_a_break(sqlite_store) -> None:
    """Drop os_login/host from a new entry and rehash it as form 1 (no key to stop it)."""
    engine = sqlite_store.engine
    for i in range(3):
        with engine.begin() as conn:
            record(conn, action="approved", actor="bob", run_id=f"r{i}")
    with engine.connect() as conn:
        row = dict(conn.execute(select(audit_log).where(audit_log.c.seq == 3)).mappings().one())
    forged = dict(row, os_login=None, host=None, form=None)
    forged["hash"] = entry_hash(hashed_fields(forged), key=None)[1]
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 3))
        conn.execute(insert(audit_log).values(**forged))
        conn.execute(update(audit_head).values(hash=forged["hash"]))
    result = verify(engine)
    assert not result.ok
    assert result.first_broken_id == 3
    assert "old form" in result.reason
