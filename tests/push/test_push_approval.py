"""Approval controls: segregation, authority, second approver, integrity; refusals logged."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import update

from sapbridge.audit.log import query, verify
from sapbridge.config import load_settings
from sapbridge.push.approval import approve, check_approved, reject
from sapbridge.push.authority import load_push_config, resolve_actor
from sapbridge.push.controls import EXIT_REFUSED, RefusedError
from sapbridge.push.tables import push_rows

from .helpers import limit_batch, writeoff_batch


def _refusals(engine) -> list[str]:
    return [e.detail["control"] for e in query(engine, action="refused")]


def test_single_approval_within_authority(seeded, push_config, tmp_path):
    batch = limit_batch(seeded.engine, push_config, tmp_path)
    decision = approve(seeded.engine, batch.batch_id, approver="bob", config=push_config,
                       run_id="r")
    assert (decision.status, decision.approvals, decision.needed) == ("approved", 1, 1)
    assert check_approved(seeded.engine, batch.batch_id, actor="bob", config=push_config,
                          run_id="r").status == "approved"


def test_requester_cannot_approve_own_batch(seeded, push_config, tmp_path):
    batch = limit_batch(seeded.engine, push_config, tmp_path, requester="dave")
    with pytest.raises(RefusedError, match="requested batch") as caught:
        approve(seeded.engine, batch.batch_id, approver="dave", config=push_config, run_id="r")
    assert caught.value.exit_code == EXIT_REFUSED
    assert _refusals(seeded.engine) == ["segregation"]


def test_approval_beyond_authority_is_refused(seeded, push_config, tmp_path):
    batch = limit_batch(seeded.engine, push_config, tmp_path,
                        "0010000001,1000,150000.00,EUR,,big increase")
    with pytest.raises(RefusedError, match="no authority"):
        approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    assert _refusals(seeded.engine) == ["authority"]
    # carol (controller) may, but 100000 > 10000 needs a second approver
    decision = approve(seeded.engine, batch.batch_id, approver="carol", config=push_config,
                       run_id="r")
    assert (decision.status, decision.needed) == ("requested", 2)


def test_second_approver_above_threshold(seeded, push_config, tmp_path):
    batch = limit_batch(seeded.engine, push_config, tmp_path,
                        "0010000001,1000,80000.00,EUR,,growth")
    approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    with pytest.raises(RefusedError, match="already decided"):
        approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    with pytest.raises(RefusedError, match="is requested; only approved"):
        check_approved(seeded.engine, batch.batch_id, actor="bob", config=push_config,
                       run_id="r")
    decision = approve(seeded.engine, batch.batch_id, approver="carol", config=push_config,
                       run_id="r")
    assert decision.status == "approved"
    assert _refusals(seeded.engine) == ["segregation", "approval"]


def test_writeoff_item_and_batch_limits(seeded, push_config, tmp_path):
    rows = [f"1000,0010000001,2026,009000000{i},001,110.00,EUR,SMALL,x" for i in range(1, 6)]
    batch = writeoff_batch(seeded.engine, push_config, tmp_path, *rows)
    tight = push_config.authority.roles["credit_manager"]
    object.__setattr__(tight, "max_writeoff_batch", tight.max_writeoff_item / 2)
    with pytest.raises(RefusedError, match="no authority"):
        approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")


def test_changed_batch_cannot_be_approved_or_applied(seeded, push_config, tmp_path):
    batch = limit_batch(seeded.engine, push_config, tmp_path)
    with seeded.engine.begin() as conn:
        conn.execute(update(push_rows).where(push_rows.c.batch_id == batch.batch_id,
                                             push_rows.c.row_no == 2)
                     .values(target_json='{"credit_segment":"1000","new_limit":"999999"}'))
    with pytest.raises(RefusedError, match="changed since it was imported"):
        approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    assert _refusals(seeded.engine) == ["integrity"]


def test_change_after_approval_blocks_apply(seeded, push_config, tmp_path):
    batch = limit_batch(seeded.engine, push_config, tmp_path)
    approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    with seeded.engine.begin() as conn:
        conn.execute(update(push_rows).where(push_rows.c.batch_id == batch.batch_id)
                     .values(customer="0010000005"))
    with pytest.raises(RefusedError, match="changed since it was imported"):
        check_approved(seeded.engine, batch.batch_id, actor="bob", config=push_config,
                       run_id="r")


def test_unapproved_and_rejected_batches_cannot_be_applied(seeded, push_config, tmp_path):
    batch = limit_batch(seeded.engine, push_config, tmp_path)
    with pytest.raises(RefusedError, match="only approved batches"):
        check_approved(seeded.engine, batch.batch_id, actor="bob", config=push_config,
                       run_id="r")
    decision = reject(seeded.engine, batch.batch_id, approver="carol", config=push_config,
                      run_id="r", reason="no business case")
    assert decision.status == "rejected"
    with pytest.raises(RefusedError, match="is rejected"):
        approve(seeded.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    assert _refusals(seeded.engine) == ["approval", "state"]
    assert [e.message for e in query(seeded.engine, action="rejected")] == ["no business case"]
    assert verify(seeded.engine).ok


def test_unknown_approver_refused(seeded, push_config, tmp_path):
    batch = limit_batch(seeded.engine, push_config, tmp_path)
    with pytest.raises(RefusedError, match="not a configured user"):
        approve(seeded.engine, batch.batch_id, approver="mallory", config=push_config,
                run_id="r")


def test_identity_from_os_user(tmp_path):
    path = tmp_path / "ids.toml"
    path.write_text('[users.bob]\nroles = []\n[users.carol]\nroles = []\nos_user = "carol"\n'
                    '[push]\nidentity = "os"\n', encoding="utf-8")
    os_mode = load_push_config(load_settings(path))
    assert resolve_actor(os_mode, None, "bob") == "bob"
    assert resolve_actor(os_mode, "bob", "bob") == "bob"
    with pytest.raises(RefusedError, match="may not act as carol"):
        resolve_actor(os_mode, "carol", "bob")
    with pytest.raises(RefusedError, match="not a configured user"):
        resolve_actor(os_mode, None, "mallory")
    declared = replace(os_mode, identity="declared")
    with pytest.raises(RefusedError, match="not a configured user"):
        resolve_actor(declared, "mallory", "bob")
    assert resolve_actor(declared, "carol", "bob") == "carol"
