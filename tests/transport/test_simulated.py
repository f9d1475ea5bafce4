"""The demo's simulated SAP: any read of the recorded data, and changes kept between commands."""

from __future__ import annotations

import multiprocessing
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from devtools.demo.data import generate
from sapbridge.config import SystemConfig, demo_state_path, load_settings, project_root
from sapbridge.connect import open_odata, open_rfc
from sapbridge.errors import ConfigError, PreconditionFailedError, ProtocolError
from sapbridge.push.sap import find_posted_document, read_credit_account, read_item
from sapbridge.store.schema import blocked_orders, open_items
from sapbridge.sync.service import sync_system
from sapbridge.transport.keys import read_http_fixture
from sapbridge.transport.sapstate import FIRST_DOCUMENT, SapState
from sapbridge.transport.simulated import SimulatedHttpConnection

DEMO = project_root() / "fixtures" / "demo"
ITEMS = "/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube"


def demo_system(tmp_path: Path) -> SystemConfig:
    settings = load_settings(None, store_url=f"sqlite:///{tmp_path / 's.db'}")
    return settings.system("demo")


def sync(store, tmp_path, *, objects=("all",)):
    settings = load_settings(None, store_url=f"sqlite:///{tmp_path / 's.db'}")
    return sync_system(settings, store, system="demo", objects=list(objects), run_id=str(uuid.uuid4()),
                       actor="tester")


def writeoff_params(reference: str, amount: str = "10.00") -> dict:
    return {
        "DOCUMENTHEADER": {"COMP_CODE": "1000", "PSTNG_DATE": "20261201", "DOC_DATE": "20261201",
                           "DOC_TYPE": "AB", "REF_DOC_NO": reference, "HEADER_TXT": "WO test"},
        "ACCOUNTRECEIVABLE": [{"ITEMNO_ACC": "0000000001", "CUSTOMER": "0000100039", "COMP_CODE": "1000",
                               "ALLOC_NMBR": "0090000321"}],
        "ACCOUNTGL": [{"ITEMNO_ACC": "0000000002", "GL_ACCOUNT": "0000880000", "COMP_CODE": "1000"}],
        "CURRENCYAMOUNT": [{"ITEMNO_ACC": "0000000001", "CURRENCY": "EUR", "AMT_DOCCUR": Decimal("-" + amount)},
                           {"ITEMNO_ACC": "0000000002", "CURRENCY": "EUR", "AMT_DOCCUR": Decimal(amount)}],
    }


def test_the_demo_state_file_sits_beside_a_sqlite_store_and_in_the_cwd_otherwise(tmp_path):
    assert demo_state_path(f"sqlite:///{tmp_path / 'x.db'}") == tmp_path / "x.db.demo-sap.json"
    assert demo_state_path("postgresql+psycopg://h/db") == Path("sapbridge-demo-sap.json")
    assert demo_system(tmp_path).sap_state == str(tmp_path / "s.db.demo-sap.json")


def test_a_second_sync_runs_incrementally_on_the_demo(store, tmp_path):
    sync(store, tmp_path)
    second = {d.dataset: d for d in sync(store, tmp_path).datasets}
    assert second["blocked_orders"].mode == "incremental"
    assert second["disputes"].mode == "incremental"
    with store.engine.connect() as conn:
        orders = conn.execute(select(blocked_orders.c.sales_order)).all()
    recorded = sum(o.credit_status in "BD" for o in generate(1).orders)
    assert len(orders) == recorded  # nothing lost, nothing invented by the incremental read


