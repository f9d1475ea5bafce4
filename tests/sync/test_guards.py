"""A sync never clears what it did not read, and refuses data that does not fit, on both stores."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import func, select

from sapbridge.errors import ControlError, MappingError, ProtocolError, SapAuthError
from sapbridge.mapping import load_mappings
from sapbridge.store.schema import open_items, sync_runs
from sapbridge.sync import SyncRequest, run_sync

from .gateway import Gateway, item, odata_sources

MAPPINGS = load_mappings("mappings")


def sync(store, gateway, run, **options):
    request = SyncRequest(system="T", objects=["open_items"], company_codes=["1000"], **options)
    return run_sync(store, MAPPINGS, request, odata_sources(gateway), run_id=run, actor="tester")


def open_count(store):
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(open_items)
                            .where(open_items.c.status == "open")).scalar_one()


def run_status(store, run):
    with store.engine.connect() as conn:
        return conn.execute(select(sync_runs.c.status).where(sync_runs.c.run_id == run)).scalar_one()


def test_paging_that_ends_before_the_count_fails_and_clears_nothing(store):
    gateway = Gateway([item(i) for i in range(1, 31)])
    sync(store, gateway, "r1")
    gateway.stop_after = 9  # a gateway row limit: a short page, no __next, __count still 30
    with pytest.raises(ProtocolError, match=r"open_items company_code=1000: SAP reported 30 rows .* returned 9"):
        sync(store, gateway, "r2")
    assert open_count(store) == 30
    assert run_status(store, "r2") == "failed"


def test_a_snapshot_clearing_most_of_a_partition_is_refused_unless_allowed(store):
    gateway = Gateway([item(i) for i in range(1, 41)])
    sync(store, gateway, "r1")
    gateway.items = gateway.items[:10]  # e.g. a filter that silently narrowed: the count agrees
    with pytest.raises(ControlError, match=r"would clear 30 of 40 open items \(75%.*--allow-mass-clear"):
        sync(store, gateway, "r2")
    assert open_count(store) == 40
    summary = sync(store, gateway, "r3", allow_mass_clear=True)
    assert summary.datasets[0].cleared == 30
    assert open_count(store) == 10


def test_clearing_within_the_share_goes_ahead(store):
    gateway = Gateway([item(i) for i in range(1, 41)])
    sync(store, gateway, "r1")
    gateway.items = gateway.items[:25]
    assert sync(store, gateway, "r2").datasets[0].cleared == 15


def test_the_share_is_configurable(store):
    gateway = Gateway([item(i) for i in range(1, 41)])
    sync(store, gateway, "r1")
    gateway.items = gateway.items[:25]
    with pytest.raises(ControlError, match="more than 20%"):
        sync(store, gateway, "r2", max_clear_share=0.2)


@pytest.mark.parametrize("worker_min_rows", [1, 10_000])
def test_a_value_longer_than_its_column_is_refused_the_same_on_both_stores(store, worker_min_rows):
    gateway = Gateway([item(1), item(2)])
    sync(store, gateway, "r1")
    gateway.items = [item(1, "7.00"), item(3, AccountingDocumentItem="123456")]
    message = (r"open_items: field item of key \(1000, 2026, 0000000003, 123456\) is 6 characters "
               r"\('123456'\), the column holds 3")
    with pytest.raises(MappingError, match=message):
        sync(store, gateway, "r2", worker_min_rows=worker_min_rows)
    with store.engine.connect() as conn:
        amounts = {r.document: str(r.amount) for r in conn.execute(select(open_items))}
    assert amounts == {"0000000001": "100.000000" if store.dialect == "postgresql" else "100.00",
                       "0000000002": "100.000000" if store.dialect == "postgresql" else "100.00"}


def test_a_long_value_on_a_first_load_is_refused_before_writing(store):
    gateway = Gateway([item(1, AccountingDocumentItem="1234")])
    with pytest.raises(MappingError, match=r"field item of key .* is 4 characters"):
        sync(store, gateway, "r1")
    assert open_count(store) == 0


def test_a_read_answered_403_csrf_required_says_what_sap_said(store):
    body = orjson.dumps({"error": {"code": "/IWFND/CM_BEC/026", "message": {"value": "CSRF token validation failed"}}})
    gateway = Gateway([], answer=(403, {"x-csrf-token": "Required"}, body))
    with pytest.raises(SapAuthError) as caught:
        sync(store, gateway, "r1")
    text = str(caught.value)
    assert "CSRF token validation failed" in text
    assert "x-csrf-token: Required" in text
    assert "no d.results" not in text
    assert gateway.requests == 1, "a read is not retried with a token"


def test_an_error_payload_with_status_200_is_reported_as_sap_said_it(store):
    body = orjson.dumps({"error": {"code": "SY/530", "message": {"value": "Resource not found"}}})
    gateway = Gateway([], answer=(200, {"content-type": "application/json"}, body))
    with pytest.raises(ProtocolError, match="SAP answered an error instead of rows: SY/530: Resource not found"):
        sync(store, gateway, "r1")
