"""What apply trusts is what the audit log proves (issue 8.2): each attack is SQL on the push
tables by a store writer without the audit key; every one is refused, audited, sends nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, update

from sapbridge.audit.auditlog import AuditLog
from sapbridge.audit.log import query, record, verify
from sapbridge.push.apply import apply_batch
from sapbridge.push.approval import approve
from sapbridge.push.controls import RefusedError
from sapbridge.push.plan import plan_batch
from sapbridge.push.state import content_hash
from sapbridge.push.tables import push_approvals, push_batches, push_rows

from .fakes import FakeOData, FakeRfc
from .helpers import limit_batch

KEY = "an-audit-key-the-store-writer-does-not-have"


@pytest.fixture(autouse=True)
def _audit_key(monkeypatch):
    monkeypatch.setenv("SAPBRIDGE_AUDIT_KEY", KEY)


def _apply(engine, batch_id, config, sap):
    return apply_batch(engine, batch_id, odata=FakeOData(sap), rfc=FakeRfc(sap), config=config,
                       actor="bob", run_id="r-apply")


def _refused_apply(engine, batch_id, config, sap, match: str) -> None:
    with pytest.raises(RefusedError, match=match):
        _apply(engine, batch_id, config, sap)
    with pytest.raises(RefusedError, match=match):
        plan_batch(engine, batch_id, odata=FakeOData(sap), actor="bob", run_id="r-plan",
                   config=config)
    assert sap.load()["patches"] == []
    refusals = list(query(engine, action="refused", batch_id=batch_id))
    assert [e.detail["attempted"] for e in refusals][-2:] == ["apply", "plan"]
    assert all(e.alg == "hmac-sha256" for e in refusals)
    assert verify(engine).ok  # the edits are in the push tables, not in the log


def _rehash(conn, batch_id: str) -> None:
    """Recompute the stored content hash after editing rows, as a careful attacker would."""
    kind, system = conn.execute(select(push_batches.c.kind, push_batches.c.system)
                                .where(push_batches.c.batch_id == batch_id)).one()
    rows = conn.execute(select(push_rows.c.row_no, push_rows.c.customer, push_rows.c.target_json,
                               push_rows.c.seen_json)
                        .where(push_rows.c.batch_id == batch_id)).all()
    conn.execute(update(push_batches).where(push_batches.c.batch_id == batch_id)
                 .values(content_hash=content_hash(kind, system, [tuple(r) for r in rows])))


def test_edited_target_with_recomputed_hash_is_refused(seeded, push_config, tmp_path, sap):
    batch = limit_batch(seeded.engine, push_config, tmp_path)
    approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    with seeded.engine.begin() as conn:
        target = json.loads(conn.execute(select(push_rows.c.target_json).where(
            push_rows.c.batch_id == batch.batch_id, push_rows.c.row_no == 2)).scalar_one())
        target["new_limit"] = "99999.00"
        conn.execute(update(push_rows).where(push_rows.c.batch_id == batch.batch_id,
                                             push_rows.c.row_no == 2)
                     .values(target_json=json.dumps(target, sort_keys=True,
                                                    separators=(",", ":"))))
        _rehash(conn, batch.batch_id)
        # and the approval rows too, so they name the new hash
        conn.execute(update(push_approvals).where(push_approvals.c.batch_id == batch.batch_id)
                     .values(content_hash=select(push_batches.c.content_hash).where(
                         push_batches.c.batch_id == batch.batch_id).scalar_subquery()))
    _refused_apply(seeded.engine, batch.batch_id, push_config, sap,
                   "changed since it was imported")


def test_inserted_approval_rows_and_status_are_refused(seeded, push_config, tmp_path, sap):
    batch = limit_batch(seeded.engine, push_config, tmp_path)
    with seeded.engine.begin() as conn:
        conn.execute(insert(push_approvals).values(
            batch_id=batch.batch_id, user="bob", decision="approved",
            content_hash=batch.content_hash, at=datetime.now(UTC)))
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch.batch_id)
                     .values(status="approved"))
    _refused_apply(seeded.engine, batch.batch_id, push_config, sap,
                   "approval row.* by bob have no entry in the audit log")


def test_status_alone_set_to_approved_is_refused(seeded, push_config, tmp_path, sap):
    batch = limit_batch(seeded.engine, push_config, tmp_path)
    with seeded.engine.begin() as conn:
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch.batch_id)
                     .values(status="approved"))
    _refused_apply(seeded.engine, batch.batch_id, push_config, sap,
                   r"0 approval\(s\) proven by the audit log, needs 1")


def test_lowered_total_does_not_lower_the_authority_needed(seeded, push_config, tmp_path, sap):
    batch = limit_batch(seeded.engine, push_config, tmp_path,
                        "0010000001,1000,150000.00,EUR,,big increase")
    with seeded.engine.begin() as conn:
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch.batch_id)
                     .values(total=Decimal("100.00"), largest=Decimal("100.00")))
    with pytest.raises(RefusedError, match="stored totals or currency differ"):
        approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    # carol alone: within her authority, but 100000 > 10000 needs a second approver
    with seeded.engine.begin() as conn:
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch.batch_id)
                     .values(total=Decimal("100000.00"), largest=Decimal("100000.00")))
    approve(seeded.engine, batch.batch_id, approver="carol", config=push_config, run_id="r")
    with seeded.engine.begin() as conn:
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch.batch_id)
                     .values(status="approved", total=Decimal("100.00"),
                             largest=Decimal("100.00")))
    _refused_apply(seeded.engine, batch.batch_id, push_config, sap,
                   "stored totals or currency differ")


def test_lowered_audited_total_is_recomputed_from_rows(seeded, push_config, tmp_path, sap):
    """Even with the stored totals left alone, authority is measured on the rows."""
    batch = limit_batch(seeded.engine, push_config, tmp_path,
                        "0010000001,1000,60000.00,EUR,,increase")
    approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    with seeded.engine.begin() as conn:
        conn.execute(update(push_rows).where(push_rows.c.batch_id == batch.batch_id)
                     .values(seen_json='{"credit_limit":"59000.00","valid_to":"2026-12-31"}'))
        _rehash(conn, batch.batch_id)
    _refused_apply(seeded.engine, batch.batch_id, push_config, sap,
                   "changed since it was imported")


def test_changed_requester_cannot_approve_own_batch(seeded, push_config, tmp_path, sap):
    batch = limit_batch(seeded.engine, push_config, tmp_path, requester="dave")
    with seeded.engine.begin() as conn:
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch.batch_id)
                     .values(requester="alice"))
    with pytest.raises(RefusedError, match="requester is alice in the store but dave"):
        approve(seeded.engine, batch.batch_id, approver="dave", config=push_config, run_id="r")
    # with the approval row and status forged as well
    with seeded.engine.begin() as conn:
        conn.execute(insert(push_approvals).values(
            batch_id=batch.batch_id, user="dave", decision="approved",
            content_hash=batch.content_hash, at=datetime.now(UTC)))
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch.batch_id)
                     .values(status="approved"))
    _refused_apply(seeded.engine, batch.batch_id, push_config, sap,
                   "requester is alice in the store but dave")


def test_forged_unkeyed_approval_entry_is_refused(seeded, push_config, tmp_path, sap):
    batch = limit_batch(seeded.engine, push_config, tmp_path)
    forger = AuditLog.of(seeded.engine).with_key(None).bind(seeded.engine)  # no key: plain SHA-256
    with forger.begin() as conn:
        record(conn, action="approved", actor="bob", run_id="forged", batch_id=batch.batch_id,
               detail={"content_hash": batch.content_hash, "requester": "alice"})
        conn.execute(insert(push_approvals).values(
            batch_id=batch.batch_id, user="bob", decision="approved",
            content_hash=batch.content_hash, at=datetime.now(UTC)))
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch.batch_id)
                     .values(status="approved"))
    with pytest.raises(RefusedError, match="not keyed although an audit key is configured"):
        _apply(seeded.engine, batch.batch_id, push_config, sap)
    assert sap.load()["patches"] == []


def test_untampered_keyed_batch_applies(seeded, push_config, tmp_path, sap):
    batch = limit_batch(seeded.engine, push_config, tmp_path)
    approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    assert _apply(seeded.engine, batch.batch_id, push_config, sap).status == "done"
    assert verify(seeded.engine).ok
