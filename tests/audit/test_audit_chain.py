"""The audit chain: appends, verification, and detection of every single-entry tampering."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import delete, insert, select, update

from sapbridge.audit.auditlog import AuditLog
from sapbridge.audit.chain import ALG_HMAC, canonical_json, entry_hash
from sapbridge.audit.log import get_entry, query, record, verify
from sapbridge.audit.tables import audit_head, audit_log
from sapbridge.audit.verify import hashed_fields
from sapbridge.errors import AuditError

N = 6


def _fill(engine, n: int = N) -> None:
    for i in range(1, n + 1):
        with engine.begin() as conn:
            record(conn, action="approved" if i % 2 else "applied", actor=f"user{i % 3}",
                   run_id="run-1", batch_id="L-1", row_no=i, customer=f"C{i}",
                   before={"credit_limit": Decimal("100.10")},
                   after={"credit_limit": Decimal(f"{i}00.00")}, message=f"entry {i}")


def _rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq))
                .mappings()]


def test_canonical_json_is_stable_and_decimal_safe() -> None:
    assert canonical_json({"b": Decimal("1.10"), "a": [1, "x"]}) == '{"a":[1,"x"],"b":"1.10"}'
    with pytest.raises(TypeError):
        canonical_json({"a": 1.5})


def test_hmac_differs_from_plain_hash() -> None:
    alg, keyed = entry_hash({"a": 1}, key=b"secret")
    assert alg == ALG_HMAC
    assert keyed != entry_hash({"a": 1}, key=None)[1]
    assert keyed != entry_hash({"a": 1}, key=b"other")[1]


def test_record_chains_entries_and_verifies(store) -> None:
    _fill(store.engine)
    rows = _rows(store.engine)
    assert [r["seq"] for r in rows] == list(range(1, N + 1))
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, N))
    result = verify(store.engine)
    assert result.ok, result.reason
    assert result.checked == N
    entry = get_entry(store.engine, 2)
    assert entry.after == {"credit_limit": "200.00"}
    assert entry.at.tzinfo is not None


def test_record_refuses_bad_action(sqlite_store) -> None:
    with sqlite_store.engine.begin() as conn, pytest.raises(AuditError):
        record(conn, action="Drop Table", actor="x", run_id="r")


def test_entry_rolls_back_with_callers_transaction(sqlite_store) -> None:
    def failing_change() -> None:
        with sqlite_store.engine.begin() as conn:
            record(conn, action="approved", actor="bob", run_id="r")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_change()
    _fill(sqlite_store.engine, 2)
    assert verify(sqlite_store.engine).ok
    assert [e.seq for e in query(sqlite_store.engine)] == [1, 2]


EDITABLE = ["at", "action", "actor", "run_id", "batch_id", "row_no", "customer", "before_json",
            "after_json", "sap_document", "message", "detail_json", "alg", "prev_hash", "hash",
            "os_login", "host", "form"]


@pytest.mark.parametrize("seq", range(1, N + 1))
@pytest.mark.parametrize("column", EDITABLE)
def test_every_single_field_edit_is_detected(sqlite_store, seq: int, column: str) -> None:
    engine = sqlite_store.engine
    _fill(engine)
    row = _rows(engine)[seq - 1]
    new = {"at": row["at"].replace(year=2001), "row_no": 99, "alg": "sha512",
           "before_json": '{"credit_limit":"999"}', "after_json": '{"credit_limit":"1"}',
           "detail_json": "{}", "prev_hash": "f" * 64, "hash": "e" * 64, "form": 1,
           }.get(column, "tampered")
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == seq).values({column: new}))
    result = verify(engine)
    assert not result.ok
    assert result.first_broken_id == seq


@pytest.mark.parametrize("seq", range(1, N + 1))
def test_every_single_deletion_is_detected(store, seq: int) -> None:
    _fill(store.engine)
    with store.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == seq))
    result = verify(store.engine)
    assert not result.ok
    assert result.first_broken_id == seq


@pytest.mark.parametrize("position", range(1, N + 2))
def test_every_single_insertion_is_detected(sqlite_store, position: int) -> None:
    """Insert a well-formed entry (correct prev_hash and hash) and renumber those after it."""
    engine = sqlite_store.engine
    _fill(engine)
    rows = _rows(engine)
    prev = rows[position - 2]["hash"] if position > 1 else "0" * 64
    forged = dict(rows[0], seq=position, message="forged", prev_hash=prev)
    forged["hash"] = entry_hash(hashed_fields(forged), key=None)[1]
    with engine.begin() as conn:
        for r in reversed(rows[position - 1:]):
            conn.execute(update(audit_log).where(audit_log.c.seq == r["seq"])
                         .values(seq=r["seq"] + 1))
        conn.execute(insert(audit_log).values(**forged))
    result = verify(engine)
    assert not result.ok
    assert result.first_broken_id == (position + 1 if position <= N else N + 1)


@pytest.mark.parametrize("seq", range(1, N))
def test_every_swap_of_neighbours_is_detected(sqlite_store, seq: int) -> None:
    engine = sqlite_store.engine
    _fill(engine)
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(seq=-1))
        conn.execute(update(audit_log).where(audit_log.c.seq == seq + 1).values(seq=seq))
        conn.execute(update(audit_log).where(audit_log.c.seq == -1).values(seq=seq + 1))
    result = verify(engine)
    assert not result.ok
    assert result.first_broken_id == seq


def test_rewritten_tail_without_head_update_is_detected(sqlite_store) -> None:
    engine = sqlite_store.engine
    _fill(engine)
    with engine.begin() as conn:
        conn.execute(update(audit_head).values(seq=N + 3))
    result = verify(engine)
    assert not result.ok
    assert "deleted" in result.reason


def _keyed(engine, key: bytes = b"s3cret"):
    """The same store, written by a process holding the audit key."""
    return AuditLog(key=key).bind(engine)


def test_keyed_chain_needs_the_key(sqlite_store) -> None:
    engine = _keyed(sqlite_store.engine)
    _fill(engine, 3)
    assert verify(engine).ok
    assert {r["alg"] for r in _rows(engine)} == {ALG_HMAC}
    wrong = verify(engine, key=b"wrong")
    assert (wrong.ok, wrong.first_broken_id) == (False, 1)
    result = verify(sqlite_store.engine)  # a process without the key
    assert not result.ok
    assert result.first_broken_id == 1
    assert "SAPBRIDGE_AUDIT_KEY" in result.reason


def test_unkeyed_entry_anywhere_is_a_break_when_a_key_is_configured(sqlite_store) -> None:
    """Entries 1-2 written without the key (the old renamed-key_env bug), 3-4 with it."""
    _fill(sqlite_store.engine, 2)
    keyed = _keyed(sqlite_store.engine)
    _fill(keyed, 2)
    result = verify(keyed)
    assert not result.ok
    assert result.first_broken_id == 1
    assert "not keyed" in result.reason


def test_whole_chain_rebuilt_without_the_key_fails_without_require_key(sqlite_store) -> None:
    """A store writer without the key recomputes every entry as plain SHA-256."""
    keyed = _keyed(sqlite_store.engine)
    _fill(keyed, 4)
    prev = "0" * 64
    with sqlite_store.engine.begin() as conn:
        for row in _rows(sqlite_store.engine):
            forged = dict(row, alg="sha256", prev_hash=prev,
                          message="rewritten" if row["seq"] == 2 else row["message"])
            forged["hash"] = entry_hash(hashed_fields(forged), key=None)[1]
            conn.execute(update(audit_log).where(audit_log.c.seq == row["seq"]).values(**forged))
            prev = forged["hash"]
        conn.execute(update(audit_head).values(hash=prev))
    assert verify(sqlite_store.engine).ok  # only a process without the key is fooled
    result = verify(keyed)
    assert not result.ok
    assert result.first_broken_id == 1
    assert "not keyed" in result.reason


def test_require_key_fails_when_no_key_is_configured(sqlite_store) -> None:
    _fill(sqlite_store.engine, 2)
    assert verify(sqlite_store.engine).ok
    result = verify(sqlite_store.engine, require_key=True)
    assert not result.ok
    assert "no audit key configured" in result.reason
    assert verify(_keyed(sqlite_store.engine), require_key=True).first_broken_id == 1


def test_rebuilt_unkeyed_entry_after_keyed_ones_is_detected(sqlite_store) -> None:
    engine = _keyed(sqlite_store.engine)
    _fill(engine, 3)
    rows = _rows(engine)
    forged = dict(rows[2], message="changed", alg="sha256")
    forged["hash"] = entry_hash(hashed_fields(forged), key=None)[1]
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(**forged))
        conn.execute(update(audit_head).values(hash=forged["hash"]))
    result = verify(engine)
    assert not result.ok
    assert result.first_broken_id == 3


def test_a_connection_without_an_audit_log_refuses_to_append(sqlite_store) -> None:
    bare = sqlite_store.engine.execution_options(sapbridge_audit_log=None)
    with bare.begin() as conn, pytest.raises(AuditError, match="carries no audit log"):
        record(conn, action="approved", actor="bob", run_id="r")


def test_the_key_is_never_shown(sqlite_store) -> None:
    assert "s3cret" not in repr(AuditLog(key=b"s3cret"))


def test_concurrent_writers_never_fork_the_chain(store) -> None:
    engine = store.engine
    errors: list[Exception] = []

    def writer(name: str) -> None:
        try:
            for i in range(15):
                with engine.begin() as conn:
                    record(conn, action="sync_run", actor=name, run_id=f"{name}-{i}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = verify(engine)
    assert result.ok, result.reason
    assert result.checked == 45
