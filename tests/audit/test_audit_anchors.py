"""Anchors outside the store: cutting entries off the end, or wiping the log, is reported."""

from __future__ import annotations

import json
import os
import stat

import pytest
from sqlalchemy import delete, select, update

from sapbridge.audit.anchors import AnchorDir
from sapbridge.audit.auditlog import AuditLog
from sapbridge.audit.chain import entry_hash
from sapbridge.audit.log import record, verify
from sapbridge.audit.tables import audit_head, audit_log
from sapbridge.audit.verify import hashed_fields


def _log(tmp_path, key: bytes | None = None) -> AuditLog:
    return AuditLog(key=key, anchors=AnchorDir(tmp_path / "anchors"))


def _append(engine, n: int) -> None:
    for i in range(n):
        with engine.begin() as conn:
            record(conn, action="applied", actor="bob", run_id=f"r{i}", message=f"e{i}")


def _truncate(engine, keep: int) -> None:
    """What an attacker with store write access does: drop the tail, reset the head."""
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq > keep))
        last = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == keep)).scalar()
        conn.execute(update(audit_head).values(seq=keep, hash=last or "0" * 64))


@pytest.mark.parametrize("key", [None, b"s3cret"], ids=["unkeyed", "keyed"])
def test_cut_off_tail_is_reported_naming_the_anchor(store, tmp_path, key) -> None:
    log = _log(tmp_path, key)
    engine = log.bind(store.engine)
    _append(engine, 5)
    assert log.anchor(engine) is not None
    _append(engine, 2)
    _truncate(engine, 3)
    assert verify(AuditLog(key=key).bind(store.engine)).ok  # without anchors: looks intact
    result = verify(engine)
    assert not result.ok
    assert result.first_broken_id == 4
    assert "audit-anchors.jsonl line 1" in result.reason
    assert "names entry 5" in result.reason
    assert "truncated" in result.reason


def test_deleting_everything_is_reported(store, tmp_path) -> None:
    log = _log(tmp_path)
    engine = log.bind(store.engine)
    _append(engine, 3)
    log.anchor(engine)
    with engine.begin() as conn:
        conn.execute(delete(audit_log))
        conn.execute(update(audit_head).values(seq=0, hash="0" * 64))
    result = verify(engine)
    assert not result.ok
    assert result.checked == 0
    assert "ends at entry 0" in result.reason


def test_rewritten_prefix_is_reported(sqlite_store, tmp_path) -> None:
    """Without the key an attacker can rebuild a consistent chain, but not the anchor."""
    log = _log(tmp_path)
    engine = log.bind(sqlite_store.engine)
    _append(engine, 4)
    log.anchor(engine)
    prev = "0" * 64
    with engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq))
                .mappings()]
        for row in rows:
            forged = dict(row, prev_hash=prev, message="rewritten")
            forged["hash"] = entry_hash(hashed_fields(forged), key=None)[1]
            conn.execute(update(audit_log).where(audit_log.c.seq == row["seq"]).values(**forged))
            prev = forged["hash"]
        conn.execute(update(audit_head).values(hash=prev))
    assert verify(AuditLog().bind(sqlite_store.engine)).ok
    result = verify(engine)
    assert not result.ok
    assert result.first_broken_id == 4
    assert "no longer has the hash" in result.reason


def test_anchors_that_still_hold_pass(store, tmp_path) -> None:
    log = _log(tmp_path, b"k")
    engine = log.bind(store.engine)
    for _ in range(3):
        _append(engine, 2)
        log.anchor(engine)
    result = verify(engine)
    assert result.ok, result.reason
    assert (result.checked, result.anchors_checked) == (6, 3)


def test_edited_anchor_line_fails_its_mac(sqlite_store, tmp_path) -> None:
    log = _log(tmp_path, b"k")
    engine = log.bind(sqlite_store.engine)
    _append(engine, 5)
    log.anchor(engine)
    _truncate(engine, 3)
    file = log.anchors.file
    line = json.loads(file.read_text())
    with engine.connect() as conn:
        line["hash"] = conn.execute(select(audit_head.c.hash)).scalar()
    line["seq"] = 3  # point the anchor at the new, shorter head
    file.write_text(json.dumps(line) + "\n")
    result = verify(engine)
    assert not result.ok
    assert "line 1: MAC does not match" in result.reason


def test_unkeyed_anchor_is_refused_when_a_key_is_configured(sqlite_store, tmp_path) -> None:
    unkeyed = _log(tmp_path)
    keyed = _log(tmp_path, b"k")
    engine = keyed.bind(sqlite_store.engine)
    _append(engine, 2)
    unkeyed.anchor(engine)
    result = verify(engine)
    assert not result.ok
    assert "not keyed" in result.reason


def test_garbage_line_is_named(sqlite_store, tmp_path) -> None:
    log = _log(tmp_path)
    engine = log.bind(sqlite_store.engine)
    _append(engine, 2)
    log.anchor(engine)
    with log.anchors.file.open("a") as fh:
        fh.write("{not json\n")
    result = verify(engine)
    assert not result.ok
    assert "line 2: not a valid anchor line" in result.reason


def test_anchor_file_is_appended_with_restricted_mode(sqlite_store, tmp_path) -> None:
    log = _log(tmp_path)
    engine = log.bind(sqlite_store.engine)
    old_umask = os.umask(0o022)
    try:
        _append(engine, 1)
        first = log.anchor(engine)
        _append(engine, 1)
        second = log.anchor(engine)
    finally:
        os.umask(old_umask)
    assert first is not None
    assert second is not None
    assert stat.S_IMODE(log.anchors.file.stat().st_mode) == 0o640
    lines = log.anchors.file.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2]
    assert lines[0] == first.anchor.text


def test_anchor_only_if_moved_and_empty_log(sqlite_store, tmp_path) -> None:
    log = _log(tmp_path)
    engine = log.bind(sqlite_store.engine)
    empty = log.anchor(engine)
    assert empty is not None
    assert empty.anchor is None
    assert not log.anchors.file.exists()
    _append(engine, 1)
    assert log.anchor(engine, only_if_moved=True) is not None
    assert log.anchor(engine, only_if_moved=True) is None
    assert len(log.anchors.file.read_text().splitlines()) == 1


def test_verify_notes_when_no_anchor_was_written(sqlite_store, tmp_path) -> None:
    log = _log(tmp_path)
    engine = log.bind(sqlite_store.engine)
    _append(engine, 1)
    result = verify(engine)
    assert result.ok
    assert any("no anchors" in note for note in result.notes)