def test_an_incremental_filter_is_evaluated_over_the_recorded_rows(tmp_path):
    connection = SimulatedHttpConnection(DEMO, SapState(tmp_path / "state.json"))
    url = "https://demo.sapbridge.invalid/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder"
    everything = orjson.loads(connection.request("GET", url, params={"$format": "json"}).content)["d"]["results"]
    stamps = sorted(r["LastChangeDateTime"] for r in everything)
    middle = stamps[len(stamps) // 2]
    moment = datetime.fromtimestamp(int(middle[6:-2].split("+")[0]) / 1000, UTC)
    query = {"$format": "json", "$inlinecount": "allpages", "$orderby": "SalesOrder",
             "$filter": f"LastChangeDateTime ge datetimeoffset'{moment:%Y-%m-%dT%H:%M:%S}Z'"}
    assert read_http_fixture(DEMO, "GET", url, query) is None  # never recorded
    body = orjson.loads(connection.request("GET", url, params=query).content)["d"]
    expected = sorted(r["SalesOrder"] for r in everything if r["LastChangeDateTime"] >= middle)
    assert [r["SalesOrder"] for r in body["results"]] == expected
    assert int(body["__count"]) == len(expected) < len(everything)


def test_a_plain_replay_system_still_refuses_what_was_never_recorded(tmp_path):
    plain = SystemConfig(name="qas", kind="replay", odata_url="https://qas.invalid", fixtures=str(DEMO))
    client = open_odata(plain)
    with pytest.raises(ProtocolError, match="no recording"):
        read_credit_account(client, "0000100004", "1000")


def test_a_limit_change_persists_across_connections_and_a_stale_etag_is_refused(tmp_path):
    system = demo_system(tmp_path)
    first = open_odata(system)
    account, etag = read_credit_account(first, "0000100004", "1000")
    demo = next(s for s in generate(1).segments if (s.customer, s.segment) == ("0000100004", "1000"))
    assert account.limit == demo.limit
    first.patch_entity("API_CRDTMBUSINESSPARTNER", "CreditManagementAccount",
                       {"BusinessPartner": "0000100004", "CreditSegment": "1000"},
                       {"CreditLimitAmount": "120000.00"}, etag=etag)
    later = open_odata(system)  # another command, another process: same state file
    changed, new_etag = read_credit_account(later, "100004", "1000")
    assert changed.limit == Decimal("120000.00")
    assert new_etag != etag
    with pytest.raises(PreconditionFailedError):
        later.patch_entity("API_CRDTMBUSINESSPARTNER", "CreditManagementAccount",
                           {"BusinessPartner": "0000100004", "CreditSegment": "1000"},
                           {"CreditLimitAmount": "1.00"}, etag=etag)
    assert read_credit_account(open_odata(system), "100004", "1000")[0].limit == Decimal("120000.00")


def test_the_next_sync_sees_the_changed_limit(sqlite_store, tmp_path):
    system = demo_system(tmp_path)
    client = open_odata(system)
    _, etag = read_credit_account(client, "0000100004", "1000")
    client.patch_entity("API_CRDTMBUSINESSPARTNER", "CreditManagementAccount",
                        {"BusinessPartner": "0000100004", "CreditSegment": "1000"},
                        {"CreditLimitAmount": "120000.00"}, etag=etag)
    sync(sqlite_store, tmp_path, objects=["credit_segments"])
    from sapbridge.store.schema import credit_segments

    with sqlite_store.engine.connect() as conn:
        limit = conn.execute(select(credit_segments.c.credit_limit).where(
            credit_segments.c.customer == "0000100004", credit_segments.c.credit_segment == "1000")).scalar_one()
    assert limit == Decimal("120000.00")


def test_a_posting_exists_only_after_commit_and_a_dropped_connection_loses_it(tmp_path):
    system = demo_system(tmp_path)
    rfc = open_rfc(system)
    rfc.call_unchecked("BAPI_ACC_DOCUMENT_POST", **writeoff_params("IDEM-1"))
    rfc.close()  # the process died between post and commit
    odata = open_odata(system)
    assert find_posted_document(odata, "1000", "IDEM-1") is None
    rfc = open_rfc(system)
    result = rfc.call_unchecked("BAPI_ACC_DOCUMENT_POST", **writeoff_params("IDEM-2"))
    rfc.call("BAPI_TRANSACTION_COMMIT", WAIT="X")
    found = find_posted_document(open_odata(system), "1000", "IDEM-2")
    assert found == f"1000/{result['OBJ_KEY'][:10]}/2026"
    posted = read_item(open_odata(system), "1000", "2026", result["OBJ_KEY"][:10], "001")
    assert posted is not None
    assert posted.amount == Decimal("-10.00")


def test_an_unbalanced_posting_is_refused_with_an_error_message(tmp_path):
    rfc = open_rfc(demo_system(tmp_path))
    params = writeoff_params("IDEM-3")
    params["CURRENCYAMOUNT"][1]["AMT_DOCCUR"] = Decimal("9.99")
    result = rfc.call_unchecked("BAPI_ACC_DOCUMENT_POST", **params)
    assert result["RETURN"][0]["TYPE"] == "E"


def test_the_next_open_item_sync_shows_the_posted_credit(sqlite_store, tmp_path):
    rfc = open_rfc(demo_system(tmp_path))
    rfc.call_unchecked("BAPI_ACC_DOCUMENT_POST", **writeoff_params("IDEM-4", "371.22"))
    rfc.call("BAPI_TRANSACTION_COMMIT", WAIT="X")
    summary = {d.dataset: d for d in sync(sqlite_store, tmp_path, objects=["open_items"]).datasets}
    assert summary["open_items"].read == len(generate(1).open_items) + 1
    with sqlite_store.engine.connect() as conn:
        amount = conn.execute(select(open_items.c.amount).where(
            open_items.c.document == f"{FIRST_DOCUMENT:010d}")).scalar_one()
    assert amount == Decimal("-371.22")


def _post_many(state_dir: str, count: int, tag: str) -> None:
    settings = load_settings(None, store_url=f"sqlite:///{Path(state_dir) / 's.db'}")
    rfc = open_rfc(settings.system("demo"))
    for n in range(count):
        rfc.call_unchecked("BAPI_ACC_DOCUMENT_POST", **writeoff_params(f"{tag}-{n}"))
        rfc.call("BAPI_TRANSACTION_COMMIT", WAIT="X")


def test_two_processes_posting_at_once_get_distinct_numbers_and_lose_nothing(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_post_many, args=(str(tmp_path), 15, tag)) for tag in ("A", "B")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    state = SapState(tmp_path / "s.db.demo-sap.json").read()
    documents = state["entities"]["API_OPLACCTGDOCITEMCUBE_SRV/A_OperationalAcctgDocItemCube"]
    assert len(documents) == 30
    assert len({d["AccountingDocument"] for d in documents.values()}) == 30
    assert {d["DocumentReferenceID"] for d in documents.values()} == {f"{t}-{n}" for t in "AB" for n in range(15)}
    assert state["next_document"] == FIRST_DOCUMENT + 30


def test_a_corrupt_state_file_is_one_clear_error(tmp_path):
    system = demo_system(tmp_path)
    Path(system.sap_state).write_text("{half", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid JSON.*delete it"):
        read_credit_account(open_odata(system), "100004", "1000")


def test_every_answer_from_the_simulation_is_announced_once(tmp_path):
    notes: list[str] = []
    connection = SimulatedHttpConnection(DEMO, SapState(tmp_path / "state.json"), notice=notes.append)
    url = f"https://demo.sapbridge.invalid{ITEMS}"
    connection.request("GET", url, params={"$filter": "CompanyCode eq '1000' and DocumentReferenceID eq 'X'"})
    connection.request("GET", url, params={"$filter": "CompanyCode eq '1000' and DocumentReferenceID eq 'Y'"})
    assert len(notes) == 1
    assert "simulated SAP (demo)" in notes[0]


def test_unattended_the_demo_notice_is_a_json_log_line(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("SAPBRIDGE_")}
    for _ in range(2):  # the second run reads incrementally: answered by evaluation, not replay
        result = subprocess.run([sys.executable, "-m", "sapbridge", "sync", "blocked_orders", "--system", "demo"],
                                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines), lines
    assert any('"event": "simulated_sap"' in line for line in lines)
