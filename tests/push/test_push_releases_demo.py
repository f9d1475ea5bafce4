"""Releases against the demo's simulated SAP through the real OData client (CSRF, function
imports, read-back) and the next sync seeing the released order."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from sapbridge.config import load_settings, project_root
from sapbridge.connect import open_odata
from sapbridge.kpi.collections_queries import load_waiting_orders
from sapbridge.push.apply import apply_batch
from sapbridge.push.approval import approve
from sapbridge.push.batches import BatchInvalidError, import_batch
from sapbridge.push.release_mapping import ReleaseMapping
from sapbridge.push.sap import read_order
from sapbridge.store.schema import blocked_orders
from sapbridge.sync.service import sync_system
from sapbridge.transport.sapstate import SapState
from sapbridge.transport.simulated import SimulatedHttpConnection

from .conftest import write_csv

DEMO = project_root() / "fixtures" / "demo"
NAMES = ReleaseMapping()
FUNCTION = "/sap/opu/odata/sap/API_SLS_DOC_WITH_CREDIT_BLOCK/ReleaseCreditBlock"


def _settings(tmp_path: Path):
    return load_settings(None, store_url=f"sqlite:///{tmp_path / 's.db'}")


def _sync(store, tmp_path: Path, *objects: str):
    return sync_system(_settings(tmp_path), store, system="demo", objects=list(objects),
                       run_id=str(uuid.uuid4()), actor="tester")


def _release(client, order: str) -> dict:
    return client.post(NAMES.service, NAMES.release_function,
                       params={"SalesDocument": f"'{order}'", "SDDocumentCategory": "'C'"})


def test_a_release_needs_the_csrf_token(tmp_path):
    connection = SimulatedHttpConnection(DEMO, SapState(tmp_path / "sap.json"))
    answer = connection.request("POST", f"https://demo{FUNCTION}",
                                params={"SalesDocument": "'10000001'"})
    assert answer.status_code == 403
    assert not (tmp_path / "sap.json").exists()


def test_release_persists_and_a_second_one_is_refused_by_sap(tmp_path):
    system = _settings(tmp_path).system("demo")
    assert read_order(open_odata(system), NAMES, "0010000001").credit_status == "B"
    answer = _release(open_odata(system), "10000001")
    assert answer["ReleaseCreditBlock"]["MessageType"] == "S"
    order = read_order(open_odata(system), NAMES, "10000001")  # another process, same state
    assert order.credit_status == "D"
    again = _release(open_odata(system), "10000001")["ReleaseCreditBlock"]
    assert again == {"MessageType": "E",
                     "Message": "Sales document 10000001 is not blocked for credit (status D)"}
    unknown = _release(open_odata(system), "99999999")["ReleaseCreditBlock"]
    assert unknown["MessageType"] == "E"
    assert "does not exist" in unknown["Message"]


def test_apply_on_the_demo_then_the_next_sync_sees_the_released_order(store, tmp_path, push_config):
    sqlite_store = store  # the name the steps below were written with; SQLite and PostgreSQL
    _sync(sqlite_store, tmp_path, "blocked_orders", "credit_segments", "open_items")
    path = write_csv(tmp_path / "r.csv", "sales_order,action,reason,rejection_reason",
                     "10000001,release,paid,", "10000004,reject,duplicate,Z1")
    batch = import_batch(sqlite_store.engine, "releases", path, system="demo",
                         requester="alice", run_id="r", config=push_config)
    for approver in ("bob", "carol"):
        approve(sqlite_store.engine, batch.batch_id, approver=approver, config=push_config,
                run_id="r")
    system = _settings(tmp_path).system("demo")
    report = apply_batch(sqlite_store.engine, batch.batch_id, odata=open_odata(system),
                         rfc=None, config=push_config, actor="bob", run_id="r")
    assert report.status == "done", report.rows
    assert read_order(open_odata(system), NAMES, "10000004").rejection_status == "C"
    _sync(sqlite_store, tmp_path, "blocked_orders")
    with sqlite_store.engine.connect() as conn:
        stored = {row.sales_order: row for row in conn.execute(select(blocked_orders).where(
            blocked_orders.c.sales_order.in_(["0010000001", "0010000004"])))}
        waiting = {o.sales_order for o in load_waiting_orders(conn, "demo")}
    assert stored["0010000001"].credit_status == "D"
    rejected = stored["0010000004"]
    assert (rejected.credit_status, rejected.rejection_status, rejected.status) == ("B", "C", "open")
    assert "0010000004" not in waiting
    assert "0010000016" in waiting  # still blocked, still waiting
    again = write_csv(tmp_path / "again.csv", "sales_order,action,reason,rejection_reason",
                      "10000004,release,changed our mind,")
    with pytest.raises(BatchInvalidError, match="sales order 0010000004 is rejected in SAP"):
        import_batch(sqlite_store.engine, "releases", again, system="demo", requester="alice",
                     run_id="r2", config=push_config)


@pytest.mark.parametrize("order", ["10000001", "0010000001"])
def test_the_order_is_read_with_or_without_leading_zeros(tmp_path, order):
    system = _settings(tmp_path).system("demo")
    assert read_order(open_odata(system), NAMES, order).value == read_order(
        open_odata(system), NAMES, "10000001").value
