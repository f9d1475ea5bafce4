"""Credit-block releases and rejections: request, authority, plan, apply, exactly once, attacks."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from sapbridge.audit.log import query, verify
from sapbridge.config import load_settings
from sapbridge.push.apply import apply_batch
from sapbridge.push.approval import approve
from sapbridge.push.authority import load_push_config
from sapbridge.push.batches import BatchInvalidError, import_batch
from sapbridge.push.controls import RefusedError
from sapbridge.push.plan import plan_batch
from sapbridge.push.state import load_batch, load_rows
from sapbridge.push.tables import push_claims, push_rows
from sapbridge.store.schema import blocked_orders, credit_segments, open_items

from .conftest import write_config, write_csv
from .fakes import FakeOData, FakeRfc, FakeSapState, Faults

HEADER = "sales_order,action,reason,rejection_reason"
CHANGED = datetime.fromtimestamp(1795007100, tz=UTC)  # LastChangeDateTime of the recording
ORDERS = {  # order: (customer, value, currency, credit status)
    "0010000001": ("0000100007", "17681.07", "EUR", "B"),
    "0010000002": ("0000100007", "9000.00", "EUR", "D"),
    "0010000003": ("0000100008", "30000.00", "EUR", "B"),
    "0010000004": ("0000100008", "19088.23", "EUR", "C"),
    "0010000005": ("0000100009", "5000.00", "USD", "B"),
}


def entries(engine, **filters) -> list:
    """Row entries only (a batch's closing ``applied`` entry has no row)."""
    return [e for e in query(engine, **filters) if e.row_no is not None]


def seed_orders(engine, system: str = "PRD") -> None:
    now = datetime.now(UTC)
    tracking = {"first_seen_at": now, "last_seen_at": now, "last_seen_run": "seed"}
    with engine.begin() as conn:
        conn.execute(insert(blocked_orders), [
            {"system": system, "sales_order": so, "sold_to": cust, "credit_status": status,
             "net_amount": Decimal(value), "currency": cur, "changed_at": CHANGED,
             "status": "open", **tracking}
            for so, (cust, value, cur, status) in ORDERS.items()])
        conn.execute(insert(credit_segments), [
            {"system": system, "customer": "0000100007", "credit_segment": "1000",
             "credit_limit": Decimal("20000.00"), "currency": "EUR", "blocked": False,
             "is_critical": False, "status": "open", **tracking}])
        conn.execute(insert(open_items), [
            {"system": system, "company_code": "1000", "fiscal_year": "2026",
             "document": f"009000010{i}", "item": "001", "customer": "0000100007",
             "amount": Decimal("1500.00"), "currency": "EUR", "status": "open", **tracking}
            for i in range(2)])


def seed_sap_orders(state: FakeSapState) -> None:
    for so, (cust, value, cur, status) in ORDERS.items():
        state.add_order(so.lstrip("0"), cust.lstrip("0"), value, cur, status)


@pytest.fixture
def orders(store):
    seed_orders(store.engine)
    return store


@pytest.fixture
def sap_orders(sap: FakeSapState) -> FakeSapState:
    seed_sap_orders(sap)
    return sap


def release_batch(engine, config, tmp_path: Path, *rows: str, requester: str = "alice"):
    rows = rows or ("10000001,release,customer paid,", "0010000004,reject,duplicate order,Z1")
    path = write_csv(tmp_path / "releases.csv", HEADER, *rows)
    return import_batch(engine, "releases", path, system="PRD", requester=requester,
                        run_id="r-import", config=config)


def _approved(engine, config, tmp_path, *rows):
    """Approved by bob and, above second_approver_above (10000), carol too."""
    batch = release_batch(engine, config, tmp_path, *rows)
    for approver in ("bob", "carol"):
        decision = approve(engine, batch.batch_id, approver=approver, config=config,
                           run_id="r-approve")
        if decision.status == "approved":
            break
    return batch.batch_id


def _apply(engine, batch_id, config, odata, rfc=None):
    return apply_batch(engine, batch_id, odata=odata, rfc=rfc, config=config, actor="bob",
                       run_id="r-apply")


# ------------------------------------------------------------------ request


def test_every_bad_row_is_named_and_the_batch_refused_whole(orders, push_config, tmp_path):
    with pytest.raises(BatchInvalidError) as caught:
        release_batch(orders.engine, push_config, tmp_path,
                      "10000001,release,fine,",
                      "99999999,release,unknown order,",
                      "10000002,release,already released,",
                      "10000003,approve,bad action,",
                      "10000003,reject,no reason code,",
                      "10000003,release,reason code on a release,Z1",
                      "10000003,release,,",
                      "10000003,reject,long code,Z12")
    text = str(caught.value)
    assert "row 3: no sales order 99999999 in system PRD" in text
    assert "row 4: sales order 0010000002 is not credit-blocked now (TotalCreditCheckStatus D)" \
        in text
    assert "row 5: action must be release or reject, not 'approve'" in text
    assert "row 6: action reject needs a rejection_reason" in text
    assert "row 7: rejection_reason is only for action reject" in text
    assert "row 8: missing reason" in text
    assert "row 9: rejection_reason 'Z12' is longer than SAP's 2 characters" in text
    assert "row 2" not in text
    with orders.engine.connect() as conn:
        assert conn.execute(select(push_rows)).first() is None
    refused = list(query(orders.engine, action="refused"))
    assert refused
    assert refused[-1].detail["attempted"] == "push releases"


def test_an_order_cleared_from_the_blocked_list_is_not_blocked(orders, push_config, tmp_path):
    with orders.engine.begin() as conn:
        conn.execute(update(blocked_orders).where(blocked_orders.c.sales_order == "0010000001")
                     .values(status="cleared"))
    with pytest.raises(BatchInvalidError, match="no longer in SAP's blocked orders"):
        release_batch(orders.engine, push_config, tmp_path, "10000001,release,paid,")


def test_a_rejected_order_is_not_offered_again_though_sap_leaves_it_blocked(orders, push_config, tmp_path):
    with orders.engine.begin() as conn:
        conn.execute(update(blocked_orders).where(blocked_orders.c.sales_order == "0010000003")
                     .values(rejection_status="C"))
    for row in ("10000003,release,paid after all,", "10000003,reject,again,Z1"):
        with pytest.raises(BatchInvalidError, match="sales order 0010000003 is rejected in SAP"):
            release_batch(orders.engine, push_config, tmp_path, row)
    with orders.engine.connect() as conn:
        assert conn.execute(select(push_rows)).first() is None
    assert release_batch(orders.engine, push_config, tmp_path, "10000001,release,paid,").batch_id


def test_request_keeps_value_and_exposure_after_release_vs_limit(orders, push_config, tmp_path):
    batch = release_batch(orders.engine, push_config, tmp_path)
    assert (batch.kind, batch.currency, batch.total) == ("releases", "EUR",
                                                         Decimal("36769.30"))
    with orders.engine.connect() as conn:
        rows = load_rows(conn, batch.batch_id)
    first = rows[0]
    assert first.target == {"sales_order": "0010000001", "action": "release",
                            "reason": "customer paid", "rejection_reason": None,
                            "order_value": "17681.07", "currency": "EUR"}
    assert first.seen["receivables"] == "3000.00"
    assert first.seen["exposure_after"] == "20681.07"
    assert first.seen["credit_limit"] == "20000.00"
    assert first.seen["over_limit_by"] == "681.07"
    assert rows[1].seen["credit_limit"] is None  # no segment synced for 100008
    assert rows[1].target["rejection_reason"] == "Z1"


def test_one_currency_per_batch(orders, push_config, tmp_path):
    with pytest.raises(BatchInvalidError, match="one currency per batch, found EUR, USD"):
        release_batch(orders.engine, push_config, tmp_path, "10000001,release,a,",
                      "10000005,release,b,")


def test_an_order_in_a_live_batch_cannot_be_requested_again(orders, push_config, tmp_path):
    first = release_batch(orders.engine, push_config, tmp_path, "10000001,release,a,")
    with pytest.raises(BatchInvalidError, match=f"already requested in batch {first.batch_id}"):
        release_batch(orders.engine, push_config, tmp_path, "10000001,reject,b,Z1")
    with orders.engine.connect() as conn:
        assert conn.execute(select(push_claims.c.item)).scalars().all() == ["order/0010000001"]


# ------------------------------------------------------------------ approve


def test_release_beyond_authority_is_refused_and_a_higher_role_may(orders, push_config,
                                                                   tmp_path):
    batch = release_batch(orders.engine, push_config, tmp_path, "10000003,release,big order,")
    with pytest.raises(RefusedError, match="bob has no authority for this batch"
                                           r" \(largest order value 30000.00 EUR\)"):
        approve(orders.engine, batch.batch_id, approver="bob", config=push_config, run_id="r")
    assert list(query(orders.engine, action="refused"))[-1].detail["control"] == "authority"
    decision = approve(orders.engine, batch.batch_id, approver="carol", config=push_config,
                       run_id="r")
    assert decision.status == "requested"
    assert decision.needed == 2


def test_a_role_without_max_release_order_value_may_not_approve(orders, tmp_path):
    config = load_push_config(load_settings(write_config(tmp_path).parent / "sapbridge.toml"))
    text = (tmp_path / "sapbridge.toml").read_text(encoding="utf-8")
    (tmp_path / "sapbridge.toml").write_text(
        text.replace('max_release_order_value = "25000"\n', ""), encoding="utf-8")
    without = load_push_config(load_settings(tmp_path / "sapbridge.toml"))
    batch = release_batch(orders.engine, config, tmp_path, "10000001,release,paid,")
    with pytest.raises(RefusedError, match="no authority"):
        approve(orders.engine, batch.batch_id, approver="bob", config=without, run_id="r")


def test_requester_may_not_approve_own_release(orders, push_config, tmp_path):
    batch = release_batch(orders.engine, push_config, tmp_path, "10000001,release,paid,",
                          requester="dave")
    with pytest.raises(RefusedError, match=r"dave requested batch .* and may not approve it"):
        approve(orders.engine, batch.batch_id, approver="dave", config=push_config, run_id="r")


# ------------------------------------------------------------------ plan and apply


def test_plan_shows_sap_status_and_exposure_and_sends_nothing(orders, push_config, tmp_path,
                                                              sap_orders, odata):
    batch = release_batch(orders.engine, push_config, tmp_path)
    plan = plan_batch(orders.engine, batch.batch_id, odata=odata, actor="bob", run_id="r-plan",
                      config=push_config)
    assert [r.verdict for r in plan.rows] == ["change", "change"]
    assert plan.rows[0].before["credit_status"] == "B"
    assert plan.rows[0].before["over_limit_by"] == "681.07"
    assert plan.rows[0].after == {"action": "release", "credit_status": "D"}
    assert "posts" not in sap_orders.load()


def test_apply_releases_and_rejects_verifies_and_records_the_override(
        orders, push_config, tmp_path, sap_orders, odata):
    batch_id = _approved(orders.engine, push_config, tmp_path)
    report = _apply(orders.engine, batch_id, push_config, odata)
    assert report.status == "done"
    assert report.counts == {"applied": 2}
    assert sap_orders.order("10000001")["TotalCreditCheckStatus"] == "D"
    assert sap_orders.order("10000004")["OverallSDDocumentRejectionSts"] == "C"
    posts = sap_orders.load()["posts"]
    assert posts == [["ReleaseCreditBlock", {"SalesDocument": "'10000001'",
                                             "SDDocumentCategory": "'C'"}],
                     ["RejectCreditBlock", {"SalesDocument": "'10000004'",
                                            "SDDocumentCategory": "'C'",
                                            "SalesDocumentRjcnReason": "'Z1'"}]]
    applied = entries(orders.engine, batch_id=batch_id, action="applied")
    assert [(e.detail["sales_order"], e.detail["action"], e.detail["order_value"],
             e.detail["currency"], e.detail["approver"]) for e in applied] == [
        ("0010000001", "release", "17681.07", "EUR", "bob, carol"),
        ("0010000004", "reject", "19088.23", "EUR", "bob, carol")]
    assert applied[0].detail["approvers"] == ["bob", "carol"]
    assert [e.after["credit_status"] for e in entries(orders.engine, batch_id=batch_id,
                                                     action="verified")] == ["D", "C"]
    with orders.engine.connect() as conn:
        assert conn.execute(select(push_claims)).first() is None  # done: claims released
    assert verify(orders.engine).ok


def test_sap_refusal_fails_the_row_and_changes_nothing(orders, push_config, tmp_path,
                                                       sap_orders):
    batch_id = _approved(orders.engine, push_config, tmp_path, "10000001,release,paid,")
    odata = FakeOData(sap_orders, Faults({"post": ["refused"]}))
    report = _apply(orders.engine, batch_id, push_config, odata)
    assert report.status == "partial"
    assert report.rows[0].outcome == "failed"
    assert report.rows[0].message == ("SAP refused: No authorization to release credit block"
                                      " (V_VBAK_AAT, activity 02)")
    assert sap_orders.order("10000001")["TotalCreditCheckStatus"] == "B"
    failed = entries(orders.engine, batch_id=batch_id, action="failed")
    assert failed[0].detail["messages"] == [report.rows[0].message.removeprefix("SAP refused: ")]
    rerun = _apply(orders.engine, batch_id, push_config, FakeOData(sap_orders))
    assert rerun.status == "done"  # a refused row is tried again once approved


def test_order_released_by_someone_else_is_stale_and_never_sent(orders, push_config, tmp_path,
                                                                sap_orders, odata):
    batch_id = _approved(orders.engine, push_config, tmp_path, "10000001,release,paid,")
    sap_orders.change_order("10000001", TotalCreditCheckStatus="D")
    plan = plan_batch(orders.engine, batch_id, odata=odata, actor="bob", run_id="r-plan",
                      config=push_config)
    assert plan.stale == [2]
    report = _apply(orders.engine, batch_id, push_config, odata)
    assert report.rows[0].outcome == "stale"
    assert report.rows[0].message == "released in SAP by someone else since the request"
    assert "posts" not in sap_orders.load()
    assert not entries(orders.engine, batch_id=batch_id, action="applied")


@pytest.mark.parametrize(("change", "why"), [
    ({"TotalNetAmount": "25000.00"}, "order value is 25000.00 EUR, was 17681.07 EUR"),
    ({"DeliveryBlockReason": ""}, "order changed in SAP at"),
    ({"TotalCreditCheckStatus": "A"}, "credit status is A, not blocked"),
    ({"OverallSDDocumentRejectionSts": "C"}, "the order was rejected"),
])
def test_an_order_changed_since_the_request_is_stale(orders, push_config, tmp_path, sap_orders,
                                                     odata, change, why):
    batch_id = _approved(orders.engine, push_config, tmp_path, "10000001,release,paid,")
    sap_orders.change_order("10000001", **change)
    report = _apply(orders.engine, batch_id, push_config, odata)
    assert report.rows[0].outcome == "stale"
    assert why in report.rows[0].message
    assert "posts" not in sap_orders.load()


def test_an_order_gone_from_sap_is_stale(orders, push_config, tmp_path, sap_orders, odata):
    batch_id = _approved(orders.engine, push_config, tmp_path, "10000001,release,paid,")
    data = sap_orders.load()
    del data["orders"]["10000001"]
    sap_orders.save(data)
    report = _apply(orders.engine, batch_id, push_config, odata)
    assert report.rows[0].outcome == "stale"
    assert "not found in SAP" in report.rows[0].message


@pytest.mark.parametrize("fault", ["lost", "timeout_before"])
def test_lost_answer_is_resolved_by_reading_the_status_first(orders, push_config, tmp_path,
                                                             sap_orders, fault):
    batch_id = _approved(orders.engine, push_config, tmp_path, "10000001,release,paid,")
    first = _apply(orders.engine, batch_id, push_config,
                   FakeOData(sap_orders, Faults({"post": [fault]})))
    assert first.rows[0].outcome == "unknown"
    assert first.stopped
    with orders.engine.connect() as conn:
        assert load_rows(conn, batch_id)[0].state == "in_flight"
    second = _apply(orders.engine, batch_id, push_config, FakeOData(sap_orders))
    assert second.status == "done"
    assert second.rows[0].outcome == ("recovered" if fault == "lost" else "applied")
    assert len(sap_orders.load()["posts"]) == 1  # released exactly once
    assert len(entries(orders.engine, batch_id=batch_id, action="applied")) == 1


def test_edited_order_value_in_the_store_is_refused(orders, push_config, tmp_path, sap_orders,
                                                    odata):
    batch_id = _approved(orders.engine, push_config, tmp_path, "10000001,release,paid,")
    with orders.engine.begin() as conn:
        target = json.loads(conn.execute(select(push_rows.c.target_json)).scalar_one())
        target["sales_order"] = "0010000003"  # swap in the big order bob may not release
        conn.execute(update(push_rows).values(target_json=json.dumps(target)))
    with pytest.raises(RefusedError, match="changed since it was imported"):
        _apply(orders.engine, batch_id, push_config, odata)
    assert "posts" not in sap_orders.load()


def test_rfc_route_calls_the_site_wrapper_and_reports_its_error(orders, tmp_path, sap_orders,
                                                                odata):
    path = write_config(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(
        'identity = "os"', 'identity = "os"\nrelease_route = "rfc"'), encoding="utf-8")
    config = load_push_config(load_settings(path))
    batch_id = _approved(orders.engine, config, tmp_path, "10000001,release,paid,")
    rfc = FakeRfc(sap_orders, Faults({"release": ["E"]}))
    report = _apply(orders.engine, batch_id, config, odata, rfc)
    assert report.rows[0].outcome == "failed"
    assert "V1154 Sales document 0010000001 is currently being processed" in report.rows[0].message
    report = _apply(orders.engine, batch_id, config, odata, rfc)
    assert report.status == "done"
    assert [c[0] for c in rfc.calls] == ["Z_SD_ORDER_CREDIT_RELEASE"] * 2
    assert rfc.calls[1][1] == {"VBELN": "0010000001"}
    assert "posts" not in sap_orders.load()


def test_unknown_release_route_is_a_config_error(tmp_path):
    from sapbridge.errors import ConfigError

    path = write_config(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(
        'identity = "os"', 'identity = "os"\nrelease_route = "bapi"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="release_route must be 'odata' or 'rfc'"):
        load_push_config(load_settings(path))


def test_status_counts_reach_the_kpi_reader(orders, push_config, tmp_path, sap_orders, odata):
    """What the blocked-order override KPI needs is in the audit entries alone."""
    batch_id = _approved(orders.engine, push_config, tmp_path, "10000001,release,paid,")
    _apply(orders.engine, batch_id, push_config, odata)
    with orders.engine.connect() as conn:
        assert load_batch(conn, batch_id).status == "done"
    overrides = Counter((approver, e.detail["currency"])
                        for e in entries(orders.engine, action="applied")
                        if e.detail.get("action") == "release"
                        for approver in e.detail["approvers"])
    assert overrides == {("bob", "EUR"): 1, ("carol", "EUR"): 1}


# ------------------------------------------------------------------ kill -9


RELEASE_POINTS = [f"{p}:{n}" for p in ("release_before_call", "release_after_call",
                                       "settle_before_commit") for n in (1, 2)]


@pytest.mark.parametrize("point", RELEASE_POINTS)
def test_killed_apply_then_rerun_decides_each_order_once(tmp_path, config_path, push_config,
                                                         point):
    from sapbridge.store import open_store

    from .test_push_crash import _run

    db_url = f"sqlite:///{tmp_path / 'crash.db'}"
    store = open_store(db_url)
    seed_orders(store.engine)
    sap = FakeSapState(tmp_path / "sap.json")
    seed_sap_orders(sap)
    batch_id = _approved(store.engine, push_config, tmp_path)
    store.dispose()
    crashed = _run(db_url, tmp_path / "sap.json", config_path, batch_id, point)
    assert crashed.returncode == 137, crashed.stderr
    rerun = _run(db_url, tmp_path / "sap.json", config_path, batch_id, None)
    assert rerun.returncode == 0, rerun.stderr
    assert Counter(path for path, _ in sap.load()["posts"]) == {"ReleaseCreditBlock": 1,
                                                                "RejectCreditBlock": 1}
    applied = Counter(e.row_no for e in entries(store.engine, batch_id=batch_id,
                                                action="applied"))
    assert applied == {2: 1, 3: 1}
    assert verify(store.engine).ok
    store.dispose()
