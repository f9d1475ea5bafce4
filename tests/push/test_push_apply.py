"""Plan and apply against the fake SAP: every step, 412s, BAPI errors, lost responses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from sapbridge.audit.log import query, verify
from sapbridge.push.apply import apply_batch
from sapbridge.push.approval import approve
from sapbridge.push.controls import RefusedError
from sapbridge.push.plan import plan_batch
from sapbridge.push.state import load_batch, load_rows
from sapbridge.push.tables import push_claims

from .fakes import FakeOData, FakeRfc, Faults
from .helpers import limit_batch, writeoff_batch


def _approved(engine, config, batch):
    approve(engine, batch.batch_id, approver="bob", config=config, run_id="r-approve")
    return batch.batch_id


def _apply(engine, batch_id, config, odata, rfc=None):
    return apply_batch(engine, batch_id, odata=odata, rfc=rfc, config=config, actor="bob",
                       run_id="r-apply")


def _row_actions(engine, batch_id, row_no):
    return [e.action for e in query(engine, batch_id=batch_id) if e.row_no == row_no]


def test_plan_shows_before_after_and_stale_rows(seeded, push_config, tmp_path, sap, odata):
    batch_id = _approved(seeded.engine, push_config, limit_batch(seeded.engine, push_config,
                                                                 tmp_path))
    sap.set_limit("0010000002", "1000", "47000.00")
    plan = plan_batch(seeded.engine, batch_id, odata=odata, actor="bob", run_id="r-plan",
                      config=push_config)
    assert [r.verdict for r in plan.rows] == ["change", "stale"]
    assert plan.rows[0].before["credit_limit"] == "50000.00"
    assert plan.rows[0].after == {"credit_limit": "55000.00", "valid_to": "2027-06-30"}
    assert plan.stale == [3]  # file row numbers: the header is row 1
    assert sap.load()["patches"] == []  # a plan never writes
    actions = [e.action for e in query(seeded.engine, batch_id=batch_id)]
    assert actions[-3:] == ["planned", "planned", "stale"]


def test_apply_limits_patches_with_etag_and_verifies(seeded, push_config, tmp_path, sap,
                                                     odata):
    batch_id = _approved(seeded.engine, push_config, limit_batch(seeded.engine, push_config,
                                                                 tmp_path))
    report = _apply(seeded.engine, batch_id, push_config, odata)
    assert report.status == "done"
    assert report.counts == {"applied": 2}
    state = sap.load()
    account = state["accounts"]["0010000001/1000"]
    assert account["CreditLimitAmount"] == "55000.00"
    assert account["CreditLimitValidityEndDate"] == "/Date(1814313600000)/"
    assert "CreditLimitValidityEndDate" not in state["patches"][1]["body"]
    assert _row_actions(seeded.engine, batch_id, 2) == ["validated", "applied", "verified"]
    # resume: nothing is sent again, rows are reported as skipped
    again = _apply(seeded.engine, batch_id, push_config, odata)
    assert again.counts == {"skipped": 2}
    assert len(sap.load()["patches"]) == 2
    assert verify(seeded.engine).ok


def test_412_makes_row_stale_not_retried(seeded, push_config, tmp_path, sap):
    batch_id = _approved(seeded.engine, push_config, limit_batch(seeded.engine, push_config,
                                                                 tmp_path))
    odata = FakeOData(sap, Faults({"patch": ["changed_by_other", None]}))
    report = _apply(seeded.engine, batch_id, push_config, odata)
    assert [r.outcome for r in report.rows] == ["stale", "applied"]
    assert report.status == "partial"
    assert odata.faults.calls.count("patch") == 2
    assert sap.load()["accounts"]["0010000001/1000"]["CreditLimitAmount"] == "50001.00"
    again = _apply(seeded.engine, batch_id, push_config, odata)
    assert again.counts == {"skipped": 2}
    assert odata.faults.calls.count("patch") == 2


def test_lost_patch_response_is_resolved_by_reading_sap(seeded, push_config, tmp_path, sap):
    batch_id = _approved(seeded.engine, push_config, limit_batch(seeded.engine, push_config,
                                                                 tmp_path))
    odata = FakeOData(sap, Faults({"patch": ["lost"]}))
    report = _apply(seeded.engine, batch_id, push_config, odata)
    assert [r.outcome for r in report.rows] == ["unknown", "not_attempted"]
    assert report.stopped
    assert "outcome unknown" in report.stopped
    with seeded.engine.connect() as conn:
        assert [r.state for r in load_rows(conn, batch_id)] == ["in_flight", "pending"]
    again = _apply(seeded.engine, batch_id, push_config, odata)
    assert [r.outcome for r in again.rows] == ["recovered", "applied"]
    assert len(sap.load()["patches"]) == 2  # the first change was not sent twice
    assert _row_actions(seeded.engine, batch_id, 2) == ["validated", "failed", "applied",
                                                        "verified"]


def test_timeout_before_patch_is_retried_on_rerun(seeded, push_config, tmp_path, sap):
    batch_id = _approved(seeded.engine, push_config, limit_batch(seeded.engine, push_config,
                                                                 tmp_path))
    odata = FakeOData(sap, Faults({"patch": ["timeout_before"]}))
    assert _apply(seeded.engine, batch_id, push_config, odata).status == "partial"
    again = _apply(seeded.engine, batch_id, push_config, odata)
    assert [r.outcome for r in again.rows] == ["applied", "applied"]
    assert len(sap.load()["patches"]) == 2


def test_sap_http_error_fails_row_and_continues(seeded, push_config, tmp_path, sap):
    batch_id = _approved(seeded.engine, push_config, limit_batch(seeded.engine, push_config,
                                                                 tmp_path))
    odata = FakeOData(sap, Faults({"patch": ["http_500"]}))
    report = _apply(seeded.engine, batch_id, push_config, odata)
    assert [r.outcome for r in report.rows] == ["failed", "applied"]
    assert "CreditLimitAmount invalid" in report.rows[0].message


def test_apply_without_approval_is_refused_and_logged(seeded, push_config, tmp_path, odata):
    batch = limit_batch(seeded.engine, push_config, tmp_path)
    with pytest.raises(RefusedError):
        _apply(seeded.engine, batch.batch_id, push_config, odata)
    refused = list(query(seeded.engine, action="refused"))
    assert refused[-1].detail["attempted"] == "apply"


def test_apply_writeoffs_posts_commits_and_verifies(seeded, push_config, tmp_path, sap, odata,
                                                    rfc):
    batch_id = _approved(seeded.engine, push_config, writeoff_batch(seeded.engine, push_config,
                                                                    tmp_path))
    plan = plan_batch(seeded.engine, batch_id, odata=odata, actor="bob", run_id="p",
                      config=push_config)
    assert [r.verdict for r in plan.rows] == ["change"] * 3
    report = _apply(seeded.engine, batch_id, push_config, odata, rfc)
    assert report.counts == {"applied": 3}
    docs = sap.load()["documents"]
    assert len(docs) == 3
    with seeded.engine.connect() as conn:
        rows = load_rows(conn, batch_id)
        assert load_batch(conn, batch_id).status == "done"
    assert [d["DocumentReferenceID"] for d in docs] == [r.idem_key for r in rows]
    assert rows[0].sap_document == f"1000/{docs[0]['AccountingDocument']}/{docs[0]['FiscalYear']}"
    lines = docs[1]["Lines"]
    assert [Decimal(line["AMT_DOCCUR"]) for line in lines] == [Decimal("-20.00"),
                                                               Decimal("20.00")]
    functions = [f for f, _ in rfc.calls]
    assert functions == ["BAPI_ACC_DOCUMENT_POST", "BAPI_TRANSACTION_COMMIT"] * 3
    post = rfc.calls[0][1]
    assert post["ACCOUNTGL"][0]["GL_ACCOUNT"] == "0000880000"
    assert post["ACCOUNTRECEIVABLE"][0]["CUSTOMER"] == "0010000001"
    assert _row_actions(seeded.engine, batch_id, 3) == ["validated", "planned", "applied",
                                                        "verified"]


def test_bapi_error_rolls_back_and_fails_row(seeded, push_config, tmp_path, sap, odata):
    batch_id = _approved(seeded.engine, push_config, writeoff_batch(seeded.engine, push_config,
                                                                    tmp_path))
    rfc = FakeRfc(sap, Faults({"post": ["E"]}))
    report = _apply(seeded.engine, batch_id, push_config, odata, rfc)
    assert [r.outcome for r in report.rows] == ["failed", "applied", "applied"]
    assert "F5702" in report.rows[0].message
    assert [f for f, _ in rfc.calls][:2] == ["BAPI_ACC_DOCUMENT_POST",
                                             "BAPI_TRANSACTION_ROLLBACK"]
    failed = [e for e in query(seeded.engine, action="failed") if e.row_no == 2]
    assert "does not exist in company code" in " ".join(failed[0].detail["messages"])
    # a failed row (rolled back in SAP) is retried on the next run
    again = _apply(seeded.engine, batch_id, push_config, odata, rfc)
    assert [r.outcome for r in again.rows] == ["applied", "skipped", "skipped"]
    assert len(sap.load()["documents"]) == 3


@pytest.mark.parametrize("fault", [{"commit": ["lost"]}, {"commit": ["timeout_before"]},
                                   {"post": ["timeout"]}])
def test_lost_or_failed_rfc_never_posts_twice(seeded, push_config, tmp_path, sap, odata, fault):
    batch_id = _approved(seeded.engine, push_config, writeoff_batch(seeded.engine, push_config,
                                                                    tmp_path))
    first = _apply(seeded.engine, batch_id, push_config, odata, FakeRfc(sap, Faults(fault)))
    assert first.rows[0].outcome == "unknown"
    second = _apply(seeded.engine, batch_id, push_config, odata, FakeRfc(sap))
    expected = "recovered" if fault == {"commit": ["lost"]} else "applied"
    assert [r.outcome for r in second.rows] == [expected, "applied", "applied"]
    assert sorted(sap.documents_by_reference().values()) == [1, 1, 1]
    assert verify(seeded.engine).ok


def test_writeoff_on_changed_item_is_stale(seeded, push_config, tmp_path, sap, odata, rfc):
    batch_id = _approved(seeded.engine, push_config, writeoff_batch(seeded.engine, push_config,
                                                                    tmp_path))
    data = sap.load()
    data["items"]["1000/2026/0090000002/001"]["ClearingAccountingDocument"] = "1400009999"
    sap.save(data)
    report = _apply(seeded.engine, batch_id, push_config, odata, rfc)
    assert [r.outcome for r in report.rows] == ["applied", "stale", "applied"]
    assert report.status == "partial"
    with seeded.engine.connect() as conn:  # the stale row's item is free for a new request
        claimed = conn.execute(select(push_claims.c.item).where(
            push_claims.c.batch_id == batch_id).order_by(push_claims.c.item)).scalars().all()
    assert claimed == ["1000/0090000001/2026/001", "1000/0090000003/2026/001"]


def _hold(engine, batch_id, **values):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from sapbridge.push.tables import push_batches

    values.setdefault("lock_until", datetime.now(UTC) + timedelta(minutes=10))
    with engine.begin() as conn:
        conn.execute(update(push_batches).where(push_batches.c.batch_id == batch_id)
                     .values(lock_run="other-run", **values))


def test_concurrent_apply_is_refused_while_the_other_run_lives(seeded, push_config, tmp_path,
                                                               odata):
    import os
    import socket

    batch_id = _approved(seeded.engine, push_config, limit_batch(seeded.engine, push_config,
                                                                 tmp_path))
    _hold(seeded.engine, batch_id, lock_host=socket.gethostname(), lock_pid=os.getpid())
    with pytest.raises(RefusedError, match="being applied by run other-run"):
        _apply(seeded.engine, batch_id, push_config, odata)
    assert list(query(seeded.engine, action="refused"))[-1].detail["control"] == "concurrency"


def test_lease_of_dead_process_or_expired_is_taken_over(seeded, push_config, tmp_path, odata):
    import socket
    import subprocess
    import sys
    from datetime import UTC, datetime, timedelta

    batch_id = _approved(seeded.engine, push_config, limit_batch(seeded.engine, push_config,
                                                                 tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    _hold(seeded.engine, batch_id, lock_host=socket.gethostname(),
          lock_pid=int(dead.stdout))
    assert _apply(seeded.engine, batch_id, push_config, odata).status == "done"
    _hold(seeded.engine, batch_id, lock_host="elsewhere", lock_pid=1,
          lock_until=datetime.now(UTC) - timedelta(seconds=1))
    assert _apply(seeded.engine, batch_id, push_config, odata).counts == {"skipped": 2}
